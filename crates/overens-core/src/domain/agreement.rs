//! An `agreement/<id>` stream: the draft, its sealed versions, signatures, entry into force,
//! renegotiation requests and termination.

use std::sync::Arc;

use serde::Serialize;

use super::directory::{Directory, non_empty};
use super::timeline::Timeline;
use super::{Actor, Rejection, Stamp, StreamHead};
use crate::content::{Content, Forum, Representative, Section};
use crate::crypto::{Digest32, PublicKey};
use crate::event::Event;
use crate::id::{AgreementId, PartyId};
use crate::time::Date;

/// The fold of one agreement stream.
///
/// Its parts are shared, not owned: cloning an agreement (which the state does when an
/// event changes one that a published snapshot still holds) copies pointers, the
/// timeline's newest few entries and nothing else, and each event then copies only what it
/// changes (the draft's top level, the version it signs, the forum it edits). A proposal
/// seals the draft by sharing it, and versions share every section and forum that no draft
/// change touched. Each part serialises as the value it points to.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub id: AgreementId,
    pub drafted: Stamp,
    /// The working copy that draft changes fold into and `RevisionProposed` seals.
    pub draft: Arc<Content>,
    /// Version *n* is `versions[n - 1]`.
    pub versions: Vec<Arc<Version>>,
    pub requests: Vec<Arc<RenegotiationRequest>>,
    pub termination: Option<Termination>,
    pub timeline: Timeline,
    /// What the stream's next event must sign against (see [`super::State::head`]).
    #[serde(skip)]
    pub(super) head: StreamHead,
}

/// A sealed version: its content and everything that happened to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub number: u32,
    pub content_hash: Digest32,
    // Shared with the draft it sealed and, section by section, with the other versions.
    #[cfg_attr(feature = "openapi", schema(value_type = Content))]
    pub content: Arc<Content>,
    pub proposal: Proposal,
    pub signatures: Vec<SignatureRecord>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub withdrawn: Option<Withdrawal>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force: Option<EntryIntoForce>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub superseded: Option<Supersession>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub note: String,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub effective_from: Option<Date>,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    pub stamp: Stamp,
}

/// A party's consent to a version: live (its signatory's own key) or on paper (recorded by
/// a registrar).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureRecord {
    pub version: u32,
    pub content_hash: Digest32,
    pub party: PartyId,
    /// The legal date of the signature: the date of `at` in Sweden, or the paper's date.
    pub signed_on: Date,
    pub method: SignatureMethod,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignatureMethod {
    Live,
    Paper { evidence: String },
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Withdrawal {
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    pub stamp: Stamp,
}

/// When a version took effect (valid time) and when the log learned it (recorded time).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryIntoForce {
    pub from: Date,
    pub recorded: Stamp,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Supersession {
    pub on: Date,
    pub by_version: u32,
    pub recorded: Stamp,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenegotiationRequest {
    pub party: PartyId,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    pub stamp: Stamp,
    /// The version whose entry into force answered the request.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub closed_by_version: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Termination {
    pub party: PartyId,
    pub effective_on: Date,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    pub stamp: Stamp,
}

/// One event of the agreement as a readable line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub stamp: Stamp,
    pub seq: u64,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::AgreementEventType))]
    pub event_type: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    // Shared, not copied, when an agreement is copied for a change (see `Timeline`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub summary: Arc<str>,
}

impl Agreement {
    pub fn draft(&self) -> &Content {
        &self.draft
    }

    pub fn version(&self, number: u32) -> Option<&Version> {
        number
            .checked_sub(1)
            .and_then(|i| self.versions.get(i as usize))
            .map(|v| &**v)
    }

    /// Every version, oldest first (version *n* is the *n*th).
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = &Version> + ExactSizeIterator {
        self.versions.iter().map(|v| &**v)
    }

    pub fn latest_proposal(&self) -> Option<&Version> {
        self.versions.last().map(|v| &**v)
    }

