//! The claims of a bundle: what the server computed from its log for the agreement, in a
//! shape of the bundle's own (not the HTTP API's views, which may change on their own).
//!
//! The verifier never reads the claims to learn anything: it recomputes them from the
//! records with [`Claims::of`] and compares the two, value by value.

use overens_core::domain::SignatureMethod;
use overens_core::projection::{AgreementStatus, VersionStatus, agreement_summary, versions};
use overens_core::{Agreement, Date, Digest32, PartyId, PublicKey, State, StreamId, Timestamp};
use serde::Serialize;

/// Everything the server says about the agreement, as of the bundle's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The agreement's title as shown (of the version in force, else of the draft).
    pub title: String,
    pub status: AgreementStatus,
    /// How many events each stream of the bundle holds, and the hash of its last one.
    pub heads: Vec<HeadClaim>,
    pub versions: Vec<VersionClaim>,
    /// The signature ledger: who agreed to what and when, in log order.
    pub signatures: Vec<SignatureClaim>,
    /// The in-force periods, in the order the versions entered into force.
    pub in_force: Vec<InForcePeriod>,
}

/// The length of a stream and its last event's hash (what the next event names as `prev`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadClaim {
    pub stream: StreamId,
    pub events: u64,
    pub last_hash: Digest32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionClaim {
    pub version: u32,
    pub status: VersionStatus,
    pub content_hash: Digest32,
    pub note: String,
    pub effective_from: Option<Date>,
    /// The log index of its `RevisionProposed`.
    pub proposed_index: u64,
    pub signed: Vec<PartyId>,
    pub not_signed: Vec<PartyId>,
    pub in_force_from: Option<Date>,
    /// The first day it no longer applied (exclusive); `null` while open.
    pub in_force_until: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureClaim {
    pub version: u32,
    pub content_hash: Digest32,
    pub party: PartyId,
    pub party_name: String,
    /// The legal date: of `at` in Europe/Stockholm (live), or the paper's date.
    pub signed_on: Date,
    /// `live` or `paper`.
    pub method: &'static str,
    /// Where the paper is (paper signatures only).
    pub evidence: Option<String>,
    /// The live signatory, or the registrar who recorded the paper signature.
    pub signatory: String,
    pub role: String,
    pub key: PublicKey,
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    pub index: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InForcePeriod {
    pub version: u32,
    pub content_hash: Digest32,
    pub from: Date,
    /// Exclusive; `null` while it still applies.
    pub until: Option<Date>,
    /// When the log learned it: the `recorded_at` of the event that completed it.
    pub known_since: Timestamp,
    pub index: u64,
}

impl Claims {
    /// The claims of `agreement` in `state`, with the heads of the directory and the
    /// agreement's stream. The same projections serve the HTTP API.
    pub fn of(state: &State, agreement: &Agreement) -> Claims {
        let directory = state.directory();
        let summary = agreement_summary(directory, agreement);
        let heads = [
            StreamId::Directory,
            StreamId::Agreement(agreement.id.clone()),
        ]
        .into_iter()
        .map(|stream| {
            let head = state.head(&stream);
            HeadClaim {
                stream,
                events: head.next_seq,
                last_hash: head.prev,
            }
        })
        .collect();
        let version_claims = versions(directory, agreement)
            .into_iter()
            .map(|v| VersionClaim {
                version: v.number,
                status: v.status,
                content_hash: v.content_hash,
                note: v.proposal.note.clone(),
                effective_from: v.proposal.effective_from,
                proposed_index: v.proposal.stamp.index,
                signed: v.signed.into_iter().map(|p| p.id).collect(),
                not_signed: v.not_signed.into_iter().map(|p| p.id).collect(),
                in_force_from: v.in_force_from,
                in_force_until: v.in_force_until,
            })
            .collect::<Vec<_>>();
        let mut signatures: Vec<SignatureClaim> = agreement
            .versions
            .iter()
            .flat_map(|v| &v.signatures)
            .map(|s| {
                let (method, evidence) = match &s.method {
                    SignatureMethod::Live => ("live", None),
                    SignatureMethod::Paper { evidence } => ("paper", Some(evidence.clone())),
                };
                SignatureClaim {
                    version: s.version,
                    content_hash: s.content_hash,
                    party: s.party.clone(),
                    party_name: directory.party_name(&s.party),
                    signed_on: s.signed_on,
                    method,
                    evidence,
                    signatory: s.by.name.clone(),
                    role: s.by.role.clone(),
                    key: s.by.key,
                    at: s.stamp.at,
                    recorded_at: s.stamp.recorded_at,
                    index: s.stamp.index,
                }
            })
            .collect();
        signatures.sort_by_key(|s| s.index);
        let mut in_force: Vec<InForcePeriod> = agreement
            .versions
            .iter()
            .zip(&version_claims)
            .filter_map(|(v, claim)| {
                let entry = v.in_force.as_ref()?;
                Some(InForcePeriod {
                    version: v.number,
                    content_hash: v.content_hash,
                    from: entry.from,
                    until: claim.in_force_until,
                    known_since: entry.recorded.recorded_at,
                    index: entry.recorded.index,
                })
            })
            .collect();
        in_force.sort_by_key(|p| p.index);
        Claims {
            title: summary.title,
            status: summary.status,
            heads,
            versions: version_claims,
            signatures,
            in_force,
        }
    }
}

/// The snake_case name serde gives a status, for reports.
pub(crate) fn status_name<T: Serialize>(status: &T) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        _ => "?".into(),
    }
}
