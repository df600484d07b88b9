//! The signature ledger: who agreed to which version and content hash, when, and how.

use serde::Serialize;

use crate::crypto::{Digest32, PublicKey};
use crate::domain::{Agreement, Directory, SignatureMethod};
use crate::id::{AgreementId, PartyId};
use crate::time::{Date, Timestamp};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerRow {
    pub agreement: AgreementId,
    pub version: u32,
    pub content_hash: Digest32,
    pub party: PartyId,
    pub party_name: String,
    pub signed_on: Date,
    pub method: SignatureMethod,
    /// The live signatory, or the registrar who recorded a paper signature.
    pub signatory: String,
    pub role: String,
    pub key: PublicKey,
    /// The signer's clock (live) or the recording registrar's.
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    pub index: u64,
}

/// Every signature of every version, in log order.
pub fn signature_ledger(directory: &Directory, agreement: &Agreement) -> Vec<LedgerRow> {
    let mut rows: Vec<LedgerRow> = agreement
        .versions()
        .flat_map(|v| &v.signatures)
        .map(|s| LedgerRow {
            agreement: agreement.id.clone(),
            version: s.version,
            content_hash: s.content_hash,
            party: s.party.clone(),
            party_name: directory.party_name(&s.party),
            signed_on: s.signed_on,
            method: s.method.clone(),
            signatory: s.by.name.clone(),
            role: s.by.role.clone(),
            key: s.by.key,
            at: s.stamp.at,
            recorded_at: s.stamp.recorded_at,
            index: s.stamp.index,
        })
        .collect();
    rows.sort_by_key(|r| r.index);
    rows
}
