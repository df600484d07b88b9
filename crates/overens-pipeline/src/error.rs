//! Why an append was refused: each variant maps to one answer (HTTP status, exit code).

use overens_core::domain::Rejection;
use overens_core::{EnvelopeError, EventId, Timestamp};
use overens_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("event {position} of the batch: {error}")]
    Envelope {
        position: usize,
        error: EnvelopeError,
    },
    #[error(
        "event {position} of the batch: `at` {at} is more than {max_seconds} s from the server's clock ({now}); past dates belong in payloads"
    )]
    ClockSkew {
        position: usize,
        at: Timestamp,
        now: Timestamp,
        max_seconds: i64,
    },
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    #[error("event {position} of the batch: {rejection}")]
    Rejected {
        position: usize,
        rejection: Rejection,
    },
    #[error("event id {0} is already used by another event")]
    IdReused(EventId),
    #[error("event {position} of the batch: {exceeded}")]
    Limit {
        position: usize,
        exceeded: crate::LimitExceeded,
    },
    #[error(transparent)]
    Store(StoreError),
    /// The pipeline stopped taking appends earlier (a commit failed, or the shared log held
    /// a record that does not verify); the reason is the first failure's.
    #[error("this server stopped taking appends: {0}; restart it once the cause is fixed")]
    Halted(String),
}
