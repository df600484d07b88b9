//! Writes the fuzz targets' seeds, from the committed examples, into `DIR/<target>/`
//! (fuzz/seeds by default; fuzz/seed.sh copies them into each target's corpus). Every seed
//! is derived deterministically, so the same examples always give the same files.

use std::fs;
use std::path::{Path, PathBuf};

use overens_core::{Digest32, LogRecord, SecretKey};
use overens_fuzz_props::examples::{self, log_signer};
use overens_log::{MemoryHashes, SignedNote, record_leaf_hash, tree_hash};

fn main() -> Result<(), String> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("fuzz/seeds"), PathBuf::from);
    let mut written = 0usize;
    for (target, seeds) in seeds() {
        let target_dir = dir.join(target);
        fs::create_dir_all(&target_dir).map_err(|e| format!("{}: {e}", target_dir.display()))?;
        for (name, bytes) in seeds {
            write(&target_dir.join(name), &bytes)?;
            written += 1;
        }
    }
    println!("{written} seeds in {}", dir.display());
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

type Seeds = Vec<(String, Vec<u8>)>;

/// One record of each event type, the first of its kind in the log: every payload shape.
fn one_of_each_type() -> Vec<&'static LogRecord> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for record in examples::records() {
        if !seen.contains(&record.event.kind) {
            seen.push(record.event.kind.clone());
            out.push(record);
        }
    }
    out
}

/// A `PartyRegistered` of a party the log does not have yet, with a new id: re-signed by
/// the registrar at the directory's head (selector 0xc0), it is appended (201).
fn new_party(first: &LogRecord) -> Vec<u8> {
    let mut event = serde_json::to_value(&first.event).unwrap_or_default();
    event["payload"] = serde_json::json!({"party": "fuzz-part", "name": "Fuzzpart, Testkommun"});
    if let Some(id) = event["id"].as_str() {
        let mut id = id.to_owned();
        id.pop();
        id.push('f');
        event["id"] = id.into();
    }
    serde_json::to_vec(&event).unwrap_or_default()
}

