//! The indexer: turns the events of `$all` (filtered to the prefix), in `$all` order, into
//! the global log, deterministically, so that every instance that follows the same cluster
//! computes the same records, times and tree.
//!
//! An event becomes the next record when its stream name is one of ours, its data is an
//! envelope of that stream whose id is the event id, its id is not in the log yet, and it
//! continues its stream's chain (`seq` = head, `prev` = head's hash). Any other event is
//! passed over (logged, counted, never a record), on every instance alike.
//!
//! `recorded_at`: a restored record's original time; the next event of the same batch
//! (same stream and writer, next place) shares its batch's time; any other event gets
//! the server's `created` time (as precise as the client gives it: whole seconds with
//! 4.0.0). Each is clamped to no earlier than the record before it.

use std::collections::HashMap;

use overens_core::domain::StreamHead;
use overens_core::{Digest32, StreamId, Timestamp};
use rusqlite::params;

use crate::cache::{self, BatchMark, CacheFile, Seen, State};
use crate::names;
use crate::tree;
use crate::wire::{Header, Incoming, Tag};
use overens_store::{StoreError, record_leaf_hash};

/// The follower's own view of the index and the cache it writes.
#[derive(Debug)]
pub(crate) struct Indexer {
    pub file: CacheFile,
    pub state: State,
    pub prefix: String,
}

/// What one commit changed, for the store's shared copy of the state.
#[derive(Debug, Default)]
pub(crate) struct Delta {
    pub len: u64,
    pub last_recorded_at: Option<Timestamp>,
    pub heads: HashMap<StreamId, StreamHead>,
    pub revisions: HashMap<String, u64>,
    pub last: Option<Seen>,
    pub batch: Option<BatchMark>,
    pub passed_over: u64,
}

impl Delta {
    pub(crate) fn apply(self, state: &mut State) {
        state.len = self.len;
        state.last_recorded_at = self.last_recorded_at;
        state.heads.extend(self.heads);
        state.revisions.extend(self.revisions);
        state.last = self.last;
        state.batch = self.batch;
        state.passed_over = self.passed_over;
    }
}

struct Admitted {
    stream: StreamId,
    header: Header,
    tag: Tag,
    recorded_at: Timestamp,
}

