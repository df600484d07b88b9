//! The JSON Schemas in `events/schema/` accept what overens-core writes and refuse what it refuses.

use std::path::PathBuf;
use std::sync::Arc;

use jsonschema::{Draft, Resource, Validator};
use overens_core::content::{
    Cadence, Chair, ChairTurn, Forum, ForumDefinition, Period, Representative, Section,
};
use overens_core::event::{self, EVENT_TYPES, Event};
use overens_core::{
    Content, Digest32, Envelope, EventId, LogRecord, SecretKey, StreamId, Timestamp,
    UnsignedEnvelope,
};
use serde_json::{Value, json};

const SCHEMA_FILES: [&str; 4] = [
    "payloads.schema.json",
    "content.schema.json",
    "envelope.schema.json",
    "log-record.schema.json",
];
const SCHEMA_BASE: &str = "https://overens.example/schema/";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load_schema(file: &str) -> Value {
    let path = repo_root().join("events/schema").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

/// A validator for one schema file, with the other files registered so that relative
/// `$ref`s resolve in memory (the crate is built without network or file retrieval).
fn validator(file: &str) -> Validator {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        // Formats are annotations in 2020-12; asserting them also catches 2020-02-30.
        .should_validate_formats(true);
    for other in SCHEMA_FILES {
        let resource = Resource::from_contents(load_schema(other))
            .unwrap_or_else(|e| panic!("{other} is not a schema resource: {e}"));
        options = options.with_resource(format!("{SCHEMA_BASE}{other}"), resource);
    }
    options
        .build(&load_schema(file))
        .unwrap_or_else(|e| panic!("{file} does not compile: {e}"))
}

fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let errors = errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} should validate, but: {errors:#?}\n{instance:#}"
    );
}

fn registrar() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

fn signatory() -> SecretKey {
    SecretKey::from_seed(&[2; 32])
}

fn slug<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("test slug")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn date(text: &str) -> overens_core::Date {
    text.parse().expect("test date")
}

fn definition(chair: Option<Chair>) -> ForumDefinition {
    ForumDefinition {
        name: "Barnsamverket".into(),
        purpose: "Samordna insatser för barn och unga.".into(),
        tasks: vec!["Följa upp överenskommelsen".into(), "Årlig rapport".into()],
        meets: vec![Cadence {
            who: "kommunens representanter".into(),
            times: 1,
            per: Period::Month,
            approximately: true,
        }],
        chair,
    }
}

fn rotating_chair() -> Chair {
    Chair::Rotating {
        role: "ordförande".into(),
        turns: vec![
            ChairTurn {
                year: 2021,
                parties: vec![slug("barn-och-skolnamnden"), slug("utbildningsnamnden")],
            },
            ChairTurn {
                year: 2022,
                parties: vec![slug("region-ostergotland")],
            },
        ],
    }
}

