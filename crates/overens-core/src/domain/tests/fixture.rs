//! `Given`: fixed keys, a world that signs correctly chained envelopes, and a standard
//! history (registrar, parties, signatories, a drafted agreement with sections and a forum).
//!
//! Every event goes the whole way: built, signed, [`Envelope::verify`]-ed and
//! [`State::apply`]-ed with a [`Recorded`] at the next log index. A refused event is checked
//! to have left the state exactly as it was (log length, stream heads, directory and every
//! agreement view, compared as JSON).

use serde_json::{Value, json};

use crate::content::{Cadence, Chair, ChairTurn, ForumDefinition, Period};
use crate::crypto::{Digest32, PublicKey, SecretKey, Signature};
use crate::domain::{Agreement, Rejection, State, StreamHead, enrollment_message};
use crate::envelope::{Envelope, UnsignedEnvelope};
use crate::event::{
    AgreementDrafted, AgreementTerminated, Event, ForumDissolved, ForumEstablished, ForumRevised,
    PaperSignatureRecorded, PartyAdded, PartyRegistered, PartyRemoved, RenegotiationRequested,
    RepresentativeAdded, RepresentativeRemoved, RevisionProposed, RevisionSigned,
    RevisionWithdrawn, SectionRemoved, SectionRevised, SignatoryEnrolled, SignatoryRevoked,
    TitleAndPreambleRevised,
};
use crate::id::{AgreementId, EventId, ForumId, PartyId, RepresentativeId, SectionId, StreamId};
use crate::record::Recorded;
use crate::time::{Date, Timestamp};

// --- keys ----------------------------------------------------------------------------------

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// The registrar: a trust anchor, never enrolled.
pub(super) fn registrar() -> SecretKey {
    key(1)
}
/// A second trust anchor.
pub(super) fn registrar2() -> SecretKey {
    key(2)
}
/// Anna, kommundirektör, signs for Norrköpings kommun.
pub(super) fn anna() -> SecretKey {
    key(11)
}
/// Bo, a second signatory of Norrköpings kommun.
pub(super) fn bo() -> SecretKey {
    key(12)
}
/// Cia signs for Region Östergötland.
pub(super) fn cia() -> SecretKey {
    key(21)
}
/// Dan signs for Polisen.
pub(super) fn dan() -> SecretKey {
    key(31)
}
/// Eva signs for Länsstyrelsen, which is not a party of the standard agreement.
pub(super) fn eva() -> SecretKey {
    key(41)
}
/// Fia signs for Folktandvården, registered but not a party of the standard agreement.
pub(super) fn fia() -> SecretKey {
    key(51)
}
/// A key nobody enrolled.
pub(super) fn stranger() -> SecretKey {
    key(99)
}

// --- ids and times -------------------------------------------------------------------------

pub(super) fn pid(s: &str) -> PartyId {
    s.parse().expect("party slug")
}
pub(super) fn kommun() -> PartyId {
    pid("norrkopings-kommun")
}
pub(super) fn region() -> PartyId {
    pid("region-ostergotland")
}
pub(super) fn polis() -> PartyId {
    pid("polisen")
}
pub(super) fn lansstyrelsen() -> PartyId {
    pid("lansstyrelsen")
}
pub(super) fn tandvard() -> PartyId {
    pid("folktandvarden")
}
/// Registered nowhere.
pub(super) fn ghost() -> PartyId {
    pid("finns-inte")
}

pub(super) fn sid(s: &str) -> SectionId {
    s.parse().expect("section slug")
}
pub(super) fn fid(s: &str) -> ForumId {
    s.parse().expect("forum slug")
}
pub(super) fn rid(s: &str) -> RepresentativeId {
    s.parse().expect("representative slug")
}
pub(super) fn aid(s: &str) -> AgreementId {
    s.parse().expect("agreement slug")
}

/// The standard agreement.
pub(super) fn barn_och_unga() -> AgreementId {
    aid("barn-och-unga")
}
pub(super) fn stream_of(id: &AgreementId) -> StreamId {
    StreamId::Agreement(id.clone())
}
pub(super) fn agreement_stream() -> StreamId {
    stream_of(&barn_och_unga())
}

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().expect("canonical timestamp")
}
pub(super) fn date(s: &str) -> Date {
    s.parse().expect("YYYY-MM-DD")
}

