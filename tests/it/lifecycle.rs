//! The whole life of an agreement through the HTTP API of the real binary: every party
//! signs with its own key, here in the test, and the server only ever sees signed
//! envelopes. Registration and enrolment, a draft with sections, a forum and
//! representatives, version 1 proposed and signed by all, a renegotiation request, a forum
//! revised and a representative added, version 2 proposed and signed by all, version 1
//! superseded on the right date; `in-force` for dates before, between and after, and as
//! known before version 2 was recorded. Then a restart on the same data directory answers
//! every read route byte for byte as before.

use std::time::Duration;

use chrono::Days;
use overens_core::content::{
    Cadence, Chair, ChairTurn, Forum, ForumDefinition, Period, Representative, Section,
};
use overens_core::event::{
    AgreementDrafted, ForumEstablished, ForumRevised, RenegotiationRequested, RepresentativeAdded,
    RevisionProposed, RevisionSigned, SectionRevised,
};
use overens_core::{Content, Date, Digest32, Envelope, Event, SecretKey, StreamId};
use overens_tests::Server;
use overens_tests::server::today;
use serde_json::Value;
use tempfile::TempDir;

const AGREEMENT: &str = "samverkan-unga";
const ALFA: &str = "alfa-kommun";
const BETA: &str = "region-beta";
const GAMMA: &str = "polisen-gamma";

fn slug<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a slug")
}

/// The parties' own keys, and the registrar's.
struct Keys {
    registrar: SecretKey,
    alfa: SecretKey,
    beta: SecretKey,
    gamma: SecretKey,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            registrar: SecretKey::from_seed(&[0x51; 32]),
            alfa: SecretKey::from_seed(&[0x52; 32]),
            beta: SecretKey::from_seed(&[0x53; 32]),
            gamma: SecretKey::from_seed(&[0x54; 32]),
        }
    }

    fn parties(&self) -> [(&'static str, &SecretKey); 3] {
        [(ALFA, &self.alfa), (BETA, &self.beta), (GAMMA, &self.gamma)]
    }
}

fn styrgrupp_v1() -> ForumDefinition {
    ForumDefinition {
        name: "Styrgrupp".into(),
        purpose: "Leder och följer upp samverkan.".into(),
        tasks: vec!["Följa upp överenskommelsen årligen".into()],
        meets: vec![Cadence {
            who: "styrgruppen".into(),
            times: 4,
            per: Period::Year,
            approximately: false,
        }],
        chair: Some(Chair::Role {
            role: "förvaltningschef".into(),
            party: Some(slug(ALFA)),
        }),
    }
}

fn styrgrupp_v2() -> ForumDefinition {
    ForumDefinition {
        name: "Styrgrupp".into(),
        purpose: "Leder och följer upp samverkan.".into(),
        tasks: vec![
            "Följa upp överenskommelsen årligen".into(),
            "Ta fram en gemensam lägesbild".into(),
        ],
        meets: vec![Cadence {
            who: "styrgruppen".into(),
            times: 6,
            per: Period::Year,
            approximately: true,
        }],
        chair: Some(Chair::Rotating {
            role: "sammankallande".into(),
            turns: vec![
                ChairTurn {
                    year: 2026,
                    parties: vec![slug(ALFA)],
                },
                ChairTurn {
                    year: 2027,
                    parties: vec![slug(BETA), slug(GAMMA)],
                },
            ],
        }),
    }
}

fn seat(id: &str, party: &str, role: &str, name: Option<&str>, adjunct: bool) -> Representative {
    Representative {
        id: slug(id),
        party: slug(party),
        role: role.into(),
        name: name.map(Into::into),
        adjunct,
    }
}

fn seat_added(forum: &str, seat: &Representative) -> Event {
    Event::RepresentativeAdded(RepresentativeAdded {
        forum: slug(forum),
        representative: seat.id.clone(),
        party: seat.party.clone(),
        role: seat.role.clone(),
        name: seat.name.clone(),
        adjunct: seat.adjunct,
    })
}

/// The draft as the server shows it, and its hash: what a proposal must name.
fn draft(server: &Server) -> (Content, Digest32) {
    let view = server.get_ok(&format!("/v1/agreements/{AGREEMENT}"));
    let content: Content = serde_json::from_value(view["draft"].clone())
        .unwrap_or_else(|e| panic!("the draft is Content ({e}): {view}"));
    let hash = content.hash();
    (content, hash)
}