/// One event of every type, in catalogue order, with the optional fields both present and
/// absent somewhere.
fn one_of_each() -> Vec<Event> {
    let enrolled = signatory();
    let party = "region-ostergotland";
    let proof =
        enrolled.sign(format!("overens/enroll/v1\n{party}\n{}", enrolled.public()).as_bytes());
    let content_hash = Digest32::of(b"illustrative content");
    vec![
        Event::PartyRegistered(event::PartyRegistered {
            party: slug(party),
            name: "Region Östergötland".into(),
        }),
        Event::SignatoryEnrolled(event::SignatoryEnrolled {
            party: slug(party),
            key: enrolled.public(),
            name: "Anna Andersson".into(),
            role: "regiondirektör".into(),
            proof,
        }),
        Event::SignatoryRevoked(event::SignatoryRevoked {
            key: enrolled.public(),
            reason: "Slutat sin anställning".into(),
        }),
        Event::AgreementDrafted(event::AgreementDrafted {
            title: "Överenskommelse om samverkan kring barn och unga".into(),
            parties: vec![slug(party), slug("norrkopings-kommun")],
            preamble: "Parterna är överens om …".into(),
        }),
        Event::TitleAndPreambleRevised(event::TitleAndPreambleRevised {
            title: "Överenskommelse om samverkan kring barn och unga 0–20 år".into(),
            preamble: "Parterna är överens om att samverka kring barn och unga.".into(),
        }),
        Event::PartyAdded(event::PartyAdded {
            party: slug("polisen"),
        }),
        Event::PartyRemoved(event::PartyRemoved {
            party: slug("polisen"),
        }),
        Event::SectionRevised(event::SectionRevised {
            section: slug("syfte-och-mal"),
            heading: "Syfte och mål".into(),
            text: "Barn och unga ska få samordnat stöd.".into(),
        }),
        Event::SectionRemoved(event::SectionRemoved {
            section: slug("syfte-och-mal"),
        }),
        Event::ForumEstablished(event::ForumEstablished {
            forum: slug("barnsamverket"),
            definition: definition(Some(Chair::Role {
                role: "socialchef".into(),
                party: Some(slug("norrkopings-kommun")),
            })),
        }),
        Event::ForumRevised(event::ForumRevised {
            forum: slug("barnsamverket"),
            definition: definition(Some(rotating_chair())),
        }),
        Event::ForumDissolved(event::ForumDissolved {
            forum: slug("barnsamverket"),
        }),
        Event::RepresentativeAdded(event::RepresentativeAdded {
            forum: slug("barnsamverket"),
            representative: slug("skolskoterska-1"),
            party: slug(party),
            role: "skolsköterska".into(),
            name: None,
            adjunct: true,
        }),
        Event::RepresentativeRemoved(event::RepresentativeRemoved {
            forum: slug("barnsamverket"),
            representative: slug("skolskoterska-1"),
        }),
        Event::RevisionProposed(event::RevisionProposed {
            version: 1,
            content_hash,
            note: "Första versionen".into(),
            effective_from: Some(date("2020-04-01")),
        }),
        Event::RevisionSigned(event::RevisionSigned {
            version: 1,
            content_hash,
            party: slug(party),
        }),
        Event::PaperSignatureRecorded(event::PaperSignatureRecorded {
            version: 1,
            content_hash,
            party: slug("norrkopings-kommun"),
            signed_on: date("2020-03-12"),
            evidence: "Dnr KS 2020/0123".into(),
        }),
        Event::RevisionWithdrawn(event::RevisionWithdrawn {
            version: 2,
            reason: "Fel bilaga".into(),
        }),
        Event::RenegotiationRequested(event::RenegotiationRequested {
            party: slug(party),
            reason: "Ny organisation".into(),
        }),
        Event::AgreementTerminated(event::AgreementTerminated {
            party: slug(party),
            effective_on: date("2024-12-31"),
            reason: "Ersätts av regional överenskommelse".into(),
        }),
    ]
}

/// The events of [`one_of_each`] as signed envelopes, chained per stream, plus a few more
/// that exercise the other spellings (no optional fields, fractions of a second).
fn signed_envelopes() -> Vec<Envelope> {
    let mut events = one_of_each();
    events.push(Event::RepresentativeAdded(event::RepresentativeAdded {
        forum: slug("barnsamverket"),
        representative: slug("rektor"),
        party: slug("norrkopings-kommun"),
        role: "rektor".into(),
        name: Some("Bo Berg".into()),
        adjunct: false,
    }));
    events.push(Event::ForumEstablished(event::ForumEstablished {
        forum: slug("bus-styrgrupp"),
        definition: definition(None),
    }));
    events.push(Event::RevisionProposed(event::RevisionProposed {
        version: 2,
        content_hash: Digest32::of(b"version 2"),
        note: "Ny rotation".into(),
        effective_from: None,
    }));
    let times = [
        "2020-03-12T09:30:00Z",
        "2020-03-12T09:30:00.123Z",
        "2020-03-12T09:30:00.000001Z",
        "2020-03-12T09:30:00.123456789Z",
    ];
    let agreement: StreamId = "agreement/norrkoping-barn-och-unga"
        .parse()
        .expect("stream");
    let mut heads = [
        (StreamId::Directory, Digest32::ZERO, 0u64),
        (agreement, Digest32::ZERO, 0),
    ];
    events
        .iter()
        .enumerate()
        .map(|(n, event)| {
            let directory = event.stream_kind() == event::StreamKind::Directory;
            let key = if directory { registrar() } else { signatory() };
            let head = &mut heads[usize::from(!directory)];
            let at = ts(times[n % times.len()]);
            let id = EventId::v7(
                at.unix_millis().try_into().expect("after 1970"),
                [n as u8; 10],
            );
            let envelope =
                UnsignedEnvelope::new(id, head.0.clone(), head.2, head.1, at, key.public(), event)
                    .sign(&key);
            head.1 = envelope.hash();
            head.2 += 1;
            envelope
        })
        .collect()
}

