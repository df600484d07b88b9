//! A catalogue of bad inputs against the real binary: each gets the documented status and
//! problem `type` (and rule, where one is named), as `application/problem+json` with a
//! `type` the server documents; and after each, the log and every projection are exactly
//! what they were. The same bytes posted again are not an error: 200, `repeated`.
//!
//! Also: docs/api.md documents exactly the problem types the server has.

use std::collections::BTreeSet;

use overens_core::domain::enrollment_message;
use overens_core::event::{
    AgreementDrafted, PartyRegistered, RevisionProposed, RevisionSigned, SectionRevised,
    SignatoryEnrolled, SignatoryRevoked,
};
use overens_core::{
    Digest32, Envelope, Event, PartyId, PublicKey, SecretKey, Signature, StreamId, Timestamp,
    UnsignedEnvelope,
};
use overens_server::PROBLEM_TYPES;
use overens_tests::server::{envelope_json, events_path, fresh_id, now, sign};
use overens_tests::{Reply, Server, workspace_root};
use serde_json::{Value, json};
use tempfile::TempDir;

const AGREEMENT: &str = "samverkan";
const ALFA: &str = "alfa-kommun";
const BETA: &str = "region-beta";
const GAMMA: &str = "gamma-forbundet";

fn slug<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a slug")
}

/// A small log: three parties with a key each, a revoked second key of Alfa's, an
/// agreement between Alfa and Beta with version 1 proposed and signed by Alfa.
struct World {
    _tmp: TempDir,
    server: Server,
    registrar: SecretKey,
    alfa: SecretKey,
    beta: SecretKey,
    /// A signatory of a party that is not a party of the agreement.
    gamma: SecretKey,
    /// Alfa's second key, revoked.
    revoked: SecretKey,
    stream: StreamId,
    /// An event of the agreement already in the log (seq 1), and its index.
    old: Envelope,
    old_index: u64,
    hash_v1: Digest32,
}

