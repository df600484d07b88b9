//! What a store refuses, and what goes wrong beneath it.

use overens_core::{Digest32, EventId, StreamId};

/// An append signed against a head that is no longer the stream's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub stream: StreamId,
    pub expected_seq: u64,
    pub expected_prev: Digest32,
    pub got_seq: u64,
    pub got_prev: Digest32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "stream `{}` is at seq {} (prev {}); the event was signed for seq {} (prev {})",
        .0.stream, .0.expected_seq, .0.expected_prev, .0.got_seq, .0.got_prev
    )]
    Conflict(Box<Conflict>),
    #[error("event id {0} is already stored with other bytes")]
    IdReused(EventId),
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    #[error("restore must continue the log exactly: {0}")]
    RestoreMismatch(String),
    #[error("stored log is damaged at index {index}: {reason}")]
    Corrupt { index: u64, reason: String },
    /// The stored Merkle tree (the `nodes` table) does not fit the log: nodes are missing,
    /// extra or unreadable.
    #[error("the stored Merkle tree is damaged: {0}")]
    CorruptTree(String),
    /// A tree size past the records the store has committed.
    #[error("tree size {size} is beyond the {len} committed records of the log")]
    BeyondLog { size: u64, len: u64 },
    /// A proof asked for that no tree has: a leaf index not below the size, or a
    /// consistency proof from a larger size to a smaller one.
    #[error("{0}")]
    InvalidRange(String),
    #[error("storage failure: {0}")]
    Storage(String),
    /// An append or restore on a store opened with [`crate::SqliteStore::open_read_only`].
    #[error("{0} was opened read-only: nothing can be appended through it")]
    ReadOnly(String),
    #[error("the store stopped after a failed commit; restart to recover from disk")]
    Failed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}