fn to_value(envelope: &Envelope) -> Value {
    serde_json::to_value(envelope).expect("envelope is JSON")
}

fn envelope_of_type(kind: &str) -> Value {
    signed_envelopes()
        .iter()
        .find(|e| e.kind == kind)
        .map(to_value)
        .unwrap_or_else(|| panic!("no {kind} fixture"))
}

#[test]
fn schemas_are_valid_2020_12_and_self_described() {
    for file in SCHEMA_FILES {
        let schema = load_schema(file);
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("{file} is not a valid 2020-12 schema: {e}");
        }
        assert_eq!(schema["$id"], format!("{SCHEMA_BASE}{file}"), "{file} $id");
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{file} $schema"
        );
        assert!(schema["title"].is_string(), "{file} has no title");
        assert!(
            schema["description"].is_string(),
            "{file} has no description"
        );
    }
}

#[test]
fn schemas_name_exactly_the_rust_event_types() {
    let envelope = load_schema("envelope.schema.json");
    let listed: Vec<&str> = envelope["$defs"]["EventType"]["enum"]
        .as_array()
        .expect("EventType enum")
        .iter()
        .map(|t| t.as_str().expect("type name"))
        .collect();
    assert_eq!(listed, EVENT_TYPES);
    let payloads = load_schema("payloads.schema.json");
    for kind in EVENT_TYPES {
        assert!(
            payloads["$defs"][kind].is_object(),
            "payloads.schema.json has no $defs/{kind}"
        );
    }
    let fixtures: Vec<&str> = one_of_each().iter().map(Event::type_name).collect();
    assert_eq!(
        fixtures, EVENT_TYPES,
        "one fixture per type, in catalogue order"
    );
}

#[test]
fn every_event_type_validates_as_envelope_and_log_record() {
    let envelopes = validator("envelope.schema.json");
    let records = validator("log-record.schema.json");
    for (index, envelope) in signed_envelopes().into_iter().enumerate() {
        // The fixtures must be events the Rust core itself accepts, or the test proves nothing.
        let value = to_value(&envelope);
        Envelope::from_value(value.clone())
            .and_then(Envelope::verify)
            .unwrap_or_else(|e| panic!("fixture {} refused by the core: {e}", envelope.kind));
        assert_valid(&envelopes, &value, &envelope.kind);

        let record = LogRecord {
            index: index as u64,
            recorded_at: ts("2026-11-23T06:49:05.500Z"),
            event: envelope,
        };
        let line: Value = serde_json::from_str(&record.to_line()).expect("line is JSON");
        assert_valid(&records, &line, "log record");
    }
}