    /// The version that entered into force last: the one in force now, unless terminated.
    pub fn current(&self) -> Option<&Version> {
        self.versions().rev().find(|v| v.in_force.is_some())
    }

    /// The latest proposal while it can still be signed.
    pub fn open_proposal(&self) -> Option<&Version> {
        self.latest_proposal()
            .filter(|v| v.in_force.is_none() && v.withdrawn.is_none())
    }

    /// Every renegotiation request, in log order.
    pub fn requests(&self) -> impl DoubleEndedIterator<Item = &RenegotiationRequest> {
        self.requests.iter().map(|r| &**r)
    }

    pub fn open_requests(&self) -> impl Iterator<Item = &RenegotiationRequest> {
        self.requests().filter(|r| r.closed_by_version.is_none())
    }

    /// A party of the draft, of the latest proposal or of the version in force.
    pub fn is_party(&self, party: &PartyId) -> bool {
        self.draft.has_party(party)
            || self
                .latest_proposal()
                .is_some_and(|v| v.content.has_party(party))
            || self.current().is_some_and(|v| v.content.has_party(party))
    }

    pub(super) fn drafted(
        id: AgreementId,
        event: &crate::event::AgreementDrafted,
        stamp: Stamp,
    ) -> Agreement {
        Agreement {
            id,
            drafted: stamp,
            draft: Arc::new(Content {
                title: event.title.clone(),
                preamble: event.preamble.clone(),
                parties: event.parties.clone(),
                sections: Vec::new(),
                forums: Vec::new(),
            }),
            versions: Vec::new(),
            requests: Vec::new(),
            termination: None,
            timeline: Timeline::new(),
            head: StreamHead::EMPTY,
        }
    }

