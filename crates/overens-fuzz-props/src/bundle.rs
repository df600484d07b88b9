//! The audit-bundle verifier, on arbitrary text and on structured mutations of a real
//! bundle of the example log.

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use overens_audit::{Report, Trust, verify_bundle};
use overens_core::Digest32;
use overens_log::{
    ConsistencyProof, InclusionProof, MemoryHashes, SignedNote, prove_consistency, tree_hash,
};
use serde_json::{Map, Value};

use crate::Outcome;
use crate::examples::{log_signer, real_bundle, records, trust};

/// One change to the real bundle's document.
#[derive(Debug, Arbitrary)]
enum Mutation {
    /// A byte of a record's text.
    RecordByte {
        record: u8,
        at: u16,
        byte: u8,
    },
    /// A field of a record, re-canonicalised so that only the field changed.
    RecordField {
        record: u8,
        field: RecordField,
        value: Scalar,
    },
    DropRecord {
        record: u8,
    },
    CopyRecord {
        from: u8,
        to: u8,
    },
    SwapRecords {
        a: u8,
        b: u8,
    },
    DropProof {
        proof: u8,
    },
    SwapProofs {
        a: u8,
        b: u8,
    },
    ProofHash {
        proof: u8,
        hash: u8,
        byte: u8,
    },
    ProofNumber {
        proof: u8,
        size: bool,
        delta: i8,
    },
    /// A value somewhere in the claims, found by walking `path` through the tree.
    Claim {
        path: Vec<u8>,
        value: Scalar,
    },
    /// A byte of the checkpoint note.
    CheckpointByte {
        at: u16,
        byte: u8,
    },
    /// Another key's signature line under the checkpoint (a witness): allowed, ignored.
    Cosign {
        name: String,
    },
    /// The checkpoint of the log at another size (signed by the log key).
    CheckpointSize {
        size: u8,
    },
    Registrars {
        keep_first: bool,
        duplicate: bool,
        extra: Option<[u8; 32]>,
    },
    Top {
        field: TopField,
        value: Scalar,
    },
    ExtraMember {
        name: String,
        value: Scalar,
    },
    /// Indented or compact text: the same document either way.
    Compact,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum RecordField {
    Index,
    RecordedAt,
    Seq,
    Prev,
    At,
    Id,
    Sig,
    Signer,
    Type,
    Stream,
    V,
    PayloadMember(u8),
    Extra,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum TopField {
    Format,
    Agreement,
    LogKey,
    Registrars,
    Records,
    Proofs,
    Claims,
    Checkpoint,
}

/// A JSON value to put somewhere: small, or copied from elsewhere in the real bundle.
#[derive(Debug, Arbitrary)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Big(u64),
    Float(f64),
    Text(String),
    /// A string of the real document (a hash, key, id, date, name …), by position.
    Copied(u16),
}

/// The old checkpoint an auditor may pass, and the consistency proof to the bundle's.
#[derive(Debug, Arbitrary)]
struct Old {
    size: u8,
    root_flip: Option<u8>,
    proof_flip: Option<(u8, u8)>,
    proof_drop: bool,
}

#[derive(Debug, Arbitrary)]
struct Plan {
    mutations: Vec<Mutation>,
    old: Option<Old>,
}

/// The real bundle as parts, and what the mutations draw from.
struct Parts {
    top: Map<String, Value>,
    records: Vec<String>,
    strings: Vec<String>,
    tree: MemoryHashes,
}

static PARTS: LazyLock<Parts> = LazyLock::new(|| {
    let real = real_bundle();
    let mut top: Map<String, Value> =
        serde_json::from_str(&real.text).expect("the real bundle is JSON");
    top.remove("records");
    let mut strings = Vec::new();
    collect_strings(&Value::Object(top.clone()), &mut strings);
    let leaves: Vec<Digest32> = records()
        .iter()
        .map(overens_log::record_leaf_hash)
        .collect();
    Parts {
        top,
        records: real.bundle.records.clone(),
        strings,
        tree: MemoryHashes::from_leaves(&leaves),
    }
});

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Big(u) => Value::from(*u),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Text(s) => Value::String(s.clone()),
            Scalar::Copied(i) => {
                let strings = &PARTS.strings;
                Value::String(strings[usize::from(*i) % strings.len()].clone())
            }
        }
    }
}

/// The document being mutated.
struct Doc {
    top: Map<String, Value>,
    records: Vec<String>,
    compact: bool,
}

fn at(i: impl Into<usize>, len: usize) -> Option<usize> {
    (len > 0).then(|| i.into() % len)
}

