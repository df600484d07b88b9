//! The write path: appends and restores go to EventStoreDB (one server append per Överens
//! batch), then wait until this store's own follower has indexed them, so the store that
//! wrote reads its own writes. A call whose outcome is unknown (the connection dropped after
//! sending) is tried again with the same event ids at the same expected revision; its events
//! are recognised in the index by the call's writer id.

use std::collections::HashSet;

use eventstore::{
    AppendToStreamOptions, CurrentRevision, EventData, ExpectedRevision, ReadStreamOptions,
    StreamPosition,
};
use overens_core::domain::StreamHead;
use overens_core::{EventId, StreamId, Timestamp};
use uuid::Uuid;

use crate::Inner;
use crate::cache::{self, Known};
use crate::connection::transient;
use crate::follow::wait_until;
use crate::names;
use crate::wire::{Header, Tag, event_data};
use overens_store::{AppendEvent, Appended, Conflict, RestoreRecord, StoreError};

/// How one server append ended.
enum Written {
    /// Stored; the revision of its last event.
    Stored(u64),
    /// The stream is not at the expected revision; its revision now, if it exists.
    Moved(Option<u64>),
}

/// What one round of an append checks against: the log's length, the stream's head and
/// its EventStoreDB revision, read together so they describe one moment of the index (the
/// follower may commit at any time; a head and a revision from two moments could let a
/// write land after events its check never saw).
#[derive(Debug, Clone, Copy)]
struct Moment {
    len: u64,
    head: StreamHead,
    expected: ExpectedRevision,
}

/// How many times one call writes to the server and finds its events not in the log
/// before it gives up (only another writer's interference gets there).
const MAX_ROUNDS: u32 = 8;

impl Inner {
    fn check_failed(&self) -> Result<(), StoreError> {
        match self.shared.failure() {
            Some(reason) => Err(StoreError::Storage(format!(
                "the EventStoreDB index stopped: {reason}; restart the store"
            ))),
            None => Ok(()),
        }
    }

