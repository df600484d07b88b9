//! `events/schema/bundle.schema.json` accepts the bundles this crate writes and refuses
//! documents of the wrong shape.

use std::path::PathBuf;

use jsonschema::{Draft, Resource, Validator};
use serde_json::{Value, json};

use crate::common::{NORRKOPING, bundle};

const SCHEMA_FILES: [&str; 5] = [
    "payloads.schema.json",
    "content.schema.json",
    "envelope.schema.json",
    "log-record.schema.json",
    "bundle.schema.json",
];
const SCHEMA_BASE: &str = "https://overens.example/schema/";

fn load_schema(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/schema")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

/// The bundle schema, with the other files registered so relative `$ref`s resolve offline.
pub(crate) fn validator() -> Validator {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true);
    for file in SCHEMA_FILES {
        let resource = Resource::from_contents(load_schema(file))
            .unwrap_or_else(|e| panic!("{file} is not a schema resource: {e}"));
        options = options.with_resource(format!("{SCHEMA_BASE}{file}"), resource);
    }
    options
        .build(&load_schema("bundle.schema.json"))
        .unwrap_or_else(|e| panic!("bundle.schema.json does not compile: {e}"))
}

pub(crate) fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn bundle_value(agreement: &str) -> Value {
    serde_json::from_str(&bundle(agreement).to_json().expect("json")).expect("json")
}

#[test]
fn example_bundles_validate() {
    let validator = validator();
    for agreement in [NORRKOPING, "norrtalje-bus"] {
        let value = bundle_value(agreement);
        let errors = errors(&validator, &value);
        assert!(errors.is_empty(), "{agreement}: {errors:#?}");
    }
}

#[test]
fn misshapen_bundles_are_refused() {
    let validator = validator();
    let good = bundle_value(NORRKOPING);
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 12] = [
        ("other format", |b| b["format"] = json!("overens-bundle/2")),
        ("extra field", |b| b["extra"] = json!(1)),
        ("missing proofs", |b| {
            b.as_object_mut().expect("object").remove("proofs");
        }),
        ("no registrar", |b| b["registrars"] = json!([])),
        ("log key without id", |b| {
            b["log_key"] = json!("overens.example/log+AZJzCPU9Z2VQPStkwQOrWqRyBqs5UCz+j5hEL9tUMQC3")
        }),
        ("record with an extra field", |b| {
            b["records"][0]["x"] = json!(1)
        }),
        ("proof hash in uppercase", |b| {
            let h = b["proofs"][0]["hashes"][0]
                .as_str()
                .expect("hash")
                .to_uppercase();
            b["proofs"][0]["hashes"][0] = json!(h);
        }),
        ("proof of size 0", |b| b["proofs"][0]["size"] = json!(0)),
        ("checkpoint without signature", |b| {
            let c = b["checkpoint"].as_str().expect("text");
            let body = c.split("\n\n").next().expect("body");
            b["checkpoint"] = json!(format!("{body}\n"));
        }),
        ("unknown version status", |b| {
            b["claims"]["versions"][0]["status"] = json!("signed")
        }),
        ("signature method", |b| {
            b["claims"]["signatures"][0]["method"] = json!("digital")
        }),
        ("in-force date", |b| {
            b["claims"]["in_force"][0]["from"] = json!("2020-02-30")
        }),
    ];
    assert!(errors(&validator, &good).is_empty());
    for (what, edit) in edits {
        let mut bad = good.clone();
        edit(&mut bad);
        assert!(!validator.is_valid(&bad), "{what}: should be refused");
    }
}
