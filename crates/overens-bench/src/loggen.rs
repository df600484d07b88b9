//! Realistic logs, made with the core API: a directory of many parties with enrolled
//! signatories, and many agreements that are drafted, revised, proposed, signed (live or on
//! paper), renegotiated, withdrawn and terminated. Every event is signed, verified and
//! applied to a domain state as it is made, so the log passes replay by construction.
//!
//! Agreement streams depend only on the directory, so they are made in parallel (each on
//! its own copy of the directory's state) and then merged into one global log by time.

use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use overens_core::content::{Cadence, Chair, ChairTurn, ForumDefinition, Period};
use overens_core::domain::enrollment_message;
use overens_core::event::{
    AgreementDrafted, AgreementTerminated, ForumEstablished, ForumRevised, PaperSignatureRecorded,
    PartyAdded, PartyRegistered, RenegotiationRequested, RepresentativeAdded,
    RepresentativeRemoved, RevisionProposed, RevisionSigned, RevisionWithdrawn, SectionRemoved,
    SectionRevised, SignatoryEnrolled, SignatoryRevoked, TitleAndPreambleRevised,
};
use overens_core::{
    Agreement, AgreementId, Date, Event, EventId, PartyId, Recorded, SecretKey, State, StreamId,
    Timestamp, UnsignedEnvelope, VerifiedEvent,
};
use overens_store::{AppendEvent, RestoreRecord};
use sha2::{Digest, Sha256};

use crate::rng::Rng;
use crate::text::{self, pick};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// 2010-01-01T00:00:00Z: the directory is built from here on.
const DIRECTORY_START_MS: i64 = 1_262_304_000_000;
/// 2012-01-01T00:00:00Z: agreements are drafted from here on (over four years).
const AGREEMENTS_START_MS: i64 = 1_325_376_000_000;

/// A deterministic key for a label.
pub(crate) fn key(label: &str) -> SecretKey {
    let seed: [u8; 32] = Sha256::digest(format!("overens-bench/{label}")).into();
    SecretKey::from_seed(&seed)
}

fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        match c {
            'å' | 'ä' => out.push('a'),
            'ö' => out.push('o'),
            'é' => out.push('e'),
            'a'..='z' | '0'..='9' => out.push(c),
            ' ' | '-' if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.trim_matches('-').to_owned()
}

#[derive(Debug)]
pub(crate) struct Party {
    pub id: PartyId,
    pub place: String,
    /// Enrolled, unrevoked signatories.
    pub keys: Vec<SecretKey>,
}

/// The directory: trust anchors, parties and their signatories, as events and as state.
#[derive(Debug)]
pub(crate) struct World {
    pub registrars: Vec<SecretKey>,
    pub parties: Vec<Party>,
    pub directory: Vec<(i64, VerifiedEvent)>,
    pub state: State,
}

/// How the signer's clock moves: over years of history, or live (one millisecond a step,
/// so that appends pass the server's clock-skew check).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pace {
    History,
    Live,
}

#[derive(Debug, Clone)]
struct Clock {
    ms: i64,
    pace: Pace,
}

impl Clock {
    fn at(&self) -> Timestamp {
        let dt = chrono::DateTime::from_timestamp_millis(self.ms).expect("time in range");
        Timestamp::from_datetime(dt)
    }

    /// Between two events of one sitting: minutes to days.
    fn small(&mut self, rng: &mut Rng) {
        self.ms += match self.pace {
            Pace::History => (300 + rng.below(3 * 24 * 3600) as i64) * 1000,
            Pace::Live => 1,
        };
    }

    /// Between two revision rounds: months to a year.
    fn round(&mut self, rng: &mut Rng) {
        self.ms += match self.pace {
            Pace::History => (100 + rng.below(300) as i64) * DAY_MS,
            Pace::Live => 1,
        };
    }

    fn date(&self) -> Date {
        self.at().legal_date()
    }
}

/// Signs, verifies and applies events to one stream of a private state.
struct Emitter {
    stream: StreamId,
    state: State,
    rng: Rng,
    clock: Clock,
    index: u64,
}

