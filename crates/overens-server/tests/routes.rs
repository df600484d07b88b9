//! The router, request by request (`tower::ServiceExt::oneshot`), over a real pipeline and
//! SQLite store loaded with the example log. Every response is checked against the
//! OpenAPI document the router was built with, strictly: its status must be documented for
//! the operation, and a JSON body must match the schema with no undocumented property.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{example_app, examples, log_signer};
use overens_core::projection::{
    agreement_view, diff, directory_view, in_force, signature_ledger, version_detail, versions,
};
use overens_core::{
    AgreementId, Content, Envelope, EventId, SecretKey, State, StreamId, Timestamp,
    UnsignedEnvelope,
};
use overens_pipeline::AnyStore;
use overens_store::{AppendEvent, EventStore};
use serde_json::{Value, json};
use tower::ServiceExt;

const NORRTALJE: &str = "norrtalje-bus";
const NORRKOPING: &str = "norrkoping-barn-och-unga";
const TOKEN: &str = "läs-token-7f3a";

struct Fixture {
    _dir: tempfile::TempDir,
    router: axum::Router,
    doc: Value,
    /// The replayed example log: the oracle the answers are compared with.
    state: State,
    store: Arc<AnyStore>,
}

async fn fixture(token: Option<&str>) -> Fixture {
    let example = example_app(token).await;
    let (router, doc) = overens_server::api(example.app);
    Fixture {
        _dir: example.dir,
        router,
        doc: serde_json::to_value(doc).unwrap(),
        state: example.state,
        store: example.store,
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    #[track_caller]
    fn problem(&self, status: u16, kind: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.content_type, "application/problem+json");
        let body = self.json();
        assert_eq!(body["type"], format!("/problems/{kind}"), "{body}");
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        body
    }
}