impl World {
    fn new() -> World {
        let tmp = TempDir::new().expect("tmp");
        let registrar = SecretKey::from_seed(&[0x61; 32]);
        let alfa = SecretKey::from_seed(&[0x62; 32]);
        let beta = SecretKey::from_seed(&[0x63; 32]);
        let gamma = SecretKey::from_seed(&[0x64; 32]);
        let revoked = SecretKey::from_seed(&[0x65; 32]);
        let server = Server::start_new(&tmp.path().join("node"), &registrar);
        server.register(&registrar, ALFA, "Alfa kommun", &alfa, "Anna Andersson");
        server.register(&registrar, BETA, "Region Beta", &beta, "Bertil Berg");
        server.register(
            &registrar,
            GAMMA,
            "Gammaförbundet",
            &gamma,
            "Gun Gustavsson",
        );
        server.enroll(&registrar, &slug(ALFA), &revoked, "Albin Ahl");
        server.append_ok(
            &StreamId::Directory,
            &registrar,
            &Event::SignatoryRevoked(SignatoryRevoked {
                key: revoked.public(),
                reason: "slutat".into(),
            }),
        );
        let stream: StreamId = format!("agreement/{AGREEMENT}").parse().expect("stream");
        server.append_ok(
            &stream,
            &alfa,
            &Event::AgreementDrafted(AgreementDrafted {
                title: "Samverkan".into(),
                parties: vec![slug(ALFA), slug(BETA)],
                preamble: String::new(),
            }),
        );
        let (old, reply) = server.append(
            &stream,
            &alfa,
            &Event::SectionRevised(SectionRevised {
                section: slug("syfte"),
                heading: "Syfte".into(),
                text: "Parterna samverkar.".into(),
            }),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        let old_index = reply.json()["indexes"][0].as_u64().expect("index");
        let view = server.get_ok(&format!("/v1/agreements/{AGREEMENT}"));
        let draft: overens_core::Content =
            serde_json::from_value(view["draft"].clone()).expect("draft");
        let hash_v1 = draft.hash();
        server.append_ok(
            &stream,
            &alfa,
            &Event::RevisionProposed(RevisionProposed {
                version: 1,
                content_hash: hash_v1,
                note: "första".into(),
                effective_from: None,
            }),
        );
        server.append_ok(
            &stream,
            &alfa,
            &Event::RevisionSigned(RevisionSigned {
                version: 1,
                content_hash: hash_v1,
                party: slug(ALFA),
            }),
        );
        World {
            _tmp: tmp,
            server,
            registrar,
            alfa,
            beta,
            gamma,
            revoked,
            stream,
            old,
            old_index,
            hash_v1,
        }
    }

    /// `event` signed by `key` at the agreement stream's head, now.
    fn at_head(&self, key: &SecretKey, event: &Event) -> Value {
        let (seq, prev) = self.server.head(&self.stream);
        envelope_json(&sign(key, &self.stream, seq, prev, now(), event))
    }

    /// Like [`World::at_head`], with `at` given.
    fn at_head_at(&self, key: &SecretKey, at: Timestamp, event: &Event) -> Value {
        let (seq, prev) = self.server.head(&self.stream);
        envelope_json(&sign(key, &self.stream, seq, prev, at, event))
    }

    /// Any type and payload, in any stream, properly signed: for what the typed API
    /// cannot build.
    fn raw(&self, key: &SecretKey, stream: &str, kind: &str, payload: Value) -> Value {
        let stream: StreamId = stream.parse().expect("stream");
        let (seq, prev) = self.server.head(&stream);
        let at = now();
        let unsigned = UnsignedEnvelope {
            v: 1,
            id: fresh_id(at),
            stream,
            seq,
            prev,
            kind: kind.into(),
            at,
            signer: key.public(),
            payload: payload.as_object().expect("a payload object").clone(),
        };
        serde_json::to_value(unsigned.sign(key)).expect("JSON")
    }

    /// A draft change anybody of the agreement may make: a new section.
    fn section(&self, id: &str) -> Event {
        Event::SectionRevised(SectionRevised {
            section: slug(id),
            heading: "Ny rubrik".into(),
            text: "Ny text.".into(),
        })
    }

    /// Everything a reader can see: the answer of every read route, and the raw events.
    fn snapshot(&self) -> Vec<(String, Reply)> {
        let mut routes = vec![
            "/healthz".to_owned(),
            "/v1/agreements".to_owned(),
            "/v1/directory".to_owned(),
            "/v1/streams/directory/head".to_owned(),
            "/v1/log/key".to_owned(),
            "/v1/log/checkpoint".to_owned(),
            "/v1/log/records".to_owned(),
        ];
        let list = self.server.get_ok("/v1/agreements");
        for agreement in list.as_array().expect("a list") {
            let id = agreement["id"].as_str().expect("id");
            let a = format!("/v1/agreements/{id}");
            routes.extend([
                a.clone(),
                format!("{a}/versions"),
                format!("{a}/signatures"),
                format!("{a}/timeline"),
                format!("{a}/events"),
                format!("/v1/streams/agreement/{id}/head"),
            ]);
        }
        routes
            .into_iter()
            .map(|route| {
                let reply = self.server.get_raw(&route);
                assert_eq!(reply.status, 200, "GET {route}: {}", reply.body);
                (route, reply)
            })
            .collect()
    }
}

/// One bad request and the answer it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    problem: &'static str,
    rule: Option<&'static str>,
}

impl Case {
    fn post(name: &'static str, path: String, body: Vec<u8>) -> Case {
        Case {
            name,
            method: "POST",
            path,
            content_type: Some("application/json"),
            body,
            status: 0,
            problem: "",
            rule: None,
        }
    }

    fn get(name: &'static str, path: String) -> Case {
        Case {
            method: "GET",
            content_type: None,
            ..Case::post(name, path, Vec::new())
        }
    }

    fn expect(mut self, status: u16, problem: &'static str) -> Case {
        self.status = status;
        self.problem = problem;
        self
    }

    fn rule(mut self, rule: &'static str) -> Case {
        self.rule = Some(rule);
        self
    }

    fn content_type(mut self, content_type: Option<&'static str>) -> Case {
        self.content_type = content_type;
        self
    }

    fn method(mut self, method: &'static str) -> Case {
        self.method = method;
        self
    }
}