    fn stream_lock(&self, stream: &StreamId) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut locks = match self.stream_locks.lock() {
            Ok(locks) => locks,
            Err(poisoned) => poisoned.into_inner(),
        };
        locks.entry(stream.clone()).or_default().clone()
    }

    fn head(&self, stream: &StreamId) -> StreamHead {
        self.shared
            .read(|s| s.heads.get(stream).copied().unwrap_or(StreamHead::EMPTY))
    }

    fn moment(&self, stream: Option<&StreamId>, name: &str) -> Moment {
        self.shared.read(|s| Moment {
            len: s.len,
            head: stream
                .and_then(|stream| s.heads.get(stream).copied())
                .unwrap_or(StreamHead::EMPTY),
            expected: s
                .revisions
                .get(name)
                .map_or(ExpectedRevision::NoStream, |r| ExpectedRevision::Exact(*r)),
        })
    }

    /// What the index knows of these ids (only committed records).
    async fn known(&self, ids: Vec<EventId>) -> Result<Vec<Option<Known>>, StoreError> {
        let len = self.shared.read(|s| s.len);
        self.known_below(ids, len).await
    }

    /// What the index knows of these ids among its first `len` records.
    async fn known_below(
        &self,
        ids: Vec<EventId>,
        len: u64,
    ) -> Result<Vec<Option<Known>>, StoreError> {
        self.read(move |conn| {
            ids.iter()
                .map(|id| Ok(cache::known(conn, id)?.filter(|k| k.index < len)))
                .collect()
        })
        .await
    }

    /// Idempotency by event id, as the trait says. A batch found whole and in order is
    /// answered: as the call's own write when its writer is `writer`, else as a repeat.
    async fn repeat_of(
        &self,
        batch: &[AppendEvent],
        writer: Uuid,
        moment: Moment,
    ) -> Result<Option<Result<Appended, StoreError>>, StoreError> {
        let known = self
            .known_below(batch.iter().map(AppendEvent::id).collect(), moment.len)
            .await?;
        let mut found = Vec::new();
        for (event, known) in batch.iter().zip(known) {
            match known {
                Some(k) if k.envelope == event.bytes() => found.push(k),
                Some(_) => return Ok(Some(Err(StoreError::IdReused(event.id())))),
                None => {}
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let consecutive = found.windows(2).all(|w| w[1].index == w[0].index + 1);
        if found.len() != batch.len() || !consecutive {
            return Ok(Some(Err(StoreError::InvalidBatch(
                "some of these events were stored before, in another batch".into(),
            ))));
        }
        let own = found.iter().all(|k| k.writer == Some(writer));
        let log_len = if own {
            found.last().map_or(0, |k| k.index + 1)
        } else {
            moment.len
        };
        Ok(Some(Ok(Appended {
            indexes: found.iter().map(|k| k.index).collect(),
            recorded_at: found[0].recorded_at,
            log_len,
            repeated: !own,
        })))
    }

    fn check_chain(
        &self,
        batch: &[AppendEvent],
        headers: &[Header],
        head: StreamHead,
    ) -> Result<(), StoreError> {
        let Some(first) = batch.first() else {
            return Err(StoreError::InvalidBatch(
                "an append needs at least one event".into(),
            ));
        };
        let mut ids = HashSet::new();
        if !batch.iter().all(|e| ids.insert(e.id())) {
            return Err(StoreError::InvalidBatch(
                "an event id appears twice in the batch".into(),
            ));
        }
        if batch.iter().any(|e| e.stream() != first.stream()) {
            return Err(StoreError::InvalidBatch(
                "a batch appends to one stream only".into(),
            ));
        }
        for (pair, headers) in batch.windows(2).zip(headers.windows(2)) {
            let hash = overens_core::Digest32::of(pair[0].bytes());
            if pair[1].seq() != pair[0].seq() + 1 || headers[1].prev != hash {
                return Err(StoreError::InvalidBatch(format!(
                    "event seq {} does not follow seq {} of the same batch",
                    pair[1].seq(),
                    pair[0].seq()
                )));
            }
        }
        if first.seq() != head.next_seq || headers[0].prev != head.prev {
            return Err(StoreError::Conflict(Box::new(Conflict {
                stream: first.stream().clone(),
                expected_seq: head.next_seq,
                expected_prev: head.prev,
                got_seq: first.seq(),
                got_prev: headers[0].prev,
            })));
        }
        Ok(())
    }

    /// Waits until the follower has seen revision `revision` of EventStoreDB stream `name`.
    async fn wait_indexed(&self, name: &str, revision: u64) -> Result<(), StoreError> {
        wait_until(
            &self.shared,
            self.options.deadlines.index,
            || format!("revision {revision} of stream {name}"),
            |s| s.revisions.get(name).is_some_and(|r| *r >= revision),
        )
        .await
    }

    /// Catches the index up with stream `name` as the server has it now: asked when a batch
    /// names a head past the one the index knows (another instance may have appended).
    async fn sync(&self, name: &str) -> Result<(), StoreError> {
        let options = ReadStreamOptions::default()
            .position(StreamPosition::End)
            .backwards()
            .max_count(1)
            .deadline(self.options.deadlines.call);
        let mut attempt = 0;
        let last = loop {
            let client = self.connection.client();
            let read = async {
                let mut stream = client.read_stream(name, &options).await?;
                stream.next().await
            };
            match read.await {
                Ok(event) => break event.map(|e| e.get_original_event().revision),
                Err(eventstore::Error::ResourceNotFound) => break None,
                Err(e) if transient(&e) && attempt < self.options.deadlines.retries => {
                    attempt += 1;
                    self.connection.renew_after(&client, &e);
                    tokio::time::sleep(self.options.deadlines.pause(attempt)).await;
                }
                Err(e) => {
                    return Err(StoreError::Storage(format!(
                        "reading the head of {name} from EventStoreDB: {e}"
                    )));
                }
            }
        };
        match last {
            Some(revision) => self.wait_indexed(name, revision).await,
            None => Ok(()),
        }
    }

    /// One server append, retried while the error may pass. The retry carries the same
    /// event ids at the same expected revision: if the lost attempt was stored, the server
    /// answers it as stored (idempotent) or as moved, and the caller finds its events in
    /// the index.
    async fn write(
        &self,
        name: &str,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<Written, StoreError> {
        let options = AppendToStreamOptions::default()
            .expected_revision(expected)
            .deadline(self.options.deadlines.call);
        let mut attempt = 0;
        loop {
            let client = self.connection.client();
            match client
                .append_to_stream(name, &options, events.clone())
                .await
            {
                Ok(result) => return Ok(Written::Stored(result.next_expected_version)),
                Err(eventstore::Error::WrongExpectedVersion { current, .. }) => {
                    return Ok(Written::Moved(match current {
                        CurrentRevision::Current(r) => Some(r),
                        CurrentRevision::NoStream => None,
                    }));
                }
                Err(e) if transient(&e) && attempt < self.options.deadlines.retries => {
                    attempt += 1;
                    let pause = self.options.deadlines.pause(attempt);
                    tracing::warn!(
                        stream = name,
                        error = %e,
                        "append to EventStoreDB failed; its outcome is unknown, trying again \
                         (same event ids, same expected revision) in {pause:?}"
                    );
                    self.connection.renew_after(&client, &e);
                    tokio::time::sleep(pause).await;
                }
                Err(e) if transient(&e) => {
                    return Err(StoreError::Storage(format!(
                        "EventStoreDB did not answer the append to {name} after {} attempts \
                         ({e}); whether it was stored is unknown: sending the same batch again \
                         is safe (appends are idempotent by event id)",
                        attempt + 1
                    )));
                }
                Err(eventstore::Error::Grpc { code, message })
                    if code == tonic::Code::InvalidArgument
                        && message.contains("Maximum Append Size") =>
                {
                    return Err(StoreError::InvalidBatch(format!(
                        "the batch is larger than EventStoreDB accepts in one \
                         append ({message}); the server's MaxAppendSize must be at least the \
                         largest request body Överens accepts"
                    )));
                }
                Err(e) => {
                    return Err(StoreError::Storage(format!(
                        "EventStoreDB refused the append to {name}: {e}"
                    )));
                }
            }
        }
    }

    pub(crate) async fn append(&self, batch: Vec<AppendEvent>) -> Result<Appended, StoreError> {
        self.check_failed()?;
        let headers = batch
            .iter()
            .map(|e| {
                Header::read(e.bytes())
                    .map_err(|r| StoreError::InvalidBatch(format!("event {}: {r}", e.id())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stream = batch.first().map(|e| e.stream().clone());
        // One append per stream at a time on this instance: the first of two identical
        // batches is stored, the second finds it; of rivals, the losers see the winner.
        let lock = stream.as_ref().map(|s| self.stream_lock(s));
        let _stream = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let _no_restore = self.restore_lock.read().await;
        let writer = Uuid::new_v4();
        let name = stream
            .as_ref()
            .map(|s| names::esdb_stream(&self.options.prefix, s))
            .unwrap_or_default();
        let mut synced = false;
        let mut rounds = 0;
        loop {
            let moment = self.moment(stream.as_ref(), &name);
            if let Some(answer) = self.repeat_of(&batch, writer, moment).await? {
                return answer;
            }
            match self.check_chain(&batch, &headers, moment.head) {
                Ok(()) => {}
                // A head past the one the index knows: another instance may have appended.
                Err(StoreError::Conflict(c)) if c.got_seq > c.expected_seq && !synced => {
                    synced = true;
                    self.sync(&names::esdb_stream(&self.options.prefix, &c.stream))
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let Some(stream) = &stream else {
                return Err(StoreError::InvalidBatch(
                    "an append needs at least one event".into(),
                ));
            };
            if rounds == MAX_ROUNDS {
                return Err(StoreError::Storage(format!(
                    "the append to {stream} was written to EventStoreDB {rounds} times without \
                     its events joining the log: another writer is interfering with the \
                     stream's EventStoreDB events"
                )));
            }
            rounds += 1;
            let of = u32::try_from(batch.len())
                .map_err(|_| StoreError::InvalidBatch("the batch is too large".into()))?;
            let events = batch
                .iter()
                .zip(&headers)
                .zip(0u32..)
                .map(|((event, header), place)| {
                    let tag = Tag {
                        writer: Some(writer),
                        batch: Some(place),
                        of: Some(of),
                        restored_at: None,
                    };
                    event_data(event, header, &tag)
                })
                .collect::<Result<Vec<_>, _>>()?;
            match self.write(&name, moment.expected, events).await? {
                Written::Stored(revision) | Written::Moved(Some(revision)) => {
                    self.wait_indexed(&name, revision).await?
                }
                Written::Moved(None) => {}
            }
        }
    }

    pub(crate) async fn restore(&self, records: Vec<RestoreRecord>) -> Result<(), StoreError> {
        self.check_failed()?;
        // No append of this instance runs during a restore: the claimed indexes hold unless
        // another instance writes (restore is for an empty log with no other writer).
        let _exclusive = self.restore_lock.write().await;
        let headers = records
            .iter()
            .map(|r| {
                Header::read(r.event.bytes()).map_err(|reason| {
                    StoreError::RestoreMismatch(format!("record {}: {reason}", r.index))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.check_restore(&records, &headers).await?;
        let writer = Uuid::new_v4();
        let mut start = 0;
        while start < records.len() {
            let stream = records[start].event.stream();
            let end = records[start..]
                .iter()
                .position(|r| r.event.stream() != stream)
                .map_or(records.len(), |n| start + n);
            self.restore_run(&records[start..end], &headers[start..end], writer)
                .await?;
            start = end;
        }
        Ok(())
    }

    /// Checks a whole restore against the index first, so a refused restore writes nothing.
    async fn check_restore(
        &self,
        records: &[RestoreRecord],
        headers: &[Header],
    ) -> Result<(), StoreError> {
        let (len, mut last) = self.shared.read(|s| (s.len, s.last_recorded_at));
        let mut heads = std::collections::HashMap::new();
        let mut ids = HashSet::new();
        for ((len, r), header) in (len..).zip(records).zip(headers) {
            if !ids.insert(r.event.id()) {
                return Err(StoreError::IdReused(r.event.id()));
            }
            if r.index != len {
                return Err(StoreError::RestoreMismatch(format!(
                    "record index {} where the log continues at {len}",
                    r.index
                )));
            }
            if let Some(last) = last
                && r.recorded_at < last
            {
                return Err(StoreError::RestoreMismatch(format!(
                    "record {} was recorded at {}, before the previous record ({last})",
                    r.index, r.recorded_at
                )));
            }
            let stream = r.event.stream();
            let head = *heads
                .entry(stream.clone())
                .or_insert_with(|| self.head(stream));
            if r.event.seq() != head.next_seq || header.prev != head.prev {
                return Err(StoreError::RestoreMismatch(format!(
                    "record {} (stream {stream}, seq {}) does not continue its stream at seq {}",
                    r.index,
                    r.event.seq(),
                    head.next_seq
                )));
            }
            if self.known(vec![r.event.id()]).await?[0].is_some() {
                return Err(StoreError::IdReused(r.event.id()));
            }
            heads.insert(
                stream.clone(),
                StreamHead {
                    next_seq: r.event.seq() + 1,
                    prev: overens_core::Digest32::of(r.event.bytes()),
                },
            );
            last = Some(r.recorded_at);
        }
        Ok(())
    }

    /// Writes consecutive records of one stream with one server append, then checks that
    /// each landed at its claimed index and time.
    async fn restore_run(
        &self,
        run: &[RestoreRecord],
        headers: &[Header],
        writer: Uuid,
    ) -> Result<(), StoreError> {
        let stream = run[0].event.stream();
        let name = names::esdb_stream(&self.options.prefix, stream);
        let ids: Vec<EventId> = run.iter().map(|r| r.event.id()).collect();
        let mut rounds = 0;
        loop {
            let moment = self.moment(Some(stream), &name);
            let known = self.known_below(ids.clone(), moment.len).await?;
            if known
                .iter()
                .all(|k| k.as_ref().is_some_and(|k| k.writer == Some(writer)))
            {
                return check_landed(run, &known);
            }
            if known.iter().any(Option::is_some) || rounds == MAX_ROUNDS {
                return Err(StoreError::RestoreMismatch(format!(
                    "the records of {stream} from index {} did not land as written: another \
                     writer appended during the restore (restore is for an empty log with no \
                     other writer)",
                    run[0].index
                )));
            }
            rounds += 1;
            let events = run
                .iter()
                .zip(headers)
                .map(|(r, header)| {
                    let tag = Tag {
                        writer: Some(writer),
                        batch: None,
                        of: None,
                        restored_at: Some(r.recorded_at),
                    };
                    event_data(&r.event, header, &tag)
                })
                .collect::<Result<Vec<_>, _>>()?;
            match self.write(&name, moment.expected, events).await? {
                Written::Stored(revision) | Written::Moved(Some(revision)) => {
                    self.wait_indexed(&name, revision).await?
                }
                Written::Moved(None) => {}
            }
        }
    }
}

/// Every restored record is at its claimed index with its claimed time.
fn check_landed(run: &[RestoreRecord], known: &[Option<Known>]) -> Result<(), StoreError> {
    for (r, k) in run.iter().zip(known) {
        let (index, at): (u64, Timestamp) = match k {
            Some(k) => (k.index, k.recorded_at),
            None => continue,
        };
        if index != r.index || at != r.recorded_at {
            return Err(StoreError::RestoreMismatch(format!(
                "record {} landed at index {index}, recorded at {at} (claimed {}): another writer \
                 appended during the restore (restore is for an empty log with no other writer)",
                r.index, r.recorded_at
            )));
        }
    }
    Ok(())
}
