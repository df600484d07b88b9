//! The EventStoreDB/KurrentDB store: [`EsdbStore`] implements
//! [`overens_store::EventStore`] over the official `eventstore` client (4.0.0, gRPC), for
//! deployments where several Överens instances share one cluster.
//!
//! # Layout in EventStoreDB
//!
//! - One EventStoreDB stream per Överens stream, under a prefix (default `overens-`):
//!   `overens-directory`, `overens-agreement-<slug>`. EventStoreDB revision `n` of such a
//!   stream is normally the Överens event of `seq` `n`.
//! - Event id = the envelope's id (a UUID v7, used as is); event type = the domain event
//!   type (`PartyRegistered`, …); data = the envelope's canonical bytes, exactly as signed
//!   (content type `application/json`, never re-serialised); custom metadata = a small JSON
//!   object of the store's own: `writer` (a random id per append call), `batch`/`of` (the
//!   event's place in its Överens batch) or, for restored records, `restored_at` (the
//!   original `recorded_at`).
//! - One Överens batch is one EventStoreDB append (atomic, one round trip). The 4.0.0
//!   client never sets `TCP_NODELAY`, so against a server whose sockets do not set it
//!   either, every call may cost ~40 ms (Nagle + delayed ACK): batching is what keeps
//!   that cost per batch, not per event.
//! - The server's MaxAppendSize (default 1 MiB) bounds one batch: set it above the largest
//!   request body Överens accepts (`--max-body`) plus a few hundred bytes of metadata per
//!   event. A batch over it is refused as `InvalidBatch`, naming the setting.
//! - The connection string's user must be allowed to read `$all` (an admin by default).
//!
//! # The global log
//!
//! The global log is `$all` filtered to the prefix (a stream-name prefix filter), in
//! `$all` order. Each store instance follows it with one catch-up subscription (resumed
//! from the last position it indexed, after a restart or a broken connection) and indexes
//! it deterministically (see `index`): the next Överens record is the next event whose
//! envelope continues its stream's chain with a new id; its log index is the count of
//! records before it; its `recorded_at` is the server's `created` time of the batch's
//! first event (the 4.0.0 client hands it over in whole seconds), or the original time of
//! a restored record, clamped so it never goes back. Every instance reading the same `$all` computes the same records, the
//! same times and the same RFC 9162 tree (leaf = `record_leaf_hash`, as `SqliteStore`).
//! Events that do not continue a chain (written around this store) are passed over on
//! every instance alike, with a warning.
//!
//! `len`, `read_log`, `read_stream`, `find`, `head`, roots, proofs and `wait_for_growth`
//! answer from that index. The index lives in a local SQLite cache file
//! ([`EsdbOptions::cache_path`]): records, tree nodes, each EventStoreDB stream's last
//! revision and the last `$all` position. On connect, the store checks that the event at
//! the cached position is on the server unchanged (else it refuses to start: the cache
//! belongs to another cluster, or the cluster lost events), and resumes from there. A
//! missing cache is rebuilt from `$all`.
//!
//! # Consistency with several instances
//!
//! - Appends are checked against the index (chain, idempotency by id), then written with
//!   `ExpectedRevision::NoStream` (a stream the index has not seen) or `Exact(revision of
//!   the last event the index has seen in that stream)`; the server's
//!   `WrongExpectedVersion` means another instance appended first: the store waits for its
//!   follower to index that stream's current revision and checks again, which ends in the
//!   same `Conflict` (naming the new head) that `SqliteStore` gives, or in the first
//!   answer again when the events were the same.
//! - `append` returns only after this instance's follower has indexed the batch: an
//!   instance reads its own writes. Another instance sees them once its subscription
//!   delivers them (usually milliseconds); a client that writes on one instance and reads
//!   on another waits for `len() >= appended.log_len` there (or uses `wait_for_growth`).
//! - Idempotency: the same events again get the first answer (`repeated: true`), checked
//!   by id and bytes in the index, not left to the server's own (per stream, id only)
//!   deduplication. An append whose reply was lost (connection dropped after sending) is
//!   retried with backoff, with the same ids at the same expected revision; the store
//!   recognises its own events by the call's `writer` id, so the retry returns the right
//!   indexes and no duplicate is stored.
//!
//! # Restore
//!
//! `restore` is for migrating a log into an empty cluster with no other writer: it checks
//! the claimed indexes and times against the index, appends the records (one server append
//! per run of one stream) with their original time in the metadata, and verifies after
//! indexing that they landed at the claimed indexes with the claimed times; if another
//! writer interleaved, it answers `RestoreMismatch` (the records written so far stay).
//!
//! # What an operator must never do
//!
//! Never delete, truncate (`$maxAge`, `$maxCount`, `$tb`), tombstone or scavenge away
//! events of the prefixed streams, nor write to them with other tools: the log is
//! append-only and every published checkpoint commits to it. The cache file may be
//! deleted at any time (it is rebuilt from `$all`).