    /// May `event`, signed by `signer`, be appended to this agreement?
    pub(super) fn decide(
        &self,
        directory: &Directory,
        event: &Event,
        signer: &PublicKey,
        at_date: Date,
    ) -> Result<(), Rejection> {
        if self.termination.is_some() {
            return Err(Rejection::Terminated(self.id.clone()));
        }
        if let Event::AgreementDrafted(_) = event {
            return Err(Rejection::AlreadyDrafted(self.id.clone()));
        }
        // Authority: a registrar only records paper; everyone else is a live signatory of
        // one of this agreement's parties.
        let signer_party = if directory.is_registrar(signer) {
            if !matches!(event, Event::PaperSignatureRecorded(_)) {
                return Err(Rejection::RegistrarMayNotSign {
                    event: event.type_name(),
                });
            }
            None
        } else {
            if matches!(event, Event::PaperSignatureRecorded(_)) {
                return Err(Rejection::NotARegistrar {
                    event: "PaperSignatureRecorded",
                    key: *signer,
                });
            }
            let party = directory.active_signatory(signer)?.party.clone();
            if !self.is_party(&party) {
                return Err(Rejection::NotAParty {
                    party,
                    agreement: self.id.clone(),
                });
            }
            Some(party)
        };
        let acts_for = |named: &PartyId| match &signer_party {
            Some(own) if own != named => Err(Rejection::ActingForAnotherParty {
                signer_party: own.clone(),
                named: named.clone(),
            }),
            _ => Ok(()),
        };

        let draft = &self.draft;
        match event {
            Event::TitleAndPreambleRevised(e) => {
                non_empty("title", &e.title)?;
                if draft.title == e.title && draft.preamble == e.preamble {
                    return Err(Rejection::NoChange {
                        what: "revising the title and preamble".into(),
                    });
                }
                Ok(())
            }
            Event::PartyAdded(e) => {
                if directory.party(&e.party).is_none() {
                    return Err(Rejection::UnknownParty(e.party.clone()));
                }
                if draft.has_party(&e.party) {
                    return Err(Rejection::AlreadyAParty(e.party.clone()));
                }
                Ok(())
            }
            Event::PartyRemoved(e) => {
                if !draft.has_party(&e.party) {
                    return Err(Rejection::NotInDraft(e.party.clone()));
                }
                if draft.parties.len() == 1 {
                    return Err(Rejection::LastParty(e.party.clone()));
                }
                for forum in &draft.forums {
                    if let Some(seat) = forum.representatives.iter().find(|r| r.party == e.party) {
                        return Err(Rejection::PartyHoldsSeat {
                            party: e.party.clone(),
                            forum: forum.id.clone(),
                            representative: seat.id.clone(),
                        });
                    }
                    let chairs = forum.definition.chair.as_ref().map(|c| c.parties());
                    if chairs.is_some_and(|ps| ps.contains(&&e.party)) {
                        return Err(Rejection::PartyChairs {
                            party: e.party.clone(),
                            forum: forum.id.clone(),
                        });
                    }
                }
                Ok(())
            }
            Event::SectionRevised(e) => {
                non_empty("heading", &e.heading)?;
                non_empty("text", &e.text)?;
                let unchanged = draft
                    .section(&e.section)
                    .is_some_and(|s| s.heading == e.heading && s.text == e.text);
                if unchanged {
                    return Err(Rejection::NoChange {
                        what: format!("revising section `{}`", e.section),
                    });
                }
                Ok(())
            }
            Event::SectionRemoved(e) => draft
                .section(&e.section)
                .map(|_| ())
                .ok_or_else(|| Rejection::UnknownSection(e.section.clone())),
            Event::ForumEstablished(e) => {
                if draft.forum(&e.forum).is_some() {
                    return Err(Rejection::ForumExists(e.forum.clone()));
                }
                check_definition(draft, &e.definition)
            }
            Event::ForumRevised(e) => {
                let forum = draft
                    .forum(&e.forum)
                    .ok_or_else(|| Rejection::UnknownForum(e.forum.clone()))?;
                if *forum.definition == e.definition {
                    return Err(Rejection::NoChange {
                        what: format!("revising forum `{}`", e.forum),
                    });
                }
                check_definition(draft, &e.definition)
            }
            Event::ForumDissolved(e) => draft
                .forum(&e.forum)
                .map(|_| ())
                .ok_or_else(|| Rejection::UnknownForum(e.forum.clone())),
            Event::RepresentativeAdded(e) => {
                non_empty("role", &e.role)?;
                let forum = draft
                    .forum(&e.forum)
                    .ok_or_else(|| Rejection::UnknownForum(e.forum.clone()))?;
                if forum
                    .representatives
                    .iter()
                    .any(|r| r.id == e.representative)
                {
                    return Err(Rejection::SeatExists {
                        forum: e.forum.clone(),
                        representative: e.representative.clone(),
                    });
                }
                if !draft.has_party(&e.party) {
                    return Err(Rejection::NotInDraft(e.party.clone()));
                }
                Ok(())
            }
            Event::RepresentativeRemoved(e) => {
                let forum = draft
                    .forum(&e.forum)
                    .ok_or_else(|| Rejection::UnknownForum(e.forum.clone()))?;
                if !forum
                    .representatives
                    .iter()
                    .any(|r| r.id == e.representative)
                {
                    return Err(Rejection::UnknownSeat {
                        forum: e.forum.clone(),
                        representative: e.representative.clone(),
                    });
                }
                Ok(())
            }
            Event::RevisionProposed(e) => {
                let expected = self.versions.len() as u32 + 1;
                if e.version != expected {
                    return Err(Rejection::WrongVersionNumber {
                        expected,
                        got: e.version,
                    });
                }
                let hash = draft.hash();
                if e.content_hash != hash {
                    return Err(Rejection::ContentHashMismatch {
                        expected: hash,
                        got: e.content_hash,
                    });
                }
                Ok(())
            }
            Event::RevisionSigned(e) => {
                acts_for(&e.party)?;
                self.check_signature(e.version, &e.content_hash, &e.party, at_date)
            }
            Event::PaperSignatureRecorded(e) => {
                if e.signed_on > at_date {
                    return Err(Rejection::SignedInFuture {
                        signed_on: e.signed_on,
                        recorded_on: at_date,
                    });
                }
                non_empty("evidence", &e.evidence)?;
                self.check_signature(e.version, &e.content_hash, &e.party, e.signed_on)
            }
            Event::RevisionWithdrawn(e) => {
                non_empty("reason", &e.reason)?;
                self.signable(e.version).map(|_| ())
            }
            Event::RenegotiationRequested(e) => {
                acts_for(&e.party)?;
                non_empty("reason", &e.reason)?;
                let current = self
                    .current()
                    .ok_or_else(|| Rejection::NothingInForce(self.id.clone()))?;
                if !current.content.has_party(&e.party) {
                    return Err(Rejection::NotAPartyOfVersion {
                        party: e.party.clone(),
                        version: current.number,
                    });
                }
                if self.open_requests().any(|r| r.party == e.party) {
                    return Err(Rejection::AlreadyRequested(e.party.clone()));
                }
                Ok(())
            }
            Event::AgreementTerminated(e) => {
                acts_for(&e.party)?;
                non_empty("reason", &e.reason)?;
                if let Some(current) = self.current() {
                    // Once a version is in force, only its parties can end it; a party that
                    // is only in the draft has agreed to nothing yet.
                    if !current.content.has_party(&e.party) {
                        return Err(Rejection::NotAPartyOfVersion {
                            party: e.party.clone(),
                            version: current.number,
                        });
                    }
                    let from = current
                        .in_force
                        .as_ref()
                        .map(|f| f.from)
                        .expect("current is in force");
                    if e.effective_on < from {
                        return Err(Rejection::TerminationBeforeInForce {
                            effective_on: e.effective_on,
                            version: current.number,
                            from,
                        });
                    }
                }
                Ok(())
            }
            Event::AgreementDrafted(_)
            | Event::PartyRegistered(_)
            | Event::SignatoryEnrolled(_)
            | Event::SignatoryRevoked(_) => {
                unreachable!("handled above or kept out by verification")
            }
        }
    }

