//! The in-memory event log shared by every connection: streams, the `$all` order, the append
//! rules (expected revision, idempotency, size limit) and the fault hooks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::watch;
use uuid::Uuid;

/// Where the first event lands in `$all`. Not 0: the client reads position 0/0 as "start" and
/// a missing position as 0/0, so a real event there would be indistinguishable from neither.
const FIRST_POSITION: u64 = 1024;

/// Fixed bytes a record takes besides its payloads, so that positions grow like the log-file
/// offsets a real server uses (strictly increasing, not contiguous).
const RECORD_OVERHEAD: u64 = 128;

/// EventStoreDB's default `MaxAppendSize` (1 MiB).
const DEFAULT_MAX_APPEND_SIZE: usize = 1024 * 1024;

/// One event as the server stored it. Positions in `$all` have `commit == prepare`; they are
/// strictly increasing but not contiguous (never compute one from another).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    pub stream: String,
    pub revision: u64,
    pub id: Uuid,
    pub event_type: String,
    /// The content type as the server keeps it: only "is it JSON" survives, like on a real
    /// server, so this is `application/json` or `application/octet-stream`.
    pub content_type: &'static str,
    /// 100-nanosecond ticks since the Unix epoch, as sent in the `created` metadata entry.
    pub created_ticks: u64,
    pub data: Bytes,
    pub custom_metadata: Bytes,
    /// Commit and prepare position in `$all` (equal).
    pub position: u64,
}

/// An expected stream revision, as sent in `AppendReq.Options`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    Any,
    NoStream,
    StreamExists,
    Exact(u64),
}

/// An event proposed in an append, after its metadata was checked.
#[derive(Clone, Debug)]
pub(crate) struct Proposed {
    pub(crate) id: Uuid,
    pub(crate) event_type: String,
    pub(crate) is_json: bool,
    pub(crate) data: Bytes,
    pub(crate) custom_metadata: Bytes,
}

impl Proposed {
    /// The bytes the size limit counts (EventStoreDB counts data, metadata and the type name).
    pub(crate) fn size(&self) -> usize {
        self.data.len() + self.custom_metadata.len() + self.event_type.len()
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendOutcome {
    /// Written, or recognised as an idempotent repeat of events already written.
    /// `current` is the stream's last revision afterwards (`None`: still no stream, after an
    /// empty append); `position` the `$all` position of the last event (`None` if no event).
    Success {
        current: Option<u64>,
        position: Option<u64>,
    },
    /// The expectation did not hold; nothing was written.
    WrongExpectedVersion { current: Option<u64> },
}

/// What fault to inject into the append being handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendFault {
    BeforeCommit,
    AfterCommit,
}

/// Where a subscription or read of `$all` starts, as an index into the `$all` order.
pub(crate) type AllCursor = usize;

#[derive(Default)]
struct Log {
    /// Every event in commit order.
    all: Vec<Arc<RecordedEvent>>,
    /// Stream name to indices into `all`, by revision.
    streams: HashMap<String, Vec<usize>>,
    next_position: u64,
}

struct Inner {
    log: Mutex<Log>,
    /// The number of events in `$all`, bumped after every write: subscriptions wait on it.
    head: watch::Sender<usize>,
    fail_before_commit: AtomicU32,
    fail_after_commit: AtomicU32,
    max_append_size: AtomicUsize,
    subscriptions: AtomicUsize,
}

/// The server's data: in-memory streams and `$all`. Cloning is cheap and shares the data, so a
/// test can keep it across [`crate::TestServer::stop`] and serve it again with
/// [`crate::TestServer::start_with`].
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            inner: Arc::new(Inner {
                log: Mutex::new(Log {
                    next_position: FIRST_POSITION,
                    ..Log::default()
                }),
                head: watch::Sender::new(0),
                fail_before_commit: AtomicU32::new(0),
                fail_after_commit: AtomicU32::new(0),
                max_append_size: AtomicUsize::new(DEFAULT_MAX_APPEND_SIZE),
                subscriptions: AtomicUsize::new(0),
            }),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let log = self.log();
        f.debug_struct("Database")
            .field("events", &log.all.len())
            .field("streams", &log.streams.len())
            .field("subscriptions", &self.subscription_count())
            .finish_non_exhaustive()
    }
}

impl Database {
    pub fn new() -> Database {
        Database::default()
    }