impl Fixture {
    async fn request(&self, method: Method, uri: &str, token: Option<&str>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// GET `uri` (an instance of the documented `template`) and check the answer against
    /// the document.
    async fn get(&self, template: &str, uri: &str) -> Answer {
        self.get_with(template, uri, None).await
    }

    async fn get_with(&self, template: &str, uri: &str, token: Option<&str>) -> Answer {
        let answer = self.request(Method::GET, uri, token).await;
        conforms(&self.doc, template, "get", &answer);
        answer
    }
}

/// The document with every object closed: `unevaluatedProperties: false` wherever a
/// schema lists properties, so a property the document does not name fails validation.
/// A component that another one flattens in (`allOf`) is referenced there through an open
/// copy, and the `allOf` itself is closed instead.
fn strict_components(doc: &Value) -> Value {
    let mut schemas = doc["components"]["schemas"].clone();
    let names: Vec<String> = schemas.as_object().unwrap().keys().cloned().collect();
    let mut flattened = BTreeSet::new();
    for name in &names {
        if let Some(Value::Array(all_of)) = schemas.get_mut(name).and_then(|s| s.get_mut("allOf")) {
            for part in all_of {
                if let Some(target) = part["$ref"].as_str().map(str::to_owned) {
                    let target = target
                        .trim_start_matches("#/components/schemas/")
                        .to_owned();
                    part["$ref"] = json!(format!("#/components/schemas/{target}__open"));
                    flattened.insert(target);
                }
            }
        }
    }
    fn close(schema: &mut Value, in_all_of: bool) {
        match schema {
            Value::Object(map) => {
                if !in_all_of && (map.contains_key("properties") || map.contains_key("allOf")) {
                    map.insert("unevaluatedProperties".into(), json!(false));
                }
                for (key, value) in map.iter_mut() {
                    match (key.as_str(), value) {
                        ("allOf", Value::Array(parts)) => {
                            parts.iter_mut().for_each(|p| close(p, true))
                        }
                        ("properties", Value::Object(props)) => {
                            props.values_mut().for_each(|p| close(p, false))
                        }
                        ("enum" | "examples" | "const" | "required", _) => {}
                        (_, value) => close(value, false),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| close(i, false)),
            _ => {}
        }
    }
    close(&mut schemas, false);
    // `close` marked the map of components itself; it is not a schema.
    schemas
        .as_object_mut()
        .unwrap()
        .remove("unevaluatedProperties");
    for name in flattened {
        let open = doc["components"]["schemas"][&name].clone();
        schemas[format!("{name}__open")] = open;
    }
    schemas
}

/// The answer's status is documented for the operation, with the answer's content type,
/// and a JSON body matches the documented schema (closed, formats checked).
#[track_caller]
fn conforms(doc: &Value, template: &str, method: &str, answer: &Answer) {
    let operation = &doc["paths"][template][method];
    assert!(
        operation.is_object(),
        "{method} {template} is not documented"
    );
    let response = &operation["responses"][answer.status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: status {} is not documented: {}",
        answer.status,
        answer.text()
    );
    assert!(
        response["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{method} {template} {}: no description",
        answer.status
    );
    let content = &response["content"][&answer.content_type];
    assert!(
        content.is_object(),
        "{method} {template} {}: content type `{}` is not documented",
        answer.status,
        answer.content_type
    );
    if answer.content_type != "application/json" && !answer.content_type.ends_with("+json") {
        return;
    }
    let errors = schema_errors(doc, &content["schema"], &answer.json());
    assert!(
        errors.is_empty(),
        "{method} {template} {}: the body does not match the document:\n{}",
        answer.status,
        errors.join("\n")
    );
}

/// How `body` breaks `schema` (a schema of the document), read strictly.
fn schema_errors(doc: &Value, schema: &Value, body: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["components"] = json!({ "schemas": strict_components(doc) });
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .take(5)
        .collect()
}

/// The check above is not vacuous: an extra property, a missing one, a mistyped or
/// misspelt value each break it.
#[tokio::test]
async fn the_schema_check_catches_drift() {
    let f = fixture(None).await;
    let response = |template: &str| {
        f.doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };
    let view_schema = response("/v1/agreements/{id}");
    let view = f
        .get(
            "/v1/agreements/{id}",
            "/v1/agreements/norrkoping-barn-och-unga",
        )
        .await
        .json();
    assert_eq!(
        schema_errors(&f.doc, &view_schema, &view),
        Vec::<String>::new()
    );
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut body = view.clone();
        edit(&mut body);
        schema_errors(&f.doc, &view_schema, &body)
    };
    // Top level of a flattened (allOf) object, and nested objects.
    assert!(!broken(&|b| b["extra"] = json!(1)).is_empty());
    assert!(!broken(&|b| b["open_proposal"]["extra"] = json!(1)).is_empty());
    assert!(!broken(&|b| b["draft"]["forums"][0]["extra"] = json!(1)).is_empty());
    // A required field of the flattened part, and one of the outer part.
    assert!(!broken(&|b| drop(b.as_object_mut().unwrap().remove("title"))).is_empty());
    assert!(!broken(&|b| drop(b.as_object_mut().unwrap().remove("termination"))).is_empty());
    // Text forms: a key, a hash, an instant, a date, a slug, an enum.
    assert!(!broken(&|b| b["open_requests"][0]["by"]["key"] = json!("not-a-key")).is_empty());
    assert!(!broken(&|b| b["open_proposal"]["content_hash"] = json!("ABC")).is_empty());
    assert!(
        !broken(&|b| b["open_requests"][0]["stamp"]["at"] = json!("2025-10-14T09:20:28+00:00"))
            .is_empty()
    );
    assert!(!broken(&|b| b["in_force_from"] = json!("2020-3-24")).is_empty());
    assert!(!broken(&|b| b["id"] = json!("Norrköping")).is_empty());
    assert!(!broken(&|b| b["status"] = json!("in force")).is_empty());

    let timeline_schema = response("/v1/agreements/{id}/timeline");
    let mut timeline = f
        .get(
            "/v1/agreements/{id}/timeline",
            "/v1/agreements/norrtalje-bus/timeline",
        )
        .await
        .json();
    timeline[0]["type"] = json!("PartyRegistered");
    assert!(!schema_errors(&f.doc, &timeline_schema, &timeline).is_empty());
}

fn agreement<'s>(state: &'s State, id: &str) -> &'s overens_core::Agreement {
    state
        .agreement(&id.parse::<AgreementId>().unwrap())
        .unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_agreement_list_and_views() {
    let f = fixture(None).await;
    let list = f.get("/v1/agreements", "/v1/agreements").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.content_type, "application/json");
    let list = list.json();
    assert_eq!(ids(&list), [NORRKOPING, NORRTALJE]);

    let dir = f.state.directory();
    for id in [NORRTALJE, NORRKOPING] {
        let view = f
            .get("/v1/agreements/{id}", &format!("/v1/agreements/{id}"))
            .await
            .json();
        let expected = serde_json::to_value(agreement_view(dir, agreement(&f.state, id))).unwrap();
        assert_eq!(view, expected);
    }

    let norrtalje = f
        .get("/v1/agreements/{id}", "/v1/agreements/norrtalje-bus")
        .await
        .json();
    assert_eq!(norrtalje["status"], "in_force");
    assert_eq!(norrtalje["version_in_force"], 3);
    assert_eq!(norrtalje["open_proposal"], Value::Null);

    let norrkoping = f
        .get(
            "/v1/agreements/{id}",
            "/v1/agreements/norrkoping-barn-och-unga",
        )
        .await
        .json();
    assert_eq!(norrkoping["status"], "renegotiation_requested");
    assert_eq!(norrkoping["version_in_force"], 1);
    let proposal = &norrkoping["open_proposal"];
    assert_eq!(proposal["version"], 2);
    assert_eq!(
        ids(&proposal["signed"]),
        [
            "region-ostergotland",
            "norrkoping-socialkontoret",
            "norrkoping-utbildningskontoret"
        ]
    );
    assert_eq!(
        ids(&proposal["not_signed"]),
        [
            "norrkoping-vard-och-omsorgskontoret",
            "norrkoping-kultur-och-fritidskontoret",
            "polisen-norrkoping"
        ]
    );
    let requests = norrkoping["open_requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["party"], "region-ostergotland");
    assert_eq!(requests[0]["closed_by_version"], Value::Null);
}

#[tokio::test]
async fn versions_and_one_version_whole() {
    let f = fixture(None).await;
    let dir = f.state.directory();
    for id in [NORRTALJE, NORRKOPING] {
        let a = agreement(&f.state, id);
        let list = f
            .get(
                "/v1/agreements/{id}/versions",
                &format!("/v1/agreements/{id}/versions"),
            )
            .await
            .json();
        assert_eq!(list, serde_json::to_value(versions(dir, a)).unwrap());
        for v in &a.versions {
            let one = f
                .get(
                    "/v1/agreements/{id}/versions/{n}",
                    &format!("/v1/agreements/{id}/versions/{}", v.number),
                )
                .await
                .json();
            assert_eq!(
                one,
                serde_json::to_value(version_detail(dir, a, v)).unwrap()
            );
            // The content served is the content the hash (and so every signature) covers.
            let content: Content = serde_json::from_value(one["content"].clone()).unwrap();
            assert_eq!(
                content.hash().to_hex(),
                one["content_hash"].as_str().unwrap()
            );
            assert_eq!(
                one["signatures"].as_array().unwrap().len(),
                v.signatures.len()
            );
        }
    }

    let list = f
        .get(
            "/v1/agreements/{id}/versions",
            "/v1/agreements/norrtalje-bus/versions",
        )
        .await
        .json();
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["superseded", "superseded", "in_force"]);
    let v2 = f
        .get(
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/2",
        )
        .await
        .json();
    assert_eq!(v2["number"], 2);
    assert_eq!(v2["in_force_from"], "2012-05-01");
    assert_eq!(v2["in_force_until"], "2014-02-01");
    assert_eq!(v2["signatures"].as_array().unwrap().len(), 4);
    assert!(
        v2["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["method"]["kind"] == "paper" && s["by"]["name"] == "registrar")
    );
    let open = f
        .get(
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrkoping-barn-och-unga/versions/2",
        )
        .await
        .json();
    assert_eq!(open["status"], "open");
    assert_eq!(open["signatures"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn in_force_is_bitemporal_and_shaped_as_the_cli_answer() {
    let f = fixture(None).await;
    let t = "/v1/agreements/{id}/in-force";
    let before = Timestamp::from_datetime(chrono::Utc::now());
    let now = f
        .get(t, "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01")
        .await
        .json();
    let after = Timestamp::from_datetime(chrono::Utc::now());
    let keys: Vec<&str> = now
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "agreement",
            "on",
            "as_of",
            "version",
            "content_hash",
            "in_force_from",
            "in_force_until"
        ])
    );
    assert_eq!(now["agreement"], NORRTALJE);
    assert_eq!(now["version"], 2);
    assert_eq!(now["in_force_from"], "2012-05-01");
    assert_eq!(now["in_force_until"], "2014-02-01");
    // `as_of` defaults to the server's clock.
    let as_of: Timestamp = now["as_of"].as_str().unwrap().parse().unwrap();
    assert!(
        before.unix_millis() - 1 <= as_of.unix_millis() && as_of <= after,
        "{as_of}"
    );
    let a = agreement(&f.state, NORRTALJE);
    let on = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
    assert_eq!(now, serde_json::to_value(in_force(a, on, as_of)).unwrap());

    // Before the paper history was backfilled (November 2026), nothing was known.
    let then = f
        .get(
            t,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01&as_of=2026-01-01T00:00:00Z",
        )
        .await
        .json();
    assert_eq!(
        then,
        json!({
            "agreement": NORRTALJE, "on": "2013-01-01", "as_of": "2026-01-01T00:00:00Z",
            "version": null, "content_hash": null, "in_force_from": null, "in_force_until": null,
        })
    );
    // Any RFC 3339 offset; the answer names the instant in UTC.
    let offset = f
        .get(
            t,
            "/v1/agreements/norrtalje-bus/in-force?as_of=2026-01-01T01:00:00%2B01:00&on=2013-01-01&unknown=ignored",
        )
        .await
        .json();
    assert_eq!(offset, then);

    let norrkoping = f
        .get(
            t,
            "/v1/agreements/norrkoping-barn-och-unga/in-force?on=2021-01-01",
        )
        .await
        .json();
    assert_eq!(norrkoping["version"], 1);
    assert_eq!(norrkoping["in_force_from"], "2020-03-24");
    assert_eq!(norrkoping["in_force_until"], Value::Null);
}

#[tokio::test]
async fn the_signature_ledger() {
    let f = fixture(None).await;
    for id in [NORRTALJE, NORRKOPING] {
        let rows = f
            .get(
                "/v1/agreements/{id}/signatures",
                &format!("/v1/agreements/{id}/signatures"),
            )
            .await
            .json();
        let a = agreement(&f.state, id);
        assert_eq!(
            rows,
            serde_json::to_value(signature_ledger(f.state.directory(), a)).unwrap()
        );
    }
    let rows = f
        .get(
            "/v1/agreements/{id}/signatures",
            "/v1/agreements/norrkoping-barn-och-unga/signatures",
        )
        .await
        .json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 9);
    let region = rows
        .iter()
        .find(|r| r["version"] == 1 && r["party"] == "region-ostergotland")
        .unwrap();
    assert!(
        region["signed_on"]
            .as_str()
            .unwrap()
            .starts_with("2020-03-")
    );
    assert_eq!(region["party_name"], "Region Östergötland");
    assert_eq!(region["method"], json!({ "kind": "live" }));
}

#[tokio::test]
async fn diffs_between_versions() {
    let f = fixture(None).await;
    let t = "/v1/agreements/{id}/diff";
    let changes = f
        .get(
            t,
            "/v1/agreements/norrkoping-barn-och-unga/diff?from=1&to=2",
        )
        .await
        .json();
    let a = agreement(&f.state, NORRKOPING);
    let (v1, v2) = (a.version(1).unwrap(), a.version(2).unwrap());
    assert_eq!(
        changes,
        serde_json::to_value(diff(1, &v1.content, 2, &v2.content)).unwrap()
    );
    let forum = &changes["forums"][0];
    assert_eq!(forum["change"], "changed");
    assert_eq!(forum["forum"], "barnsamverket");
    let added = forum["representatives_added"].as_array().unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["party"], "region-ostergotland");