// --- events --------------------------------------------------------------------------------

pub(super) fn registered(party: &PartyId, name: &str) -> Event {
    Event::PartyRegistered(PartyRegistered {
        party: party.clone(),
        name: name.into(),
    })
}

/// An enrollment with a correct proof of possession by `key`.
pub(super) fn enrolled(party: &PartyId, key: &SecretKey, name: &str, role: &str) -> Event {
    let proof = key.sign(&enrollment_message(party, &key.public()));
    enrolled_with_proof(party, key.public(), name, role, proof)
}

pub(super) fn enrolled_with_proof(
    party: &PartyId,
    key: PublicKey,
    name: &str,
    role: &str,
    proof: Signature,
) -> Event {
    Event::SignatoryEnrolled(SignatoryEnrolled {
        party: party.clone(),
        key,
        name: name.into(),
        role: role.into(),
        proof,
    })
}

pub(super) fn revoked(key: PublicKey, reason: &str) -> Event {
    Event::SignatoryRevoked(SignatoryRevoked {
        key,
        reason: reason.into(),
    })
}

pub(super) fn drafted(title: &str, parties: &[PartyId]) -> Event {
    Event::AgreementDrafted(AgreementDrafted {
        title: title.into(),
        parties: parties.to_vec(),
        preamble: "Parterna är överens om att samverka kring barn och unga.".into(),
    })
}

pub(super) fn title_and_preamble(title: &str, preamble: &str) -> Event {
    Event::TitleAndPreambleRevised(TitleAndPreambleRevised {
        title: title.into(),
        preamble: preamble.into(),
    })
}

pub(super) fn party_added(party: &PartyId) -> Event {
    Event::PartyAdded(PartyAdded {
        party: party.clone(),
    })
}

pub(super) fn party_removed(party: &PartyId) -> Event {
    Event::PartyRemoved(PartyRemoved {
        party: party.clone(),
    })
}

pub(super) fn section(id: &str, heading: &str, text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: sid(id),
        heading: heading.into(),
        text: text.into(),
    })
}

pub(super) fn section_removed(id: &str) -> Event {
    Event::SectionRemoved(SectionRemoved { section: sid(id) })
}

/// Barnsamverket, chaired by the kommun.
pub(super) fn barnsamverket() -> ForumDefinition {
    ForumDefinition {
        name: "Barnsamverket".into(),
        purpose: "Samordna insatser för barn och unga.".into(),
        tasks: vec!["Följa upp överenskommelsen".into()],
        meets: vec![Cadence {
            who: "representanterna".into(),
            times: 4,
            per: Period::Year,
            approximately: true,
        }],
        chair: Some(Chair::Role {
            role: "förvaltningschef".into(),
            party: Some(kommun()),
        }),
    }
}

/// A forum definition with the given chair and nothing else of note.
pub(super) fn definition(name: &str, chair: Option<Chair>) -> ForumDefinition {
    ForumDefinition {
        name: name.into(),
        purpose: "Styra arbetet.".into(),
        tasks: Vec::new(),
        meets: Vec::new(),
        chair,
    }
}

pub(super) fn chair_role(party: &PartyId) -> Chair {
    Chair::Role {
        role: "ordförande".into(),
        party: Some(party.clone()),
    }
}

pub(super) fn chair_rotating(turns: &[(i32, &[PartyId])]) -> Chair {
    Chair::Rotating {
        role: "sammankallande".into(),
        turns: turns
            .iter()
            .map(|(year, parties)| ChairTurn {
                year: *year,
                parties: parties.to_vec(),
            })
            .collect(),
    }
}

pub(super) fn forum_established(id: &str, definition: ForumDefinition) -> Event {
    Event::ForumEstablished(ForumEstablished {
        forum: fid(id),
        definition,
    })
}

pub(super) fn forum_revised(id: &str, definition: ForumDefinition) -> Event {
    Event::ForumRevised(ForumRevised {
        forum: fid(id),
        definition,
    })
}

pub(super) fn forum_dissolved(id: &str) -> Event {
    Event::ForumDissolved(ForumDissolved { forum: fid(id) })
}

