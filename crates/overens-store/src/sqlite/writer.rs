//! The single writer: takes appends from every caller, commits them in groups (one
//! transaction and one fsync per group), and only then answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use overens_core::domain::StreamHead;
use overens_core::{Digest32, StreamId, Timestamp};
use rusqlite::{Connection, params};
use tokio::sync::{oneshot, watch};

use super::{read, tree};
use crate::{AppendEvent, Appended, Conflict, RestoreRecord, StoreError, leaf_hash, record_line};

/// The clock that stamps `recorded_at`; tests pass a fake one.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub(crate) enum Request {
    Append {
        batch: Vec<AppendEvent>,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Restore {
        records: Vec<RestoreRecord>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

enum Reply {
    Append(
        oneshot::Sender<Result<Appended, StoreError>>,
        Result<Appended, StoreError>,
    ),
    Restore(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
}

pub(crate) struct Writer {
    pub conn: Connection,
    pub len: u64,
    pub last_recorded_at: Option<Timestamp>,
    pub heads: HashMap<StreamId, StreamHead>,
    pub clock: Clock,
    pub max_group: usize,
    pub committed: watch::Sender<u64>,
    /// The leaf hashes of the records the open transaction inserted, in order: their tree
    /// nodes are written once per group, just before the commit.
    pub leaves: Vec<Digest32>,
}

impl Writer {
    /// Runs until every sender is gone. After a failed commit it answers everything with
    /// `Failed`: its view of the file can no longer be trusted, and a restart rereads it.
    pub(crate) fn run(mut self, requests: Receiver<Request>) {
        let mut failed = false;
        while let Ok(first) = requests.recv() {
            let mut group = vec![first];
            while group.len() < self.max_group {
                match requests.try_recv() {
                    Ok(r) => group.push(r),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            if failed {
                for request in group {
                    match request {
                        Request::Append { reply, .. } => drop(reply.send(Err(StoreError::Failed))),
                        Request::Restore { reply, .. } => drop(reply.send(Err(StoreError::Failed))),
                    }
                }
                continue;
            }
            match self.commit_group(group) {
                Ok(replies) => {
                    self.committed.send_replace(self.len);
                    for reply in replies {
                        match reply {
                            Reply::Append(tx, result) => drop(tx.send(result)),
                            Reply::Restore(tx, result) => drop(tx.send(result)),
                        }
                    }
                }
                Err((replies, error)) => {
                    failed = true;
                    for reply in replies {
                        match reply {
                            Reply::Append(tx, _) => drop(tx.send(Err(error.clone()))),
                            Reply::Restore(tx, _) => drop(tx.send(Err(error.clone()))),
                        }
                    }
                }
            }
        }
    }

    /// One transaction for the whole group. A request that is refused (conflict, reused id)
    /// changes nothing and does not disturb the others.
    fn commit_group(
        &mut self,
        group: Vec<Request>,
    ) -> Result<Vec<Reply>, (Vec<Reply>, StoreError)> {
        let now = {
            let t = (self.clock)();
            self.last_recorded_at.map_or(t, |last| t.max(last))
        };
        let (len0, last0, heads0) = (self.len, self.last_recorded_at, self.heads.clone());
        self.leaves.clear();
        let mut replies = Vec::with_capacity(group.len());
        let mut io_error = None;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            io_error = Some(StoreError::from(e));
        }
        for request in group {
            if io_error.is_some() {
                replies.push(match request {
                    Request::Append { reply, .. } => Reply::Append(reply, Err(StoreError::Failed)),
                    Request::Restore { reply, .. } => {
                        Reply::Restore(reply, Err(StoreError::Failed))
                    }
                });
                continue;
            }
            match request {
                Request::Append { batch, reply } => match self.append(batch, now) {
                    Ok(result) => replies.push(Reply::Append(reply, result)),
                    Err(e) => {
                        io_error = Some(e);
                        replies.push(Reply::Append(reply, Err(StoreError::Failed)));
                    }
                },
                Request::Restore { records, reply } => match self.restore(records) {
                    Ok(result) => replies.push(Reply::Restore(reply, result)),
                    Err(e) => {
                        io_error = Some(e);
                        replies.push(Reply::Restore(reply, Err(StoreError::Failed)));
                    }
                },
            }
        }
        let outcome = match io_error {
            Some(e) => Err(e),
            // The group's tree nodes go in its own transaction: committed records always
            // have them.
            None => tree::append(&self.conn, len0, &self.leaves)
                .and_then(|()| self.conn.execute_batch("COMMIT").map_err(StoreError::from)),
        };
        match outcome {
            Ok(()) => Ok(replies),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                (self.len, self.last_recorded_at, self.heads) = (len0, last0, heads0);
                Err((replies, e))
            }
        }
    }

    /// Checks a batch against the heads and ids, then inserts it. The outer `Result` is an
    /// I/O failure (fatal to the group); the inner one is the caller's answer.
    #[allow(clippy::type_complexity)]
    fn append(
        &mut self,
        batch: Vec<AppendEvent>,
        now: Timestamp,
    ) -> Result<Result<Appended, StoreError>, StoreError> {
        if let Some(answer) = self.repeat_of(&batch)? {
            return Ok(answer);
        }
        if let Err(e) = self.check_chain(&batch) {
            return Ok(Err(e));
        }
        // A restore earlier in the same group may have recorded a later time than the
        // group's clock reading: the log's times never go back.
        let now = self.last_recorded_at.map_or(now, |last| now.max(last));
        let mut indexes = Vec::with_capacity(batch.len());
        for event in &batch {
            indexes.push(self.insert(event, now)?);
        }
        self.last_recorded_at = Some(now);
        Ok(Ok(Appended {
            indexes,
            recorded_at: now,
            log_len: self.len,
            repeated: false,
        }))
    }

    /// Idempotency by event id: the same events again get the first answer; an id that is
    /// stored with other bytes is refused.
    #[allow(clippy::type_complexity)]
    fn repeat_of(
        &self,
        batch: &[AppendEvent],
    ) -> Result<Option<Result<Appended, StoreError>>, StoreError> {
        let mut found = Vec::new();
        for event in batch {
            match read::by_id(&self.conn, &event.id)? {
                Some((index, at, bytes)) if bytes == event.bytes => found.push((index, at)),
                Some(_) => return Ok(Some(Err(StoreError::IdReused(event.id)))),
                None => {}
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let consecutive = found.windows(2).all(|w| w[1].0 == w[0].0 + 1);
        if found.len() != batch.len() || !consecutive {
            return Ok(Some(Err(StoreError::InvalidBatch(
                "some of these events were stored before, in another batch".into(),
            ))));
        }
        Ok(Some(Ok(Appended {
            indexes: found.iter().map(|(i, _)| *i).collect(),
            recorded_at: found[0].1,
            log_len: self.len,
            repeated: true,
        })))
    }

    fn check_chain(&self, batch: &[AppendEvent]) -> Result<(), StoreError> {
        let Some(first) = batch.first() else {
            return Err(StoreError::InvalidBatch(
                "an append needs at least one event".into(),
            ));
        };
        let mut ids = std::collections::HashSet::new();
        if !batch.iter().all(|e| ids.insert(e.id)) {
            return Err(StoreError::InvalidBatch(
                "an event id appears twice in the batch".into(),
            ));
        }
        if batch.iter().any(|e| e.stream != first.stream) {
            return Err(StoreError::InvalidBatch(
                "a batch appends to one stream only".into(),
            ));
        }
        for pair in batch.windows(2) {
            if pair[1].seq != pair[0].seq + 1 || pair[1].prev != pair[0].hash {
                return Err(StoreError::InvalidBatch(format!(
                    "event seq {} does not follow seq {} of the same batch",
                    pair[1].seq, pair[0].seq
                )));
            }
        }
        let head = self
            .heads
            .get(&first.stream)
            .copied()
            .unwrap_or(StreamHead::EMPTY);
        if first.seq != head.next_seq || first.prev != head.prev {
            return Err(StoreError::Conflict(Box::new(Conflict {
                stream: first.stream.clone(),
                expected_seq: head.next_seq,
                expected_prev: head.prev,
                got_seq: first.seq,
                got_prev: first.prev,
            })));
        }
        Ok(())
    }

    fn insert(&mut self, event: &AppendEvent, recorded_at: Timestamp) -> Result<u64, StoreError> {
        let index = self.len;
        let leaf = leaf_hash(record_line(&event.bytes, index, recorded_at).as_bytes());
        self.conn
            .prepare_cached(
                "INSERT INTO events (idx, stream, seq, id, recorded_at, hash, leaf, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                index as i64,
                event.stream.to_string(),
                event.seq as i64,
                event.id.as_uuid().as_bytes().as_slice(),
                recorded_at.to_string(),
                event.hash.0.as_slice(),
                leaf.0.as_slice(),
                event.bytes,
            ])?;
        self.leaves.push(leaf);
        self.heads.insert(
            event.stream.clone(),
            StreamHead {
                next_seq: event.seq + 1,
                prev: event.hash,
            },
        );
        self.len += 1;
        Ok(index)
    }

    fn restore(
        &mut self,
        records: Vec<RestoreRecord>,
    ) -> Result<Result<(), StoreError>, StoreError> {
        // Check the whole request first, so a refused restore inserts nothing.
        let mut last = self.last_recorded_at;
        let mut heads = self.heads.clone();
        let mut ids = std::collections::HashSet::new();
        for (len, r) in (self.len..).zip(records.iter()) {
            if !ids.insert(r.event.id) {
                return Ok(Err(StoreError::IdReused(r.event.id)));
            }
            if r.index != len {
                return Ok(Err(StoreError::RestoreMismatch(format!(
                    "record index {} where the log continues at {len}",
                    r.index
                ))));
            }
            if let Some(last) = last
                && r.recorded_at < last
            {
                return Ok(Err(StoreError::RestoreMismatch(format!(
                    "record {} was recorded at {}, before the previous record ({last})",
                    r.index, r.recorded_at
                ))));
            }
            let head = heads
                .get(&r.event.stream)
                .copied()
                .unwrap_or(StreamHead::EMPTY);
            if r.event.seq != head.next_seq || r.event.prev != head.prev {
                return Ok(Err(StoreError::RestoreMismatch(format!(
                    "record {} (stream {}, seq {}) does not continue its stream at seq {}",
                    r.index, r.event.stream, r.event.seq, head.next_seq
                ))));
            }
            if read::by_id(&self.conn, &r.event.id)?.is_some() {
                return Ok(Err(StoreError::IdReused(r.event.id)));
            }
            heads.insert(
                r.event.stream.clone(),
                StreamHead {
                    next_seq: r.event.seq + 1,
                    prev: r.event.hash,
                },
            );
            last = Some(r.recorded_at);
        }
        for r in &records {
            self.insert(&r.event, r.recorded_at)?;
            self.last_recorded_at = Some(r.recorded_at);
        }
        Ok(Ok(()))
    }
}
