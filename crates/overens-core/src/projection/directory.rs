//! The directory as readers see it: parties, signatories (with revocations) and the
//! registrar keys the log trusts.

use serde::Serialize;

use crate::crypto::PublicKey;
use crate::domain::{Directory, Party, Signatory};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryView {
    /// In the order they were registered.
    pub parties: Vec<Party>,
    /// In the order they were enrolled; a revoked key keeps its entry with `revoked`.
    pub signatories: Vec<Signatory>,
    /// The registrar keys: the trust anchors of the log.
    pub registrars: Vec<PublicKey>,
}

pub fn directory_view(directory: &Directory) -> DirectoryView {
    let mut parties: Vec<Party> = directory.parties().cloned().collect();
    parties.sort_by_key(|p| p.registered.index);
    let mut signatories: Vec<Signatory> = directory.signatories().cloned().collect();
    signatories.sort_by_key(|s| s.enrolled.index);
    DirectoryView {
        parties,
        signatories,
        registrars: directory.registrars().iter().copied().collect(),
    }
}