    /// The latest proposal, if `number` names it and it can still be signed or withdrawn.
    fn signable(&self, number: u32) -> Result<&Version, Rejection> {
        let version = self
            .version(number)
            .ok_or(Rejection::UnknownVersion(number))?;
        let latest = self.versions.len() as u32;
        if number != latest {
            return Err(Rejection::StaleProposal {
                version: number,
                latest,
            });
        }
        if version.withdrawn.is_some() {
            return Err(Rejection::Withdrawn(number));
        }
        if version.in_force.is_some() {
            return Err(Rejection::AlreadyInForce(number));
        }
        Ok(version)
    }

    fn check_signature(
        &self,
        number: u32,
        content_hash: &Digest32,
        party: &PartyId,
        signed_on: Date,
    ) -> Result<(), Rejection> {
        let version = self.signable(number)?;
        if *content_hash != version.content_hash {
            return Err(Rejection::ContentHashMismatch {
                expected: version.content_hash,
                got: *content_hash,
            });
        }
        if !version.content.has_party(party) {
            return Err(Rejection::NotAPartyOfVersion {
                party: party.clone(),
                version: number,
            });
        }
        if version.signatures.iter().any(|s| &s.party == party) {
            return Err(Rejection::AlreadySigned {
                party: party.clone(),
                version: number,
            });
        }
        // The last missing signature brings the version into force: its date must not go
        // back before the version it supersedes.
        if let Some(from) = version.entry_date_with(party, signed_on)
            && let Some(current) = self.current()
        {
            let current_from = current
                .in_force
                .as_ref()
                .map(|f| f.from)
                .expect("current is in force");
            if from < current_from {
                return Err(Rejection::EntersBeforeCurrent {
                    version: number,
                    from,
                    current: current.number,
                    current_from,
                });
            }
        }
        Ok(())
    }

