//! The SQLite file: pragmas that make a returned append durable, and the tables.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// Bumped when the table layout changes. A file of version 1 (before the `nodes` table) is
/// migrated on open; a file of any other version is refused.
pub(crate) const SCHEMA_VERSION: i64 = 2;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS events (
    idx          INTEGER PRIMARY KEY,     -- global log index, 0-based, no gaps
    stream       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    id           BLOB    NOT NULL UNIQUE, -- the envelope's UUID v7, 16 bytes
    recorded_at  TEXT    NOT NULL,        -- RFC 3339 UTC, assigned at commit
    hash         BLOB    NOT NULL,        -- SHA-256 of the envelope bytes (the next prev)
    leaf         BLOB    NOT NULL,        -- RFC 9162 leaf hash of the log record
    envelope     BLOB    NOT NULL,        -- canonical bytes, exactly as signed
    UNIQUE (stream, seq)
) STRICT;
-- The RFC 9162 tree: every stored hash of Go sumdb/tlog's layout by its stored-hash index,
-- written in the transaction of the records it covers (see tree.rs).
CREATE TABLE IF NOT EXISTS nodes (
    id    INTEGER PRIMARY KEY,            -- stored-hash index, 0-based, no gaps
    hash  BLOB    NOT NULL                -- 32 bytes
) STRICT;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
";

/// Opens a connection with the settings every connection shares. The writer's connection
/// also creates the tables, or migrates a file of an older version.
pub(crate) fn connect(path: &Path, writer: bool) -> Result<Connection, StoreError> {
    let flags = if writer {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if writer {
        // WAL lets readers run beside the single writer; FULL syncs the WAL on every
        // commit, so a commit that returned survives a power cut.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(TABLES)?;
        match stored_version(&conn) {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) if v == "1" => migrate_from_1(&conn)?,
            Some(v) => {
                return Err(StoreError::Storage(format!(
                    "{}: store schema version {v}, this build reads version {SCHEMA_VERSION} \
                     (and migrates version 1)",
                    path.display()
                )));
            }
        }
    }
    Ok(conn)
}

/// The file's schema version, as its `meta` table records it (`None` for a new file).
fn stored_version(conn: &Connection) -> Option<String> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .ok()
}

/// A reader cannot migrate: a file of another schema version must be opened for writing
/// once (by `overens replay` or the server) first.
pub(crate) fn check_version(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    match stored_version(conn) {
        Some(v) if v == SCHEMA_VERSION.to_string() => Ok(()),
        found => Err(StoreError::Storage(format!(
            "{}: store schema version {}, this build reads version {SCHEMA_VERSION}; open it \
             once for writing (`overens replay --data DIR`, with no server running) to migrate it",
            path.display(),
            found.as_deref().unwrap_or("unknown")
        ))),
    }
}

/// Version 1 had no `nodes` table: compute the tree's stored hashes once from the records'
/// leaf hashes (two hashes per record, no signature checks), in one transaction with the
/// version bump, so an interrupted migration leaves a version 1 file that migrates again.
/// Replay then checks those leaf hashes against the records and the root against them.
fn migrate_from_1(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let migrated = super::tree::rebuild(conn).and_then(|_| {
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [SCHEMA_VERSION.to_string()],
        )?;
        Ok(conn.execute_batch("COMMIT")?)
    });
    if migrated.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `synchronous` is a setting of each connection, so it is checked on the writer's own
    /// connection (a second connection would only show the build's default).
    #[test]
    fn the_writer_connection_is_wal_with_full_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = connect(&dir.path().join("s.sqlite"), true).expect("connect");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal_mode");
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("synchronous");
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