fn seeds() -> Vec<(&'static str, Seeds)> {
    let each = one_of_each_type();
    let envelope: Seeds = each
        .iter()
        .map(|r| {
            (
                format!("{:02}-{}.json", r.index, r.event.kind),
                r.event.canonical_bytes(),
            )
        })
        .collect();
    let record: Seeds = each
        .iter()
        .map(|r| {
            (
                format!("{:02}-{}.jsonl", r.index, r.event.kind),
                r.to_line().into_bytes(),
            )
        })
        .collect();

    let mut jcs: Seeds = vec![
        (
            "rfc8785-sample.json".into(),
            br#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#.to_vec(),
        ),
        (
            "rfc8785-sorting.json".into(),
            "{\"\\u20ac\":1,\"\\r\":2,\"\\ufb33\":3,\"1\":4,\"\\ud83d\\ude00\":5,\"\\u0080\":6,\"\\u00f6\":7}".into(),
        ),
        (
            "numbers.json".into(),
            b"[9007199254740991,9007199254740992,-9007199254740993,18446744073709551615,-0.0,1e21,5e-324]".to_vec(),
        ),
    ];
    if let Some(r) = each.iter().find(|r| r.event.kind == "RevisionProposed") {
        let payload = serde_json::to_vec(&r.event.payload).unwrap_or_default();
        jcs.push(("revision-proposed-payload.json".into(), payload));
    }

    let real = examples::real_bundle();
    let bundle: Seeds = vec![
        ("real-bundle.json".into(), real.text.clone().into_bytes()),
        // Structured mode: a few plans of mutations (any bytes not starting with `{`).
        ("plan-a".into(), vec![0x01, 0x07, 0x00, 0x10, 0x22, 0x33]),
        (
            "plan-b".into(),
            vec![0x0c, 0x03, 0x41, 0x42, 0x43, 0x00, 0x01],
        ),
        (
            "plan-c".into(),
            vec![0x0d, 0x09, 0x00, 0x00, 0x01, 0x05, 0x80],
        ),
    ];

    let merkle: Seeds = vec![
        ("one-leaf".into(), vec![0, 1, 2, 3]),
        ("seven-leaves".into(), (0u8..64).collect()),
        (
            "many-leaves".into(),
            (0u8..=255).rev().cycle().take(600).collect(),
        ),
    ];

    let signer = log_signer();
    let records = examples::records();
    let leaves: Vec<Digest32> = records.iter().map(record_leaf_hash).collect();
    let tree = MemoryHashes::from_leaves(&leaves);
    let mut note: Seeds = Vec::new();
    for size in [0u64, 1, 20, 54, tree.size()] {
        if let Ok(root) = tree_hash(size, &tree)
            && let Ok(signed) = signer.sign(size, root)
        {
            let body = signed
                .note_text
                .split_once("\n\n")
                .map(|(b, _)| format!("{b}\n"))
                .unwrap_or_default();
            note.push((
                format!("checkpoint-{size}.note"),
                signed.note_text.into_bytes(),
            ));
            note.push((format!("checkpoint-{size}.body"), body.into_bytes()));
        }
    }
    if let Some((_, text)) = note.first() {
        let text = String::from_utf8_lossy(text).into_owned();
        if let Ok(parsed) = SignedNote::parse(&text)
            && let Ok(witness) =
                SignedNote::sign(&parsed.text, &SecretKey::from_seed(&[0x57; 32]), "witness")
        {
            let mut both = parsed.clone();
            both.signatures.extend(witness.signatures);
            note.push(("cosigned.note".into(), both.to_string().into_bytes()));
        }
    }
    note.push((
        "verifier-key".into(),
        signer.verifier_key().to_string().into_bytes(),
    ));

    // The write route: selector byte (content type, route, re-sign), key byte, body.
    let directory = &records[5];
    let agreement = records
        .iter()
        .find(|r| r.event.kind == "RevisionSigned")
        .unwrap_or(&records[30]);
    let route_of = |r: &LogRecord| -> u8 {
        match r.event.stream.to_string().as_str() {
            "directory" => 0,
            "agreement/norrkoping-barn-och-unga" => 1,
            _ => 2,
        }
    };
    let post = |selector: u8, key: u8, body: Vec<u8>| {
        let mut bytes = vec![selector, key];
        bytes.extend(body);
        bytes
    };
    let batch = |rs: &[LogRecord]| -> Vec<u8> {
        let items: Vec<_> = rs.iter().map(|r| &r.event).collect();
        serde_json::to_vec(&items).unwrap_or_default()
    };
    let write: Seeds = vec![
        (
            "repeat-directory.json".into(),
            post(
                route_of(directory) << 3,
                0,
                directory.event.canonical_bytes(),
            ),
        ),
        (
            "repeat-agreement.json".into(),
            post(
                route_of(agreement) << 3,
                0,
                agreement.event.canonical_bytes(),
            ),
        ),
        (
            "repeat-batch.json".into(),
            post(0, 0, batch(&records[0..3])),
        ),
        (
            "stale-party-resigned.json".into(),
            post(0x40, 0, records[0].event.canonical_bytes()),
        ),
        (
            "new-head-resigned.json".into(),
            post(0xc0, 0, records[0].event.canonical_bytes()),
        ),
        (
            "new-party-resigned.json".into(),
            post(0xc0, 0, new_party(&records[0])),
        ),
        ("not-json.txt".into(), post(0x03, 0, b"{\"v\":1,".to_vec())),
    ];

    vec![
        ("envelope", envelope),
        ("record", record),
        ("jcs", jcs),
        ("bundle", bundle),
        ("merkle", merkle),
        ("note", note),
        ("write", write),
    ]
}