#[test]
fn content_validates() {
    let content = Content {
        title: "Överenskommelse om samverkan kring barn och unga".into(),
        preamble: "Parterna är överens om …".into(),
        parties: vec![slug("region-ostergotland"), slug("norrkopings-kommun")],
        sections: vec![Arc::new(Section {
            id: slug("vardegrund"),
            heading: "Värdegrund".into(),
            text: "Barnets bästa.".into(),
        })],
        forums: vec![
            Arc::new(Forum {
                id: slug("barnsamverket"),
                definition: Arc::new(definition(Some(rotating_chair()))),
                representatives: vec![
                    Arc::new(Representative {
                        id: slug("socialchef"),
                        party: slug("norrkopings-kommun"),
                        role: "socialchef".into(),
                        name: None,
                        adjunct: false,
                    }),
                    Arc::new(Representative {
                        id: slug("polis"),
                        party: slug("region-ostergotland"),
                        role: "kommunpolis".into(),
                        name: Some("Cecilia Ek".into()),
                        adjunct: true,
                    }),
                ],
            }),
            Arc::new(Forum {
                id: slug("bus-styrgrupp"),
                definition: Arc::new(definition(None)),
                representatives: vec![],
            }),
        ],
    };
    let schema = validator("content.schema.json");
    let value = serde_json::to_value(&content).expect("content is JSON");
    assert_valid(&schema, &value, "content");

    let mut null_name = value.clone();
    null_name["forums"][0]["representatives"][0]["name"] = Value::Null;
    assert!(!schema.is_valid(&null_name), "explicit null name accepted");
    let mut mixed_chair = value.clone();
    mixed_chair["forums"][0]["definition"]["chair"]["party"] = json!("norrkopings-kommun");
    assert!(
        !schema.is_valid(&mixed_chair),
        "rotating chair with a `party` accepted"
    );
    let mut unknown_chair = value.clone();
    unknown_chair["forums"][0]["definition"]["chair"]["kind"] = json!("elected");
    assert!(
        !schema.is_valid(&unknown_chair),
        "chair kind `elected` accepted"
    );
    let mut bad_period = value;
    bad_period["forums"][0]["definition"]["meets"][0]["per"] = json!("halfyear");
    assert!(!schema.is_valid(&bad_period), "period `halfyear` accepted");
}

/// A change that must make a valid envelope invalid: what it breaks, the type of the valid
/// envelope it starts from, and the change.
type Broken = (&'static str, &'static str, Change);

type Change = fn(&mut Value);

fn set(v: &mut Value, pointer: &str, value: Value) {
    *v.pointer_mut(pointer).expect("field exists") = value;
}

fn remove(v: &mut Value, parent: &str, field: &str) {
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(field))
        .expect("field exists");
}

fn insert(v: &mut Value, parent: &str, field: &str, value: Value) {
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("object exists")
        .insert(field.into(), value);
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .expect("text field")
        .to_owned()
}

