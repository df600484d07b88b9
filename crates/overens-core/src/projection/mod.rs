//! Projections: read-only views folded from the state, shaped for people and for JSON.

mod diff;
mod directory;
mod in_force;
mod ledger;
mod views;

pub use diff::{FieldChange, ForumDiff, SectionDiff, TextChange, VersionDiff, diff};
pub use directory::{DirectoryView, directory_view};
pub use in_force::{InForce, in_force};
pub use ledger::{LedgerRow, signature_ledger};
pub use views::{
    AgreementStatus, AgreementSummary, AgreementView, OpenProposal, PartyName, VersionDetail,
    VersionStatus, VersionSummary, agreement_summary, agreement_view, version_detail,
    version_status, versions,
};