fn in_force(server: &Server, on: Date, as_of: Option<&str>) -> Value {
    let mut path = format!("/v1/agreements/{AGREEMENT}/in-force?on={on}");
    if let Some(as_of) = as_of {
        path.push_str(&format!("&as_of={as_of}"));
    }
    server.get_ok(&path)
}

fn recorded_at(answer: &Value) -> String {
    answer["recorded_at"]
        .as_str()
        .unwrap_or_else(|| panic!("recorded_at: {answer}"))
        .to_owned()
}

fn view(server: &Server) -> Value {
    server.get_ok(&format!("/v1/agreements/{AGREEMENT}"))
}

fn party_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list of parties: {list}"))
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn an_agreement_lives_through_two_versions_and_a_restart() {
    let tmp = TempDir::new().expect("tmp");
    let data = tmp.path().join("node");
    let keys = Keys::new();
    let mut server = Server::start_new(&data, &keys.registrar);
    let stream: StreamId = format!("agreement/{AGREEMENT}").parse().expect("stream");
    let today = today();
    let day = |n: u64| today.checked_add_days(Days::new(n)).expect("a date");

    // The registrar registers the parties and enrolls each party's own key.
    server.register(
        &keys.registrar,
        ALFA,
        "Alfa kommun",
        &keys.alfa,
        "Anna Andersson",
    );
    server.register(
        &keys.registrar,
        BETA,
        "Region Beta",
        &keys.beta,
        "Bertil Berg",
    );
    server.register(
        &keys.registrar,
        GAMMA,
        "Polisen Gamma",
        &keys.gamma,
        "Gustav Gran",
    );
    let directory = server.get_ok("/v1/directory");
    for (_, key) in keys.parties() {
        assert!(
            directory.to_string().contains(&key.public().to_string()),
            "{directory}"
        );
    }

    // Alfa drafts; sections, a forum and a seat per party follow, each by its own party.
    let title = "Samverkan kring barn och unga";
    let preamble = "Alfa kommun, Region Beta och Polisen Gamma ingår denna överenskommelse.";
    server.append_ok(
        &stream,
        &keys.alfa,
        &Event::AgreementDrafted(AgreementDrafted {
            title: title.into(),
            parties: vec![slug(ALFA), slug(BETA), slug(GAMMA)],
            preamble: preamble.into(),
        }),
    );
    assert_eq!(view(&server)["status"], "draft");
    let syfte = Section {
        id: slug("syfte"),
        heading: "Syfte".into(),
        text: "Parterna samverkar kring barn och unga.".into(),
    };
    let uppfoljning = Section {
        id: slug("uppfoljning"),
        heading: "Uppföljning".into(),
        text: "Styrgruppen följer upp överenskommelsen varje år.".into(),
    };
    for (key, section) in [(&keys.alfa, &syfte), (&keys.beta, &uppfoljning)] {
        server.append_ok(
            &stream,
            key,
            &Event::SectionRevised(SectionRevised {
                section: section.id.clone(),
                heading: section.heading.clone(),
                text: section.text.clone(),
            }),
        );
    }
    server.append_ok(
        &stream,
        &keys.alfa,
        &Event::ForumEstablished(ForumEstablished {
            forum: slug("styrgrupp"),
            definition: styrgrupp_v1(),
        }),
    );
    let seats_v1 = vec![
        seat("alfa-chef", ALFA, "förvaltningschef", None, false),
        seat(
            "beta-chef",
            BETA,
            "verksamhetschef",
            Some("Cecilia Cederlund"),
            false,
        ),
        seat("kommunpolis", GAMMA, "kommunpolis", None, false),
    ];
    for (key, seat) in [&keys.alfa, &keys.beta, &keys.gamma]
        .into_iter()
        .zip(&seats_v1)
    {
        server.append_ok(&stream, key, &seat_added("styrgrupp", seat));
    }

    // The draft the server shows is exactly the content these events fold into; its hash
    // is what version 1 must name.
    // (`into`: the content may hold its parts behind shared pointers.)
    let expected = |definition: ForumDefinition, seats: Vec<Representative>| Content {
        title: title.into(),
        preamble: preamble.into(),
        parties: vec![slug(ALFA), slug(BETA), slug(GAMMA)],
        sections: vec![syfte.clone().into(), uppfoljning.clone().into()],
        forums: vec![
            Forum {
                id: slug("styrgrupp"),
                definition: definition.into(),
                representatives: seats.into_iter().map(Into::into).collect(),
            }
            .into(),
        ],
    };
    let expected_v1 = expected(styrgrupp_v1(), seats_v1.clone());
    let (content, hash_v1) = draft(&server);
    assert_eq!(content, expected_v1);
    assert_eq!(hash_v1, expected_v1.hash());

    // Version 1 enters into force in 10 days, version 2 in 20: three distinct periods.
    let proposed_v1 = server.append_ok(
        &stream,
        &keys.alfa,
        &Event::RevisionProposed(RevisionProposed {
            version: 1,
            content_hash: hash_v1,
            note: "första versionen".into(),
            effective_from: Some(day(10)),
        }),
    );
    let v1_proposed_at = recorded_at(&proposed_v1);
    let view1 = view(&server);
    assert_eq!(view1["status"], "awaiting_signatures", "{view1}");
    assert_eq!(view1["open_proposal"]["version"], 1);
    assert_eq!(view1["open_proposal"]["content_hash"], hash_v1.to_hex());
    assert_eq!(
        party_ids(&view1["open_proposal"]["not_signed"]),
        [ALFA, BETA, GAMMA]
    );

    // Every party signs with its own key; the version is in force once the last has.
    for (n, (party, key)) in keys.parties().into_iter().enumerate() {
        let before = view(&server);
        assert_eq!(before["status"], "awaiting_signatures", "{before}");
        assert_eq!(
            party_ids(&before["open_proposal"]["signed"]).len(),
            n,
            "{before}"
        );
        server.append_ok(
            &stream,
            key,
            &Event::RevisionSigned(RevisionSigned {
                version: 1,
                content_hash: hash_v1,
                party: slug(party),
            }),
        );
    }
    let in_force_v1 = view(&server);
    assert_eq!(in_force_v1["status"], "in_force", "{in_force_v1}");
    assert_eq!(in_force_v1["version_in_force"], 1);
    assert_eq!(in_force_v1["in_force_from"], day(10).to_string());
    assert_eq!(in_force_v1["open_proposal"], Value::Null);
    let content_in_force: Content =
        serde_json::from_value(in_force_v1["content_in_force"].clone()).expect("content");
    assert_eq!(content_in_force, expected_v1);

    // Region Beta asks to renegotiate: the request is open, on the agreement.
    let requested = server.append_ok(
        &stream,
        &keys.beta,
        &Event::RenegotiationRequested(RenegotiationRequested {
            party: slug(BETA),
            reason: "nya lagkrav".into(),
        }),
    );
    let before_v2 = recorded_at(&requested);
    let open = view(&server);
    assert_eq!(open["status"], "renegotiation_requested", "{open}");
    let requests = open["open_requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 1, "{open}");
    assert!(open["open_requests"].to_string().contains(BETA), "{open}");

    // The forum is revised and a representative added; version 2 is proposed.
    server.append_ok(
        &stream,
        &keys.alfa,
        &Event::ForumRevised(ForumRevised {
            forum: slug("styrgrupp"),
            definition: styrgrupp_v2(),
        }),
    );
    let new_seat = seat(
        "gamma-samordnare",
        GAMMA,
        "samordnare",
        Some("Greta Grön"),
        true,
    );
    server.append_ok(&stream, &keys.gamma, &seat_added("styrgrupp", &new_seat));
    let mut seats_v2 = seats_v1.clone();
    seats_v2.push(new_seat);
    let expected_v2 = expected(styrgrupp_v2(), seats_v2);
    let (content, hash_v2) = draft(&server);
    assert_eq!(content, expected_v2);
    assert_ne!(hash_v1, hash_v2);
    server.append_ok(
        &stream,
        &keys.beta,
        &Event::RevisionProposed(RevisionProposed {
            version: 2,
            content_hash: hash_v2,
            note: "omförhandlad efter Region Betas begäran".into(),
            effective_from: Some(day(20)),
        }),
    );
    // While version 2 collects signatures, version 1 stays in force and the request open.
    let collecting = view(&server);
    assert_eq!(collecting["version_in_force"], 1, "{collecting}");
    assert_eq!(collecting["open_proposal"]["version"], 2);
    assert_eq!(collecting["status"], "renegotiation_requested");
    for (party, key) in keys.parties() {
        server.append_ok(
            &stream,
            key,
            &Event::RevisionSigned(RevisionSigned {
                version: 2,
                content_hash: hash_v2,
                party: slug(party),
            }),
        );
    }
    let in_force_v2 = view(&server);
    assert_eq!(in_force_v2["status"], "in_force", "{in_force_v2}");
    assert_eq!(in_force_v2["version_in_force"], 2);
    assert_eq!(in_force_v2["in_force_from"], day(20).to_string());
    assert_eq!(in_force_v2["open_requests"], serde_json::json!([]));

    // Version 1 is superseded by version 2 on the day version 2 enters into force.
    let versions = server.get_ok(&format!("/v1/agreements/{AGREEMENT}/versions"));
    let versions = versions.as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["status"], "superseded", "{:?}", versions[0]);
    assert_eq!(versions[0]["content_hash"], hash_v1.to_hex());
    assert_eq!(versions[0]["in_force_from"], day(10).to_string());
    assert_eq!(versions[0]["in_force_until"], day(20).to_string());
    assert_eq!(versions[0]["superseded"]["on"], day(20).to_string());
    assert_eq!(versions[0]["superseded"]["by_version"], 2);
    assert_eq!(versions[1]["status"], "in_force");
    assert_eq!(versions[1]["content_hash"], hash_v2.to_hex());
    assert_eq!(versions[1]["in_force_from"], day(20).to_string());
    assert_eq!(versions[1]["in_force_until"], Value::Null);
    let v2 = server.get_ok(&format!("/v1/agreements/{AGREEMENT}/versions/2"));
    let v2_content: Content = serde_json::from_value(v2["content"].clone()).expect("content");
    assert_eq!(v2_content, expected_v2);

    // The ledger: six live signatures, each with the key of the party that made it.
    let ledger = server.get_ok(&format!("/v1/agreements/{AGREEMENT}/signatures"));
    let ledger = ledger.as_array().expect("ledger");
    assert_eq!(ledger.len(), 6);
    for (row, (version, (party, key))) in ledger.iter().zip(
        [1, 1, 1, 2, 2, 2]
            .into_iter()
            .zip(keys.parties().into_iter().cycle()),
    ) {
        assert_eq!(row["version"], version, "{row}");
        assert_eq!(row["party"], party, "{row}");
        assert_eq!(row["key"], key.public().to_string(), "{row}");
        assert_eq!(row["method"]["kind"], "live", "{row}");
        // A live signature is dated by its `at`, in Europe/Stockholm.
        let at: overens_core::Timestamp = row["at"].as_str().expect("at").parse().expect("at");
        assert_eq!(row["signed_on"], at.legal_date().to_string(), "{row}");
        assert!(
            at.legal_date() >= today && at.legal_date() <= day(1),
            "{row}"
        );
        let hash = if version == 1 { hash_v1 } else { hash_v2 };
        assert_eq!(row["content_hash"], hash.to_hex(), "{row}");
    }

    // What changed from 1 to 2: the forum and its new seat.
    let diff = server.get_ok(&format!("/v1/agreements/{AGREEMENT}/diff?from=1&to=2"));
    let text = diff.to_string();
    assert!(text.contains("gamma-samordnare"), "{diff}");
    assert!(text.contains("Ta fram en gemensam lägesbild"), "{diff}");

    // in-force: before, between and after, and at the edges (half-open periods).
    let answers = [
        (today, None),
        (day(9), None),
        (day(10), Some(1)),
        (day(15), Some(1)),
        (day(19), Some(1)),
        (day(20), Some(2)),
        (day(400), Some(2)),
    ];
    for (on, version) in answers {
        let answer = in_force(&server, on, None);
        assert_eq!(
            answer["version"],
            serde_json::json!(version),
            "on {on}: {answer}"
        );
        match version {
            None => assert_eq!(answer["content_hash"], Value::Null),
            Some(1) => {
                assert_eq!(answer["content_hash"], hash_v1.to_hex());
                assert_eq!(answer["in_force_from"], day(10).to_string());
                assert_eq!(answer["in_force_until"], day(20).to_string());
            }
            Some(_) => {
                assert_eq!(answer["content_hash"], hash_v2.to_hex());
                assert_eq!(answer["in_force_from"], day(20).to_string());
                assert_eq!(answer["in_force_until"], Value::Null);
            }
        }
    }
    // As known before version 2 was recorded: version 1, with no end in sight.
    let known_then = in_force(&server, day(25), Some(&before_v2));
    assert_eq!(known_then["version"], 1, "{known_then}");
    assert_eq!(known_then["as_of"], before_v2);
    assert_eq!(known_then["in_force_until"], Value::Null, "{known_then}");
    // As known when version 1 was only proposed: nothing.
    let known_earlier = in_force(&server, day(15), Some(&v1_proposed_at));
    assert_eq!(known_earlier["version"], Value::Null, "{known_earlier}");

    // The raw events: one canonical envelope per line, chained by hash from seq 0.
    let events = server.get_raw(&format!("/v1/agreements/{AGREEMENT}/events"));
    assert_eq!(events.status, 200);
    assert_eq!(events.content_type.as_deref(), Some("application/x-ndjson"));
    let mut prev = Digest32([0; 32]);
    let lines: Vec<&str> = events.body.lines().collect();
    for (seq, line) in lines.iter().enumerate() {
        let envelope = Envelope::from_canonical_bytes(line.as_bytes())
            .unwrap_or_else(|e| panic!("line {seq} is not canonical: {e:?}"));
        assert_eq!(envelope.seq, seq as u64);
        assert_eq!(envelope.prev, prev, "seq {seq}");
        envelope
            .clone()
            .verify()
            .unwrap_or_else(|e| panic!("seq {seq}: {e}"));
        prev = Digest32::of(line.as_bytes());
    }
    let timeline = server.get_ok(&format!("/v1/agreements/{AGREEMENT}/timeline"));
    assert_eq!(timeline.as_array().expect("timeline").len(), lines.len());
    assert_eq!(
        lines.len(),
        // drafted, 2 sections, forum, 3 seats, v1 + 3 signatures, request, forum revised,
        // seat, v2 + 3 signatures
        1 + 2 + 1 + 3 + 4 + 1 + 1 + 1 + 4
    );

    // A restart on the same data directory answers every read route the same, byte for
    // byte (in-force with an explicit `as_of`: the default is the clock).
    let as_of = overens_tests::server::now().to_string();
    let routes = read_routes(
        &as_of,
        &before_v2,
        [today, day(10), day(19), day(20), day(25)],
    );
    let before: Vec<_> = routes.iter().map(|r| server.get_raw(r)).collect();
    assert_eq!(
        server.terminate(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        server.output()
    );
    let data = data.to_str().expect("UTF-8 path");
    let again = Server::start(&["--data", data, "--listen", "127.0.0.1:0"]);
    for (route, before) in routes.iter().zip(&before) {
        let after = again.get_raw(route);
        assert_eq!(&after, before, "GET {route} after the restart");
    }
    assert!(
        before.iter().any(|r| r.status == 404),
        "a 404 is compared too"
    );
}

/// Every read route of the agreement and the log, and a few that answer 404.
fn read_routes(as_of: &str, before_v2: &str, dates: [Date; 5]) -> Vec<String> {
    let a = format!("/v1/agreements/{AGREEMENT}");
    let mut routes = vec![
        "/healthz".to_owned(),
        "/openapi.json".to_owned(),
        "/v1/agreements".to_owned(),
        "/v1/directory".to_owned(),
        "/v1/streams/directory/head".to_owned(),
        format!("/v1/streams/agreement/{AGREEMENT}/head"),
        a.clone(),
        format!("{a}/versions"),
        format!("{a}/versions/1"),
        format!("{a}/versions/2"),
        format!("{a}/versions/3"),
        format!("{a}/signatures"),
        format!("{a}/timeline"),
        format!("{a}/events"),
        format!("{a}/diff?from=1&to=2"),
        format!("{a}/diff?from=2&to=1"),
        "/v1/agreements/no-such-agreement".to_owned(),
        "/v1/log/key".to_owned(),
        "/v1/log/checkpoint".to_owned(),
        "/v1/log/records".to_owned(),
        "/v1/log/proof/inclusion?index=12&size=20".to_owned(),
        "/v1/log/proof/consistency?from=7&to=20".to_owned(),
    ];
    for on in dates {
        routes.push(format!("{a}/in-force?on={on}&as_of={as_of}"));
        routes.push(format!("{a}/in-force?on={on}&as_of={before_v2}"));
    }
    routes
}