pub(super) fn seat(forum: &str, representative: &str, party: &PartyId, adjunct: bool) -> Event {
    Event::RepresentativeAdded(RepresentativeAdded {
        forum: fid(forum),
        representative: rid(representative),
        party: party.clone(),
        role: "verksamhetschef".into(),
        name: None,
        adjunct,
    })
}

pub(super) fn seat_removed(forum: &str, representative: &str) -> Event {
    Event::RepresentativeRemoved(RepresentativeRemoved {
        forum: fid(forum),
        representative: rid(representative),
    })
}

pub(super) fn proposed(
    version: u32,
    content_hash: Digest32,
    effective_from: Option<&str>,
) -> Event {
    Event::RevisionProposed(RevisionProposed {
        version,
        content_hash,
        note: format!("version {version}"),
        effective_from: effective_from.map(date),
    })
}

pub(super) fn signed(version: u32, content_hash: Digest32, party: &PartyId) -> Event {
    Event::RevisionSigned(RevisionSigned {
        version,
        content_hash,
        party: party.clone(),
    })
}

pub(super) fn paper(
    version: u32,
    content_hash: Digest32,
    party: &PartyId,
    signed_on: &str,
) -> Event {
    Event::PaperSignatureRecorded(PaperSignatureRecorded {
        version,
        content_hash,
        party: party.clone(),
        signed_on: date(signed_on),
        evidence: "Underskrivet original, diarienr KS 2013/0042".into(),
    })
}

pub(super) fn withdrawn(version: u32) -> Event {
    Event::RevisionWithdrawn(RevisionWithdrawn {
        version,
        reason: "Fel i texten".into(),
    })
}

pub(super) fn renegotiation(party: &PartyId) -> Event {
    Event::RenegotiationRequested(RenegotiationRequested {
        party: party.clone(),
        reason: "Ny lagstiftning".into(),
    })
}

pub(super) fn terminated(party: &PartyId, effective_on: &str) -> Event {
    Event::AgreementTerminated(AgreementTerminated {
        party: party.clone(),
        effective_on: date(effective_on),
        reason: "Verksamheten upphör".into(),
    })
}

// --- the world -----------------------------------------------------------------------------

/// Everything a refused event must leave untouched.
#[derive(Debug, PartialEq)]
pub(super) struct Snapshot {
    len: u64,
    heads: Vec<(String, StreamHead)>,
    directory: Value,
    agreements: Value,
}

/// A log being built: the state, a signer's clock and an id counter.
#[derive(Debug)]
pub(super) struct World {
    pub(super) state: State,
    clock: Timestamp,
    ids: u64,
}

impl World {
    /// An empty log trusting the two registrar keys; the clock at 2020-03-02 08:00 UTC.
    pub(super) fn empty() -> World {
        World {
            state: State::new([registrar().public(), registrar2().public()]),
            clock: ts("2020-03-02T08:00:00Z"),
            ids: 0,
        }
    }

    /// Sets the signers' clock: the next event's `at`. Each event advances it by a minute.
    pub(super) fn at(&mut self, when: &str) -> &mut World {
        self.clock = ts(when);
        self
    }

    fn tick(&mut self) -> Timestamp {
        let now = self.clock;
        self.clock = Timestamp::from_datetime(now.datetime() + chrono::Duration::minutes(1));
        now
    }

    /// A signed envelope for `stream` with the given `seq` and `prev`, at the clock.
    pub(super) fn envelope_with(
        &mut self,
        stream: &StreamId,
        seq: u64,
        prev: Digest32,
        signer: &SecretKey,
        event: &Event,
    ) -> Envelope {
        let at = self.tick();
        self.ids += 1;
        let mut counter = [0u8; 10];
        counter[2..].copy_from_slice(&self.ids.to_be_bytes());
        let millis = u64::try_from(at.unix_millis()).expect("after 1970");
        UnsignedEnvelope::new(
            EventId::v7(millis, counter),
            stream.clone(),
            seq,
            prev,
            at,
            signer.public(),
            event,
        )
        .sign(signer)
    }

