//! Log-record lines: what import, replay and the bundle verifier read.

use overens_core::LogRecord;
use overens_core::record::RecordError;
use overens_log::{leaf_hash, record_leaf_hash};

use crate::Outcome;

/// Properties of `LogRecord::parse_line`:
///
/// - an accepted line round-trips byte for byte (`to_line`), its canonical bytes are the
///   JCS library's, and its leaf hash is the hash of exactly those bytes;
/// - a line that is a record but not its canonical form is refused as `NotCanonical`,
///   anything else as `Malformed`; never a panic.
pub fn check_record(data: &[u8]) -> Outcome {
    let Ok(line) = std::str::from_utf8(data) else {
        return Outcome::Refused;
    };
    let parsed: Result<LogRecord, _> = serde_json::from_str(line);
    match LogRecord::parse_line(line) {
        Ok(record) => {
            assert_eq!(
                record.to_line(),
                line,
                "an accepted line does not round-trip"
            );
            let oracle = serde_json_canonicalizer::to_vec(&record).expect("a record is JSON");
            assert_eq!(
                record.canonical_bytes(),
                oracle,
                "not the JCS library's bytes"
            );
            assert_eq!(record_leaf_hash(&record), leaf_hash(data));
            assert_eq!(
                LogRecord::parse_line(&record.to_line()).as_ref(),
                Ok(&record)
            );
            Outcome::Accepted
        }
        Err(RecordError::NotCanonical) => {
            let record = parsed.expect("NotCanonical is only said of a record");
            assert_ne!(record.canonical_bytes(), data);
            Outcome::Refused
        }
        Err(RecordError::Malformed(_)) => {
            assert!(parsed.is_err(), "a record refused as malformed");
            Outcome::Refused
        }
    }
}