mod cache;
mod connection;
mod follow;
mod index;
mod names;
mod options;
mod tree;
mod wire;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventstore::{ClientSettings, ReadAllOptions, StreamPosition};
use overens_core::domain::StreamHead;
use overens_core::{Digest32, EventId, StreamId};
use overens_log::{ConsistencyProof, InclusionProof};
use overens_store::{AppendEvent, Appended, EventStore, RestoreRecord, StoreError, StoredRecord};
use rusqlite::Connection as Sqlite;
use tokio::task::JoinHandle;

pub use options::{DEFAULT_PREFIX, Deadlines, EsdbOptions};

use cache::{CacheFile, Seen};
use connection::{Connection, transient};
use follow::Shared;
use index::Indexer;

/// The EventStoreDB/KurrentDB store. Cheap to share behind an `Arc`; every method is safe
/// to call from many tasks at once. Dropping it stops its follower.
#[derive(Debug)]
pub struct EsdbStore {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    options: EsdbOptions,
    connection: Connection,
    shared: Arc<Shared>,
    readers: Arc<Mutex<Vec<Sqlite>>>,
    stream_locks: Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
    restore_lock: tokio::sync::RwLock<()>,
}

impl EsdbStore {
    /// Connects to the server, opens (or creates) the index cache, checks that the cache
    /// agrees with the server, and starts following `$all`. Returns once the follower has
    /// caught up with `$all` (or after [`Deadlines::catch_up`], catching up in the
    /// background then). Must be called inside a tokio runtime.
    pub async fn connect(options: EsdbOptions) -> Result<EsdbStore, StoreError> {
        names::check_prefix(&options.prefix).map_err(StoreError::Storage)?;
        let settings: ClientSettings = options.connection_string.parse().map_err(|e| {
            StoreError::Storage(format!(
                "EventStoreDB connection string `{}`: {e}",
                redact(&options.connection_string)
            ))
        })?;
        let connection = Connection::new(settings)?;
        let (path, prefix, wait) = (
            options.cache_path.clone(),
            options.prefix.clone(),
            options.deadlines.cache_lock,
        );
        let file = tokio::task::spawn_blocking(move || CacheFile::open(&path, &prefix, wait))
            .await
            .map_err(|e| StoreError::Storage(format!("opening the index cache: {e}")))??;
        let state = file.state()?;
        if let Some(last) = &state.last {
            check_resume(&connection, &options, last).await?;
        }
        let shared = Arc::new(Shared::new(state.clone()));
        let indexer = Indexer {
            file,
            state,
            prefix: options.prefix.clone(),
        };
        let tasks = follow::start(
            connection.clone(),
            indexer,
            shared.clone(),
            options.deadlines.clone(),
        )
        .into();
        let store = EsdbStore {
            inner: Arc::new(Inner {
                options,
                connection,
                shared,
                readers: Arc::new(Mutex::new(Vec::new())),
                stream_locks: Mutex::new(HashMap::new()),
                restore_lock: tokio::sync::RwLock::new(()),
            }),
            tasks,
        };
        store
            .wait_caught_up(store.inner.options.deadlines.catch_up)
            .await;
        Ok(store)
    }