    /// A correctly chained, signed envelope: `seq` and `prev` from the stream's head.
    pub(super) fn envelope(
        &mut self,
        stream: &StreamId,
        signer: &SecretKey,
        event: &Event,
    ) -> Envelope {
        let head = self.state.head(stream);
        self.envelope_with(stream, head.next_seq, head.prev, signer, event)
    }

    pub(super) fn snapshot(&self, stream: &StreamId) -> Snapshot {
        let mut streams = vec![StreamId::Directory, stream.clone()];
        streams.extend(self.state.agreements().map(|a| stream_of(&a.id)));
        let heads = streams
            .iter()
            .map(|s| (s.to_string(), self.state.head(s)))
            .collect();
        let directory = self.state.directory();
        let directory = json!({
            "registrars": directory.registrars(),
            "parties": directory.parties().collect::<Vec<_>>(),
            "signatories": directory.signatories().collect::<Vec<_>>(),
        });
        let agreements = serde_json::to_value(self.state.agreements().collect::<Vec<_>>())
            .expect("agreements serialise");
        Snapshot {
            len: self.state.len(),
            heads,
            directory,
            agreements,
        }
    }

    /// Verifies the envelope and applies it at the next log index, recorded at its `at`.
    /// Accepted: the log grows by one and the stream's head moves to this event.
    /// Refused: nothing changed at all.
    pub(super) fn submit(&mut self, envelope: Envelope) -> Result<(), Rejection> {
        let verified = envelope
            .verify()
            .expect("the fixture builds well-formed, correctly signed envelopes");
        let stream = verified.stream().clone();
        let before = self.snapshot(&stream);
        let result = self.state.apply(Recorded {
            index: self.state.len(),
            recorded_at: verified.at(),
            event: &verified,
        });
        match &result {
            Ok(()) => {
                assert_eq!(self.state.len(), before.len + 1);
                assert_eq!(
                    self.state.head(&stream),
                    StreamHead {
                        next_seq: verified.seq() + 1,
                        prev: verified.hash(),
                    }
                );
            }
            Err(rejection) => assert_eq!(
                self.snapshot(&stream),
                before,
                "refused with {rejection:?}, yet the state changed"
            ),
        }
        result
    }

    /// When `signer` appends `event` to `stream`.
    pub(super) fn when_in(
        &mut self,
        stream: &StreamId,
        signer: &SecretKey,
        event: Event,
    ) -> Result<(), Rejection> {
        let envelope = self.envelope(stream, signer, &event);
        self.submit(envelope)
    }

    /// When `signer` appends `event` to the directory.
    pub(super) fn when_dir(&mut self, signer: &SecretKey, event: Event) -> Result<(), Rejection> {
        self.when_in(&StreamId::Directory, signer, event)
    }

    /// When `signer` appends `event` to the standard agreement.
    pub(super) fn when(&mut self, signer: &SecretKey, event: Event) -> Result<(), Rejection> {
        self.when_in(&agreement_stream(), signer, event)
    }

    /// History that must be accepted.
    pub(super) fn given_in(
        &mut self,
        stream: &StreamId,
        signer: &SecretKey,
        event: Event,
    ) -> &mut World {
        let name = event.type_name();
        if let Err(rejection) = self.when_in(stream, signer, event) {
            panic!("given {name} on {stream} was refused: {rejection}");
        }
        self
    }

    pub(super) fn given_dir(&mut self, signer: &SecretKey, event: Event) -> &mut World {
        self.given_in(&StreamId::Directory, signer, event)
    }

    pub(super) fn given(&mut self, signer: &SecretKey, event: Event) -> &mut World {
        self.given_in(&agreement_stream(), signer, event)
    }

    // --- views -----------------------------------------------------------------------------

    pub(super) fn agreement(&self) -> &Agreement {
        self.state
            .agreement(&barn_och_unga())
            .expect("the standard agreement was drafted")
    }

    pub(super) fn agreement_json(&self) -> Value {
        serde_json::to_value(self.agreement()).expect("agreement serialises")
    }

    /// The hash the next proposal must name.
    pub(super) fn draft_hash(&self) -> Digest32 {
        self.agreement().draft.hash()
    }

