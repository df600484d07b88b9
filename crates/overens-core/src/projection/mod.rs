//! Projections: read-only views folded from the state, shaped for people and for JSON.

mod diff;
mod in_force;
mod ledger;
mod views;

pub use diff::{FieldChange, ForumDiff, SectionDiff, TextChange, VersionDiff, diff};
pub use in_force::{InForce, in_force};
pub use ledger::{LedgerRow, signature_ledger};
pub use views::{
    AgreementStatus, AgreementSummary, AgreementView, OpenProposal, VersionStatus, VersionSummary,
    agreement_summary, agreement_view, version_status, versions,
};