    /// Waits until the follower has caught up with `$all` once; `false` if it has not
    /// within `timeout`.
    pub async fn wait_caught_up(&self, timeout: Duration) -> bool {
        let mut caught_up = self.inner.shared.caught_up.subscribe();
        let caught = tokio::time::timeout(timeout, caught_up.wait_for(|c| *c)).await;
        let caught = matches!(caught, Ok(Ok(_)));
        if !caught {
            tracing::warn!(
                "the follower of $all has not caught up within {timeout:?}; it goes on in \
                 the background"
            );
        }
        caught
    }

    pub fn cache_path(&self) -> &Path {
        &self.inner.options.cache_path
    }

    pub fn options(&self) -> &EsdbOptions {
        &self.inner.options
    }

    /// How many events of `$all` this store's follower has received since it connected:
    /// after a restart with a cache, only what was written since the cached position.
    pub fn followed_since_connect(&self) -> u64 {
        self.inner
            .shared
            .followed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many events of the prefixed streams the follower has passed over (not records
    /// of the log: written around this store). Zero in a healthy deployment.
    pub fn passed_over(&self) -> u64 {
        self.inner.shared.read(|s| s.passed_over)
    }
}

impl Drop for EsdbStore {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The connection string without its password, for messages.
/// The connection string with its password (if any) replaced by `***`: what errors, logs
/// and debug output show.
pub fn redact(connection_string: &str) -> String {
    match (connection_string.find("://"), connection_string.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &connection_string[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &connection_string[..scheme + 3],
                    &credentials[..colon],
                    &connection_string[at..]
                ),
                None => connection_string.to_owned(),
            }
        }
        _ => connection_string.to_owned(),
    }
}

/// The event the cache was last at must be on the server, unchanged, at the cached `$all`
/// position (read from `$all` itself: a read of one stream need not carry a usable `$all`
/// position on a real server). Else the cache belongs to another cluster, or the cluster
/// lost events that were indexed.
async fn check_resume(
    connection: &Connection,
    options: &EsdbOptions,
    last: &Seen,
) -> Result<(), StoreError> {
    let read_options = ReadAllOptions::default()
        .position(StreamPosition::Position(last.position))
        .forwards()
        .max_count(1)
        .deadline(options.deadlines.call);
    let mut attempt = 0;
    let found = loop {
        let client = connection.client();
        let read = async {
            let mut all = client.read_all(&read_options).await?;
            all.next().await
        };
        match read.await {
            Ok(event) => {
                break event.map(|e| {
                    let e = e.get_original_event();
                    (e.id, e.stream_id.clone(), e.revision)
                });
            }
            Err(eventstore::Error::ResourceNotFound) => break None,
            Err(e) if transient(&e) && attempt < options.deadlines.retries => {
                attempt += 1;
                connection.renew_after(&client, &e);
                tokio::time::sleep(options.deadlines.pause(attempt)).await;
            }
            Err(e) => {
                return Err(StoreError::Storage(format!(
                    "checking the index cache against EventStoreDB: {e}"
                )));
            }
        }
    };
    let expected = (last.event_id, last.name.clone(), last.revision);
    if found.as_ref() != Some(&expected) {
        let found = match found {
            Some((id, name, revision)) => {
                format!("event {id} (revision {revision} of {name}) there")
            }
            None => "no event there".into(),
        };
        return Err(StoreError::Storage(format!(
            "the index cache {} does not match the server: it was last at event {} (revision \
             {} of {}) at $all position {}, the server has {found}. The cache belongs to \
             another cluster, or the cluster lost events that were indexed; delete the cache \
             to rebuild it from this server only if this server is the log's true home",
            options.cache_path.display(),
            last.event_id,
            last.revision,
            last.name,
            last.position
        )));
    }
    Ok(())
}

impl Inner {
    /// Runs blocking cache reads off the async executor, on a pooled read connection.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Sqlite) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path: PathBuf = self.options.cache_path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match pool.lock().map_err(|_| StoreError::Failed)?.pop() {
                Some(conn) => conn,
                None => cache::reader(&path)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = pool.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Storage(format!("read task: {e}")))?
    }

    fn len(&self) -> u64 {
        self.shared.read(|s| s.len)
    }

    fn tree_of(&self, size: u64) -> Result<(), StoreError> {
        let len = self.len();
        if size > len {
            return Err(StoreError::BeyondLog { size, len });
        }
        Ok(())
    }
}