    pub(super) fn version_hash(&self, number: u32) -> Digest32 {
        self.agreement()
            .version(number)
            .expect("version proposed")
            .content_hash
    }

    /// The in-force date of `number`, if it entered into force.
    pub(super) fn in_force_from(&self, number: u32) -> Option<Date> {
        self.agreement()
            .version(number)
            .expect("version proposed")
            .in_force
            .as_ref()
            .map(|f| f.from)
    }

    // --- standard histories ----------------------------------------------------------------

    /// Anna proposes the draft as the next version.
    pub(super) fn propose(&mut self, effective_from: Option<&str>) -> u32 {
        let number = self.agreement().versions.len() as u32 + 1;
        let hash = self.draft_hash();
        self.given(&anna(), proposed(number, hash, effective_from));
        number
    }

    /// Every party of the standard agreement signs `number` live: kommun, region, polis.
    pub(super) fn sign_all(&mut self, number: u32) -> &mut World {
        let hash = self.version_hash(number);
        self.given(&anna(), signed(number, hash, &kommun()))
            .given(&cia(), signed(number, hash, &region()))
            .given(&dan(), signed(number, hash, &polis()))
    }
}

/// Given the directory: the registrar has registered five parties and enrolled a signatory
/// for each (two for the kommun). Nothing else.
pub(super) fn given_directory() -> World {
    let mut w = World::empty();
    let r = registrar();
    w.given_dir(&r, registered(&kommun(), "Norrköpings kommun"))
        .given_dir(&r, registered(&region(), "Region Östergötland"))
        .given_dir(
            &r,
            registered(&polis(), "Polisen, lokalpolisområde Norrköping"),
        )
        .given_dir(
            &r,
            registered(&lansstyrelsen(), "Länsstyrelsen Östergötland"),
        )
        .given_dir(&r, registered(&tandvard(), "Folktandvården Östergötland"))
        .given_dir(
            &r,
            enrolled(&kommun(), &anna(), "Anna Andersson", "kommundirektör"),
        )
        .given_dir(&r, enrolled(&kommun(), &bo(), "Bo Berg", "socialchef"))
        .given_dir(
            &r,
            enrolled(&region(), &cia(), "Cia Carlsson", "regiondirektör"),
        )
        .given_dir(
            &r,
            enrolled(&polis(), &dan(), "Dan Dahl", "lokalpolisområdeschef"),
        )
        .given_dir(
            &r,
            enrolled(&lansstyrelsen(), &eva(), "Eva Ek", "landshövding"),
        )
        .given_dir(&r, enrolled(&tandvard(), &fia(), "Fia Fors", "klinikchef"));
    w
}

/// Given the directory, and Anna has drafted "barn-och-unga" between the kommun, the region
/// and the police, with three sections and the forum Barnsamverket (chaired by the kommun)
/// where the kommun holds seat `rektor` and the region seat `bup`. The police holds no seat.
pub(super) fn given() -> World {
    let mut w = given_directory();
    let a = anna();
    w.given(
        &a,
        drafted(
            "Samverkan kring barn och unga",
            &[kommun(), region(), polis()],
        ),
    )
    .given(
        &a,
        section("syfte", "Syfte och mål", "Att barn och unga ska må bra."),
    )
    .given(
        &a,
        section("vardegrund", "Värdegrund", "Barnets bästa först."),
    )
    .given(
        &a,
        section("uppfoljning", "Uppföljning", "Årlig uppföljning."),
    )
    .given(&a, forum_established("barnsamverket", barnsamverket()))
    .given(&a, seat("barnsamverket", "rektor", &kommun(), false))
    .given(&cia(), seat("barnsamverket", "bup", &region(), false));
    w
}

/// Given the standard draft, proposed as version 1 (no `effective_from`).
pub(super) fn given_proposed() -> World {
    let mut w = given();
    w.propose(None);
    w
}

/// Given version 1 proposed and signed live by all three parties on 2020-04-01 (Stockholm):
/// in force from 2020-04-01.
pub(super) fn given_in_force() -> World {
    let mut w = given_proposed();
    w.at("2020-04-01T08:00:00Z").sign_all(1);
    assert_eq!(w.in_force_from(1), Some(date("2020-04-01")));
    w
}