fn text(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// `value` (an envelope) with `f` applied to its fields, after signing.
fn altered(value: &Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut value = value.clone();
    f(value.as_object_mut().expect("an envelope object"));
    value
}

fn b64(bytes: &[u8]) -> String {
    overens_core::crypto::b64(bytes)
}

/// Checks one answer: the status, a problem document of a documented type, its rule.
fn check_problem(case: &Case, reply: &Reply) {
    let name = case.name;
    assert_eq!(reply.status, case.status, "{name}: {}", reply.body);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/problem+json"),
        "{name}: {}",
        reply.body
    );
    let problem = reply.json();
    let kind = problem["type"].as_str().unwrap_or_default();
    let documented = PROBLEM_TYPES
        .iter()
        .find(|(k, ..)| format!("/problems/{k}") == kind)
        .unwrap_or_else(|| panic!("{name}: undocumented type {kind}: {problem}"));
    assert_eq!(
        kind,
        format!("/problems/{}", case.problem),
        "{name}: {problem}"
    );
    assert_eq!(problem["status"], case.status, "{name}: {problem}");
    assert_eq!(documented.1, case.status, "{name}: {problem}");
    assert_eq!(problem["title"], documented.2, "{name}: {problem}");
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{name}: {problem}"
    );
    if let Some(rule) = case.rule {
        assert_eq!(problem["rule"], rule, "{name}: {problem}");
    }
}