/// Broken envelopes that both the schema and the Rust core refuse as malformed.
const BROKEN: &[Broken] = &[
    // missing fields
    ("missing sig", "RepresentativeAdded", |v| {
        remove(v, "", "sig")
    }),
    ("missing payload field", "RepresentativeAdded", |v| {
        remove(v, "/payload", "role")
    }),
    ("missing preamble", "TitleAndPreambleRevised", |v| {
        remove(v, "/payload", "preamble")
    }),
    ("missing chair kind", "ForumEstablished", |v| {
        remove(v, "/payload/definition/chair", "kind")
    }),
    // extra fields
    ("extra envelope field", "RepresentativeAdded", |v| {
        insert(v, "", "extra", json!(true))
    }),
    ("extra payload field", "PartyAdded", |v| {
        insert(v, "/payload", "admin", json!(true))
    }),
    (
        "parties in TitleAndPreambleRevised",
        "TitleAndPreambleRevised",
        |v| insert(v, "/payload", "parties", json!(["polisen"])),
    ),
    ("extra cadence field", "ForumEstablished", |v| {
        insert(v, "/payload/definition/meets/0", "where", json!("Rådhuset"))
    }),
    ("role chair with turns", "ForumEstablished", |v| {
        insert(v, "/payload/definition/chair", "turns", json!([]))
    }),
    // explicit null where a field may only be left out: two signed forms of one event
    ("null name", "RepresentativeAdded", |v| {
        insert(v, "/payload", "name", Value::Null)
    }),
    ("null effective_from", "RevisionProposed", |v| {
        insert(v, "/payload", "effective_from", Value::Null)
    }),
    ("null chair", "ForumEstablished", |v| {
        insert(v, "/payload/definition", "chair", Value::Null)
    }),
    ("null chair party", "ForumEstablished", |v| {
        insert(v, "/payload/definition/chair", "party", Value::Null)
    }),
    // wrong types and ranges
    ("seq as string", "PartyAdded", |v| {
        set(v, "/seq", json!("7"))
    }),
    ("negative seq", "PartyAdded", |v| set(v, "/seq", json!(-1))),
    ("seq above 2^53-1", "PartyAdded", |v| {
        set(v, "/seq", json!(1_u64 << 53))
    }),
    ("v 2", "PartyAdded", |v| set(v, "/v", json!(2))),
    ("adjunct as string", "RepresentativeAdded", |v| {
        set(v, "/payload/adjunct", json!("ja"))
    }),
    ("version as string", "RevisionSigned", |v| {
        set(v, "/payload/version", json!("1"))
    }),
    ("version above u32", "RevisionSigned", |v| {
        set(v, "/payload/version", json!(1_u64 << 32))
    }),
    ("parties as string", "AgreementDrafted", |v| {
        set(v, "/payload/parties", json!("region-ostergotland"))
    }),
    ("payload as array", "PartyAdded", |v| {
        set(v, "/payload", json!([]))
    }),
    ("period halfyear", "ForumEstablished", |v| {
        set(v, "/payload/definition/meets/0/per", json!("halfyear"))
    }),
    ("chair kind unknown", "ForumEstablished", |v| {
        set(v, "/payload/definition/chair/kind", json!("elected"))
    }),
    // ids
    ("uppercase UUID", "PartyAdded", |v| {
        set(v, "/id", json!(text(v, "/id").to_uppercase()))
    }),
    ("UUID v4", "PartyAdded", |v| {
        set(v, "/id", json!("6ba7b810-9dad-41d1-80b4-00c04fd430c8"))
    }),
    ("UUID without hyphens", "PartyAdded", |v| {
        set(v, "/id", json!(text(v, "/id").replace('-', "")))
    }),
    ("braced UUID", "PartyAdded", |v| {
        set(v, "/id", json!(format!("{{{}}}", text(v, "/id"))))
    }),
    ("stream agreements/x", "PartyAdded", |v| {
        set(v, "/stream", json!("agreements/x"))
    }),
    ("uppercase agreement slug", "PartyAdded", |v| {
        set(v, "/stream", json!("agreement/Norrtalje"))
    }),
    ("slug ending in '-'", "PartyAdded", |v| {
        set(v, "/payload/party", json!("polisen-"))
    }),
    ("slug of 65 characters", "PartyAdded", |v| {
        set(v, "/payload/party", json!("a".repeat(65)))
    }),
    // instants: UTC with Z, one spelling per instant
    ("offset +00:00", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T09:30:00+00:00"))
    }),
    ("offset +01:00", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T10:30:00+01:00"))
    }),
    ("lowercase z", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T09:30:00z"))
    }),
    ("space for T", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12 09:30:00Z"))
    }),
    ("fraction .000", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T09:30:00.000Z"))
    }),
    ("fraction .5", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T09:30:00.5Z"))
    }),
    ("fraction .100000", "PartyAdded", |v| {
        set(v, "/at", json!("2020-03-12T09:30:00.100000Z"))
    }),
    ("month 13", "PartyAdded", |v| {
        set(v, "/at", json!("2020-13-12T09:30:00Z"))
    }),
    // dates
    ("date 2020-02-30", "AgreementTerminated", |v| {
        set(v, "/payload/effective_on", json!("2020-02-30"))
    }),
    ("date 2020-3-1", "AgreementTerminated", |v| {
        set(v, "/payload/effective_on", json!("2020-3-1"))
    }),
    ("date with time", "PaperSignatureRecorded", |v| {
        set(v, "/payload/signed_on", json!("2020-03-12T00:00:00Z"))
    }),
    // base64url: unpadded, url alphabet, canonical spare bits, right length
    ("padded signer", "PartyAdded", |v| {
        set(v, "/signer", json!(text(v, "/signer") + "="))
    }),
    ("padded sig", "PartyAdded", |v| {
        set(v, "/sig", json!(text(v, "/sig") + "=="))
    }),
    ("standard alphabet", "PartyAdded", |v| {
        set(
            v,
            "/signer",
            json!(format!("+{}", &text(v, "/signer")[1..])),
        )
    }),
    ("signer with spare bits set", "PartyAdded", |v| {
        set(v, "/signer", json!(format!("{}B", "A".repeat(42))))
    }),
    ("short sig", "PartyAdded", |v| set(v, "/sig", json!("AAAA"))),
    // hex: 64 lowercase digits
    ("uppercase prev", "PartyAdded", |v| {
        set(v, "/prev", json!(text(v, "/prev").to_uppercase()))
    }),
    ("uppercase content_hash", "RevisionSigned", |v| {
        set(
            v,
            "/payload/content_hash",
            json!(text(v, "/payload/content_hash").to_uppercase()),
        )
    }),
    ("short prev", "PartyAdded", |v| set(v, "/prev", json!("00"))),
    // type, stream and payload must agree
    (
        "directory event in an agreement stream",
        "PartyRegistered",
        |v| set(v, "/stream", json!("agreement/norrkoping-barn-och-unga")),
    ),
    ("agreement event in the directory", "PartyAdded", |v| {
        set(v, "/stream", json!("directory"))
    }),
    (
        "TitleAndPreambleRevised in the directory",
        "TitleAndPreambleRevised",
        |v| set(v, "/stream", json!("directory")),
    ),
    ("unknown type", "PartyAdded", |v| {
        set(v, "/type", json!("PartyDeleted"))
    }),
    (
        "RevisionProposed payload as RevisionSigned",
        "RevisionProposed",
        |v| set(v, "/type", json!("RevisionSigned")),
    ),
    ("PartyAdded payload as SectionRemoved", "PartyAdded", |v| {
        set(v, "/type", json!("SectionRemoved"))
    }),
];

