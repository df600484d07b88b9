//! The agreement as people ask about it: status, version in force, open proposal, requests.

use serde::Serialize;

use crate::content::Content;
use crate::crypto::Digest32;
use crate::domain::{
    Agreement, Directory, Proposal, RenegotiationRequest, SignatureRecord, Supersession,
    Termination, Version, Withdrawal,
};
use crate::id::{AgreementId, PartyId};
use crate::time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// Being written; nothing proposed or in force.
    Draft,
    /// A proposal waits for signatures; no version in force yet.
    AwaitingSignatures,
    InForce,
    /// In force, and at least one party has asked to renegotiate.
    RenegotiationRequested,
    Terminated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// The latest proposal, collecting signatures.
    Open,
    /// A newer proposal replaced it before every party had signed.
    Stale,
    Withdrawn,
    InForce,
    /// A newer version entered into force ("omförhandlad").
    Superseded,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementSummary {
    pub id: AgreementId,
    pub title: String,
    pub status: AgreementStatus,
    pub parties: Vec<PartyName>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub version_in_force: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force_from: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub latest_version: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyName {
    pub id: PartyId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenProposal {
    pub version: u32,
    pub content_hash: Digest32,
    pub note: String,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub effective_from: Option<Date>,
    pub signed: Vec<PartyName>,
    pub not_signed: Vec<PartyName>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementView {
    #[serde(flatten)]
    pub summary: AgreementSummary,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content_in_force: Option<Content>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub open_proposal: Option<OpenProposal>,
    pub open_requests: Vec<RenegotiationRequest>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub termination: Option<Termination>,
    pub draft: Content,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionSummary {
    pub number: u32,
    pub status: VersionStatus,
    pub content_hash: Digest32,
    pub proposal: Proposal,
    pub signed: Vec<PartyName>,
    pub not_signed: Vec<PartyName>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force_from: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force_until: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub withdrawn: Option<Withdrawal>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub superseded: Option<Supersession>,
}

/// One version whole: what [`VersionSummary`] says, the content its hash covers, and every
/// signature of it in log order.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionDetail {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub content: Content,
    pub signatures: Vec<SignatureRecord>,
}

fn names<'a>(
    directory: &Directory,
    parties: impl IntoIterator<Item = &'a PartyId>,
) -> Vec<PartyName> {
    parties
        .into_iter()
        .map(|p| PartyName {
            id: p.clone(),
            name: directory.party_name(p),
        })
        .collect()
}

pub fn version_status(agreement: &Agreement, version: &Version) -> VersionStatus {
    if version.superseded.is_some() {
        VersionStatus::Superseded
    } else if version.in_force.is_some() {
        VersionStatus::InForce
    } else if version.withdrawn.is_some() {
        VersionStatus::Withdrawn
    } else if agreement.versions.len() as u32 > version.number {
        VersionStatus::Stale
    } else {
        VersionStatus::Open
    }
}

pub fn agreement_summary(directory: &Directory, agreement: &Agreement) -> AgreementSummary {
    let current = agreement.current();
    let status = if agreement.termination.is_some() {
        AgreementStatus::Terminated
    } else if current.is_some() {
        if agreement.open_requests().next().is_some() {
            AgreementStatus::RenegotiationRequested
        } else {
            AgreementStatus::InForce
        }
    } else if agreement.open_proposal().is_some() {
        AgreementStatus::AwaitingSignatures
    } else {
        AgreementStatus::Draft
    };
    let title = current
        .map_or(&agreement.draft.title, |v| &v.content.title)
        .clone();
    let parties = current.map_or(&agreement.draft.parties, |v| &v.content.parties);
    AgreementSummary {
        id: agreement.id.clone(),
        title,
        status,
        parties: names(directory, parties),
        version_in_force: current.map(|v| v.number),
        in_force_from: current.and_then(|v| v.in_force.as_ref()).map(|e| e.from),
        latest_version: agreement.latest_proposal().map(|v| v.number),
    }
}

pub fn agreement_view(directory: &Directory, agreement: &Agreement) -> AgreementView {
    let open_proposal = agreement.open_proposal().map(|v| OpenProposal {
        version: v.number,
        content_hash: v.content_hash,
        note: v.proposal.note.clone(),
        effective_from: v.proposal.effective_from,
        signed: names(directory, v.signatures.iter().map(|s| &s.party)),
        not_signed: names(directory, v.unsigned_parties()),
    });
    AgreementView {
        summary: agreement_summary(directory, agreement),
        content_in_force: agreement.current().map(|v| Content::clone(&v.content)),
        open_proposal,
        open_requests: agreement.open_requests().cloned().collect(),
        termination: agreement.termination.clone(),
        draft: Content::clone(&agreement.draft),
    }
}

/// Every version with its proposal, signatures and in-force period.
pub fn versions(directory: &Directory, agreement: &Agreement) -> Vec<VersionSummary> {
    agreement
        .versions()
        .map(|v| version_summary(directory, agreement, v))
        .collect()
}

/// One version whole: its summary, the full content and every signature.
pub fn version_detail(directory: &Directory, agreement: &Agreement, v: &Version) -> VersionDetail {
    VersionDetail {
        summary: version_summary(directory, agreement, v),
        content: Content::clone(&v.content),
        signatures: v.signatures.clone(),
    }
}

fn version_summary(directory: &Directory, agreement: &Agreement, v: &Version) -> VersionSummary {
    VersionSummary {
        number: v.number,
        status: version_status(agreement, v),
        content_hash: v.content_hash,
        proposal: v.proposal.clone(),
        signed: names(directory, v.signatures.iter().map(|s| &s.party)),
        not_signed: names(directory, v.unsigned_parties()),
        in_force_from: v.in_force.as_ref().map(|e| e.from),
        in_force_until: v.superseded.as_ref().map(|s| s.on).or_else(|| {
            agreement
                .termination
                .as_ref()
                .filter(|_| v.in_force.is_some())
                .map(|t| t.effective_on)
        }),
        withdrawn: v.withdrawn.clone(),
        superseded: v.superseded.clone(),
    }
}