    let norrtalje = f
        .get(t, "/v1/agreements/norrtalje-bus/diff?from=1&to=2")
        .await
        .json();
    assert_eq!(norrtalje["sections"][0]["change"], "changed");
    assert_eq!(norrtalje["forums"][0]["change"], "added");
    // Backwards and to itself are fine too.
    let back = f
        .get(t, "/v1/agreements/norrtalje-bus/diff?from=3&to=1")
        .await
        .json();
    assert_eq!(
        (back["from"].clone(), back["to"].clone()),
        (json!(3), json!(1))
    );
    let same = f
        .get(t, "/v1/agreements/norrtalje-bus/diff?from=2&to=2")
        .await
        .json();
    assert_eq!(same["sections"], json!([]));
}

#[tokio::test]
async fn the_timeline() {
    let f = fixture(None).await;
    for (id, events) in [(NORRTALJE, 43), (NORRKOPING, 34)] {
        let timeline = f
            .get(
                "/v1/agreements/{id}/timeline",
                &format!("/v1/agreements/{id}/timeline"),
            )
            .await
            .json();
        let a = agreement(&f.state, id);
        assert_eq!(timeline, serde_json::to_value(&a.timeline).unwrap());
        let entries = timeline.as_array().unwrap();
        assert_eq!(entries.len(), events);
        assert_eq!(entries[0]["type"], "AgreementDrafted");
        assert!(entries.iter().enumerate().all(|(i, e)| e["seq"] == i));
    }
}