#[test]
fn broken_envelopes_are_refused_by_schema_and_core_alike() {
    let schema = validator("envelope.schema.json");
    for &(what, base, change) in BROKEN {
        let mut value = envelope_of_type(base);
        change(&mut value);
        assert!(!schema.is_valid(&value), "schema accepts {what}: {value:#}");
        // The schema must not be stricter or looser than the core: the core refuses the
        // same envelope for its shape, before it even looks at the signature.
        match Envelope::from_value(value.clone()).and_then(Envelope::verify) {
            Ok(_) => panic!("core accepts {what}"),
            Err(e) => assert!(e.is_malformed(), "core refuses {what} only for: {e}"),
        }
    }
}

#[test]
fn schema_is_stricter_than_serde_where_the_format_is() {
    // Version 0 reads as a u32, but no proposal can have it (versions count from 1).
    let mut value = envelope_of_type("RevisionSigned");
    value["payload"]["version"] = json!(0);
    assert!(
        !validator("envelope.schema.json").is_valid(&value),
        "version 0 accepted"
    );
    // An index reads as a u64, but JCS writes numbers as doubles: past 2^53-1 the canonical
    // line would name another index.
    let record = json!({
        "index": 1_u64 << 53,
        "recorded_at": "2026-11-23T06:49:05Z",
        "event": envelope_of_type("PartyRegistered"),
    });
    assert!(
        !validator("log-record.schema.json").is_valid(&record),
        "index 2^53 accepted"
    );
}