impl Emitter {
    fn emit(&mut self, key: &SecretKey, event: Event) -> (i64, VerifiedEvent) {
        let head = self.state.head(&self.stream);
        let at = self.clock.at();
        let id = EventId::v7(self.clock.ms as u64, self.rng.bytes());
        let kind = event.type_name();
        let envelope = UnsignedEnvelope::new(
            id,
            self.stream.clone(),
            head.next_seq,
            head.prev,
            at,
            key.public(),
            &event,
        )
        .sign(key);
        let verified = envelope
            .verify()
            .unwrap_or_else(|e| panic!("generator made a bad {kind}: {e}"));
        self.state
            .apply(Recorded {
                index: self.index,
                recorded_at: at,
                event: &verified,
            })
            .unwrap_or_else(|e| panic!("generator made a {kind} the domain refuses: {e}"));
        self.index += 1;
        (self.clock.ms, verified)
    }
}

impl World {
    /// A directory of `parties` parties (kommunala nämnder, regions, the police, rescue
    /// services), two or three signatories each, and some staff changes (a signatory
    /// enrolled and later revoked).
    pub(crate) fn new(parties: usize) -> World {
        let registrars = vec![key("registrar/0"), key("registrar/1")];
        let mut e = Emitter {
            stream: StreamId::Directory,
            state: State::new(registrars.iter().map(SecretKey::public)),
            rng: Rng::new(1),
            clock: Clock {
                ms: DIRECTORY_START_MS,
                pace: Pace::Live,
            },
            index: 0,
        };
        let mut events = Vec::new();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..parties {
            let (slug, name, roles, place) = if i % 10 == 9 {
                let region = text::REGIONS[(i / 10) % text::REGIONS.len()];
                (
                    format!("region-{}", slugify(region)),
                    format!("Region {region}"),
                    &["regiondirektör", "hälso- och sjukvårdsdirektör"][..],
                    region.to_owned(),
                )
            } else {
                let (body, display, roles) = text::BODIES[i % text::BODIES.len()];
                let place =
                    text::MUNICIPALITIES[(i / text::BODIES.len()) % text::MUNICIPALITIES.len()];
                (
                    format!("{}-{body}", slugify(place)),
                    display.replace("{}", place),
                    roles,
                    place.to_owned(),
                )
            };
            let mut slug = slug;
            let mut n = 2;
            let stem = slug.clone();
            while !seen.insert(slug.clone()) {
                slug = format!("{stem}-{n}");
                n += 1;
            }
            let id: PartyId = slug.parse().expect("party slug");
            let registrar = &registrars[i % 2];
            e.clock.ms += 600_000;
            events.push(e.emit(
                registrar,
                Event::PartyRegistered(PartyRegistered {
                    party: id.clone(),
                    name,
                }),
            ));
            let count = if i % 10 == 9 { 3 } else { 2 };
            let mut keys = Vec::new();
            for k in 0..count {
                let signatory = key(&format!("party/{i}/signatory/{k}"));
                let name = text::person(&mut e.rng);
                e.clock.ms += 600_000;
                events.push(enroll(
                    &mut e,
                    registrar,
                    &id,
                    &signatory,
                    name,
                    roles[k % roles.len()],
                ));
                keys.push(signatory);
            }
            out.push(Party { id, place, keys });
        }
        // Staff changes: a signatory enrolled, then revoked by a registrar.
        for (i, party) in out.iter().enumerate().step_by(10) {
            let former = key(&format!("party/{i}/former"));
            let name = text::person(&mut e.rng);
            e.clock.ms += 600_000;
            events.push(enroll(
                &mut e,
                &registrars[0],
                &party.id,
                &former,
                name,
                "tf. förvaltningschef",
            ));
            e.clock.ms += 600_000;
            events.push(e.emit(
                &registrars[1],
                Event::SignatoryRevoked(SignatoryRevoked {
                    key: former.public(),
                    reason: "Har lämnat sin tjänst.".into(),
                }),
            ));
        }
        assert!(
            e.clock.ms < AGREEMENTS_START_MS,
            "the directory comes first"
        );
        World {
            registrars,
            parties: out,
            directory: events,
            state: e.state,
        }
    }
}