    /// Every event in `$all` order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.log().all.iter().map(|e| (**e).clone()).collect()
    }

    /// The events of one stream, by revision (empty if the stream does not exist).
    pub fn stream(&self, name: &str) -> Vec<RecordedEvent> {
        let log = self.log();
        log.streams
            .get(name)
            .map(|indices| indices.iter().map(|&i| (*log.all[i]).clone()).collect())
            .unwrap_or_default()
    }

    /// The number of events in `$all`.
    pub fn len(&self) -> usize {
        self.log().all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many subscriptions are being served right now (each ends when its client goes
    /// away or its connection is dropped).
    pub fn subscription_count(&self) -> usize {
        self.inner.subscriptions.load(Ordering::SeqCst)
    }

    /// Fault hook: each of the next `n` `Append` calls is applied to the log (written, found
    /// idempotent, or refused), and then its connection is dropped before the reply is sent.
    /// The client sees a lost connection and cannot know whether the events were written: the
    /// "unknown outcome" an adapter must resolve by retrying with the same event ids.
    /// Adds to any count not yet used up.
    pub fn fail_next_appends_after_commit(&self, n: u32) {
        self.inner.fail_after_commit.fetch_add(n, Ordering::SeqCst);
    }

    /// Fault hook: each of the next `n` `Append` calls drops its connection without touching
    /// the log. The client sees the same lost connection as with
    /// [`Database::fail_next_appends_after_commit`], but nothing was written.
    /// Checked before the after-commit hook. Adds to any count not yet used up.
    pub fn fail_next_appends_before_commit(&self, n: u32) {
        self.inner.fail_before_commit.fetch_add(n, Ordering::SeqCst);
    }

    /// The largest append accepted, in bytes of data + custom metadata + event type over all
    /// events of one call (default 1 MiB, EventStoreDB's default `MaxAppendSize`).
    pub fn set_max_append_size(&self, bytes: usize) {
        self.inner.max_append_size.store(bytes, Ordering::SeqCst);
    }

    pub(crate) fn max_append_size(&self) -> usize {
        self.inner.max_append_size.load(Ordering::SeqCst)
    }

    /// Takes one pending fault for the append being handled, if any.
    pub(crate) fn take_append_fault(&self) -> Option<AppendFault> {
        let take = |counter: &AtomicU32| {
            counter
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        };
        if take(&self.inner.fail_before_commit) {
            Some(AppendFault::BeforeCommit)
        } else if take(&self.inner.fail_after_commit) {
            Some(AppendFault::AfterCommit)
        } else {
            None
        }
    }

    /// Appends `events` to `stream` atomically if `expected` holds, with EventStoreDB's
    /// idempotency: a repeat of events already written right after the expected revision (or,
    /// with `Any`/`StreamExists`, anywhere in the stream) succeeds without writing again.
    pub(crate) fn append(
        &self,
        stream: &str,
        expected: Expected,
        events: Vec<Proposed>,
    ) -> AppendOutcome {
        let outcome = {
            let mut log = self.log();
            // A copy, so that `log` can be written below; test data is small.
            let written = log.streams.get(stream).cloned().unwrap_or_default();
            let current = (written.len() as u64).checked_sub(1);
            let next = match expected {
                Expected::Exact(revision) => Some(revision.saturating_add(1)),
                Expected::NoStream => Some(0),
                Expected::Any | Expected::StreamExists => None,
            };
            match next {
                Some(next) if next == written.len() as u64 => log.write(stream, events),
                Some(next) if next < written.len() as u64 && !events.is_empty() => {
                    // `next` fits in usize: it is below a Vec length.
                    log.repeat_at(&written, next as usize, &events, current)
                }
                Some(_) => AppendOutcome::WrongExpectedVersion { current },
                None if expected == Expected::StreamExists && current.is_none() => {
                    AppendOutcome::WrongExpectedVersion { current }
                }
                None => match events
                    .first()
                    .and_then(|first| written.iter().rposition(|&i| log.all[i].id == first.id))
                {
                    Some(start) => log.repeat_at(&written, start, &events, current),
                    None => log.write(stream, events),
                },
            }
        };
        let len = self.log().all.len();
        self.inner.head.send_if_modified(|head| {
            let changed = *head != len;
            *head = len;
            changed
        });
        outcome
    }

    /// Up to `max` events of a stream starting at `revision` (inclusive), in `direction`.
    /// `None` if the stream does not exist.
    pub(crate) fn read_stream(
        &self,
        stream: &str,
        from: StreamFrom,
        backwards: bool,
        max: u64,
    ) -> Option<Vec<Arc<RecordedEvent>>> {
        let log = self.log();
        let indices = log.streams.get(stream)?;
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let len = indices.len();
        let chosen: Vec<usize> = if backwards {
            let end = match from {
                StreamFrom::Start => 1.min(len),
                StreamFrom::End => len,
                StreamFrom::Revision(r) => {
                    usize::try_from(r).map_or(len, |r| r.saturating_add(1).min(len))
                }
            };
            indices[..end].iter().rev().take(max).copied().collect()
        } else {
            let start = match from {
                StreamFrom::Start => 0,
                StreamFrom::End => len,
                StreamFrom::Revision(r) => usize::try_from(r).map_or(len, |r| r.min(len)),
            };
            indices[start..].iter().take(max).copied().collect()
        };
        Some(
            chosen
                .into_iter()
                .map(|i| Arc::clone(&log.all[i]))
                .collect(),
        )
    }

    /// The `$all` index of the first event at or after `position`.
    pub(crate) fn all_index_at(&self, position: u64) -> AllCursor {
        self.log().all.partition_point(|e| e.position < position)
    }

    /// The `$all` index of the first event after `position` (subscriptions start exclusive).
    pub(crate) fn all_index_after(&self, position: u64) -> AllCursor {
        self.log().all.partition_point(|e| e.position <= position)
    }

    /// The `$all` index one past the last event.
    pub(crate) fn all_end(&self) -> AllCursor {
        self.log().all.len()
    }

    /// Up to `max` events of `$all` from index `from` (inclusive) on.
    pub(crate) fn all_forwards(&self, from: AllCursor, max: usize) -> Vec<Arc<RecordedEvent>> {
        let log = self.log();
        log.all.iter().skip(from).take(max).cloned().collect()
    }

    /// The events of `$all` before index `before`, latest first.
    pub(crate) fn all_backwards(&self, before: AllCursor) -> Vec<Arc<RecordedEvent>> {
        let log = self.log();
        log.all[..before.min(log.all.len())]
            .iter()
            .rev()
            .cloned()
            .collect()
    }

    /// Up to `max` events of a stream from revision `from` (inclusive) on; empty if none (yet).
    pub(crate) fn stream_forwards(
        &self,
        stream: &str,
        from: u64,
        max: usize,
    ) -> Vec<Arc<RecordedEvent>> {
        let log = self.log();
        let Some(indices) = log.streams.get(stream) else {
            return Vec::new();
        };
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        indices
            .iter()
            .skip(from)
            .take(max)
            .map(|&i| Arc::clone(&log.all[i]))
            .collect()
    }

    /// The number of events a stream has (its next revision).
    pub(crate) fn stream_len(&self, stream: &str) -> u64 {
        self.log().streams.get(stream).map_or(0, |s| s.len() as u64)
    }

    /// A receiver that changes whenever events are written.
    pub(crate) fn watch_head(&self) -> watch::Receiver<usize> {
        self.inner.head.subscribe()
    }

    /// Counts a subscription being served until the guard is dropped.
    pub(crate) fn subscription_guard(&self) -> SubscriptionGuard {
        self.inner.subscriptions.fetch_add(1, Ordering::SeqCst);
        SubscriptionGuard { db: self.clone() }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-written: `write` pushes
        // complete events only, so the data behind a poisoned lock is still consistent.
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a read of a stream starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamFrom {
    Start,
    End,
    Revision(u64),
}

/// Decrements the subscription count when a subscription's response stream is dropped.
#[derive(Debug)]
pub(crate) struct SubscriptionGuard {
    db: Database,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.db.inner.subscriptions.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Log {
    fn write(&mut self, stream: &str, events: Vec<Proposed>) -> AppendOutcome {
        let created_ticks = ticks_now();
        let indices = self.streams.entry(stream.to_owned()).or_default();
        let mut position = None;
        for event in events {
            let at = self.next_position;
            self.next_position += RECORD_OVERHEAD + event.size() as u64 + stream.len() as u64;
            indices.push(self.all.len());
            self.all.push(Arc::new(RecordedEvent {
                stream: stream.to_owned(),
                revision: indices.len() as u64 - 1,
                id: event.id,
                event_type: event.event_type,
                content_type: if event.is_json {
                    "application/json"
                } else {
                    "application/octet-stream"
                },
                created_ticks,
                data: event.data,
                custom_metadata: event.custom_metadata,
                position: at,
            }));
            position = Some(at);
        }
        let current = (indices.len() as u64).checked_sub(1);
        if indices.is_empty() {
            // An empty append to a missing stream creates nothing.
            self.streams.remove(stream);
        }
        AppendOutcome::Success { current, position }
    }

    /// Whether `events` repeat the written events from revision `start` on. All of them: an
    /// idempotent success reporting the existing events. Some but not all: EventStoreDB's
    /// "corrupted idempotency", answered as a wrong expected version.
    fn repeat_at(
        &self,
        written: &[usize],
        start: usize,
        events: &[Proposed],
        current: Option<u64>,
    ) -> AppendOutcome {
        let repeated = written.get(start..start + events.len()).filter(|slice| {
            slice
                .iter()
                .zip(events)
                .all(|(&i, event)| self.all[i].id == event.id)
        });
        match repeated.and_then(|slice| slice.last()) {
            Some(&last) => AppendOutcome::Success {
                current: Some(self.all[last].revision),
                position: Some(self.all[last].position),
            },
            None => AppendOutcome::WrongExpectedVersion { current },
        }
    }
}

/// Now, in the 100-ns ticks since the Unix epoch that EventStoreDB sends as `created`.
fn ticks_now() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_nanos() / 100).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u128) -> Proposed {
        Proposed {
            id: Uuid::from_u128(id),
            event_type: "t".into(),
            is_json: false,
            data: Bytes::from_static(b"d"),
            custom_metadata: Bytes::new(),
        }
    }

    #[test]
    fn exact_expectations_write_refuse_and_repeat() {
        let db = Database::new();
        let first = db.append("s", Expected::NoStream, vec![event(1), event(2)]);
        assert!(matches!(
            first,
            AppendOutcome::Success {
                current: Some(1),
                position: Some(_)
            }
        ));
        // Same ids at the same expected revision: idempotent, nothing written.
        assert_eq!(
            db.append("s", Expected::NoStream, vec![event(1), event(2)]),
            first
        );
        assert_eq!(db.len(), 2);
        // A prefix of what was written also repeats (revision 0 only).
        assert!(matches!(
            db.append("s", Expected::NoStream, vec![event(1)]),
            AppendOutcome::Success {
                current: Some(0),
                ..
            }
        ));
        // Partly repeated: refused.
        assert_eq!(
            db.append("s", Expected::NoStream, vec![event(1), event(3)]),
            AppendOutcome::WrongExpectedVersion { current: Some(1) }
        );
        assert_eq!(
            db.append("s", Expected::Exact(5), vec![event(3)]),
            AppendOutcome::WrongExpectedVersion { current: Some(1) }
        );
        assert_eq!(db.len(), 2);
        assert!(matches!(
            db.append("s", Expected::Exact(1), vec![event(3)]),
            AppendOutcome::Success {
                current: Some(2),
                ..
            }
        ));
    }

    #[test]
    fn any_repeats_by_id_and_stream_exists_needs_a_stream() {
        let db = Database::new();
        assert_eq!(
            db.append("s", Expected::StreamExists, vec![event(1)]),
            AppendOutcome::WrongExpectedVersion { current: None }
        );
        assert!(db.is_empty());
        db.append("s", Expected::Any, vec![event(1), event(2)]);
        db.append("s", Expected::Any, vec![event(2)]);
        db.append("s", Expected::StreamExists, vec![event(1), event(2)]);
        assert_eq!(db.len(), 2);
        // The same id in another stream is another event.
        db.append("other", Expected::Any, vec![event(1)]);
        assert_eq!(db.len(), 3);
    }

    #[test]
    fn positions_strictly_increase_and_are_not_contiguous() {
        let db = Database::new();
        db.append("a", Expected::Any, vec![event(1), event(2)]);
        db.append("b", Expected::Any, vec![event(3)]);
        let positions: Vec<u64> = db.events().iter().map(|e| e.position).collect();
        assert_eq!(positions[0], FIRST_POSITION);
        assert!(
            positions.windows(2).all(|w| w[1] > w[0] + 1),
            "{positions:?}"
        );
    }

    #[test]
    fn empty_append_creates_no_stream() {
        let db = Database::new();
        assert_eq!(
            db.append("s", Expected::NoStream, vec![]),
            AppendOutcome::Success {
                current: None,
                position: None
            }
        );
        assert!(
            db.read_stream("s", StreamFrom::Start, false, u64::MAX)
                .is_none()
        );
    }
}
