//! The log record `{"index", "recorded_at", "event"}`: the unit of the global log, of
//! exports and of Merkle leaves. A JSON Lines file of log records is a *log file*.

use serde::{Deserialize, Serialize};

use crate::envelope::{Envelope, VerifiedEvent};
use crate::jcs;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRecord {
    pub index: u64,
    pub recorded_at: Timestamp,
    pub event: Envelope,
}

/// Why a line of a log file is not a log record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("malformed log record: {0}")]
    Malformed(String),
    #[error("log record is not in canonical form (RFC 8785); log files hold canonical JSON only")]
    NotCanonical,
}

impl LogRecord {
    /// Reads one line of a log file. The line must be the record's canonical JSON exactly,
    /// so that every byte of a log file is accounted for.
    pub fn parse_line(line: &str) -> Result<LogRecord, RecordError> {
        let record: LogRecord =
            serde_json::from_str(line).map_err(|e| RecordError::Malformed(e.to_string()))?;
        if record.canonical_bytes() != line.as_bytes() {
            return Err(RecordError::NotCanonical);
        }
        Ok(record)
    }

    /// JCS of the record: one line of a log file, and (hashed with a 0x00 prefix) a Merkle leaf.
    /// JCS orders the members `event`, `index`, `recorded_at`; the envelope is written by its
    /// own direct writer.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        if self.index >= crate::envelope::MAX_SAFE_INTEGER {
            return jcs::canonical(self).expect("record is plain JSON");
        }
        let event = self.event.canonical_bytes();
        let mut out = Vec::with_capacity(event.len() + 64);
        out.extend_from_slice(b"{\"event\":");
        out.extend_from_slice(&event);
        out.extend_from_slice(format!(",\"index\":{},\"recorded_at\":", self.index).as_bytes());
        jcs::write_str(&mut out, &self.recorded_at.to_string());
        out.push(b'}');
        out
    }

    pub fn to_line(&self) -> String {
        String::from_utf8(self.canonical_bytes()).expect("JCS is UTF-8")
    }
}

/// A verified event with its place in the global log.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub index: u64,
    pub recorded_at: Timestamp,
    pub event: &'a VerifiedEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct writer gives the generic canonicaliser's bytes for every example record.
    #[test]
    fn record_lines_are_the_canonicalisers() {
        for line in include_str!("../../../events/examples/log.jsonl").lines() {
            let record = LogRecord::parse_line(line).expect("example line");
            assert_eq!(
                record.canonical_bytes(),
                jcs::canonical(&record).expect("canonical")
            );
            let mut huge = record.clone();
            huge.index = u64::MAX;
            assert_eq!(
                huge.canonical_bytes(),
                jcs::canonical(&huge).expect("canonical")
            );
        }
    }
}