fn enroll(
    e: &mut Emitter,
    registrar: &SecretKey,
    party: &PartyId,
    signatory: &SecretKey,
    name: String,
    role: &str,
) -> (i64, VerifiedEvent) {
    let proof = signatory.sign(&enrollment_message(party, &signatory.public()));
    e.emit(
        registrar,
        Event::SignatoryEnrolled(SignatoryEnrolled {
            party: party.clone(),
            key: signatory.public(),
            name,
            role: role.into(),
            proof,
        }),
    )
}

/// One agreement's whole life, or (with `max_events`) its first events.
pub(crate) struct AgreementScript<'w> {
    world: &'w World,
    id: AgreementId,
    e: Emitter,
    out: Vec<(i64, VerifiedEvent)>,
    max_events: usize,
    seats: usize,
}

impl<'w> AgreementScript<'w> {
    pub(crate) fn new(
        world: &'w World,
        n: usize,
        pace: Pace,
        start_ms: i64,
        max_events: usize,
    ) -> Self {
        let mut rng = Rng::new(0x5eed_0000 + n as u64);
        let place = &world.parties[rng.below(world.parties.len())].place;
        let id: AgreementId = format!("{}-samverkan-{n}", slugify(place))
            .parse()
            .expect("agreement slug");
        let start_ms = match pace {
            Pace::History => start_ms + rng.below(4 * 365) as i64 * DAY_MS,
            Pace::Live => start_ms,
        };
        AgreementScript {
            world,
            e: Emitter {
                stream: StreamId::Agreement(id.clone()),
                state: world.state.clone(),
                rng,
                clock: Clock {
                    ms: start_ms - start_ms % 1000,
                    pace,
                },
                index: world.directory.len() as u64,
            },
            id,
            out: Vec::new(),
            max_events,
            seats: 0,
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= self.max_events
    }

    fn agreement(&self) -> &Agreement {
        self.e.state.agreement(&self.id).expect("drafted")
    }

    fn party_index(&self, id: &PartyId) -> usize {
        self.world
            .parties
            .iter()
            .position(|p| &p.id == id)
            .expect("a party of the directory")
    }

    fn signatory_of(&mut self, party: &PartyId) -> SecretKey {
        let keys = &self.world.parties[self.party_index(party)].keys;
        keys[self.e.rng.below(keys.len())].clone()
    }

    fn emit_as(&mut self, party: &PartyId, event: Event) {
        if self.full() {
            return;
        }
        let key = self.signatory_of(party);
        self.e.clock.small(&mut self.e.rng);
        let made = self.e.emit(&key, event);
        self.out.push(made);
    }

    fn emit_registrar(&mut self, event: Event) {
        if self.full() {
            return;
        }
        let key = self.world.registrars[self.e.rng.below(2)].clone();
        self.e.clock.small(&mut self.e.rng);
        let made = self.e.emit(&key, event);
        self.out.push(made);
    }

    /// Someone of the draft's parties (who may make a draft change).
    fn some_party(&mut self) -> PartyId {
        let parties = &self
            .e
            .state
            .agreement(&self.id)
            .expect("drafted")
            .draft
            .parties;
        parties[self.e.rng.below(parties.len())].clone()
    }

    fn definition(&mut self, name: &str, purpose: &str) -> ForumDefinition {
        let rng = &mut self.e.rng;
        let tasks = (0..1 + rng.below(4))
            .map(|_| pick(rng, text::TASKS).to_owned())
            .collect();
        let mut meets = vec![Cadence {
            who: "Styrgruppens ledamöter".into(),
            times: 1 + rng.below(2) as u32,
            per: [Period::Month, Period::Quarter][rng.below(2)],
            approximately: rng.chance(50),
        }];
        if rng.chance(40) {
            meets.push(Cadence {
                who: "Kommunen, regionen och polisen tillsammans".into(),
                times: 1,
                per: Period::HalfYear,
                approximately: false,
            });
        }
        let parties = self.agreement().draft.parties.clone();
        let rng = &mut self.e.rng;
        let chair = match rng.below(10) {
            0..=4 => Some(Chair::Role {
                role: "Ordförande".into(),
                party: Some(parties[rng.below(parties.len())].clone()),
            }),
            5..=7 => Some(Chair::Rotating {
                role: "Sammankallande, på rullande schema".into(),
                turns: (0..3)
                    .map(|y| ChairTurn {
                        year: 2020 + y,
                        parties: vec![parties[rng.below(parties.len())].clone()],
                    })
                    .collect(),
            }),
            _ => None,
        };
        ForumDefinition {
            name: name.into(),
            purpose: purpose.into(),
            tasks,
            meets,
            chair,
        }
    }

    fn establish_forum(&mut self) {
        let present: Vec<String> = self
            .agreement()
            .draft
            .forums
            .iter()
            .map(|f| f.id.to_string())
            .collect();
        let Some((slug, name, purpose)) = text::FORUMS
            .iter()
            .find(|(slug, _, _)| !present.iter().any(|p| p == slug))
        else {
            return;
        };
        let definition = self.definition(name, purpose);
        let party = self.some_party();
        self.emit_as(
            &party,
            Event::ForumEstablished(ForumEstablished {
                forum: slug.parse().expect("forum slug"),
                definition,
            }),
        );
    }

    fn add_seat(&mut self, forum: usize, party: PartyId) {
        let forum = self.agreement().draft.forums[forum].id.clone();
        self.seats += 1;
        let rng = &mut self.e.rng;
        let name = rng.chance(50).then(|| text::person(rng));
        let role = pick(rng, text::REPRESENTATIVE_ROLES).to_owned();
        let adjunct = rng.chance(10);
        let by = self.some_party();
        self.emit_as(
            &by,
            Event::RepresentativeAdded(RepresentativeAdded {
                forum,
                representative: format!("ledamot-{}", self.seats).parse().expect("slug"),
                party,
                role,
                name,
                adjunct,
            }),
        );
    }

    fn revise_section(&mut self, new: bool) {
        let draft = &self.e.state.agreement(&self.id).expect("drafted").draft;
        let present: Vec<String> = draft.sections.iter().map(|s| s.id.to_string()).collect();
        let candidates: Vec<&(&str, &str)> = text::HEADINGS
            .iter()
            .filter(|(slug, _)| present.iter().any(|p| p == slug) != new)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let (slug, heading) = *candidates[self.e.rng.below(candidates.len())];
        let mut body = text::paragraphs(&mut self.e.rng, 250, 1400);
        let unchanged = draft
            .section(&slug.parse().expect("slug"))
            .is_some_and(|s| s.text == body);
        if unchanged {
            body.push_str(" Ändrad lydelse.");
        }
        let party = self.some_party();
        self.emit_as(
            &party,
            Event::SectionRevised(SectionRevised {
                section: slug.parse().expect("section slug"),
                heading: heading.into(),
                text: body,
            }),
        );
    }

    /// One draft change of a revision round.
    fn draft_change(&mut self) {
        let draft = self.agreement().draft.clone();
        let roll = self.e.rng.below(100);
        match roll {
            0..=44 => self.revise_section(false),
            45..=52 => self.revise_section(true),
            53..=57 if draft.sections.len() > 4 => {
                let s = draft.sections[self.e.rng.below(draft.sections.len())]
                    .id
                    .clone();
                let party = self.some_party();
                self.emit_as(&party, Event::SectionRemoved(SectionRemoved { section: s }));
            }
            58..=69 if !draft.forums.is_empty() => {
                let f = &draft.forums[self.e.rng.below(draft.forums.len())];
                let mut definition = ForumDefinition::clone(&f.definition);
                if definition.tasks.len() < 5 {
                    definition
                        .tasks
                        .push(pick(&mut self.e.rng, text::TASKS).to_owned());
                } else {
                    definition.tasks.pop();
                }
                let party = self.some_party();
                self.emit_as(
                    &party,
                    Event::ForumRevised(ForumRevised {
                        forum: f.id.clone(),
                        definition,
                    }),
                );
            }
            70..=81 if !draft.forums.is_empty() => {
                let forum = self.e.rng.below(draft.forums.len());
                let party = self.some_party();
                self.add_seat(forum, party);
            }
            82..=89 => {
                let seated: Vec<_> = draft
                    .forums
                    .iter()
                    .flat_map(|f| {
                        f.representatives
                            .iter()
                            .map(move |r| (f.id.clone(), r.id.clone()))
                    })
                    .collect();
                if seated.is_empty() {
                    return;
                }
                let (forum, representative) = seated[self.e.rng.below(seated.len())].clone();
                let party = self.some_party();
                self.emit_as(
                    &party,
                    Event::RepresentativeRemoved(RepresentativeRemoved {
                        forum,
                        representative,
                    }),
                );
            }
            90..=93 => {
                let place = self.world.parties[self.e.rng.below(self.world.parties.len())]
                    .place
                    .clone();
                let mut preamble = pick(&mut self.e.rng, text::PREAMBLES).replace("{}", &place);
                if preamble == draft.preamble {
                    preamble.push_str(" Överenskommelsen har reviderats.");
                }
                let party = self.some_party();
                self.emit_as(
                    &party,
                    Event::TitleAndPreambleRevised(TitleAndPreambleRevised {
                        title: draft.title.clone(),
                        preamble,
                    }),
                );
            }
            94..=97 if draft.parties.len() < 7 => {
                let candidate = &self.world.parties[self.e.rng.below(self.world.parties.len())];
                if draft.has_party(&candidate.id) {
                    return;
                }
                let added = candidate.id.clone();
                let party = self.some_party();
                self.emit_as(&party, Event::PartyAdded(PartyAdded { party: added }));
            }
            _ if draft.forums.len() < 3 => self.establish_forum(),
            _ => self.revise_section(false),
        }
    }

    fn propose(&mut self) -> u32 {
        let agreement = self.agreement();
        let version = agreement.versions.len() as u32 + 1;
        let content_hash = agreement.draft.hash();
        let effective_from = match self.e.clock.pace {
            Pace::History if self.e.rng.chance(30) => {
                Some(self.e.clock.date() + chrono::Days::new(30 + self.e.rng.below(60) as u64))
            }
            _ => None,
        };
        let note = pick(&mut self.e.rng, text::NOTES).to_owned();
        let party = self.some_party();
        self.emit_as(
            &party,
            Event::RevisionProposed(RevisionProposed {
                version,
                content_hash,
                note,
                effective_from,
            }),
        );
        version
    }

    /// Every party of the proposal signs it (live, or on paper recorded by a registrar).
    fn sign(&mut self, version: u32, paper: bool) {
        let Some(v) = self.agreement().version(version) else {
            return;
        };
        let content_hash = v.content_hash;
        let mut parties = v.content.parties.clone();
        let signed_on = v.proposal.stamp.at.legal_date();
        for i in (1..parties.len()).rev() {
            parties.swap(i, self.e.rng.below(i + 1));
        }
        for party in parties {
            if paper {
                self.emit_registrar(Event::PaperSignatureRecorded(PaperSignatureRecorded {
                    version,
                    content_hash,
                    party,
                    signed_on,
                    evidence: "Undertecknat original arkiverat i diariet.".into(),
                }));
            } else {
                self.emit_as(
                    &party.clone(),
                    Event::RevisionSigned(RevisionSigned {
                        version,
                        content_hash,
                        party,
                    }),
                );
            }
        }
    }

    /// A party of the version in force asks to renegotiate (at most once while open).
    fn maybe_request(&mut self) {
        let open: Vec<PartyId> = self
            .agreement()
            .open_requests()
            .map(|r| r.party.clone())
            .collect();
        let Some(current) = self
            .agreement()
            .current()
            .map(|v| v.content.parties.clone())
        else {
            return;
        };
        let party = current[self.e.rng.below(current.len())].clone();
        if open.contains(&party) {
            return;
        }
        let reason = pick(&mut self.e.rng, text::REASONS).to_owned();
        self.emit_as(
            &party.clone(),
            Event::RenegotiationRequested(RenegotiationRequested { party, reason }),
        );
    }

    /// The events, with the signer's time of each.
    pub(crate) fn run(mut self) -> Vec<(i64, VerifiedEvent)> {
        let rng = &mut self.e.rng;
        let count = 2 + rng.below(4);
        let mut parties: Vec<PartyId> = Vec::new();
        while parties.len() < count {
            let p = self.world.parties[rng.below(self.world.parties.len())]
                .id
                .clone();
            if !parties.contains(&p) {
                parties.push(p);
            }
        }
        let place = self.world.parties[self.party_index(&parties[0])]
            .place
            .clone();
        let title = pick(&mut self.e.rng, text::TITLES).replace("{}", &place);
        let preamble = pick(&mut self.e.rng, text::PREAMBLES).replace("{}", &place);
        let drafter = parties[0].clone();
        self.emit_as(
            &drafter,
            Event::AgreementDrafted(AgreementDrafted {
                title,
                parties,
                preamble,
            }),
        );
        for _ in 0..5 + self.e.rng.below(5) {
            self.revise_section(true);
        }
        for _ in 0..1 + self.e.rng.below(2) {
            self.establish_forum();
        }
        let forums = self.agreement().draft.forums.len();
        for forum in 0..forums {
            for party in self.agreement().draft.parties.clone() {
                for _ in 0..1 + self.e.rng.below(2) {
                    self.add_seat(forum, party.clone());
                }
            }
        }
        let rounds = 4 + self.e.rng.below(11);
        let mut round = 0;
        while round < rounds && !self.full() {
            if round > 0 {
                self.e.clock.round(&mut self.e.rng);
                if self.e.rng.chance(40) {
                    self.maybe_request();
                }
                for _ in 0..3 + self.e.rng.below(10) {
                    self.draft_change();
                }
            }
            let version = self.propose();
            if round > 0 && self.e.rng.chance(8) {
                // One party signs, then the proposal is withdrawn for another round.
                if let Some(v) = self.agreement().version(version) {
                    let party = v.content.parties[0].clone();
                    let content_hash = v.content_hash;
                    self.emit_as(
                        &party.clone(),
                        Event::RevisionSigned(RevisionSigned {
                            version,
                            content_hash,
                            party: party.clone(),
                        }),
                    );
                    let reason = pick(&mut self.e.rng, text::REASONS).to_owned();
                    self.emit_as(
                        &party,
                        Event::RevisionWithdrawn(RevisionWithdrawn { version, reason }),
                    );
                }
            } else {
                let paper = round == 0
                    && matches!(self.e.clock.pace, Pace::History)
                    && self.e.rng.chance(15);
                self.sign(version, paper);
            }
            round += 1;
        }
        if matches!(self.e.clock.pace, Pace::History)
            && self.e.rng.chance(10)
            && let Some(current) = self.agreement().current()
        {
            let party = current.content.parties[0].clone();
            let effective_on = self.e.clock.date() + chrono::Days::new(90);
            let reason =
                "Verksamheten har upphört och överenskommelsen ersätts av en regional.".to_owned();
            self.emit_as(
                &party.clone(),
                Event::AgreementTerminated(AgreementTerminated {
                    party,
                    effective_on,
                    reason,
                }),
            );
        }
        self.out
    }
}

/// A generated global log, ready to restore.
#[derive(Debug)]
pub(crate) struct Log {
    pub world: World,
    pub records: Vec<RestoreRecord>,
    pub agreements: usize,
    pub bytes: usize,
}

/// One agreement's events with the signer's time of each, and its number.
type Stream = (usize, Vec<(i64, AppendEvent)>);

/// A log of exactly `events` records: the directory, then agreements made on `threads`
/// threads until there are enough events, merged by time and cut at `events`.
pub(crate) fn log(events: usize, threads: usize) -> Log {
    let world = World::new((events / 400).clamp(20, 5000));
    let wanted = events.saturating_sub(world.directory.len());
    let next = AtomicUsize::new(0);
    let made = AtomicUsize::new(0);
    let streams: Mutex<Vec<Stream>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                while made.load(Ordering::Relaxed) < wanted {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let events = AgreementScript::new(
                        &world,
                        n,
                        Pace::History,
                        AGREEMENTS_START_MS,
                        usize::MAX,
                    )
                    .run();
                    made.fetch_add(events.len(), Ordering::Relaxed);
                    let events: Vec<_> = events
                        .into_iter()
                        .map(|(at, v)| (at, AppendEvent::from(&v)))
                        .collect();
                    streams.lock().expect("lock").push((n, events));
                }
            });
        }
    });
    let mut streams = streams.into_inner().expect("lock");
    streams.sort_by_key(|(n, _)| *n);
    let agreements = streams.len();
    let mut all: Vec<std::vec::IntoIter<(i64, AppendEvent)>> =
        Vec::with_capacity(streams.len() + 1);
    all.push(
        world
            .directory
            .iter()
            .map(|(at, v)| (*at, AppendEvent::from(v)))
            .collect::<Vec<_>>()
            .into_iter(),
    );
    all.extend(streams.into_iter().map(|(_, s)| s.into_iter()));
    // k-way merge by signer time (ties: stream order), cut at `events`.
    let mut heap = BinaryHeap::new();
    let mut heads: Vec<Option<(i64, AppendEvent)>> = Vec::with_capacity(all.len());
    for (i, it) in all.iter_mut().enumerate() {
        let head = it.next();
        if let Some((at, _)) = &head {
            heap.push(std::cmp::Reverse((*at, i)));
        }
        heads.push(head);
    }
    let mut records = Vec::with_capacity(events);
    let mut bytes = 0;
    let mut last_recorded = i64::MIN;
    while records.len() < events {
        let Some(std::cmp::Reverse((_, i))) = heap.pop() else {
            break;
        };
        let (at, event) = heads[i].take().expect("head");
        if let Some(next) = all[i].next() {
            heap.push(std::cmp::Reverse((next.0, i)));
            heads[i] = Some(next);
        }
        // The server stamped it a few seconds after the signer's clock.
        last_recorded = last_recorded.max(at + 3000);
        let recorded_at = Timestamp::from_datetime(
            chrono::DateTime::from_timestamp_millis(last_recorded).expect("time"),
        );
        bytes += event.bytes().len();
        records.push(RestoreRecord {
            index: records.len() as u64,
            recorded_at,
            event,
        });
    }
    Log {
        world,
        records,
        agreements,
        bytes,
    }
}

