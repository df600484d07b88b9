//! Överens' pure core: the signed envelope, the agreement domain (`decide` / `evolve`) and
//! the projections. No I/O, no async, no clock, no randomness: time, ids and keys come in
//! as values.

pub mod content;
pub mod crypto;
pub mod domain;
pub mod envelope;
pub mod event;
pub mod id;
pub mod jcs;
pub mod projection;
pub mod record;
pub mod replay;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod time;

pub use content::Content;
pub use crypto::{Digest32, PublicKey, SecretKey, Signature};
pub use domain::{Agreement, Rejection, State};
pub use envelope::{Envelope, EnvelopeError, UnsignedEnvelope, VerifiedEvent};
pub use event::Event;
pub use id::{AgreementId, EventId, ForumId, PartyId, RepresentativeId, SectionId, StreamId};
pub use record::{LogRecord, Recorded};
pub use replay::{LogError, Replayer, replay_log_file};
pub use time::{Date, Timestamp};
