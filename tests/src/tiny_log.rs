//! A small, valid log built with the core API: two parties, one agreement, two versions,
//! a paper signature and a renegotiation request. Every event is signed, verified and
//! applied (decide, then evolve) on the way, so the builder cannot produce an invalid log.

use overens_core::content::{Cadence, Chair, ForumDefinition, Period};
use overens_core::domain::enrollment_message;
use overens_core::event::{
    AgreementDrafted, ForumEstablished, PaperSignatureRecorded, PartyRegistered,
    RenegotiationRequested, RepresentativeAdded, RevisionProposed, RevisionSigned, SectionRevised,
    SignatoryEnrolled,
};
use overens_core::{
    AgreementId, Event, EventId, LogRecord, PublicKey, Recorded, SecretKey, State, StreamId,
    Timestamp, UnsignedEnvelope,
};

/// Appends signed events to a log, checking each as a server would.
#[derive(Debug, Clone)]
pub struct LogBuilder {
    state: State,
    lines: Vec<String>,
}

impl LogBuilder {
    pub fn new(registrars: impl IntoIterator<Item = PublicKey>) -> Self {
        LogBuilder {
            state: State::new(registrars),
            lines: Vec::new(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Appends `event` to `stream`, signed by `signer` at `at` and recorded at the same
    /// instant.
    pub fn append(&mut self, stream: &str, signer: &SecretKey, at: &str, event: Event) {
        self.append_recorded(stream, signer, at, at, event);
    }

    /// Appends `event`, signed at `at` and recorded at `recorded_at` (both canonical
    /// RFC 3339 UTC). Panics, naming the event, if it does not hold.
    pub fn append_recorded(
        &mut self,
        stream: &str,
        signer: &SecretKey,
        at: &str,
        recorded_at: &str,
        event: Event,
    ) {
        let what = format!("{} #{} in {stream}", event.type_name(), self.lines.len());
        let stream: StreamId = stream.parse().expect("stream name");
        let at: Timestamp = at.parse().expect("`at` is canonical");
        let recorded_at: Timestamp = recorded_at.parse().expect("`recorded_at` is canonical");
        let index = self.state.len();
        let head = self.state.head(&stream);
        // Deterministic ids: the log must come out byte for byte the same on every run.
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&index.to_be_bytes());
        let millis = u64::try_from(at.unix_millis()).expect("after 1970");
        let envelope = UnsignedEnvelope::new(
            EventId::v7(millis, random),
            stream,
            head.next_seq,
            head.prev,
            at,
            signer.public(),
            &event,
        )
        .sign(signer);
        let verified = envelope
            .clone()
            .verify()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        self.state
            .apply(Recorded {
                index,
                recorded_at,
                event: &verified,
            })
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        self.lines.push(
            LogRecord {
                index,
                recorded_at,
                event: envelope,
            }
            .to_line(),
        );
    }

    /// The hash of the agreement's draft as it stands: what a proposal must name.
    pub fn draft_hash(&self, agreement: &str) -> overens_core::Digest32 {
        let id: AgreementId = agreement.parse().expect("agreement id");
        self.state
            .agreement(&id)
            .expect("agreement drafted")
            .draft()
            .hash()
    }

    /// The content hash of a proposed version.
    pub fn version_hash(&self, agreement: &str, version: u32) -> overens_core::Digest32 {
        let id: AgreementId = agreement.parse().expect("agreement id");
        self.state
            .agreement(&id)
            .and_then(|a| a.version(version))
            .expect("version proposed")
            .content_hash
    }

    /// The log file: one canonical record per line, each ending in a newline.
    pub fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// The agreement of the tiny log.
pub const TINY_AGREEMENT: &str = "samverkan";

/// The tiny log and the keys that made it.
#[derive(Debug, Clone)]
pub struct TinyLog {
    pub builder: LogBuilder,
    pub registrar: SecretKey,
    /// Anna Andersson, kommundirektör of `alfa-kommun`.
    pub alfa: SecretKey,
    /// Bertil Berg, regiondirektör of `region-beta`.
    pub beta: SecretKey,
}

impl TinyLog {
    pub fn text(&self) -> String {
        self.builder.text()
    }

    /// The registrar's public key as `--registrar` takes it.
    pub fn registrar_key(&self) -> String {
        self.registrar.public().to_string()
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("slug")
}

/// Builds the tiny log. Its 19 records, by line:
///
/// 1–4 directory: parties `alfa-kommun` and `region-beta`, one signatory each;
/// 5–9 `samverkan` drafted, section `syfte`, forum `styrgrupp` with a seat per party;
/// 10 version 1 proposed (effective 2020-03-01); 11 Alfa signs live (2020-02-20);
/// 12 a registrar records Beta's paper signature of 2020-02-25 → v1 in force 2020-03-01;
/// 13–15 `syfte` reworded, an adjunct seat, a new section `uppfoljning`;
/// 16 version 2 proposed (effective 2021-03-01); 17–18 both sign live → v2 in force
/// 2021-03-01, v1 superseded; 19 Beta requests renegotiation.
pub fn tiny_log() -> TinyLog {
    let registrar = SecretKey::from_seed(&[1; 32]);
    let alfa = SecretKey::from_seed(&[2; 32]);
    let beta = SecretKey::from_seed(&[3; 32]);
    let mut log = LogBuilder::new([registrar.public()]);
    let a = "agreement/samverkan";

    for (party, name) in [
        ("alfa-kommun", "Alfa kommun"),
        ("region-beta", "Region Beta"),
    ] {
        log.append(
            "directory",
            &registrar,
            "2020-01-10T09:00:00Z",
            Event::PartyRegistered(PartyRegistered {
                party: parse(party),
                name: name.into(),
            }),
        );
    }
    for (party, key, name, role) in [
        ("alfa-kommun", &alfa, "Anna Andersson", "kommundirektör"),
        ("region-beta", &beta, "Bertil Berg", "regiondirektör"),
    ] {
        let party = parse(party);
        let proof = key.sign(&enrollment_message(&party, &key.public()));
        log.append(
            "directory",
            &registrar,
            "2020-01-10T09:05:00Z",
            Event::SignatoryEnrolled(SignatoryEnrolled {
                party,
                key: key.public(),
                name: name.into(),
                role: role.into(),
                proof,
            }),
        );
    }

    log.append(
        a,
        &alfa,
        "2020-02-01T08:00:00Z",
        Event::AgreementDrafted(AgreementDrafted {
            title: "Samverkan kring barn och unga".into(),
            parties: vec![parse("alfa-kommun"), parse("region-beta")],
            preamble: "Alfa kommun och Region Beta ingår denna överenskommelse.".into(),
        }),
    );
    log.append(
        a,
        &alfa,
        "2020-02-01T08:10:00Z",
        Event::SectionRevised(SectionRevised {
            section: parse("syfte"),
            heading: "Syfte".into(),
            text: "Parterna ska samverka kring barn och unga.".into(),
        }),
    );
    log.append(
        a,
        &alfa,
        "2020-02-01T08:20:00Z",
        Event::ForumEstablished(ForumEstablished {
            forum: parse("styrgrupp"),
            definition: ForumDefinition {
                name: "Styrgrupp".into(),
                purpose: "Leder och följer upp samverkan.".into(),
                tasks: vec!["Följa upp överenskommelsen".into()],
                meets: vec![Cadence {
                    who: "styrgruppen".into(),
                    times: 4,
                    per: Period::Year,
                    approximately: false,
                }],
                chair: Some(Chair::Role {
                    role: "förvaltningschef".into(),
                    party: Some(parse("alfa-kommun")),
                }),
            },
        }),
    );
    log.append(
        a,
        &alfa,
        "2020-02-01T08:30:00Z",
        Event::RepresentativeAdded(RepresentativeAdded {
            forum: parse("styrgrupp"),
            representative: parse("alfa-chef"),
            party: parse("alfa-kommun"),
            role: "förvaltningschef".into(),
            name: None,
            adjunct: false,
        }),
    );
    log.append(
        a,
        &beta,
        "2020-02-03T10:00:00Z",
        Event::RepresentativeAdded(RepresentativeAdded {
            forum: parse("styrgrupp"),
            representative: parse("beta-chef"),
            party: parse("region-beta"),
            role: "verksamhetschef".into(),
            name: Some("Cecilia Cederlund".into()),
            adjunct: false,
        }),
    );
    let hash = log.draft_hash(TINY_AGREEMENT);
    log.append(
        a,
        &alfa,
        "2020-02-15T09:00:00Z",
        Event::RevisionProposed(RevisionProposed {
            version: 1,
            content_hash: hash,
            note: "första versionen".into(),
            effective_from: Some(parse("2020-03-01")),
        }),
    );
    log.append(
        a,
        &alfa,
        "2020-02-20T09:00:00Z",
        Event::RevisionSigned(RevisionSigned {
            version: 1,
            content_hash: hash,
            party: parse("alfa-kommun"),
        }),
    );
    log.append_recorded(
        a,
        &registrar,
        "2020-02-26T14:00:00Z",
        "2020-02-26T14:00:01Z",
        Event::PaperSignatureRecorded(PaperSignatureRecorded {
            version: 1,
            content_hash: hash,
            party: parse("region-beta"),
            signed_on: parse("2020-02-25"),
            evidence: "diarienummer RB 2020/17".into(),
        }),
    );

    log.append(
        a,
        &beta,
        "2021-01-10T10:00:00Z",
        Event::SectionRevised(SectionRevised {
            section: parse("syfte"),
            heading: "Syfte".into(),
            text: "Parterna ska samverka nära kring barn och unga och deras familjer.".into(),
        }),
    );
    log.append(
        a,
        &beta,
        "2021-01-10T10:05:00Z",
        Event::RepresentativeAdded(RepresentativeAdded {
            forum: parse("styrgrupp"),
            representative: parse("beta-skolskoterska"),
            party: parse("region-beta"),
            role: "skolsköterska".into(),
            name: None,
            adjunct: true,
        }),
    );
    log.append(
        a,
        &alfa,
        "2021-01-11T08:00:00Z",
        Event::SectionRevised(SectionRevised {
            section: parse("uppfoljning"),
            heading: "Uppföljning".into(),
            text: "Styrgruppen följer upp överenskommelsen varje år.".into(),
        }),
    );
    let hash = log.draft_hash(TINY_AGREEMENT);
    log.append(
        a,
        &alfa,
        "2021-01-15T09:00:00Z",
        Event::RevisionProposed(RevisionProposed {
            version: 2,
            content_hash: hash,
            note: "årlig översyn".into(),
            effective_from: Some(parse("2021-03-01")),
        }),
    );
    for (key, party, at) in [
        (&alfa, "alfa-kommun", "2021-02-10T09:00:00Z"),
        (&beta, "region-beta", "2021-02-12T13:00:00Z"),
    ] {
        log.append(
            a,
            key,
            at,
            Event::RevisionSigned(RevisionSigned {
                version: 2,
                content_hash: hash,
                party: parse(party),
            }),
        );
    }
    log.append(
        a,
        &beta,
        "2022-05-01T12:00:00Z",
        Event::RenegotiationRequested(RenegotiationRequested {
            party: parse("region-beta"),
            reason: "nya lagkrav".into(),
        }),
    );

    TinyLog {
        builder: log,
        registrar,
        alfa,
        beta,
    }
}