impl Doc {
    fn text(&self) -> String {
        // Records go in verbatim, as the bundle writer puts them: their bytes are what the
        // verifier hashes, so they must not pass through a JSON value.
        let mut out = String::from("{");
        let mut first = true;
        let sep = if self.compact { "" } else { "\n  " };
        for (name, value) in &self.top {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(sep);
            out.push_str(&Value::String(name.clone()).to_string());
            out.push(':');
            out.push_str(&value.to_string());
        }
        out.push(',');
        out.push_str(sep);
        out.push_str("\"records\":[");
        out.push_str(&self.records.join(","));
        out.push_str("]}");
        out
    }

    fn record_value(&self, i: usize) -> Option<Value> {
        serde_json::from_str(&self.records[i]).ok()
    }

    fn apply(&mut self, m: &Mutation) {
        let n = self.records.len();
        match m {
            Mutation::RecordByte {
                record,
                at: pos,
                byte,
            } => {
                if let Some(i) = at(*record, n) {
                    let mut bytes = self.records[i].clone().into_bytes();
                    if let Some(p) = at(*pos, bytes.len()) {
                        bytes[p] = *byte;
                    }
                    self.records[i] = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
            Mutation::RecordField {
                record,
                field,
                value,
            } => {
                if let Some(i) = at(*record, n)
                    && let Some(mut v) = self.record_value(i)
                {
                    set_record_field(&mut v, *field, value.value());
                    if let Ok(text) = serde_json_canonicalizer::to_string(&v) {
                        self.records[i] = text;
                    }
                }
            }
            Mutation::DropRecord { record } => {
                if let Some(i) = at(*record, n) {
                    self.records.remove(i);
                }
            }
            Mutation::CopyRecord { from, to } => {
                if let (Some(f), Some(t)) = (at(*from, n), at(*to, n + 1)) {
                    let copy = self.records[f].clone();
                    self.records.insert(t, copy);
                }
            }
            Mutation::SwapRecords { a, b } => {
                if let (Some(a), Some(b)) = (at(*a, n), at(*b, n)) {
                    self.records.swap(a, b);
                }
            }
            Mutation::DropProof { proof } => {
                if let Some(Value::Array(proofs)) = self.top.get_mut("proofs")
                    && let Some(i) = at(*proof, proofs.len())
                {
                    proofs.remove(i);
                }
            }
            Mutation::SwapProofs { a, b } => {
                if let Some(Value::Array(proofs)) = self.top.get_mut("proofs")
                    && let (Some(a), Some(b)) = (at(*a, proofs.len()), at(*b, proofs.len()))
                {
                    proofs.swap(a, b);
                }
            }
            Mutation::ProofHash { proof, hash, byte } => {
                if let Some(Value::Array(proofs)) = self.top.get_mut("proofs")
                    && let Some(i) = at(*proof, proofs.len())
                    && let Some(Value::Array(hashes)) = proofs[i].get_mut("hashes")
                    && let Some(h) = at(*hash, hashes.len())
                    && let Some(text) = hashes[h].as_str()
                {
                    let mut bytes = text.as_bytes().to_vec();
                    if let Some(p) = at(*byte, bytes.len()) {
                        bytes[p] = if bytes[p] == b'0' { b'1' } else { b'0' };
                    }
                    hashes[h] = Value::String(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            Mutation::ProofNumber { proof, size, delta } => {
                if let Some(Value::Array(proofs)) = self.top.get_mut("proofs")
                    && let Some(i) = at(*proof, proofs.len())
                {
                    let field = if *size { "size" } else { "index" };
                    if let Some(number) = proofs[i].get(field).and_then(Value::as_u64) {
                        proofs[i][field] =
                            Value::from(number.wrapping_add_signed(i64::from(*delta)));
                    }
                }
            }
            Mutation::Claim { path, value } => {
                if let Some(claims) = self.top.get_mut("claims") {
                    *walk(claims, path) = value.value();
                }
            }
            Mutation::CheckpointByte { at: pos, byte } => {
                if let Some(Value::String(note)) = self.top.get_mut("checkpoint") {
                    let mut bytes = note.clone().into_bytes();
                    if let Some(p) = at(*pos, bytes.len()) {
                        bytes[p] = *byte;
                    }
                    *note = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
            Mutation::Cosign { name } => {
                if let Some(Value::String(note)) = self.top.get_mut("checkpoint")
                    && let Ok(parsed) = SignedNote::parse(note)
                {
                    let witness = overens_core::SecretKey::from_seed(&[0x57; 32]);
                    let name = if name.is_empty() { "witness" } else { name };
                    if let Ok(signed) = SignedNote::sign(&parsed.text, &witness, name) {
                        let mut both = parsed.clone();
                        both.signatures.extend(signed.signatures);
                        *note = both.to_string();
                    }
                }
            }
            Mutation::CheckpointSize { size } => {
                let tree = &PARTS.tree;
                let size = u64::from(*size) % (tree.size() + 1);
                if let Ok(root) = tree_hash(size, tree)
                    && let Ok(signed) = log_signer().sign(size, root)
                {
                    self.top
                        .insert("checkpoint".into(), Value::String(signed.note_text));
                }
            }
            Mutation::Registrars {
                keep_first,
                duplicate,
                extra,
            } => {
                if let Some(Value::Array(keys)) = self.top.get_mut("registrars") {
                    if !keep_first && !keys.is_empty() {
                        keys.remove(0);
                    }
                    if *duplicate && let Some(first) = keys.first().cloned() {
                        keys.push(first);
                    }
                    if let Some(bytes) = extra
                        && let Ok(key) = overens_core::PublicKey::from_bytes(bytes)
                    {
                        keys.insert(0, Value::String(key.to_string()));
                    }
                }
            }
            Mutation::Top { field, value } => {
                let name = match field {
                    TopField::Format => "format",
                    TopField::Agreement => "agreement",
                    TopField::LogKey => "log_key",
                    TopField::Registrars => "registrars",
                    TopField::Records => "records",
                    TopField::Proofs => "proofs",
                    TopField::Claims => "claims",
                    TopField::Checkpoint => "checkpoint",
                };
                if name == "records" {
                    self.records = vec![value.value().to_string()];
                } else {
                    self.top.insert(name.into(), value.value());
                }
            }
            Mutation::ExtraMember { name, value } => {
                if name != "records" {
                    self.top.insert(name.clone(), value.value());
                }
            }
            Mutation::Compact => self.compact = !self.compact,
        }
    }
}

fn event(record: &mut Value) -> Option<&mut Map<String, Value>> {
    record.get_mut("event").and_then(Value::as_object_mut)
}

fn set_record_field(record: &mut Value, field: RecordField, value: Value) {
    let put = |map: Option<&mut Map<String, Value>>, name: &str, value: Value| {
        if let Some(map) = map {
            map.insert(name.into(), value);
        }
    };
    match field {
        RecordField::Index => put(record.as_object_mut(), "index", value),
        RecordField::RecordedAt => put(record.as_object_mut(), "recorded_at", value),
        RecordField::Seq => put(event(record), "seq", value),
        RecordField::Prev => put(event(record), "prev", value),
        RecordField::At => put(event(record), "at", value),
        RecordField::Id => put(event(record), "id", value),
        RecordField::Sig => put(event(record), "sig", value),
        RecordField::Signer => put(event(record), "signer", value),
        RecordField::Type => put(event(record), "type", value),
        RecordField::Stream => put(event(record), "stream", value),
        RecordField::V => put(event(record), "v", value),
        RecordField::Extra => put(event(record), "extra", value),
        RecordField::PayloadMember(i) => {
            if let Some(payload) = event(record)
                .and_then(|e| e.get_mut("payload"))
                .and_then(Value::as_object_mut)
            {
                let keys: Vec<String> = payload.keys().cloned().collect();
                if let Some(k) = at(i, keys.len()) {
                    payload.insert(keys[k].clone(), value);
                }
            }
        }
    }
}

/// The value at `path` (each step picks a child by index, modulo), or the deepest reached.
fn walk<'v>(value: &'v mut Value, path: &[u8]) -> &'v mut Value {
    let Some((&step, rest)) = path.split_first() else {
        return value;
    };
    let has_children = match &*value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    };
    if !has_children {
        return value;
    }
    match value {
        Value::Array(items) => {
            let i = usize::from(step) % items.len();
            walk(&mut items[i], rest)
        }
        Value::Object(map) => {
            let i = usize::from(step) % map.len();
            let key = map.keys().nth(i).cloned().unwrap_or_default();
            match map.get_mut(&key) {
                Some(child) => walk(child, rest),
                None => unreachable!("the key was just read from the map"),
            }
        }
        _ => unreachable!("only containers have children"),
    }
}

/// What a report says, with the registrars as the set they are.
fn meaning(report: &Report) -> Report {
    let mut report = report.clone();
    report.registrars.sort();
    report.registrars.dedup();
    report
}

/// A bundle that verified must say exactly what the real one says: the same records
/// (byte for byte), the same proofs, the same claims, the same checkpoint and report.
fn assert_same_meaning(text: &str, report: &Report) {
    let real = real_bundle();
    let mut expected = meaning(&real.report);
    if let Some(consistency) = &report.consistency {
        expected.consistency = Some(consistency.clone());
    }
    assert_eq!(
        meaning(report),
        expected,
        "a changed bundle verifies to another report"
    );
    let got: Value = serde_json::from_str(text).expect("a verified bundle is JSON");
    let raw: RawRecords = serde_json::from_str(text).expect("a verified bundle's records");
    let lines: Vec<&str> = raw.records.iter().map(|r| r.get()).collect();
    assert_eq!(
        lines, real.bundle.records,
        "a verified bundle holds other records"
    );
    let proofs: Vec<InclusionProof> =
        serde_json::from_value(got["proofs"].clone()).expect("a verified bundle's proofs");
    assert_eq!(
        proofs, real.bundle.proofs,
        "a verified bundle holds other proofs"
    );
    assert_eq!(
        got["claims"],
        serde_json::to_value(&real.bundle.claims).expect("claims are JSON"),
        "a verified bundle claims something else"
    );
}

#[derive(serde::Deserialize)]
struct RawRecords<'a> {
    #[serde(borrow)]
    records: Vec<&'a serde_json::value::RawValue>,
}

fn old_checkpoint(old: &Old) -> (String, ConsistencyProof, u64, Digest32) {
    let tree = &PARTS.tree;
    let new_size = tree.size();
    let size = u64::from(old.size) % (new_size + 1);
    let real_root = tree_hash(size, tree).expect("a size within the tree");
    let mut root = real_root;
    if let Some(i) = old.root_flip {
        root.0[usize::from(i) % 32] ^= 1;
    }
    let note = log_signer().sign(size, root).expect("signs").note_text;
    let mut hashes = prove_consistency(size, new_size, tree).expect("a proof within the tree");
    if let Some((h, b)) = old.proof_flip
        && let Some(h) = at(h, hashes.len())
    {
        hashes[h].0[usize::from(b) % 32] ^= 1;
    }
    if old.proof_drop {
        hashes.pop();
    }
    let proof = ConsistencyProof {
        old_size: size,
        new_size,
        hashes,
    };
    (note, proof, size, real_root)
}

/// Properties of `verify_bundle`:
///
/// - arbitrary text (an input starting with `{` or white space) never panics it, with the
///   auditor's trust or with the bundle's own;
/// - any other input is a plan of mutations of the real bundle of the example log's
///   Norrköping agreement (records, proofs, claims, checkpoint, keys, the document), with
///   an optional older checkpoint and consistency proof; it never panics the verifier,
///   and a mutated bundle that verifies under the auditor's trust is semantically the
///   real one: the same records byte for byte, proofs, claims and report (registrars as
///   a set); an older checkpoint that is accepted has the real root of its size.
pub fn check_bundle(data: &[u8]) -> Outcome {
    let raw = data
        .first()
        .is_some_and(|b| *b == b'{' || b.is_ascii_whitespace());
    if raw {
        let text = String::from_utf8_lossy(data);
        let _ = verify_bundle(&text, &Trust::default(), None);
        return match verify_bundle(&text, &trust(), None) {
            Ok(report) => {
                assert_same_meaning(&text, &report);
                Outcome::Accepted
            }
            Err(_) => Outcome::Refused,
        };
    }
    let parts = &*PARTS;
    let Ok(plan) = Plan::arbitrary_take_rest(Unstructured::new(data)) else {
        return Outcome::Refused;
    };
    let mut doc = Doc {
        top: parts.top.clone(),
        records: parts.records.clone(),
        compact: false,
    };
    for m in plan.mutations.iter().take(16) {
        doc.apply(m);
    }
    let text = doc.text();
    let old = plan.old.as_ref().map(old_checkpoint);
    let result = verify_bundle(
        &text,
        &trust(),
        old.as_ref()
            .map(|(note, proof, ..)| (note.as_str(), proof.clone())),
    );
    let _ = verify_bundle(&text, &Trust::default(), None);
    match result {
        Ok(report) => {
            if let Some((_, _, size, real_root)) = &old {
                let summary = report
                    .consistency
                    .as_ref()
                    .expect("an old checkpoint was checked");
                assert_eq!(
                    (summary.old_size, summary.old_root),
                    (*size, *real_root),
                    "a forged old checkpoint passed as a prefix"
                );
            }
            assert_same_meaning(&text, &report);
            Outcome::Accepted
        }
        Err(_) => Outcome::Refused,
    }
}