    pub(super) fn evolve(
        &mut self,
        directory: &Directory,
        event: &Event,
        signer: &PublicKey,
        stamp: Stamp,
    ) {
        let by = directory.actor(signer);
        match event {
            Event::AgreementDrafted(_) => {}
            Event::TitleAndPreambleRevised(e) => {
                let draft = self.draft_mut();
                draft.title = e.title.clone();
                draft.preamble = e.preamble.clone();
            }
            Event::PartyAdded(e) => self.draft_mut().parties.push(e.party.clone()),
            Event::PartyRemoved(e) => self.draft_mut().parties.retain(|p| p != &e.party),
            Event::SectionRevised(e) => {
                let section = Arc::new(Section {
                    id: e.section.clone(),
                    heading: e.heading.clone(),
                    text: e.text.clone(),
                });
                let draft = self.draft_mut();
                match draft.sections.iter_mut().find(|s| s.id == e.section) {
                    Some(existing) => *existing = section,
                    None => draft.sections.push(section),
                }
            }
            Event::SectionRemoved(e) => self.draft_mut().sections.retain(|s| s.id != e.section),
            Event::ForumEstablished(e) => self.draft_mut().forums.push(Arc::new(Forum {
                id: e.forum.clone(),
                definition: Arc::new(e.definition.clone()),
                representatives: Vec::new(),
            })),
            Event::ForumRevised(e) => {
                if let Some(forum) = self.draft_mut().forum_mut(&e.forum) {
                    forum.definition = Arc::new(e.definition.clone());
                }
            }
            Event::ForumDissolved(e) => self.draft_mut().forums.retain(|f| f.id != e.forum),
            Event::RepresentativeAdded(e) => {
                if let Some(forum) = self.draft_mut().forum_mut(&e.forum) {
                    forum.representatives.push(Arc::new(Representative {
                        id: e.representative.clone(),
                        party: e.party.clone(),
                        role: e.role.clone(),
                        name: e.name.clone(),
                        adjunct: e.adjunct,
                    }));
                }
            }
            Event::RepresentativeRemoved(e) => {
                if let Some(forum) = self.draft_mut().forum_mut(&e.forum) {
                    forum.representatives.retain(|r| r.id != e.representative);
                }
            }
            Event::RevisionProposed(e) => self.versions.push(Arc::new(Version {
                number: e.version,
                content_hash: e.content_hash,
                // Sealing shares the draft; the next draft change copies its top level.
                content: Arc::clone(&self.draft),
                proposal: Proposal {
                    note: e.note.clone(),
                    effective_from: e.effective_from,
                    by: Arc::clone(&by),
                    stamp,
                },
                signatures: Vec::new(),
                withdrawn: None,
                in_force: None,
                superseded: None,
            })),
            Event::RevisionSigned(e) => self.record_signature(SignatureRecord {
                version: e.version,
                content_hash: e.content_hash,
                party: e.party.clone(),
                signed_on: stamp.at.legal_date(),
                method: SignatureMethod::Live,
                by: Arc::clone(&by),
                stamp,
            }),
            Event::PaperSignatureRecorded(e) => self.record_signature(SignatureRecord {
                version: e.version,
                content_hash: e.content_hash,
                party: e.party.clone(),
                signed_on: e.signed_on,
                method: SignatureMethod::Paper {
                    evidence: e.evidence.clone(),
                },
                by: Arc::clone(&by),
                stamp,
            }),
            Event::RevisionWithdrawn(e) => {
                if let Some(v) = self.version_mut(e.version) {
                    v.withdrawn = Some(Withdrawal {
                        reason: e.reason.clone(),
                        by: Arc::clone(&by),
                        stamp,
                    });
                }
            }
            Event::RenegotiationRequested(e) => {
                self.requests.push(Arc::new(RenegotiationRequest {
                    party: e.party.clone(),
                    reason: e.reason.clone(),
                    by: Arc::clone(&by),
                    stamp,
                    closed_by_version: None,
                }))
            }
            Event::AgreementTerminated(e) => {
                self.termination = Some(Termination {
                    party: e.party.clone(),
                    effective_on: e.effective_on,
                    reason: e.reason.clone(),
                    by: Arc::clone(&by),
                    stamp,
                })
            }
            Event::PartyRegistered(_)
            | Event::SignatoryEnrolled(_)
            | Event::SignatoryRevoked(_) => {
                unreachable!("kept out of agreement streams by verification")
            }
        }
        let summary = super::summary::summarise(directory, event);
        self.timeline.push(TimelineEntry {
            stamp,
            seq: stamp.seq,
            event_type: event.type_name(),
            by,
            summary: summary.into(),
        });
    }

