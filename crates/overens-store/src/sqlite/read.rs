//! Reads: records of the global log or of one stream, and the state the writer starts from.

use std::collections::HashMap;

use overens_core::domain::StreamHead;
use overens_core::{Digest32, EventId, StreamId, Timestamp};
use rusqlite::{Connection, Row, params};

use crate::{StoreError, StoredRecord};

pub(crate) const COLUMNS: &str = "idx, recorded_at, stream, seq, id, hash, envelope, leaf";

fn corrupt(index: u64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        index,
        reason: reason.to_string(),
    }
}

pub(crate) fn digest(index: u64, bytes: Vec<u8>) -> Result<Digest32, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt(index, "a stored hash is not 32 bytes"))?;
    Ok(Digest32(array))
}

/// Reads one row. Every column is parsed, so a damaged row is reported, not served.
pub(crate) fn record(row: &Row<'_>) -> Result<StoredRecord, StoreError> {
    let index: i64 = row.get(0)?;
    let index = index as u64;
    let recorded_at: String = row.get(1)?;
    let stream: String = row.get(2)?;
    let seq: i64 = row.get(3)?;
    let id: Vec<u8> = row.get(4)?;
    let hash: Vec<u8> = row.get(5)?;
    let envelope: Vec<u8> = row.get(6)?;
    let leaf: Vec<u8> = row.get(7)?;
    let id: [u8; 16] = id
        .try_into()
        .map_err(|_| corrupt(index, "a stored id is not 16 bytes"))?;
    let id = uuid_text(id)
        .parse::<EventId>()
        .map_err(|e| corrupt(index, e))?;
    Ok(StoredRecord {
        index,
        recorded_at: recorded_at
            .parse::<Timestamp>()
            .map_err(|e| corrupt(index, e))?,
        stream: stream.parse::<StreamId>().map_err(|e| corrupt(index, e))?,
        seq: seq as u64,
        id,
        hash: digest(index, hash)?,
        envelope,
        leaf: digest(index, leaf)?,
    })
}

/// The hyphenated lowercase text of a UUID's 16 bytes (replay reads one per record).
fn uuid_text(b: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(HEX[(x >> 4) as usize] as char);
        text.push(HEX[(x & 0xf) as usize] as char);
    }
    text
}

pub(crate) fn read_log(
    conn: &Connection,
    from: u64,
    limit: usize,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE idx >= ?1 ORDER BY idx LIMIT ?2"
    ))?;
    let mut rows = stmt.query(params![from as i64, limit as i64])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(record(row)?);
    }
    Ok(out)
}

/// A stream's records from `from_seq`, of those below index `below` (the committed ones).
pub(crate) fn read_stream(
    conn: &Connection,
    stream: &StreamId,
    from_seq: u64,
    limit: usize,
    below: u64,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND seq >= ?2 AND idx < ?4
         ORDER BY seq LIMIT ?3"
    ))?;
    // A seq past i64 must not wrap to a negative one (that would read from the start).
    let from_seq = i64::try_from(from_seq).unwrap_or(i64::MAX);
    let below = i64::try_from(below).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![stream.to_string(), from_seq, limit as i64, below])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(record(row)?);
    }
    Ok(out)
}

/// What the writer needs to continue the log: its length, last recorded time and every
/// stream's head. Refuses a log with holes in its indexes.
pub(crate) struct Tail {
    pub len: u64,
    pub last_recorded_at: Option<Timestamp>,
    pub heads: HashMap<StreamId, StreamHead>,
}

pub(crate) fn tail(conn: &Connection) -> Result<Tail, StoreError> {
    let (count, min, max): (i64, Option<i64>, Option<i64>) =
        conn.query_row("SELECT count(*), min(idx), max(idx) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    // A damaged file may hold any index: no arithmetic here that can overflow.
    let len = max.filter(|m| *m >= 0).map_or(0, |m| m as u64 + 1);
    if let Some(negative) = min.filter(|m| *m < 0) {
        return Err(corrupt(
            first_missing(conn)?,
            format!("a record has the negative index {negative}"),
        ));
    }
    if count as u64 != len {
        let missing = first_missing(conn)?;
        return Err(corrupt(
            missing,
            format!(
                "record {missing} is missing ({count} records, indexes up to {})",
                len.saturating_sub(1)
            ),
        ));
    }
    let last_recorded_at = match max {
        None => None,
        Some(m) => {
            let text: String =
                conn.query_row("SELECT recorded_at FROM events WHERE idx = ?1", [m], |r| {
                    r.get(0)
                })?;
            Some(text.parse().map_err(|e| corrupt(m as u64, e))?)
        }
    };
    let mut heads = HashMap::new();
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
        let hash = digest(index, row.get(3)?)?;
        heads.insert(
            stream,
            StreamHead {
                next_seq: seq + 1,
                prev: hash,
            },
        );
    }
    Ok(Tail {
        len,
        last_recorded_at,
        heads,
    })
}

/// The first index (from 0) that has no row; only asked once the indexes show a hole.
fn first_missing(conn: &Connection) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare("SELECT idx FROM events WHERE idx >= 0 ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut expected = 0u64;
    while let Some(row) = rows.next()? {
        if row.get::<_, i64>(0)? as u64 != expected {
            break;
        }
        expected += 1;
    }
    Ok(expected)
}

/// The stored copy of an event id, if any: (index, recorded_at, envelope bytes).
pub(crate) fn by_id(
    conn: &Connection,
    id: &EventId,
) -> Result<Option<(u64, Timestamp, Vec<u8>)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT idx, recorded_at, envelope FROM events WHERE id = ?1")?;
    let mut rows = stmt.query([id.as_uuid().as_bytes().as_slice()])?;
    match rows.next()? {
        None => Ok(None),
        Some(row) => {
            let index = row.get::<_, i64>(0)? as u64;
            let at: String = row.get(1)?;
            Ok(Some((
                index,
                at.parse().map_err(|e| corrupt(index, e))?,
                row.get(2)?,
            )))
        }
    }
}

/// A stream's last record below index `below` (the committed ones).
pub(crate) fn read_stream_last(
    conn: &Connection,
    stream: &StreamId,
    below: u64,
) -> Result<Option<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND idx < ?2 ORDER BY seq DESC LIMIT 1"
    ))?;
    let below = i64::try_from(below).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![stream.to_string(), below])?;
    match rows.next()? {
        Some(row) => Ok(Some(record(row)?)),
        None => Ok(None),
    }
}

pub(crate) fn find(conn: &Connection, id: &EventId) -> Result<Option<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE id = ?1"))?;
    let mut rows = stmt.query([id.as_uuid().as_bytes().as_slice()])?;
    match rows.next()? {
        Some(row) => Ok(Some(record(row)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod uuid_tests {
    #[test]
    fn uuid_text_is_hyphenated_lowercase() {
        let bytes = [
            0x01, 0x70, 0x2e, 0x2a, 0x7b, 0x88, 0x7b, 0xa0, 0x84, 0xe0, 0x9c, 0xdf, 0x03, 0x02,
            0x8a, 0xc4,
        ];
        assert_eq!(
            super::uuid_text(bytes),
            "01702e2a-7b88-7ba0-84e0-9cdf03028ac4"
        );
    }
}
