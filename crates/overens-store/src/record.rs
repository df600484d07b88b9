//! Records as a store keeps them: the canonical envelope bytes and their place in the log.

use overens_core::{Digest32, EventId, LogRecord, StreamId, Timestamp, VerifiedEvent};
use sha2::{Digest, Sha256};

/// An event ready to be stored. Built only from a [`VerifiedEvent`], so its bytes, hash and
/// chain fields always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendEvent {
    pub(crate) stream: StreamId,
    pub(crate) seq: u64,
    pub(crate) prev: Digest32,
    pub(crate) id: EventId,
    pub(crate) hash: Digest32,
    pub(crate) bytes: Vec<u8>,
}

impl From<&VerifiedEvent> for AppendEvent {
    fn from(event: &VerifiedEvent) -> Self {
        let envelope = event.envelope();
        AppendEvent {
            stream: envelope.stream.clone(),
            seq: envelope.seq,
            prev: envelope.prev,
            id: envelope.id,
            hash: event.hash(),
            bytes: event.canonical_bytes().to_vec(),
        }
    }
}

impl AppendEvent {
    pub fn stream(&self) -> &StreamId {
        &self.stream
    }

    pub fn id(&self) -> EventId {
        self.id
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The canonical envelope bytes that will be stored.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A record to restore with its original place and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreRecord {
    pub index: u64,
    pub recorded_at: Timestamp,
    pub event: AppendEvent,
}

/// The outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The index of each event of the batch, in order.
    pub indexes: Vec<u64>,
    pub recorded_at: Timestamp,
    /// The log's length after the commit that holds the batch.
    pub log_len: u64,
    /// The batch was stored before, by an earlier append of the same events.
    pub repeated: bool,
}

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub index: u64,
    pub recorded_at: Timestamp,
    pub stream: StreamId,
    pub seq: u64,
    pub id: EventId,
    pub hash: Digest32,
    /// The envelope's canonical bytes, exactly as signed and hashed.
    pub envelope: Vec<u8>,
    /// The leaf hash stored with the record (RFC 9162): replay recomputes it, so an edit of
    /// any column, `recorded_at` included, is caught.
    pub leaf: Digest32,
}

impl StoredRecord {
    /// The record's canonical JSON line, built from the stored bytes without re-serialising
    /// the envelope: JCS orders the keys `event`, `index`, `recorded_at`.
    pub fn log_line(&self) -> String {
        record_line(&self.envelope, self.index, self.recorded_at)
    }

    pub fn to_log_record(&self) -> Result<LogRecord, crate::StoreError> {
        LogRecord::parse_line(&self.log_line()).map_err(|e| crate::StoreError::Corrupt {
            index: self.index,
            reason: e.to_string(),
        })
    }
}

/// The canonical JSON of a log record, from the envelope's canonical bytes: JCS orders the
/// keys `event`, `index`, `recorded_at`, and neither the index nor the time needs escaping.
pub fn record_line(envelope: &[u8], index: u64, recorded_at: Timestamp) -> String {
    format!(
        "{{\"event\":{},\"index\":{index},\"recorded_at\":\"{recorded_at}\"}}",
        String::from_utf8_lossy(envelope)
    )
}

/// [`leaf_hash`] of the record [`record_line`] makes from these parts, without building
/// the line (replay computes one per record). `envelope` must be UTF-8, as canonical
/// bytes are.
pub fn record_leaf_hash(envelope: &[u8], index: u64, recorded_at: Timestamp) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(b"{\"event\":");
    h.update(envelope);
    h.update(format!(",\"index\":{index},\"recorded_at\":\"{recorded_at}\"}}").as_bytes());
    Digest32(h.finalize().into())
}

/// RFC 9162 leaf hash of a log record: SHA-256(0x00 ‖ JCS(record)).
pub fn leaf_hash(line: &[u8]) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(line);
    Digest32(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_leaf_hash_is_the_leaf_hash_of_the_line() {
        let envelope =
            "{\"at\":\"2020-01-26T00:53:20Z\",\"payload\":{\"name\":\"Region Östergötland\"}}";
        for (index, at) in [
            (0, "2020-01-26T00:53:20Z"),
            (97, "2026-11-23T06:49:05.123Z"),
        ] {
            let at: Timestamp = at.parse().expect("time");
            assert_eq!(
                record_leaf_hash(envelope.as_bytes(), index, at),
                leaf_hash(record_line(envelope.as_bytes(), index, at).as_bytes())
            );
        }
    }
}
