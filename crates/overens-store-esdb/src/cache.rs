//! The local SQLite cache of the index: every record of the global log with its place in
//! `$all`, the Merkle tree's nodes, each EventStoreDB stream's last revision seen and the
//! last `$all` position followed. Derived from the server alone: deleting it costs one
//! re-read of `$all`.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use eventstore::Position;
use overens_core::domain::StreamHead;
use overens_core::{Digest32, EventId, StreamId, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use uuid::Uuid;

use overens_store::{StoreError, StoredRecord};

/// Bumped when the layout changes; a cache of another version is rebuilt from the server.
pub(crate) const SCHEMA_VERSION: &str = "1";

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS events (
    idx           INTEGER PRIMARY KEY,     -- global log index, 0-based, no gaps
    stream        TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    id            BLOB    NOT NULL UNIQUE, -- the envelope's UUID v7 (= the EventStoreDB event id)
    recorded_at   TEXT    NOT NULL,
    hash          BLOB    NOT NULL,
    leaf          BLOB    NOT NULL,
    envelope      BLOB    NOT NULL,        -- canonical bytes, exactly as stored in EventStoreDB
    esdb_stream   TEXT    NOT NULL,
    esdb_revision INTEGER NOT NULL,
    writer        TEXT,                    -- the tag's writer (see wire::Tag)
    batch         INTEGER,
    batch_of      INTEGER,
    UNIQUE (stream, seq)
) STRICT;
CREATE TABLE IF NOT EXISTS nodes (
    id    INTEGER PRIMARY KEY,
    hash  BLOB    NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS esdb_streams (
    name      TEXT PRIMARY KEY,
    revision  INTEGER NOT NULL              -- the last revision the follower has seen
) STRICT;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
";

/// The last event of `$all` the follower has processed (a record or an event it passed
/// over): where it resumes, and what is checked against the server on resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub name: String,
    pub revision: u64,
    pub event_id: Uuid,
    pub position: Position,
}

/// The last record's batch: the next event of the same batch shares its `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchMark {
    pub name: String,
    pub writer: Uuid,
    pub batch: u32,
    pub of: u32,
    pub recorded_at: Timestamp,
}

/// What the index knows, as the follower left it.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub len: u64,
    pub last_recorded_at: Option<Timestamp>,
    pub heads: HashMap<StreamId, StreamHead>,
    /// Per EventStoreDB stream: the revision of the last event seen (records and passed-over
    /// events alike): the expected revision of the next append to it.
    pub revisions: HashMap<String, u64>,
    pub last: Option<Seen>,
    pub batch: Option<BatchMark>,
    /// How many events of `$all` the follower passed over (not Överens records).
    pub passed_over: u64,
}

/// The cache file, held by one store at a time.
#[derive(Debug)]
pub(crate) struct CacheFile {
    pub conn: Connection,
    // Held while the store's follower runs: one store writes a cache file at a time.
    _lock: File,
}

fn storage(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("index cache {}: {e}", path.display()))
}

impl CacheFile {
    /// Opens (or creates) the cache, waiting up to `wait` for its lock. A cache of another
    /// prefix is refused; one of another layout version is emptied.
    pub(crate) fn open(path: &Path, prefix: &str, wait: Duration) -> Result<Self, StoreError> {
        let lock_path = path.with_extension("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| storage(&lock_path, e))?;
        let start = Instant::now();
        while lock.try_lock().is_err() {
            if start.elapsed() > wait {
                return Err(storage(
                    path,
                    format!(
                        "in use by another store (lock {} is held)",
                        lock_path.display()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let conn = Connection::open(path).map_err(|e| storage(path, e))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The cache is derived: a power cut may lose its last transactions, never its
        // consistency (records and the position commit together), and the follower reads
        // the lost part again.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .or_else(|e| match e {
                rusqlite::Error::SqliteFailure(..) => Ok(None),
                e => Err(e),
            })?;
        if version.as_deref().is_some_and(|v| v != SCHEMA_VERSION) {
            tracing::warn!(
                cache = %path.display(),
                "index cache of another layout version: rebuilding it from the server"
            );
            conn.execute_batch(
                "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS nodes;
                 DROP TABLE IF EXISTS esdb_streams; DROP TABLE IF EXISTS meta;",
            )?;
        }
        conn.execute_batch(TABLES)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION],
        )?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('prefix', ?1)",
            [prefix],
        )?;
        let stored: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'prefix'", [], |r| {
                r.get(0)
            })?;
        if stored != prefix {
            return Err(storage(
                path,
                format!(
                    "it indexes the streams of prefix `{stored}`, not `{prefix}`; use another \
                     cache file"
                ),
            ));
        }
        Ok(CacheFile { conn, _lock: lock })
    }

    /// Reads the index's state. Refuses a cache whose records have holes.
    pub(crate) fn state(&self) -> Result<State, StoreError> {
        let conn = &self.conn;
        let (count, max): (i64, Option<i64>) =
            conn.query_row("SELECT count(*), max(idx) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let len = max.map_or(0, |m| m as u64 + 1);
        if count as u64 != len {
            return Err(StoreError::Corrupt {
                index: 0,
                reason: format!("the index cache holds {count} records for indexes up to {len}"),
            });
        }
        let mut state = State {
            len,
            ..State::default()
        };
        if let Some(m) = max {
            let (at, name, writer, batch, of): (String, String, Option<String>, Option<i64>, Option<i64>) =
                conn.query_row(
                    "SELECT recorded_at, esdb_stream, writer, batch, batch_of FROM events WHERE idx = ?1",
                    [m],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
            let at: Timestamp = at.parse().map_err(|e| corrupt(m as u64, e))?;
            state.last_recorded_at = Some(at);
            if let (Some(writer), Some(batch), Some(of)) = (writer, batch, of) {
                state.batch = Some(BatchMark {
                    name,
                    writer: writer.parse().map_err(|e| corrupt(m as u64, e))?,
                    batch: batch as u32,
                    of: of as u32,
                    recorded_at: at,
                });
            }
        }
        let mut stmt = conn.prepare(
            "SELECT e.idx, e.stream, e.seq, e.hash FROM events e
             JOIN (SELECT stream, max(seq) AS seq FROM events GROUP BY stream) h
               ON e.stream = h.stream AND e.seq = h.seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let index = row.get::<_, i64>(0)? as u64;
            let stream: String = row.get(1)?;
            let stream: StreamId = stream.parse().map_err(|e| corrupt(index, e))?;
            let seq = row.get::<_, i64>(2)? as u64;
            state.heads.insert(
                stream,
                StreamHead {
                    next_seq: seq + 1,
                    prev: digest(index, row.get(3)?)?,
                },
            );
        }
        let mut stmt = conn.prepare("SELECT name, revision FROM esdb_streams")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            state
                .revisions
                .insert(row.get(0)?, row.get::<_, i64>(1)? as u64);
        }
        let meta = |key: &str| -> Result<Option<String>, StoreError> {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        let bad = |what: &str| StoreError::Storage(format!("index cache: bad {what} in meta"));
        if let Some(name) = meta("last_stream")? {
            let number = |key: &str| -> Result<u64, StoreError> {
                meta(key)?
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad(key))
            };
            state.last = Some(Seen {
                name,
                revision: number("last_revision")?,
                event_id: meta("last_id")?
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad("last_id"))?,
                position: Position {
                    commit: number("last_commit")?,
                    prepare: number("last_prepare")?,
                },
            });
            state.passed_over = number("passed_over")?;
        }
        Ok(state)
    }
}

