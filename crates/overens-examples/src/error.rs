//! Why generation failed: a file, the source's syntax, or one entry of the history.

use std::io;
use std::path::PathBuf;

use overens_core::envelope::EnvelopeError;
use overens_core::{Rejection, Timestamp};

/// Anything that stops the example log from being generated, read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The TOML itself, or its shape; toml's message names the line and column.
    #[error("history.toml: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("history.toml: `registrars`: {0}")]
    Registrars(Box<Problem>),
    /// One `[[event]]`; `position` is its 0-based place in the log (its log index).
    #[error("history.toml: event {position} ({kind}, line {line}): {problem}")]
    Entry {
        position: usize,
        line: usize,
        kind: String,
        /// Boxed: a domain rejection is large, and errors travel through every `?`.
        problem: Box<Problem>,
    },
}

/// What is wrong with one entry (or the registrar list) of the source.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("unknown event type `{0}`; the known types are {known}", known = overens_core::event::EVENT_TYPES.join(", "))]
    UnknownType(String),
    #[error(
        "unknown key name `{0}`: it is neither listed in `registrars` nor enrolled by an \
         earlier SignatoryEnrolled (`key_name`)"
    )]
    UnknownKey(String),
    #[error(
        "`{0}` is not a usable key name (1–64 of a-z, 0-9 and '-'; it names files under keys/)"
    )]
    BadKeyName(String),
    #[error("key name `{0}` is used twice")]
    DuplicateKeyName(String),
    #[error("`{field}`: {reason}")]
    BadField { field: &'static str, reason: String },
    #[error("`{0}` is a floating-point number; events carry only integers, strings and booleans")]
    Float(String),
    #[error("{0}")]
    Placeholder(String),
    #[error("invalid payload: {0}")]
    Payload(String),
    #[error("recorded_at {recorded_at} is before the previous event's {previous}")]
    RecordedBackwards {
        previous: Timestamp,
        recorded_at: Timestamp,
    },
    #[error("`at` {at} is after recorded_at {recorded_at}")]
    AtAfterRecorded {
        at: Timestamp,
        recorded_at: Timestamp,
    },
    #[error(
        "`at` {at} is more than 5 minutes before recorded_at {recorded_at}; a server would \
         refuse it (past dates belong in payloads, never in `at`)"
    )]
    AtTooOld {
        at: Timestamp,
        recorded_at: Timestamp,
    },
    #[error("the envelope does not verify: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("rejected by the domain rules ({rule}): {0}", rule = .0.rule())]
    Rejected(Box<Rejection>),
    #[error("the generated log line does not read back: {0}")]
    LineRoundTrip(String),
}