    /// A void record of this agreement's stream: a line in the timeline, nothing else.
    pub(super) fn record_void(&mut self, void: &super::VoidRecord) {
        self.timeline.push(TimelineEntry {
            stamp: void.stamp,
            seq: void.stamp.seq,
            event_type: void.event_type,
            by: Arc::clone(&void.by),
            summary: format!("void, no effect: {}", void.reason).into(),
        });
    }

    /// The draft to change: copied first (its top level: title, preamble, parties and the
    /// pointers to sections and forums) if a version or a snapshot still shares it.
    fn draft_mut(&mut self) -> &mut Content {
        Arc::make_mut(&mut self.draft)
    }

    /// Version `number` to change, copied first if a snapshot still shares it.
    fn version_mut(&mut self, number: u32) -> Option<&mut Version> {
        let index = (number as usize).checked_sub(1)?;
        self.versions.get_mut(index).map(Arc::make_mut)
    }

    fn record_signature(&mut self, signature: SignatureRecord) {
        let number = signature.version;
        let recorded = signature.stamp;
        let Some(version) = self.version_mut(number) else {
            return;
        };
        version.signatures.push(signature);
        let Some(from) = version.entry_date() else {
            return;
        };
        version.in_force = Some(EntryIntoForce { from, recorded });
        // Only the versions that change are copied: the one in force until now, and the
        // requests still open.
        for older in self.versions[..number as usize - 1].iter_mut() {
            if older.in_force.is_some() && older.superseded.is_none() {
                Arc::make_mut(older).superseded = Some(Supersession {
                    on: from,
                    by_version: number,
                    recorded,
                });
            }
        }
        for request in self.requests.iter_mut() {
            if request.closed_by_version.is_none() {
                Arc::make_mut(request).closed_by_version = Some(number);
            }
        }
    }
}

impl Version {
    /// The parties of this version that have not signed it (live or on paper).
    pub fn unsigned_parties(&self) -> Vec<&PartyId> {
        self.content
            .parties
            .iter()
            .filter(|p| !self.signatures.iter().any(|s| &s.party == *p))
            .collect()
    }

    /// When every party has signed: the later of `effective_from` and the last signature.
    pub fn entry_date(&self) -> Option<Date> {
        if !self.unsigned_parties().is_empty() {
            return None;
        }
        let last = self.signatures.iter().map(|s| s.signed_on).max()?;
        Some(self.proposal.effective_from.map_or(last, |f| f.max(last)))
    }

    /// The entry date if `party`'s signature on `signed_on` were the last one missing.
    fn entry_date_with(&self, party: &PartyId, signed_on: Date) -> Option<Date> {
        let missing = self.unsigned_parties();
        if missing.len() != 1 || missing[0] != party {
            return None;
        }
        let last = self
            .signatures
            .iter()
            .map(|s| s.signed_on)
            .chain([signed_on])
            .max()?;
        Some(self.proposal.effective_from.map_or(last, |f| f.max(last)))
    }
}

fn check_definition(
    draft: &Content,
    definition: &crate::content::ForumDefinition,
) -> Result<(), Rejection> {
    non_empty("name", &definition.name)?;
    if let Some(chair) = &definition.chair {
        for party in chair.parties() {
            if !draft.has_party(party) {
                return Err(Rejection::NotInDraft(party.clone()));
            }
        }
    }
    Ok(())
}