impl EventStore for EsdbStore {
    async fn append(&self, batch: Vec<AppendEvent>) -> Result<Appended, StoreError> {
        self.inner.append(batch).await
    }

    async fn restore(&self, records: Vec<RestoreRecord>) -> Result<(), StoreError> {
        self.inner.restore(records).await
    }

    async fn find(&self, id: EventId) -> Result<Option<StoredRecord>, StoreError> {
        let len = self.inner.len();
        let found = self.inner.read(move |conn| cache::find(conn, &id)).await?;
        Ok(found.filter(|r| r.index < len))
    }

    async fn len(&self) -> Result<u64, StoreError> {
        Ok(self.inner.len())
    }

    async fn head(&self, stream: &StreamId) -> Result<StreamHead, StoreError> {
        Ok(self
            .inner
            .shared
            .read(|s| s.heads.get(stream).copied().unwrap_or(StreamHead::EMPTY)))
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let stream = stream.clone();
        let below = self.inner.len();
        self.inner
            .read(move |conn| cache::read_stream(conn, &stream, from_seq, limit, below))
            .await
    }

    async fn read_log(
        &self,
        from_index: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let len = self.inner.len();
        if from_index >= len {
            return Ok(Vec::new());
        }
        let limit = limit.min((len - from_index) as usize);
        self.inner
            .read(move |conn| cache::read_log(conn, from_index, limit))
            .await
    }

    async fn tree_head(&self, size: u64) -> Result<Digest32, StoreError> {
        self.inner.tree_of(size)?;
        self.inner.read(move |conn| tree::root(conn, size)).await
    }

    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
        self.inner.tree_of(size)?;
        self.inner
            .read(move |conn| tree::inclusion(conn, index, size))
            .await
    }

    async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.inner.tree_of(new_size)?;
        self.inner
            .read(move |conn| tree::consistency(conn, old_size, new_size))
            .await
    }

    async fn wait_for_growth(&self, known: u64, timeout: Duration) -> Result<u64, StoreError> {
        let mut len = self.inner.shared.len.subscribe();
        let wait = len.wait_for(|len| *len > known);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(len)) => Ok(*len),
            Ok(Err(_)) => Err(StoreError::Failed),
            Err(_) => Ok(self.inner.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_show() {
        let url = "esdb://admin:changeit@node1:2113,node2:2113?tls=true";
        assert_eq!(
            super::redact(url),
            "esdb://admin:***@node1:2113,node2:2113?tls=true"
        );
        let options = super::EsdbOptions::new(url, "/tmp/cache.sqlite");
        let shown = format!("{options:?}");
        assert!(!shown.contains("changeit"), "{shown}");
        assert!(shown.contains("admin:***@node1"), "{shown}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("esdb://admin:changeit@node1:2113?tls=true"),
            "esdb://admin:***@node1:2113?tls=true"
        );
        assert_eq!(
            super::redact("esdb://127.0.0.1:2113?tls=false"),
            "esdb://127.0.0.1:2113?tls=false"
        );
    }
}