impl Indexer {
    /// Indexes `events` in one transaction. On an error nothing of them is kept, and the
    /// indexer must not be used again (its state may be ahead of the file).
    pub(crate) fn apply(&mut self, events: &[Incoming]) -> Result<Delta, StoreError> {
        let conn = &self.file.conn;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = self.apply_in_transaction(events);
        match result {
            Ok(delta) => {
                self.file.conn.execute_batch("COMMIT")?;
                Ok(delta)
            }
            Err(e) => {
                let _ = self.file.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn apply_in_transaction(&mut self, events: &[Incoming]) -> Result<Delta, StoreError> {
        let first = self.state.len;
        let mut leaves = Vec::new();
        let mut delta = Delta::default();
        for event in events {
            // A resubscription never repeats an event, but if a server did, the event is
            // already indexed.
            if self
                .state
                .last
                .as_ref()
                .is_some_and(|last| event.position <= last.position)
            {
                continue;
            }
            match self.admit(event)? {
                Ok(admitted) => leaves.push(self.insert(event, admitted, &mut delta)?),
                Err(reason) => {
                    self.state.passed_over += 1;
                    tracing::warn!(
                        stream = %event.name,
                        revision = event.revision,
                        event_id = %event.event_id,
                        position = %event.position,
                        "an event of $all is passed over, not a record of the log: {reason}"
                    );
                }
            }
            self.state
                .revisions
                .insert(event.name.clone(), event.revision);
            delta.revisions.insert(event.name.clone(), event.revision);
            self.state.last = Some(Seen {
                name: event.name.clone(),
                revision: event.revision,
                event_id: event.event_id,
                position: event.position,
            });
        }
        let conn = &self.file.conn;
        tree::append(conn, first, &leaves)?;
        {
            let mut upsert = conn.prepare_cached(
                "INSERT INTO esdb_streams (name, revision) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET revision = excluded.revision",
            )?;
            for (name, revision) in &delta.revisions {
                upsert.execute(params![name, *revision as i64])?;
            }
        }
        if let Some(last) = &self.state.last {
            let mut set = conn.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            for (key, value) in [
                ("last_stream", last.name.clone()),
                ("last_revision", last.revision.to_string()),
                ("last_id", last.event_id.to_string()),
                ("last_commit", last.position.commit.to_string()),
                ("last_prepare", last.position.prepare.to_string()),
                ("passed_over", self.state.passed_over.to_string()),
            ] {
                set.execute(params![key, value])?;
            }
        }
        delta.len = self.state.len;
        delta.last_recorded_at = self.state.last_recorded_at;
        delta.last = self.state.last.clone();
        delta.batch = self.state.batch.clone();
        delta.passed_over = self.state.passed_over;
        Ok(delta)
    }

    /// Whether `event` is the log's next record. The outer error is the cache failing.
    fn admit(&self, event: &Incoming) -> Result<Result<Admitted, String>, StoreError> {
        let Some(stream) = names::overens_stream(&self.prefix, &event.name) else {
            return Ok(Err("not the name of an Överens stream".into()));
        };
        let header = match Header::read(&event.data) {
            Ok(header) => header,
            Err(reason) => return Ok(Err(reason)),
        };
        if header.stream != stream {
            return Ok(Err(format!(
                "its envelope names stream {}, not {stream}",
                header.stream
            )));
        }
        if *header.id.as_uuid() != event.event_id {
            return Ok(Err(format!(
                "its envelope id {} is not its event id",
                header.id
            )));
        }
        if let Some(known) = cache::known(&self.file.conn, &header.id)? {
            return Ok(Err(format!(
                "its id is already record {} of the log",
                known.index
            )));
        }
        let head = self
            .state
            .heads
            .get(&stream)
            .copied()
            .unwrap_or(StreamHead::EMPTY);
        if header.seq != head.next_seq || header.prev != head.prev {
            return Ok(Err(format!(
                "seq {} does not continue stream {stream} at seq {}",
                header.seq, head.next_seq
            )));
        }
        let tag = Tag::read(&event.custom_metadata);
        let clamp = |t: Timestamp| self.state.last_recorded_at.map_or(t, |last| t.max(last));
        let recorded_at = match (&tag, &self.state.batch) {
            (
                Tag {
                    restored_at: Some(at),
                    ..
                },
                _,
            ) => clamp(*at),
            (
                Tag {
                    writer: Some(writer),
                    batch: Some(place),
                    of: Some(of),
                    restored_at: None,
                },
                Some(mark),
            ) if *place > 0
                && mark.name == event.name
                && mark.writer == *writer
                && mark.batch + 1 == *place
                && mark.of == *of =>
            {
                mark.recorded_at
            }
            _ => clamp(event.created),
        };
        Ok(Ok(Admitted {
            stream,
            header,
            tag,
            recorded_at,
        }))
    }

    fn insert(
        &mut self,
        event: &Incoming,
        admitted: Admitted,
        delta: &mut Delta,
    ) -> Result<Digest32, StoreError> {
        let index = self.state.len;
        let Admitted {
            stream,
            header,
            tag,
            recorded_at,
        } = admitted;
        let hash = Digest32::of(&event.data);
        let leaf = record_leaf_hash(&event.data, index, recorded_at);
        self.file
            .conn
            .prepare_cached(
                "INSERT INTO events (idx, stream, seq, id, recorded_at, hash, leaf, envelope,
                                     esdb_stream, esdb_revision, writer, batch, batch_of)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                index as i64,
                stream.to_string(),
                header.seq as i64,
                header.id.as_uuid().as_bytes().as_slice(),
                recorded_at.to_string(),
                hash.0.as_slice(),
                leaf.0.as_slice(),
                &event.data[..],
                event.name,
                event.revision as i64,
                tag.writer.map(|w| w.to_string()),
                tag.batch.map(i64::from),
                tag.of.map(i64::from),
            ])?;
        let head = StreamHead {
            next_seq: header.seq + 1,
            prev: hash,
        };
        self.state.heads.insert(stream.clone(), head);
        delta.heads.insert(stream, head);
        self.state.len += 1;
        self.state.last_recorded_at = Some(recorded_at);
        self.state.batch = match tag {
            Tag {
                writer: Some(writer),
                batch: Some(batch),
                of: Some(of),
                restored_at: None,
            } => Some(BatchMark {
                name: event.name.clone(),
                writer,
                batch,
                of,
                recorded_at,
            }),
            _ => None,
        };
        Ok(leaf)
    }
}