fn parse_ndjson(answer: &Answer, stream: &StreamId) -> Vec<Envelope> {
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/x-ndjson");
    let text = answer.text();
    assert!(text.ends_with('\n'));
    let mut prev = overens_core::Digest32::ZERO;
    text.lines()
        .enumerate()
        .map(|(seq, line)| {
            let envelope = Envelope::parse(line).unwrap();
            // Canonical: exactly the bytes that were signed.
            assert_eq!(envelope.canonical_bytes(), line.as_bytes());
            assert_eq!(&envelope.stream, stream);
            assert_eq!(envelope.seq, seq as u64);
            assert_eq!(envelope.prev, prev);
            let verified = envelope.clone().verify().unwrap();
            prev = verified.hash();
            envelope
        })
        .collect()
}

#[tokio::test]
async fn raw_events_as_ndjson() {
    let f = fixture(None).await;
    for (id, events) in [(NORRTALJE, 43), (NORRKOPING, 34)] {
        let answer = f
            .get(
                "/v1/agreements/{id}/events",
                &format!("/v1/agreements/{id}/events"),
            )
            .await;
        let stream: StreamId = format!("agreement/{id}").parse().unwrap();
        let envelopes = parse_ndjson(&answer, &stream);
        assert_eq!(envelopes.len(), events);
        assert_eq!(envelopes[0].kind, "AgreementDrafted");
        // The same bytes as the log file holds.
        let log = std::fs::read_to_string(examples().join("log.jsonl")).unwrap();
        let from_log: Vec<String> = log
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"].clone())
            .filter(|e| e["stream"] == format!("agreement/{id}"))
            .map(|e| String::from_utf8(Envelope::from_value(e).unwrap().canonical_bytes()).unwrap())
            .collect();
        assert_eq!(answer.text().lines().collect::<Vec<_>>(), from_log);
    }
}

/// An event the store holds but no published snapshot does yet is not served.
#[tokio::test]
async fn raw_events_stop_at_the_snapshot() {
    let f = fixture(None).await;
    let stream: StreamId = format!("agreement/{NORRTALJE}").parse().unwrap();
    let head = f.state.head(&stream);
    let key = SecretKey::from_text(
        &std::fs::read_to_string(examples().join("keys/norrtalje-socialnamnden-1.key")).unwrap(),
    )
    .unwrap();
    let mut payload = serde_json::Map::new();
    payload.insert("section".into(), json!("syfte"));
    let envelope = UnsignedEnvelope {
        v: 1,
        id: EventId::v7(1_795_000_000_000, [7; 10]),
        stream: stream.clone(),
        seq: head.next_seq,
        prev: head.prev,
        kind: "SectionRemoved".into(),
        at: "2026-11-20T10:00:00Z".parse().unwrap(),
        signer: key.public(),
        payload,
    }
    .sign(&key);
    let verified = envelope.verify().unwrap();
    // Straight into the store, behind the pipeline's back: no snapshot includes it.
    f.store
        .append(vec![AppendEvent::from(&verified)])
        .await
        .unwrap();
    assert_eq!(
        f.store.read_stream(&stream, 0, 100).await.unwrap().len(),
        44
    );
    let answer = f
        .get(
            "/v1/agreements/{id}/events",
            "/v1/agreements/norrtalje-bus/events",
        )
        .await;
    assert_eq!(parse_ndjson(&answer, &stream).len(), 43);
}

#[tokio::test]
async fn the_directory() {
    let f = fixture(None).await;
    let directory = f.get("/v1/directory", "/v1/directory").await.json();
    assert_eq!(
        directory,
        serde_json::to_value(directory_view(f.state.directory())).unwrap()
    );
    let parties = directory["parties"].as_array().unwrap();
    assert_eq!(parties.len(), 10);
    assert_eq!(parties[0]["id"], "norrkoping-utbildningskontoret");
    assert!(parties.iter().any(|p| p["name"] == "Region Östergötland"));
    let signatories = directory["signatories"].as_array().unwrap();
    assert!(!signatories.is_empty());
    assert!(
        signatories
            .iter()
            .all(|s| s["key"].is_string() && s["party"].is_string() && s["enrolled"].is_object())
    );
    let registrar = std::fs::read_to_string(examples().join("keys/registrar.pub")).unwrap();
    assert_eq!(directory["registrars"], json!([registrar.trim()]));
}