fn catalogue(w: &World) -> Vec<Case> {
    let events = events_path(&w.stream);
    let directory = events_path(&StreamId::Directory);
    let good = w.at_head(&w.alfa, &w.section("ny"));
    let good_text = text(&good);
    let (seq, prev) = w.server.head(&w.stream);
    let mut cases = Vec::new();
    let mut add = |case: Case| cases.push(case);

    // Not JSON, or not an envelope (400).
    add(
        Case::post("malformed JSON", events.clone(), b"{not json}".to_vec())
            .expect(400, "malformed"),
    );
    add(Case::post(
        "truncated body",
        events.clone(),
        good_text[..good_text.len() / 2].to_vec(),
    )
    .expect(400, "malformed"));
    add(Case::post("empty body", events.clone(), Vec::new()).expect(400, "malformed"));
    add(Case::post("a number", events.clone(), b"42".to_vec()).expect(400, "malformed"));
    add(Case::post("a string", events.clone(), b"\"envelope\"".to_vec()).expect(400, "malformed"));
    add(Case::post("null", events.clone(), b"null".to_vec()).expect(400, "malformed"));
    let nested = format!("{}{}", "[".repeat(300), "]".repeat(300));
    add(
        Case::post("deeply nested JSON", events.clone(), nested.into_bytes())
            .expect(422, "limit-exceeded"),
    );
    add(Case::post(
        "seq as a string",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("seq".into(), json!(seq.to_string()));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "seq written as a float",
        events.clone(),
        String::from_utf8(good_text.clone())
            .expect("UTF-8")
            .replace(&format!("\"seq\":{seq},"), &format!("\"seq\":{seq}.0,"))
            .into_bytes(),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "payload as an array",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("payload".into(), json!(["syfte"]));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "missing sig",
        events.clone(),
        text(&altered(&good, |e| {
            e.remove("sig");
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "missing prev",
        events.clone(),
        text(&altered(&good, |e| {
            e.remove("prev");
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "unknown field",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("note".into(), json!("extra"));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "unknown event type, signed",
        events.clone(),
        text(&w.raw(
            &w.alfa,
            &w.stream.to_string(),
            "AgreementRenamed",
            json!({"title": "X"}),
        )),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "bad base64 in signer",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("signer".into(), json!("not+base64/url=="));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "bad base64 in sig",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("sig".into(), json!("!".repeat(86)));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "a 31-byte signer key",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("signer".into(), json!(b64(&[7; 31])));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "a 63-byte signature",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("sig".into(), json!(b64(&[7; 63])));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "`at` with +00:00 instead of Z",
        events.clone(),
        text(&altered(&good, |e| {
            let at = e["at"].as_str().expect("at").replace('Z', "+00:00");
            e.insert("at".into(), json!(at));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "prev in uppercase hex",
        events.clone(),
        text(&altered(&good, |e| {
            let prev = e["prev"].as_str().expect("prev").to_uppercase();
            e.insert("prev".into(), json!(prev));
        })),
    )
    .expect(400, "invalid-event"));
    add(Case::post("format v2, signed", events.clone(), {
        let (seq, prev) = w.server.head(&w.stream);
        let at = now();
        let mut unsigned = UnsignedEnvelope::new(
            fresh_id(at),
            w.stream.clone(),
            seq,
            prev,
            at,
            w.alfa.public(),
            &w.section("v2"),
        );
        unsigned.v = 2;
        text(&envelope_json(&unsigned.sign(&w.alfa)))
    })
    .expect(400, "invalid-event"));
    add(Case::post(
        "payload without a required field, signed",
        events.clone(),
        text(&w.raw(
            &w.alfa,
            &w.stream.to_string(),
            "SectionRevised",
            json!({"section": "ny", "heading": "Ny"}),
        )),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "explicit null for an optional field, signed",
        events.clone(),
        text(&w.raw(
            &w.alfa,
            &w.stream.to_string(),
            "RevisionProposed",
            json!({"version": 2, "content_hash": w.hash_v1.to_hex(), "note": "x", "effective_from": null}),
        )),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "a directory event in an agreement stream",
        events.clone(),
        text(&w.raw(
            &w.registrar,
            &w.stream.to_string(),
            "PartyRegistered",
            json!({"party": "delta", "name": "Delta"}),
        )),
    )
    .expect(400, "invalid-event"));
    add(Case::post(
        "an agreement event in the directory stream",
        directory.clone(),
        text(&w.raw(
            &w.alfa,
            "directory",
            "SectionRevised",
            json!({"section": "ny", "heading": "Ny", "text": "Ny text."}),
        )),
    )
    .expect(400, "invalid-event"));
    add(Case::post("an empty batch", events.clone(), b"[]".to_vec()).expect(400, "invalid-batch"));
    add(Case::post("one event twice in a batch", events.clone(), {
        text(&json!([good, good]))
    })
    .expect(400, "invalid-batch"));
    add(Case::post("a batch reusing an id", events.clone(), {
        let first = sign(&w.alfa, &w.stream, seq, prev, now(), &w.section("a"));
        let mut second = sign(
            &w.alfa,
            &w.stream,
            seq + 1,
            first.hash(),
            now(),
            &w.section("b"),
        )
        .unsigned();
        second.id = first.id;
        let second = second.sign(&w.alfa);
        text(&json!([envelope_json(&first), envelope_json(&second)]))
    })
    .expect(400, "invalid-batch"));

    // Replays into another stream (400 by the URL, 401 by the signature).
    add(Case::post(
        "an old event posted to another agreement's URL",
        "/v1/streams/agreement/annat/events".into(),
        text(&envelope_json(&w.old)),
    )
    .expect(400, "stream-mismatch"));
    add(Case::post(
        "an agreement event posted to the directory URL",
        directory.clone(),
        good_text.clone(),
    )
    .expect(400, "stream-mismatch"));
    add(Case::post("a batch for two streams", events.clone(), {
        let other = w.raw(
            &w.registrar,
            "directory",
            "PartyRegistered",
            json!({"party": "delta", "name": "Delta"}),
        );
        text(&json!([good, other]))
    })
    .expect(400, "stream-mismatch"));
    add(Case::post(
        "an old event re-pointed to another stream",
        "/v1/streams/agreement/annat/events".into(),
        text(&altered(&envelope_json(&w.old), |e| {
            e.insert("stream".into(), json!("agreement/annat"));
        })),
    )
    .expect(401, "bad-signature"));

    // Signatures that do not verify (401).
    add(Case::post(
        "payload changed after signing",
        events.clone(),
        text(&altered(&good, |e| {
            e["payload"]["text"] = json!("Annan text.");
        })),
    )
    .expect(401, "bad-signature"));
    add(Case::post(
        "seq changed after signing",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("seq".into(), json!(seq + 1));
        })),
    )
    .expect(401, "bad-signature"));
    add(Case::post(
        "another key's signature",
        events.clone(),
        text(&altered(&good, |e| {
            e.insert("signer".into(), json!(w.beta.public().to_string()));
        })),
    )
    .expect(401, "bad-signature"));
    add(Case::post(
        "a small-order (weak) signer key",
        events.clone(),
        text(&altered(&good, |e| {
            let mut identity = [0u8; 32];
            identity[0] = 1;
            let weak = PublicKey::from_bytes(&identity).expect("the identity is a point");
            assert!(weak.is_weak());
            e.insert("signer".into(), json!(weak.to_string()));
            e.insert(
                "sig".into(),
                json!(Signature::from_bytes(&[0; 64]).to_string()),
            );
        })),
    )
    .expect(401, "bad-signature"));

    // Signers that may not sign this (403).
    let stranger = SecretKey::from_seed(&[0x6f; 32]);
    add(Case::post(
        "an unknown key",
        events.clone(),
        text(&w.at_head(&stranger, &w.section("ny"))),
    )
    .expect(403, "signer-not-allowed")
    .rule("unknown-signer"));
    add(Case::post(
        "a revoked key",
        events.clone(),
        text(&w.at_head(&w.revoked, &w.section("ny"))),
    )
    .expect(403, "signer-not-allowed")
    .rule("revoked-key"));
    add(Case::post(
        "a party signing for another party",
        events.clone(),
        text(&w.at_head(
            &w.alfa,
            &Event::RevisionSigned(RevisionSigned {
                version: 1,
                content_hash: w.hash_v1,
                party: slug(BETA),
            }),
        )),
    )
    .expect(403, "signer-not-allowed")
    .rule("acting-for-another-party"));
    add(Case::post(
        "a registrar signing a draft change",
        events.clone(),
        text(&w.at_head(&w.registrar, &w.section("ny"))),
    )
    .expect(403, "signer-not-allowed")
    .rule("registrar-may-not-sign"));
    add(Case::post(
        "a signatory of a party outside the agreement",
        events.clone(),
        text(&w.at_head(&w.gamma, &w.section("ny"))),
    )
    .expect(403, "signer-not-allowed")
    .rule("not-a-party"));
    add(
        Case::post("a signatory registering a party", directory.clone(), {
            let (seq, prev) = w.server.head(&StreamId::Directory);
            let event = Event::PartyRegistered(PartyRegistered {
                party: slug("delta"),
                name: "Delta".into(),
            });
            text(&envelope_json(&sign(
                &w.alfa,
                &StreamId::Directory,
                seq,
                prev,
                now(),
                &event,
            )))
        })
        .expect(403, "signer-not-allowed")
        .rule("not-a-registrar"),
    );

    // The head has moved, or the id is taken (409).
    add(Case::post(
        "an old event's content re-signed at its old seq",
        events.clone(),
        {
            let mut again = w.old.unsigned();
            again.at = now();
            again.id = fresh_id(again.at);
            text(&envelope_json(&again.sign(&w.alfa)))
        },
    )
    .expect(409, "stale-head")
    .rule("wrong-seq"));
    add(Case::post(
        "a stale seq",
        events.clone(),
        text(&envelope_json(&sign(
            &w.alfa,
            &w.stream,
            seq - 1,
            prev,
            now(),
            &w.section("ny"),
        ))),
    )
    .expect(409, "stale-head")
    .rule("wrong-seq"));
    add(Case::post(
        "a seq from the future",
        events.clone(),
        text(&envelope_json(&sign(
            &w.alfa,
            &w.stream,
            seq + 3,
            prev,
            now(),
            &w.section("ny"),
        ))),
    )
    .expect(409, "stale-head")
    .rule("wrong-seq"));
    add(Case::post(
        "a wrong prev",
        events.clone(),
        text(&envelope_json(&sign(
            &w.alfa,
            &w.stream,
            seq,
            Digest32::of(b"not the head"),
            now(),
            &w.section("ny"),
        ))),
    )
    .expect(409, "stale-head")
    .rule("wrong-prev"));
    add(Case::post("a reused id with other bytes", events.clone(), {
        let mut reuse = sign(&w.alfa, &w.stream, seq, prev, now(), &w.section("ny")).unsigned();
        reuse.id = w.old.id;
        text(&envelope_json(&reuse.sign(&w.alfa)))
    })
    .expect(409, "id-reused"));

    // Too large (413), not JSON (415).
    add(Case::post("a body over 1 MiB", events.clone(), {
        let huge = Event::SectionRevised(SectionRevised {
            section: slug("stor"),
            heading: "Stor".into(),
            text: "x".repeat(1100 * 1024),
        });
        text(&w.at_head(&w.alfa, &huge))
    })
    .expect(413, "too-large"));
    add(Case::post(
        "257 events in one batch",
        events.clone(),
        text(&Value::Array(vec![json!({}); 257])),
    )
    .expect(413, "too-large"));
    add(
        Case::post("Content-Type text/plain", events.clone(), good_text.clone())
            .content_type(Some("text/plain"))
            .expect(415, "unsupported-media-type"),
    );
    add(
        Case::post("no Content-Type", events.clone(), good_text.clone())
            .content_type(None)
            .expect(415, "unsupported-media-type"),
    );

    // Well-formed, signed by an allowed key, but against the rules (422).
    add(Case::post(
        "`at` 10 minutes ahead",
        events.clone(),
        text(&w.at_head_at(
            &w.alfa,
            Timestamp::from_datetime(now().datetime() + chrono::Duration::minutes(10)),
            &w.section("ny"),
        )),
    )
    .expect(422, "clock-skew"));
    add(Case::post(
        "`at` in 2001",
        events.clone(),
        text(&w.at_head_at(&w.alfa, slug("2001-02-03T04:05:06Z"), &w.section("ny"))),
    )
    .expect(422, "clock-skew"));
    add(Case::post(
        "an event for an agreement that does not exist",
        "/v1/streams/agreement/finns-inte/events".into(),
        text(&w.raw(
            &w.alfa,
            "agreement/finns-inte",
            "SectionRevised",
            json!({"section": "ny", "heading": "Ny", "text": "Ny text."}),
        )),
    )
    .expect(422, "rule-broken")
    .rule("no-such-agreement"));
    add(Case::post(
        "a proposal with the wrong content hash",
        events.clone(),
        text(&w.at_head(
            &w.alfa,
            &Event::RevisionProposed(RevisionProposed {
                version: 2,
                content_hash: Digest32::of(b"other content"),
                note: "fel".into(),
                effective_from: None,
            }),
        )),
    )
    .expect(422, "rule-broken")
    .rule("content-hash-mismatch"));
    add(Case::post(
        "a proposal with the wrong version number",
        events.clone(),
        text(&w.at_head(
            &w.alfa,
            &Event::RevisionProposed(RevisionProposed {
                version: 5,
                content_hash: w.hash_v1,
                note: "fel".into(),
                effective_from: None,
            }),
        )),
    )
    .expect(422, "rule-broken")
    .rule("wrong-version-number"));
    add(Case::post(
        "a second signature by the same party",
        events.clone(),
        text(&w.at_head(
            &w.alfa,
            &Event::RevisionSigned(RevisionSigned {
                version: 1,
                content_hash: w.hash_v1,
                party: slug(ALFA),
            }),
        )),
    )
    .expect(422, "rule-broken")
    .rule("already-signed"));
    add(Case::post(
        "a signature of another content hash",
        events.clone(),
        text(&w.at_head(
            &w.beta,
            &Event::RevisionSigned(RevisionSigned {
                version: 1,
                content_hash: Digest32::of(b"other content"),
                party: slug(BETA),
            }),
        )),
    )
    .expect(422, "rule-broken")
    .rule("content-hash-mismatch"));
    add(Case::post(
        "a blank heading",
        events.clone(),
        text(&w.at_head(
            &w.alfa,
            &Event::SectionRevised(SectionRevised {
                section: slug("tom"),
                heading: "   ".into(),
                text: "Text.".into(),
            }),
        )),
    )
    .expect(422, "rule-broken")
    .rule("empty-field"));
    add(Case::post(
        "a renegotiation before anything is in force",
        events.clone(),
        {
            text(&w.raw(
                &w.beta,
                &w.stream.to_string(),
                "RenegotiationRequested",
                json!({"party": BETA, "reason": "för tidigt"}),
            ))
        },
    )
    .expect(422, "rule-broken")
    .rule("nothing-in-force"));
    add(Case::post(
        "a batch whose second event breaks a rule",
        events.clone(),
        {
            let first = sign(&w.alfa, &w.stream, seq, prev, now(), &w.section("forsta"));
            let second = sign(
                &w.alfa,
                &w.stream,
                seq + 1,
                first.hash(),
                now(),
                &Event::RevisionSigned(RevisionSigned {
                    version: 1,
                    content_hash: w.hash_v1,
                    party: slug(ALFA),
                }),
            );
            text(&json!([envelope_json(&first), envelope_json(&second)]))
        },
    )
    .expect(422, "rule-broken")
    .rule("already-signed"));
    add(
        Case::post("a proof of possession by another key", directory.clone(), {
            let (seq, prev) = w.server.head(&StreamId::Directory);
            let newcomer = SecretKey::from_seed(&[0x6e; 32]);
            let party: PartyId = slug(BETA);
            let event = Event::SignatoryEnrolled(SignatoryEnrolled {
                party: party.clone(),
                key: newcomer.public(),
                name: "Nils Ny".into(),
                role: "signatory".into(),
                proof: w.beta.sign(&enrollment_message(&party, &newcomer.public())),
            });
            text(&envelope_json(&sign(
                &w.registrar,
                &StreamId::Directory,
                seq,
                prev,
                now(),
                &event,
            )))
        })
        .expect(422, "rule-broken")
        .rule("bad-proof-of-possession"),
    );
    add(Case::post("a party registered twice", directory.clone(), {
        let (seq, prev) = w.server.head(&StreamId::Directory);
        let event = Event::PartyRegistered(PartyRegistered {
            party: slug(ALFA),
            name: "Alfa igen".into(),
        });
        text(&envelope_json(&sign(
            &w.registrar,
            &StreamId::Directory,
            seq,
            prev,
            now(),
            &event,
        )))
    })
    .expect(422, "rule-broken")
    .rule("party-already-registered"));

    // Routes, methods and queries.
    add(Case::post(
        "an agreement id that is not a slug",
        "/v1/streams/agreement/Inte_En_Slug/events".into(),
        good_text.clone(),
    )
    .expect(404, "not-found"));
    add(Case::post(
        "a stream that does not exist",
        "/v1/streams/other/events".into(),
        good_text,
    )
    .expect(404, "not-found"));
    add(Case::get("an unknown route", "/v1/nothing".into()).expect(404, "not-found"));
    add(
        Case::get("an unknown agreement", "/v1/agreements/finns-inte".into())
            .expect(404, "not-found"),
    );
    add(Case::get(
        "a version that does not exist",
        format!("/v1/agreements/{AGREEMENT}/versions/9"),
    )
    .expect(404, "not-found"));
    add(Case::get("DELETE on a read route", "/v1/agreements".into())
        .method("DELETE")
        .expect(405, "method-not-allowed"));
    add(Case::get("GET on a write route", events.clone()).expect(405, "method-not-allowed"));
    add(
        Case::post("PUT on a write route", events.clone(), Vec::new())
            .method("PUT")
            .expect(405, "method-not-allowed"),
    );
    add(Case::get(
        "in-force without `on`",
        format!("/v1/agreements/{AGREEMENT}/in-force"),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "in-force on 2021-1-1",
        format!("/v1/agreements/{AGREEMENT}/in-force?on=2021-1-1"),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "in-force as of a date, not an instant",
        format!("/v1/agreements/{AGREEMENT}/in-force?on=2021-01-01&as_of=2021-01-01"),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "an inclusion proof without `index`",
        "/v1/log/proof/inclusion?size=1".into(),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "an inclusion proof of an index outside the tree",
        "/v1/log/proof/inclusion?index=3&size=3".into(),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "a consistency proof from a larger tree to a smaller",
        "/v1/log/proof/consistency?from=3&to=2".into(),
    )
    .expect(400, "invalid-query"));
    add(Case::get(
        "an inclusion proof in a tree beyond the checkpoint",
        "/v1/log/proof/inclusion?index=0&size=1000".into(),
    )
    .expect(404, "beyond-checkpoint"));
    add(Case::get(
        "a consistency proof to a tree beyond the checkpoint",
        "/v1/log/proof/consistency?from=1&to=1000".into(),
    )
    .expect(404, "beyond-checkpoint"));
    add(Case::get(
        "records beyond the checkpoint",
        "/v1/log/records?from=1000".into(),
    )
    .expect(404, "beyond-checkpoint"));
    add(Case::get(
        "diff from version 0",
        format!("/v1/agreements/{AGREEMENT}/diff?from=0&to=1"),
    )
    .expect(400, "invalid-query"));
    cases
}

#[test]
fn bad_inputs_get_their_documented_problem_and_change_nothing() {
    let w = World::new();
    let before = w.snapshot();
    let log_len = before[0].1.json()["log_len"].as_u64().expect("log_len");

    // The same bytes again are not an error: the first answer, 200, `repeated`.
    let again = w.server.post_events(&w.stream, &envelope_json(&w.old));
    assert_eq!(again.status, 200, "{}", again.body);
    let again = again.json();
    assert_eq!(again["repeated"], true, "{again}");
    assert_eq!(again["indexes"], json!([w.old_index]), "{again}");
    assert_eq!(w.snapshot(), before, "a repeat changes nothing");

    let cases = catalogue(&w);
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut names = BTreeSet::new();
    let mut types = BTreeSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "two cases named {}", case.name);
        let reply = w
            .server
            .request(case.method, &case.path, case.content_type, &case.body);
        check_problem(case, &reply);
        types.insert(case.problem);
        let after = w.snapshot();
        for ((route, was), (_, is)) in before.iter().zip(&after) {
            assert_eq!(is, was, "{}: GET {route} changed", case.name);
        }
        assert_eq!(after.len(), before.len(), "{}", case.name);
    }
    assert_eq!(
        w.server.get_ok("/healthz")["log_len"],
        log_len,
        "nothing was appended"
    );
    // Every problem a client can cause here is in the catalogue (the read token's
    // `unauthorized` is tested in serve.rs, `request-timeout` and `too-many-requests` in
    // limits.rs; `store-failed` and `internal` need a broken server).
    let elsewhere = [
        "unauthorized",
        "request-timeout",
        "too-many-requests",
        "store-failed",
        "internal",
    ];
    let causable: BTreeSet<&str> = PROBLEM_TYPES
        .iter()
        .map(|(k, ..)| *k)
        .filter(|k| !elsewhere.contains(k))
        .collect();
    assert_eq!(types, causable);
    // The server survived all of it.
    let (seq, prev) = w.server.head(&w.stream);
    let event = w.section("efterat");
    let fine = sign(&w.beta, &w.stream, seq, prev, now(), &event);
    let reply = w.server.post_events(&w.stream, &envelope_json(&fine));
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(
        !w.server.output().contains("panicked"),
        "{}",
        w.server.output()
    );
}

/// docs/api.md has one table row per problem type, with its status: the same set as the
/// server's `PROBLEM_TYPES`, and no other `/problems/…` name anywhere in the page.
#[test]
fn api_md_documents_exactly_the_problem_types() {
    let path = workspace_root().join("docs/api.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut rows = BTreeSet::new();
    for line in doc.lines() {
        let Some(rest) = line.strip_prefix("| `/problems/") else {
            continue;
        };
        let (name, rest) = rest.split_once('`').expect("a closing backtick");
        let status: u16 = rest
            .trim_start_matches([' ', '|'])
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in the row of {name}: {line}"));
        assert!(rows.insert((name.to_owned(), status)), "{name} twice");
    }
    let expected: BTreeSet<(String, u16)> = PROBLEM_TYPES
        .iter()
        .map(|(name, status, _)| ((*name).to_owned(), *status))
        .collect();
    assert_eq!(rows, expected, "docs/api.md's problem table");
    let known: BTreeSet<&str> = PROBLEM_TYPES.iter().map(|(name, ..)| *name).collect();
    for (i, _) in doc.match_indices("/problems/") {
        let name: String = doc[i + "/problems/".len()..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        assert!(
            name.is_empty() || known.contains(name.as_str()),
            "docs/api.md names /problems/{name}, which the server does not have"
        );
    }
}