/// `per_writer` events for each of `writers` writers, signed with the clock at `now_ms`,
/// for live appends: writer *w* owns its agreements (one after another) alone.
pub(crate) fn live_streams(
    world: &World,
    writers: usize,
    per_writer: usize,
    now_ms: i64,
    threads: usize,
) -> Vec<Vec<overens_core::Envelope>> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, Vec<overens_core::Envelope>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let w = next.fetch_add(1, Ordering::Relaxed);
                    if w >= writers {
                        break;
                    }
                    // One agreement after another, each a whole life (about 130 events),
                    // so that agreements have realistic sizes however many events a
                    // writer appends.
                    let mut events: Vec<overens_core::Envelope> = Vec::with_capacity(per_writer);
                    let mut n = 1_000_000 + w;
                    while events.len() < per_writer {
                        let left = per_writer - events.len();
                        events.extend(
                            AgreementScript::new(world, n, Pace::Live, now_ms, left)
                                .run()
                                .into_iter()
                                .map(|(_, v)| v.into_envelope()),
                        );
                        n += writers;
                    }
                    out.lock().expect("lock").push((w, events));
                }
            });
        }
    });
    let mut out = out.into_inner().expect("lock");
    out.sort_by_key(|(w, _)| *w);
    out.into_iter().map(|(_, e)| e).collect()
}