#[tokio::test]
async fn unknown_agreements_and_versions_are_not_found() {
    let f = fixture(None).await;
    for (template, uri) in [
        ("/v1/agreements/{id}", "/v1/agreements/nope"),
        ("/v1/agreements/{id}", "/v1/agreements/Not%20A%20Slug"),
        (
            "/v1/agreements/{id}/versions",
            "/v1/agreements/nope/versions",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/nope/versions/1",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/4",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/0",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/01",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/x",
        ),
        (
            "/v1/agreements/{id}/versions/{n}",
            "/v1/agreements/norrtalje-bus/versions/99999999999",
        ),
        (
            "/v1/agreements/{id}/in-force",
            "/v1/agreements/nope/in-force?on=2020-01-01",
        ),
        (
            "/v1/agreements/{id}/signatures",
            "/v1/agreements/nope/signatures",
        ),
        (
            "/v1/agreements/{id}/diff",
            "/v1/agreements/nope/diff?from=1&to=2",
        ),
        (
            "/v1/agreements/{id}/diff",
            "/v1/agreements/norrtalje-bus/diff?from=1&to=4",
        ),
        (
            "/v1/agreements/{id}/diff",
            "/v1/agreements/norrkoping-barn-och-unga/diff?from=3&to=1",
        ),
        (
            "/v1/agreements/{id}/timeline",
            "/v1/agreements/nope/timeline",
        ),
        ("/v1/agreements/{id}/events", "/v1/agreements/nope/events"),
    ] {
        f.get(template, uri).await.problem(404, "not-found");
    }
}

#[tokio::test]
async fn malformed_queries_are_invalid_query_problems() {
    let f = fixture(None).await;
    let in_force = "/v1/agreements/{id}/in-force";
    let diff = "/v1/agreements/{id}/diff";
    for (template, uri) in [
        (in_force, "/v1/agreements/norrtalje-bus/in-force"),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?as_of=2026-01-01T00:00:00Z",
        ),
        (in_force, "/v1/agreements/norrtalje-bus/in-force?on="),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-1-1",
        ),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-02-30",
        ),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=%2B2013-01-01",
        ),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01&on=2014-01-01",
        ),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01&as_of=yesterday",
        ),
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01&as_of=2026-01-01",
        ),
        // An unescaped `+` is a space in a query string.
        (
            in_force,
            "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01&as_of=2026-01-01T01:00:00+01:00",
        ),
        // Checked before the agreement is looked up.
        (in_force, "/v1/agreements/nope/in-force"),
        (diff, "/v1/agreements/norrtalje-bus/diff"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=1"),
        (diff, "/v1/agreements/norrtalje-bus/diff?to=2"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=x&to=2"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=0&to=2"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=-1&to=2"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=1&to=2.0"),
        (diff, "/v1/agreements/norrtalje-bus/diff?from=1&to=2&to=3"),
    ] {
        let problem = f.get(template, uri).await.problem(400, "invalid-query");
        assert_eq!(
            problem["title"],
            "A query parameter is missing or malformed"
        );
    }
}

/// Every read route, with a valid instance of its path.
const READS: [(&str, &str); 17] = [
    ("/v1/agreements", "/v1/agreements"),
    ("/v1/agreements/{id}", "/v1/agreements/norrtalje-bus"),
    (
        "/v1/agreements/{id}/versions",
        "/v1/agreements/norrtalje-bus/versions",
    ),
    (
        "/v1/agreements/{id}/versions/{n}",
        "/v1/agreements/norrtalje-bus/versions/1",
    ),
    (
        "/v1/agreements/{id}/in-force",
        "/v1/agreements/norrtalje-bus/in-force?on=2013-01-01",
    ),
    (
        "/v1/agreements/{id}/signatures",
        "/v1/agreements/norrtalje-bus/signatures",
    ),
    (
        "/v1/agreements/{id}/diff",
        "/v1/agreements/norrtalje-bus/diff?from=1&to=2",
    ),
    (
        "/v1/agreements/{id}/timeline",
        "/v1/agreements/norrtalje-bus/timeline",
    ),
    (
        "/v1/agreements/{id}/events",
        "/v1/agreements/norrtalje-bus/events",
    ),
    ("/v1/directory", "/v1/directory"),
    (
        "/v1/agreements/{id}/bundle",
        "/v1/agreements/norrkoping-barn-och-unga/bundle",
    ),
    ("/v1/log/key", "/v1/log/key"),
    ("/v1/log/keys", "/v1/log/keys"),
    ("/v1/log/checkpoint", "/v1/log/checkpoint"),
    (
        "/v1/log/proof/inclusion",
        "/v1/log/proof/inclusion?index=3&size=10",
    ),
    (
        "/v1/log/proof/consistency",
        "/v1/log/proof/consistency?from=3&to=10",
    ),
    ("/v1/log/records", "/v1/log/records?from=0&to=2"),
];