fn corrupt(index: u64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        index,
        reason: format!("index cache: {reason}"),
    }
}

pub(crate) fn digest(index: u64, bytes: Vec<u8>) -> Result<Digest32, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt(index, "a stored hash is not 32 bytes"))?;
    Ok(Digest32(array))
}

/// A read-only connection beside the follower's.
pub(crate) fn reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

const COLUMNS: &str = "idx, recorded_at, stream, seq, id, hash, envelope, leaf";

fn record(row: &Row<'_>) -> Result<StoredRecord, StoreError> {
    let index = row.get::<_, i64>(0)? as u64;
    let recorded_at: String = row.get(1)?;
    let stream: String = row.get(2)?;
    let id: Vec<u8> = row.get(4)?;
    let id = Uuid::from_slice(&id).map_err(|e| corrupt(index, e))?;
    Ok(StoredRecord {
        index,
        recorded_at: recorded_at.parse().map_err(|e| corrupt(index, e))?,
        stream: stream.parse().map_err(|e| corrupt(index, e))?,
        seq: row.get::<_, i64>(3)? as u64,
        id: id
            .hyphenated()
            .to_string()
            .parse::<EventId>()
            .map_err(|e| corrupt(index, e))?,
        hash: digest(index, row.get(5)?)?,
        envelope: row.get(6)?,
        leaf: digest(index, row.get(7)?)?,
    })
}

fn records(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(record(row)?);
    }
    Ok(out)
}

/// Records `from .. from + limit` (the caller bounds them by the committed length).
pub(crate) fn read_log(
    conn: &Connection,
    from: u64,
    limit: usize,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE idx >= ?1 ORDER BY idx LIMIT ?2"
    ))?;
    records(&mut stmt, params![from as i64, limit as i64])
}

pub(crate) fn read_stream(
    conn: &Connection,
    stream: &StreamId,
    from_seq: u64,
    limit: usize,
    below: u64,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND seq >= ?2 AND idx < ?3
         ORDER BY seq LIMIT ?4"
    ))?;
    let from_seq = i64::try_from(from_seq).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    records(
        &mut stmt,
        params![stream.to_string(), from_seq, below as i64, limit],
    )
}

pub(crate) fn find(conn: &Connection, id: &EventId) -> Result<Option<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE id = ?1"))?;
    Ok(records(&mut stmt, [id.as_uuid().as_bytes().as_slice()])?
        .into_iter()
        .next())
}

/// What an append needs to know of a stored id: its place, time, bytes and writer.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub index: u64,
    pub recorded_at: Timestamp,
    pub envelope: Vec<u8>,
    pub writer: Option<Uuid>,
}

pub(crate) fn known(conn: &Connection, id: &EventId) -> Result<Option<Known>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT idx, recorded_at, envelope, writer FROM events WHERE id = ?1")?;
    let mut rows = stmt.query([id.as_uuid().as_bytes().as_slice()])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let index = row.get::<_, i64>(0)? as u64;
    let at: String = row.get(1)?;
    let writer: Option<String> = row.get(3)?;
    Ok(Some(Known {
        index,
        recorded_at: at.parse().map_err(|e| corrupt(index, e))?,
        envelope: row.get(2)?,
        writer: writer.and_then(|w| w.parse().ok()),
    }))
}
