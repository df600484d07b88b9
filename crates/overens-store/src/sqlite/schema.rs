//! The SQLite file: pragmas that make a returned append durable, and the tables.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// Bumped when the table layout changes; a file of another version is refused.
pub(crate) const SCHEMA_VERSION: i64 = 1;

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
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
";

/// Opens a connection with the settings every connection shares.
pub(crate) fn connect(path: &Path, writer: bool) -> rusqlite::Result<Connection> {
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
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .ok();
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "store schema version {v}, this build reads version {SCHEMA_VERSION}"
                )));
            }
        }
    }
    Ok(conn)
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