#[tokio::test]
async fn a_read_token_guards_every_read_and_nothing_else() {
    let f = fixture(Some(TOKEN)).await;
    let documented: BTreeSet<String> = f.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| {
            ["read", "log"].contains(&item["get"]["tags"][0].as_str().unwrap_or(""))
        })
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(
        documented,
        READS.iter().map(|(t, _)| t.to_string()).collect(),
        "READS lists every read route"
    );
    for (template, uri) in READS {
        f.get_with(template, uri, None)
            .await
            .problem(401, "unauthorized");
        f.get_with(template, uri, Some("wrong"))
            .await
            .problem(401, "unauthorized");
        f.get_with(template, uri, Some(&format!("{TOKEN}x")))
            .await
            .problem(401, "unauthorized");
        // A 404 needs the token too: without it, nothing says which ids exist.
        let missing = uri.replace(NORRTALJE, "nope");
        if missing != uri {
            f.get_with(template, &missing, None)
                .await
                .problem(401, "unauthorized");
        }
        let ok = f.get_with(template, uri, Some(TOKEN)).await;
        assert_eq!(ok.status, 200, "{uri}: {}", ok.text());
    }
    // Not a bearer token.
    let answer = f
        .router
        .clone()
        .oneshot(
            Request::get("/v1/agreements")
                .header("authorization", format!("Basic {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);

    // Health, the document and the write side are not reads.
    assert_eq!(f.get("/healthz", "/healthz").await.status, 200);
    assert_eq!(f.get("/openapi.json", "/openapi.json").await.status, 200);
    assert_eq!(
        f.get("/v1/streams/directory/head", "/v1/streams/directory/head")
            .await
            .status,
        200
    );
    let post = f
        .request(Method::POST, "/v1/streams/directory/events", None)
        .await;
    conforms(&f.doc, "/v1/streams/directory/events", "post", &post);
    post.problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn without_a_token_reads_are_open() {
    let f = fixture(None).await;
    for (template, uri) in READS {
        let answer = f.get_with(template, uri, None).await;
        assert_eq!(answer.status, 200, "{uri}");
        // A token nobody asked for is ignored.
        let answer = f.get_with(template, uri, Some("anything")).await;
        assert_eq!(answer.status, 200, "{uri}");
    }
}

#[tokio::test]
async fn the_served_document_is_the_built_one() {
    let f = fixture(None).await;
    let served = f.get("/openapi.json", "/openapi.json").await;
    assert_eq!(served.content_type, "application/json");
    assert_eq!(served.json(), f.doc);
    assert_eq!(f.doc["openapi"], "3.1.0");
    // Problems name their documented types.
    let kinds = &f.doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"];
    assert_eq!(
        kinds.as_array().unwrap().len(),
        overens_server::PROBLEM_TYPES.len()
    );
    assert!(
        f.doc["components"]["securitySchemes"]["read_token"]["scheme"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    );
}

/// Methods a route could be served with (HEAD comes with GET in axum, and is left out).
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "patch", "trace"];

/// A valid instance of a path template, for probing.
fn instance(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{id}" | "{agreement}" => NORRTALJE,
            "{n}" => "1",
            s if s.starts_with('{') => panic!("no example for the parameter {s} of {template}"),
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The paths the router matches, from its `Debug` output (axum has no other way to list
/// them). If axum changes that output, this fails loudly instead of passing vacuously.
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let paths: BTreeSet<String> = debug
        .split("RouteId(")
        .skip(1)
        .filter_map(|piece| {
            let digits = piece.find(')')?;
            piece[..digits].parse::<u32>().ok()?;
            let rest = piece[digits..].strip_prefix("): \"")?;
            Some(rest[..rest.find('"')?].to_owned())
        })
        // axum's own catch-all for the fallback.
        .filter(|path| !path.contains("__private__axum"))
        .collect();
    assert!(
        paths.len() >= 10,
        "could not read the routes from the router's Debug output: {debug}"
    );
    paths
}

/// The document lists exactly the (method, path) pairs the router serves: both are built by
/// `routes!` from the same annotations, and a route added to the router any other way, or
/// a path documented without a handler, fails here.
#[tokio::test]
async fn the_document_lists_exactly_the_routes_served() {
    let f = fixture(None).await;
    let documented: BTreeSet<(String, String)> = f.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .chain(&["head", "query"])
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_string(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut served = BTreeSet::new();
    for path in router_paths(&f.router) {
        for method in METHODS {
            let answer = f
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &instance(&path),
                    None,
                )
                .await;
            // The router's fallbacks answer 405 (`method-not-allowed`) when the path has no
            // such method, and a `not-found` "no route" problem when nothing matches; our
            // handlers' own 404s name the missing resource instead.
            let body = String::from_utf8_lossy(&answer.body);
            let fallback = answer.status == 404 && body.contains("\"detail\":\"no route ");
            if answer.status != 405 && !fallback {
                served.insert((method.to_owned(), path.clone()));
            }
        }
    }
    // The HTML pages are served (GET only) and are not part of the API's document.
    let pages: BTreeSet<(String, String)> = overens_server::PAGE_ROUTES
        .iter()
        .map(|path| ("get".to_owned(), (*path).to_owned()))
        .collect();
    assert!(
        pages.is_subset(&served),
        "every page route is served: {served:?}"
    );
    assert!(
        pages.is_disjoint(&documented),
        "no page route is documented"
    );
    let served: BTreeSet<_> = served.difference(&pages).cloned().collect();
    assert_eq!(served, documented);
    // And the routes this work adds are among them.
    for (template, _) in READS {
        assert!(
            documented.contains(&("get".into(), template.into())),
            "{template}"
        );
    }
}

// --- the transparency log ---------------------------------------------------------------------

impl Fixture {
    /// POST a JSON body, checking the answer against the document.
    async fn post_json(&self, template: &str, uri: &str, body: &Value) -> Answer {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let answer = Answer {
            status,
            content_type,
            body,
        };
        conforms(&self.doc, template, "post", &answer);
        answer
    }

    /// The served verifier key, checked against the log's own.
    async fn log_key(&self) -> overens_log::VerifierKey {
        let answer = self.get("/v1/log/key", "/v1/log/key").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let body = answer.json();
        let key: overens_log::VerifierKey = body["verifier_key"].as_str().unwrap().parse().unwrap();
        assert_eq!(&key, log_signer().verifier_key());
        assert_eq!(body["origin"], "overens.test/routes");
        assert_eq!(body["public_key"], key.key().to_string());
        assert_eq!(body["key_id"], format!("{:08x}", key.key_id()));
        key
    }

    /// The served checkpoint, verified with the served key.
    async fn checkpoint(&self) -> overens_log::Checkpoint {
        let key = self.log_key().await;
        let answer = self.get("/v1/log/checkpoint", "/v1/log/checkpoint").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.content_type, "text/plain; charset=utf-8");
        let checkpoint = overens_log::Checkpoint::parse_and_verify_with(&answer.text(), &key)
            .unwrap_or_else(|e| panic!("the checkpoint does not verify: {e}"));
        assert_eq!(checkpoint.origin, "overens.test/routes");
        checkpoint
    }

    /// The records `from..to` as served, one line each.
    async fn records(&self, query: &str) -> Vec<String> {
        let answer = self
            .get("/v1/log/records", &format!("/v1/log/records{query}"))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.content_type, "application/x-ndjson");
        answer.text().lines().map(str::to_owned).collect()
    }

    async fn inclusion(&self, query: &str) -> overens_log::InclusionProof {
        let answer = self
            .get(
                "/v1/log/proof/inclusion",
                &format!("/v1/log/proof/inclusion?{query}"),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        // The served JSON is exactly the proof type auditors read (no unknown fields).
        serde_json::from_slice(&answer.body).unwrap()
    }

    async fn consistency(&self, query: &str) -> overens_log::ConsistencyProof {
        let answer = self
            .get(
                "/v1/log/proof/consistency",
                &format!("/v1/log/proof/consistency?{query}"),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        serde_json::from_slice(&answer.body).unwrap()
    }
}

/// A new party registered by the examples' registrar: an append any log accepts.
fn registration(head: overens_core::domain::StreamHead, n: u32) -> Envelope {
    let key = SecretKey::from_text(
        &std::fs::read_to_string(examples().join("keys/registrar.key")).unwrap(),
    )
    .unwrap();
    let event = overens_core::Event::PartyRegistered(overens_core::event::PartyRegistered {
        party: format!("ny-part-{n}").parse().unwrap(),
        name: format!("Ny part {n}"),
    });
    UnsignedEnvelope::new(
        EventId::v7(1_795_000_000_000 + u64::from(n), [9; 10]),
        StreamId::Directory,
        head.next_seq,
        head.prev,
        "2026-11-20T10:00:00Z".parse().unwrap(),
        key.public(),
        &event,
    )
    .sign(&key)
}

#[tokio::test]
async fn the_checkpoint_verifies_with_the_served_key() {
    let f = fixture(None).await;
    let checkpoint = f.checkpoint().await;
    assert_eq!(checkpoint.size, 97);
    assert_eq!(f.store.tree_head(97).await, Ok(checkpoint.root));
    // The root is the root of the example log's lines, computed from scratch.
    let log = std::fs::read_to_string(examples().join("log.jsonl")).unwrap();
    let leaves: Vec<_> = log
        .lines()
        .map(|l| overens_log::leaf_hash(l.as_bytes()))
        .collect();
    assert_eq!(
        checkpoint.root,
        overens_log::MemoryHashes::from_leaves(&leaves).root()
    );
}

#[tokio::test]
async fn inclusion_proofs_of_served_records_verify_against_the_checkpoint() {
    let f = fixture(None).await;
    let checkpoint = f.checkpoint().await;
    // The records, in pages, are the example log byte for byte.
    let log = std::fs::read_to_string(examples().join("log.jsonl")).unwrap();
    let mut served = f.records("?from=0&to=40").await;
    served.extend(f.records("?from=40").await);
    assert_eq!(served, log.lines().collect::<Vec<_>>());
    assert_eq!(
        f.records("").await,
        served,
        "the default is the whole checkpoint"
    );
    assert!(f.records("?from=97").await.is_empty());
    assert!(f.records("?from=5&to=5").await.is_empty());

    for index in [0u64, 1, 47, 63, 64, 95, 96] {
        let line = &served[index as usize];
        let leaf = overens_log::leaf_hash(line.as_bytes());
        let proof = f.inclusion(&format!("index={index}&size=97")).await;
        assert_eq!((proof.index, proof.size), (index, 97));
        proof
            .verify(&leaf, &checkpoint.root)
            .unwrap_or_else(|e| panic!("record {index}: {e}"));
        // Without a size, the latest checkpoint's.
        assert_eq!(f.inclusion(&format!("index={index}")).await, proof);
        // In a smaller tree, against that tree's root.
        if index < 50 {
            let small = f.inclusion(&format!("index={index}&size=50")).await;
            let root = f.store.tree_head(50).await.unwrap();
            assert_eq!(small.verify(&leaf, &root), Ok(()));
            assert!(small.verify(&leaf, &checkpoint.root).is_err());
        }
    }
}

#[tokio::test]
async fn appends_are_in_the_next_checkpoint_and_checkpoints_are_consistent() {
    let f = fixture(None).await;
    let old = f.checkpoint().await;
    let first_head = f.state.head(&StreamId::Directory);
    let mut head = first_head;
    let mut appended = Vec::new();
    for n in 0..3 {
        let envelope = registration(head, n);
        head = overens_core::domain::StreamHead {
            next_seq: envelope.seq + 1,
            prev: envelope.hash(),
        };
        let answer = f
            .post_json(
                "/v1/streams/directory/events",
                "/v1/streams/directory/events",
                &serde_json::to_value(&envelope).unwrap(),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text());
        let result = answer.json();
        let index = result["indexes"][0].as_u64().unwrap();
        assert_eq!(index, 97 + u64::from(n));
        let checkpoint_size = result["checkpoint_size"].as_u64().unwrap();
        assert!(index < checkpoint_size, "{result}");
        appended.push((index, checkpoint_size));
    }
    let new = f.checkpoint().await;
    assert_eq!(new.size, 100);
    assert!(appended.iter().all(|(_, size)| *size <= new.size));

    // The old checkpoint is a prefix of the new one.
    let proof = f
        .consistency(&format!("from={}&to={}", old.size, new.size))
        .await;
    assert_eq!((proof.old_size, proof.new_size), (97, 100));
    proof
        .verify(&old.root, &new.root)
        .unwrap_or_else(|e| panic!("not consistent: {e}"));
    assert_eq!(
        f.consistency("from=97").await,
        proof,
        "`to` defaults to the latest"
    );
    // A root that is not the old checkpoint's does not verify.
    assert!(proof.verify(&new.root, &new.root).is_err());

    // Each appended record is proved in the new checkpoint, and in the one its answer named.
    let records = f.records("?from=97").await;
    assert_eq!(records.len(), 3);
    for ((index, size), line) in appended.iter().zip(&records) {
        let leaf = overens_log::leaf_hash(line.as_bytes());
        let proof = f
            .inclusion(&format!("index={index}&size={}", new.size))
            .await;
        assert_eq!(proof.verify(&leaf, &new.root), Ok(()), "record {index}");
        let then = f.inclusion(&format!("index={index}&size={size}")).await;
        let root = f.store.tree_head(*size).await.unwrap();
        assert_eq!(
            then.verify(&leaf, &root),
            Ok(()),
            "record {index} in {size}"
        );
    }
    // A repeat is answered with a checkpoint that holds it, too.
    let again = f
        .post_json(
            "/v1/streams/directory/events",
            "/v1/streams/directory/events",
            &serde_json::to_value(registration(first_head, 0)).unwrap(),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["checkpoint_size"], 100);
}

#[tokio::test]
async fn log_queries_beyond_the_checkpoint_or_malformed_are_refused() {
    let f = fixture(None).await;
    let inclusion = "/v1/log/proof/inclusion";
    let consistency = "/v1/log/proof/consistency";
    let records = "/v1/log/records";
    for (template, uri) in [
        (inclusion, "/v1/log/proof/inclusion?index=0&size=98"),
        (
            inclusion,
            "/v1/log/proof/inclusion?index=0&size=18446744073709551615",
        ),
        (consistency, "/v1/log/proof/consistency?from=1&to=98"),
        (consistency, "/v1/log/proof/consistency?from=98"),
        (records, "/v1/log/records?from=98"),
        (records, "/v1/log/records?from=0&to=98"),
    ] {
        let problem = f.get(template, uri).await.problem(404, "beyond-checkpoint");
        assert!(
            problem["detail"].as_str().unwrap().contains("size 97"),
            "{problem}"
        );
    }
    for (template, uri) in [
        (inclusion, "/v1/log/proof/inclusion"),
        (inclusion, "/v1/log/proof/inclusion?size=5"),
        (inclusion, "/v1/log/proof/inclusion?index=97"),
        (inclusion, "/v1/log/proof/inclusion?index=5&size=5"),
        (inclusion, "/v1/log/proof/inclusion?index=0&size=0"),
        (inclusion, "/v1/log/proof/inclusion?index=-1"),
        (inclusion, "/v1/log/proof/inclusion?index=01"),
        (inclusion, "/v1/log/proof/inclusion?index=1&index=2"),
        (inclusion, "/v1/log/proof/inclusion?index=x"),
        (consistency, "/v1/log/proof/consistency"),
        (consistency, "/v1/log/proof/consistency?from=10&to=5"),
        (consistency, "/v1/log/proof/consistency?from=1.5"),
        (records, "/v1/log/records?from=10&to=5"),
        (records, "/v1/log/records?from=+1"),
    ] {
        f.get(template, uri).await.problem(400, "invalid-query");
    }
}

/// The document describes the log routes and the new problem type.
#[tokio::test]
async fn the_log_routes_are_documented() {
    let f = fixture(None).await;
    for path in [
        "/v1/log/key",
        "/v1/log/keys",
        "/v1/log/checkpoint",
        "/v1/log/proof/inclusion",
        "/v1/log/proof/consistency",
        "/v1/log/records",
    ] {
        assert_eq!(f.doc["paths"][path]["get"]["tags"][0], "log", "{path}");
    }
    assert!(
        overens_server::PROBLEM_TYPES
            .iter()
            .any(|(name, status, _)| *name == "beyond-checkpoint" && *status == 404)
    );
    let append = &f.doc["components"]["schemas"]["AppendResult"]["properties"];
    assert!(append["checkpoint_size"].is_object(), "{append}");
}