#[test]
fn broken_log_records_are_refused() {
    let schema = validator("log-record.schema.json");
    let good = json!({
        "index": 0,
        "recorded_at": "2026-11-23T06:49:05Z",
        "event": envelope_of_type("PartyRegistered"),
    });
    assert_valid(&schema, &good, "log record");
    let cases: [(&str, Change); 6] = [
        ("missing recorded_at", |v| remove(v, "", "recorded_at")),
        ("extra field", |v| insert(v, "", "hash", json!("00"))),
        ("negative index", |v| v["index"] = json!(-1)),
        ("index as string", |v| v["index"] = json!("0")),
        ("recorded_at with offset", |v| {
            v["recorded_at"] = json!("2026-11-23T07:49:05+01:00")
        }),
        ("invalid event", |v| {
            v["event"]["payload"]["name"] = json!(7)
        }),
    ];
    for (what, change) in cases {
        let mut value = good.clone();
        change(&mut value);
        assert!(!schema.is_valid(&value), "log record with {what} accepted");
        assert!(
            serde_json::from_value::<LogRecord>(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| r.event.verify().map_err(|e| e.to_string()))
                .is_err(),
            "core accepts log record with {what}"
        );
    }
}

/// docs/events.md is checked here too, because its example is the schemas' example: it must
/// validate, verify, and show the bytes and hash the core computes.
#[test]
fn catalogue_covers_every_type_and_its_example_verifies() {
    let path = repo_root().join("docs/events.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for kind in EVENT_TYPES {
        assert!(
            doc.contains(&format!("\n### {kind}\n")),
            "docs/events.md has no section for {kind}"
        );
    }
    let example = doc
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/events.md has a ```json example");
    let value: Value = serde_json::from_str(example).expect("the example is JSON");
    assert_valid(
        &validator("envelope.schema.json"),
        &value,
        "the catalogue's example",
    );
    let verified = Envelope::from_value(value)
        .and_then(Envelope::verify)
        .unwrap_or_else(|e| panic!("the catalogue's example does not verify: {e}"));
    let canonical = std::str::from_utf8(verified.canonical_bytes()).expect("JCS is UTF-8");
    let signing_input = verified.envelope().unsigned().signing_input();
    let signed = std::str::from_utf8(&signing_input).expect("JCS is UTF-8");
    for (what, text) in [
        ("canonical bytes", canonical.to_owned()),
        ("signing input", signed.replace('\n', "\n  ")),
        ("event hash", verified.hash().to_hex()),
    ] {
        assert!(
            doc.contains(&text),
            "docs/events.md does not show the {what}: {text}"
        );
    }
}

/// Every schema violation of a log file's text, by line; an empty file is one too.
fn log_file_violations(text: &str) -> Vec<String> {
    let schema = validator("log-record.schema.json");
    let mut violations = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match serde_json::from_str::<Value>(line) {
            Err(e) => violations.push(format!("line {}: not JSON: {e}", n + 1)),
            Ok(value) => {
                for error in errors(&schema, &value) {
                    violations.push(format!("line {}: {error}", n + 1));
                }
            }
        }
    }
    if text.lines().next().is_none() {
        violations.push("no records".into());
    }
    violations
}

#[test]
fn log_files_are_checked_line_by_line() {
    let mut text = String::new();
    for (index, event) in signed_envelopes().into_iter().enumerate() {
        let record = LogRecord {
            index: index as u64,
            recorded_at: ts("2026-11-23T06:49:05Z"),
            event,
        };
        text.push_str(&record.to_line());
        text.push('\n');
    }
    assert_eq!(log_file_violations(&text), Vec::<String>::new());
    text.push_str("{\"index\":99}\n{\n");
    let violations = log_file_violations(&text);
    assert_eq!(violations.len(), 3, "{violations:#?}");
    let records = signed_envelopes().len();
    assert!(violations[0].starts_with(&format!("line {}: ", records + 1)));
    assert!(violations[2].starts_with(&format!("line {}: not JSON", records + 2)));
    assert_eq!(log_file_violations(""), ["no records"]);
}

#[test]
fn example_log_validates_against_schemas() {
    let path = repo_root().join("events/examples/log.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the example log {}: {e}. It is written by the example-log work \
             (events/examples/log.jsonl); until it exists this test fails on purpose.",
            path.display()
        )
    });
    let violations = log_file_violations(&text);
    assert!(
        violations.is_empty(),
        "{} does not match log-record.schema.json:\n{}",
        path.display(),
        violations.join("\n")
    );
}
