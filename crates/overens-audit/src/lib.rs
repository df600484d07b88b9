//! The audit bundle of Överens (design 8): one JSON document holding everything an auditor
//! needs to check one agreement offline, and the verifier that recomputes everything in it
//! from the records alone.
//!
//! - [`build_bundle`]: the server's side: records, inclusion proofs, a checkpoint and the
//!   server's own results ([`Claims`]); [`bundle_from_log`] when the whole log is at hand.
//! - [`verify_bundle`]: the auditor's side: canonical bytes, signatures, chains, rules,
//!   inclusion proofs, the checkpoint's signature, the claims, and (with an older
//!   checkpoint) that the log only grew. The first failure is returned, named.
//!
//! Pure: no I/O, no clock. `docs/audit.md` describes every step for auditors who write
//! their own verifier.

mod build;
mod bundle;
mod claims;
mod report;
mod verify;

pub use build::{BuildError, build_bundle, bundle_from_log, tree_of};
pub use bundle::{Bundle, FORMAT};
pub use claims::{Claims, HeadClaim, InForcePeriod, SignatureClaim, VersionClaim};
pub use report::{CheckpointSummary, ConsistencySummary, KeyRotation, KeySource, Report};
pub use verify::{Check, Failure, Trust, verify_bundle};
