//! The embedded default store: one SQLite file (bundled SQLite, WAL, `synchronous=FULL`),
//! one writer thread that group-commits, and read connections beside it.

mod read;
mod schema;
pub mod tree;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use overens_core::domain::StreamHead;
use overens_core::{Digest32, EventId, StreamId, Timestamp};
use overens_log::{ConsistencyProof, InclusionProof};
use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

pub use writer::Clock;

use crate::{AppendEvent, Appended, EventStore, RestoreRecord, StoreError, StoredRecord};
use writer::{Request, Writer};

/// How to open a [`SqliteStore`].
#[derive(Clone)]
pub struct SqliteOptions {
    /// Stamps `recorded_at`; the system clock unless a test sets another.
    pub clock: Clock,
    /// The most append requests one commit takes.
    pub max_group: usize,
}

impl std::fmt::Debug for SqliteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOptions")
            .field("max_group", &self.max_group)
            .finish_non_exhaustive()
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            clock: Arc::new(system_clock),
            max_group: 4096,
        }
    }
}

/// The system clock at microsecond precision.
pub fn system_clock() -> Timestamp {
    let now = chrono::Utc::now();
    let micros = now.timestamp_micros();
    Timestamp::from_datetime(chrono::DateTime::from_timestamp_micros(micros).unwrap_or(now))
}

/// The embedded store. Cheap to share behind an `Arc`; every method is safe to call from
/// many tasks at once.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// `None` once the store is being dropped.
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    committed: watch::Receiver<u64>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Why the `nodes` table does not fit the log, found on opening: roots and proofs are
    /// refused with it (replay names the first bad record before it asks for the root).
    tree_damage: Option<String>,
    // Held for the store's lifetime: one process writes a store file at a time. `None` for
    // a store opened read-only, which takes no lock and has no writer.
    lock: Option<File>,
}

