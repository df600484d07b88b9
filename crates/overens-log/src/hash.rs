//! RFC 9162 hashing: leaf hashes, interior node hashes and the empty tree's root.

use overens_core::{Digest32, LogRecord};
use sha2::{Digest, Sha256};

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Digest32 = Digest32([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The leaf hash of `data`: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Digest32(h.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Digest32, right: &Digest32) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Digest32(h.finalize().into())
}

/// The leaf of a log record: SHA-256(0x00 ‖ JCS({"index", "recorded_at", "event"})).
pub fn record_leaf_hash(record: &LogRecord) -> Digest32 {
    leaf_hash(&record.canonical_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_root_is_the_hash_of_nothing() {
        assert_eq!(EMPTY_ROOT, Digest32::of(b""));
    }

    #[test]
    fn leaves_and_nodes_are_domain_separated() {
        let a = leaf_hash(b"a");
        assert_eq!(
            a.to_hex(),
            "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c"
        );
        let mut both = vec![0x01];
        both.extend_from_slice(&a.0);
        both.extend_from_slice(&a.0);
        assert_eq!(node_hash(&a, &a), Digest32::of(&both));
        assert_ne!(node_hash(&a, &a), leaf_hash(&both[1..]));
    }

    /// The store's streamed leaf hash is the leaf hash of the record's canonical line.
    #[test]
    fn a_record_leaf_is_the_leaf_of_its_line() {
        let line = include_str!("../../../events/examples/log.jsonl")
            .lines()
            .next()
            .expect("an example record");
        let record = LogRecord::parse_line(line).expect("example line");
        assert_eq!(record_leaf_hash(&record), leaf_hash(line.as_bytes()));
    }
}