impl SqliteStore {
    /// Opens (or creates) the store file at `path`. Refuses a file another process holds,
    /// and a file whose indexes have holes. A file of schema version 1 gets its tree's
    /// nodes computed once. A `nodes` table that does not fit the log (a row count other
    /// than `stored_hash_count(len)`) does not stop the open: every root and proof is refused
    /// with [`StoreError::CorruptTree`], so replay names any bad record first.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_path = path.with_extension("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Storage(format!("{}: {e}", lock_path.display())))?;
        lock.try_lock().map_err(|_| {
            StoreError::Storage(format!(
                "{} is in use by another process (lock {} is held)",
                path.display(),
                lock_path.display()
            ))
        })?;
        let conn = schema::connect(&path, true)?;
        let tail = read::tail(&conn)?;
        let tree_damage = tree::damage(&conn, tail.len)?;
        let (committed_tx, committed) = watch::channel(tail.len);
        let writer = Writer {
            conn,
            len: tail.len,
            last_recorded_at: tail.last_recorded_at,
            heads: tail.heads,
            clock: options.clock,
            max_group: options.max_group.max(1),
            committed: committed_tx,
            leaves: Vec::new(),
        };
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("overens-sqlite-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Storage(format!("starting the writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            requests: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            committed,
            readers: Arc::new(Mutex::new(Vec::new())),
            tree_damage,
            lock: Some(lock),
        })
    }

    /// Opens an existing store file for reading only, beside a process that may be writing
    /// it (a running server): no lock, no writer thread, nothing created or migrated. It
    /// reads the log as it was committed at this moment (its length and tree are taken in
    /// one read transaction); records committed later are not seen, and every append or
    /// restore is refused with [`StoreError::ReadOnly`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(StoreError::Storage(format!(
                "{}: no store file there",
                path.display()
            )));
        }
        let conn = schema::connect(&path, false)?;
        schema::check_version(&conn, &path)?;
        // One snapshot: a commit landing between the two reads would add nodes that a
        // length read before it does not account for.
        conn.execute_batch("BEGIN")?;
        let read = read::tail(&conn).and_then(|tail| {
            let damage = tree::damage(&conn, tail.len)?;
            Ok((tail.len, damage))
        });
        conn.execute_batch("COMMIT")?;
        let (len, tree_damage) = read?;
        // The sender is dropped: the length never moves (`wait_for_growth` waits it out).
        let (_, committed) = watch::channel(len);
        Ok(SqliteStore {
            path,
            requests: Mutex::new(None),
            writer: Mutex::new(None),
            committed,
            readers: Arc::new(Mutex::new(vec![conn])),
            tree_damage,
            lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A tree of `size` records can be read: the tree is whole and the records committed.
    fn tree_of(&self, size: u64) -> Result<(), StoreError> {
        if let Some(damage) = &self.tree_damage {
            return Err(StoreError::CorruptTree(damage.clone()));
        }
        let len = *self.committed.borrow();
        if size > len {
            return Err(StoreError::BeyondLog { size, len });
        }
        Ok(())
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        if self.lock.is_none() {
            return Err(StoreError::ReadOnly(self.path.display().to_string()));
        }
        let sender = self.requests.lock().map_err(|_| StoreError::Failed)?;
        let sender = sender.as_ref().ok_or(StoreError::Failed)?;
        sender.send(request).map_err(|_| StoreError::Failed)
    }

    /// Runs blocking SQLite reads off the async executor, on a pooled read connection.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match pool.lock().map_err(|_| StoreError::Failed)?.pop() {
                Some(conn) => conn,
                None => schema::connect(&path, false)?,
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
}

impl Drop for SqliteStore {
    /// Lets the writer finish what is queued and close its connection before the lock file
    /// is released, so a process that opens the store next finds it whole and free.
    fn drop(&mut self) {
        if let Ok(mut sender) = self.requests.lock() {
            sender.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
    }
}

impl EventStore for SqliteStore {
    async fn append(&self, batch: Vec<AppendEvent>) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Append { batch, reply })?;
        answer.await.map_err(|_| StoreError::Failed)?
    }

    async fn restore(&self, records: Vec<RestoreRecord>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Restore { records, reply })?;
        answer.await.map_err(|_| StoreError::Failed)?
    }

    async fn find(&self, id: EventId) -> Result<Option<StoredRecord>, StoreError> {
        let committed = *self.committed.borrow();
        let found = self.read(move |conn| read::find(conn, &id)).await?;
        Ok(found.filter(|r| r.index < committed))
    }

    async fn len(&self) -> Result<u64, StoreError> {
        Ok(*self.committed.borrow())
    }

    async fn head(&self, stream: &StreamId) -> Result<StreamHead, StoreError> {
        let stream = stream.clone();
        let committed = *self.committed.borrow();
        self.read(move |conn| {
            let last = read::read_stream_last(conn, &stream, committed)?;
            Ok(last.map_or(StreamHead::EMPTY, |r| StreamHead {
                next_seq: r.seq + 1,
                prev: r.hash,
            }))
        })
        .await
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let stream = stream.clone();
        // Only committed records, as `read_log`.
        let committed = *self.committed.borrow();
        self.read(move |conn| read::read_stream(conn, &stream, from_seq, limit, committed))
            .await
    }

    async fn read_log(
        &self,
        from_index: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        // Only committed records: a reader never sees past what the writer acknowledged.
        let committed = *self.committed.borrow();
        if from_index >= committed {
            return Ok(Vec::new());
        }
        let limit = limit.min((committed - from_index) as usize);
        self.read(move |conn| read::read_log(conn, from_index, limit))
            .await
    }

    async fn tree_head(&self, size: u64) -> Result<Digest32, StoreError> {
        self.tree_of(size)?;
        self.read(move |conn| tree::root(conn, size)).await
    }

    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
        self.tree_of(size)?;
        self.read(move |conn| tree::inclusion(conn, index, size))
            .await
    }

    async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.tree_of(new_size)?;
        self.read(move |conn| tree::consistency(conn, old_size, new_size))
            .await
    }

    async fn wait_for_growth(&self, known: u64, timeout: Duration) -> Result<u64, StoreError> {
        if self.lock.is_none() {
            // Read-only: the log it reads never grows; wait out the time, as for a quiet
            // log, rather than have a follower spin.
            tokio::time::sleep(timeout).await;
            return Ok(*self.committed.borrow());
        }
        let mut committed = self.committed.clone();
        let wait = committed.wait_for(|len| *len > known);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(len)) => Ok(*len),
            Ok(Err(_)) => Err(StoreError::Failed),
            Err(_) => Ok(*self.committed.borrow()),
        }
    }
}
