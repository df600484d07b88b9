//! The tamper campaign against audit bundles: from a valid bundle of the Norrköping example,
//! 1,050 seeded random mutations of 15 kinds (70 each), every one of which `overens verify` must
//! refuse (the library for all of them, the real binary for a sample of 50), while the
//! valid bundle passes. Run with `--nocapture` to see which check caught what.
//!
//! Two kinds need the auditor's own older checkpoint (the consistency path): a fork of the
//! log resealed under the log key, and a truncated log. Without an older checkpoint such a
//! bundle is internally perfect, and the campaign asserts that it then verifies: that is
//! the limit of a self-contained bundle, stated in docs/audit.md.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Duration;
use overens_audit::{Bundle, Check, Failure, Trust, bundle_from_log, tree_of, verify_bundle};
use overens_core::{AgreementId, LogRecord, Replayer, SecretKey, State, Timestamp};
use overens_log::{
    ConsistencyProof, InclusionProof, LogSigner, MemoryHashes, leaf_hash, prove_consistency,
    prove_inclusion, tree_hash,
};
use overens_tests::{Server, examples, overens};
use serde_json::Value;

const ORIGIN: &str = "overens.example/log";
const AGREEMENT: &str = "norrkoping-barn-och-unga";
const SEED: u64 = 0x0be7_e115_2026;
const PER_KIND: usize = 70;
/// Every how many mutations the real binary checks one too.
const BINARY_EVERY: usize = 21;

/// splitmix64: small, seeded, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        assert!(lo < hi, "empty range {lo}..{hi}");
        lo + (self.next() % (hi - lo) as u64) as usize
    }

    /// Two different values of `lo..hi`.
    fn two(&mut self, lo: usize, hi: usize) -> (usize, usize) {
        let a = self.range(lo, hi);
        let mut b = self.range(lo, hi - 1);
        if b >= a {
            b += 1;
        }
        (a, b)
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    FlippedByte,
    DroppedRecord,
    DuplicatedRecord,
    ReorderedRecords,
    SwappedSignature,
    EditedRecordedAt,
    EditedAt,
    AlteredProof,
    AlteredCheckpointBody,
    AlteredCheckpointSignature,
    ForkedCheckpoint,
    ResealedWithOtherKey,
    EditedClaim,
    ForkedLogVsOldCheckpoint,
    TruncatedLogVsOldCheckpoint,
}

const KINDS: [Kind; 15] = [
    Kind::FlippedByte,
    Kind::DroppedRecord,
    Kind::DuplicatedRecord,
    Kind::ReorderedRecords,
    Kind::SwappedSignature,
    Kind::EditedRecordedAt,
    Kind::EditedAt,
    Kind::AlteredProof,
    Kind::AlteredCheckpointBody,
    Kind::AlteredCheckpointSignature,
    Kind::ForkedCheckpoint,
    Kind::ResealedWithOtherKey,
    Kind::EditedClaim,
    Kind::ForkedLogVsOldCheckpoint,
    Kind::TruncatedLogVsOldCheckpoint,
];

/// One mutated bundle, as the auditor receives it.
struct Case {
    what: String,
    bytes: Vec<u8>,
    /// The auditor's older checkpoint (genuine) and the consistency proof offered with it.
    old: Option<(String, ConsistencyProof)>,
    /// Verify without the trusted log key too (the resealed kind): must still fail.
    also_untrusted: bool,
}

/// The genuine log and everything derived from it once.
struct World {
    records: Vec<LogRecord>,
    signer: LogSigner,
    tree: MemoryHashes,
    bundle: Bundle,
    text: String,
    trust: Trust,
}

fn log_signer() -> LogSigner {
    LogSigner::new(ORIGIN, SecretKey::from_seed(&[0x4c; 32])).expect("signer")
}

fn replay(records: &[LogRecord]) -> State {
    let mut replayer = Replayer::new(examples::state());
    for r in records {
        replayer.push(r.clone()).expect("the log replays");
    }
    replayer.into_state()
}

fn agreement() -> AgreementId {
    AGREEMENT.parse().expect("id")
}

fn world() -> World {
    let records: Vec<LogRecord> = examples::log_text()
        .lines()
        .map(|l| LogRecord::parse_line(l).expect("record"))
        .collect();
    let signer = log_signer();
    let bundle =
        bundle_from_log(&records, &replay(&records), &agreement(), &signer).expect("bundle");
    let text = bundle.to_json().expect("json");
    World {
        tree: tree_of(&records).expect("tree"),
        trust: Trust {
            registrars: Some(vec![examples::registrar()]),
            log_key: Some(signer.verifier_key().clone()),
        },
        records,
        signer,
        bundle,
        text,
    }
}

impl World {
    /// The genuine checkpoint of the first `size` records, as an auditor kept it.
    fn old_checkpoint(&self, size: u64) -> String {
        self.signer
            .sign(size, tree_hash(size, &self.tree).expect("root"))
            .expect("signed")
            .note_text
    }

    fn consistency(&self, old: u64, new: u64) -> ConsistencyProof {
        ConsistencyProof {
            old_size: old,
            new_size: new,
            hashes: prove_consistency(old, new, &self.tree).expect("proof"),
        }
    }
}

fn record(line: &str) -> LogRecord {
    LogRecord::parse_line(line).expect("a bundle record")
}

fn shifted(t: Timestamp, seconds: i64) -> Timestamp {
    Timestamp::from_datetime(t.datetime() + Duration::seconds(seconds))
}

/// A random non-zero shift of up to ten years either way.
fn some_seconds(rng: &mut Rng) -> i64 {
    let magnitude = rng.range(1, 10 * 365 * 86_400) as i64;
    if rng.coin() { magnitude } else { -magnitude }
}

fn text(bundle: &Bundle) -> Vec<u8> {
    bundle.to_json().expect("json").into_bytes()
}

/// The bundle's text with its claims replaced (the claims are the document's last field).
fn with_claims(world: &World, claims: &Value) -> Vec<u8> {
    let at = world.text.rfind("\"claims\": ").expect("claims");
    let mut out = world.text[..at].to_owned();
    out.push_str("\"claims\": ");
    out.push_str(&serde_json::to_string_pretty(claims).expect("json"));
    out.push_str("\n}\n");
    out.into_bytes()
}

/// A log whose records from index `from` on are re-timed by one second: a fork of the log
/// from `from` that still replays (the operator cannot forge party signatures, but it can
/// record validly signed events at other times or in another order).
fn forked(records: &[LogRecord], from: usize) -> Vec<LogRecord> {
    let mut out = records.to_vec();
    for r in &mut out[from..] {
        r.recorded_at = shifted(r.recorded_at, 1);
    }
    out
}

/// The bundle with record `position` replaced and everything above it recomputed: the whole
/// tree, every proof, and a checkpoint signed by `signer`.
fn resealed(world: &World, position: usize, line: String, signer: &LogSigner) -> Bundle {
    let mut leaves: Vec<_> = world
        .records
        .iter()
        .map(|r| leaf_hash(&r.canonical_bytes()))
        .collect();
    let index = record(&line).index as usize;
    leaves[index] = leaf_hash(line.as_bytes());
    let tree = MemoryHashes::from_leaves(&leaves);
    let size = tree.size();
    let mut bundle = world.bundle.clone();
    bundle.records[position] = line;
    bundle.proofs = bundle
        .records
        .iter()
        .map(|l| {
            let index = record(l).index;
            InclusionProof {
                index,
                size,
                hashes: prove_inclusion(index, size, &tree).expect("proof"),
            }
        })
        .collect();
    bundle.checkpoint = signer.sign(size, tree.root()).expect("signed").note_text;
    bundle
}

fn mutate(world: &World, kind: Kind, rng: &mut Rng) -> Case {
    let n = world.bundle.records.len();
    let mut case = Case {
        what: String::new(),
        bytes: Vec::new(),
        old: None,
        also_untrusted: false,
    };
    let mut b = world.bundle.clone();
    match kind {
        Kind::FlippedByte => {
            let p = rng.range(0, n);
            let line = &world.bundle.records[p];
            let start = world.text.find(line.as_str()).expect("record in text");
            let offset = rng.range(0, line.len());
            let mask = rng.range(1, 256) as u8;
            let mut bytes = world.text.clone().into_bytes();
            bytes[start + offset] ^= mask;
            case.what = format!("records[{p}] byte {offset} ^= {mask:#04x}");
            case.bytes = bytes;
            return case;
        }
        Kind::DroppedRecord => {
            let p = rng.range(0, n);
            b.records.remove(p);
            if rng.coin() {
                b.proofs.remove(p);
                case.what = format!("records[{p}] and its proof dropped");
            } else {
                case.what = format!("records[{p}] dropped, its proof kept");
            }
        }
        Kind::DuplicatedRecord => {
            let (p, q) = (rng.range(0, n), rng.range(0, n + 1));
            b.records.insert(q, world.bundle.records[p].clone());
            b.proofs.insert(q, world.bundle.proofs[p].clone());
            case.what = format!("records[{p}] repeated at {q}");
        }
        Kind::ReorderedRecords => {
            let (p, q) = rng.two(0, n);
            if rng.coin() {
                b.records.swap(p, q);
                b.proofs.swap(p, q);
                case.what = format!("records[{p}] and [{q}] swapped, with their proofs");
            } else {
                let line = b.records.remove(p);
                let proof = b.proofs.remove(p);
                b.records.insert(q, line);
                b.proofs.insert(q, proof);
                case.what = format!("records[{p}] moved to {q}, with its proof");
            }
        }
        Kind::SwappedSignature => {
            let (p, q) = rng.two(0, n);
            let (mut a, mut c) = (record(&b.records[p]), record(&b.records[q]));
            std::mem::swap(&mut a.event.sig, &mut c.event.sig);
            b.records[p] = a.to_line();
            b.records[q] = c.to_line();
            case.what = format!("signatures of records[{p}] and [{q}] swapped");
        }
        Kind::EditedRecordedAt => {
            let p = rng.range(0, n);
            let mut r = record(&b.records[p]);
            let s = some_seconds(rng);
            r.recorded_at = shifted(r.recorded_at, s);
            b.records[p] = r.to_line();
            case.what = format!("records[{p}].recorded_at moved by {s} s");
        }
        Kind::EditedAt => {
            let p = rng.range(0, n);
            let mut r = record(&b.records[p]);
            let s = some_seconds(rng);
            r.event.at = shifted(r.event.at, s);
            b.records[p] = r.to_line();
            case.what = format!("records[{p}].event.at moved by {s} s");
        }
        Kind::AlteredProof => {
            let p = rng.range(0, n);
            let proof = &mut b.proofs[p];
            match rng.range(0, 6) {
                0 => {
                    let h = rng.range(0, proof.hashes.len());
                    let byte = rng.range(0, 32);
                    proof.hashes[h].0[byte] ^= rng.range(1, 256) as u8;
                    case.what = format!("proofs[{p}].hashes[{h}] byte {byte} altered");
                }
                1 => {
                    let by = rng.range(1, 97) as u64;
                    proof.index = (proof.index + by) % 97;
                    case.what = format!("proofs[{p}].index changed by {by} (mod 97)");
                }
                2 => {
                    proof.size = rng.range(1, 200) as u64;
                    if proof.size == 97 {
                        proof.size = 98;
                    }
                    case.what = format!("proofs[{p}].size = {}", proof.size);
                }
                3 => {
                    let h = rng.range(0, proof.hashes.len());
                    proof.hashes.remove(h);
                    case.what = format!("proofs[{p}].hashes[{h}] dropped");
                }
                4 => {
                    let h = rng.range(0, proof.hashes.len() + 1);
                    proof.hashes.insert(h, leaf_hash(b"extra"));
                    case.what = format!("a hash inserted in proofs[{p}] at {h}");
                }
                _ => {
                    let (x, y) = rng.two(0, n);
                    b.proofs.swap(x, y);
                    case.what = format!("proofs[{x}] and [{y}] swapped");
                }
            }
        }
        Kind::AlteredCheckpointBody => {
            let body_end = b.checkpoint.find("\n\n").expect("body") + 1;
            let offset = rng.range(0, body_end - 1);
            let mut bytes = b.checkpoint.clone().into_bytes();
            // A printable character other than the one there, so the note still parses
            // as far as it can.
            let old = bytes[offset];
            let mut new = rng.range(0x21, 0x7f) as u8;
            if new == old {
                new = if old == b'0' { b'1' } else { b'0' };
            }
            bytes[offset] = new;
            b.checkpoint = String::from_utf8(bytes).expect("ascii");
            case.what = format!(
                "checkpoint body byte {offset} {:?} -> {:?}",
                old as char, new as char
            );
        }
        Kind::AlteredCheckpointSignature => {
            let line_start = b.checkpoint.find("\n\n").expect("sig") + 2;
            let line = b.checkpoint[line_start..].trim_end().to_owned();
            let (head, b64) = line.rsplit_once(' ').expect("signature line");
            use base64::Engine as _;
            let engine = base64::engine::general_purpose::STANDARD;
            let mut raw = engine.decode(b64).expect("base64");
            match rng.range(0, 3) {
                0 => {
                    let at = rng.range(4, raw.len());
                    raw[at] ^= 1 << rng.range(0, 8);
                    case.what = format!("checkpoint signature byte {at} altered");
                }
                1 => {
                    let at = rng.range(0, 4);
                    raw[at] ^= 1 << rng.range(0, 8);
                    case.what = format!("checkpoint key ID byte {at} altered");
                }
                _ => {
                    let other = SecretKey::from_seed(&[rng.range(0, 256) as u8 ^ 0x4c | 1; 32]);
                    let note = LogSigner::new(ORIGIN, other)
                        .expect("signer")
                        .sign(97, world.tree.root())
                        .expect("signed")
                        .note_text;
                    b.checkpoint = note;
                    case.what = "checkpoint re-signed by another key under the log's name".into();
                    case.bytes = text(&b);
                    return case;
                }
            }
            b.checkpoint = format!(
                "{}{head} {}\n",
                &b.checkpoint[..line_start],
                engine.encode(&raw)
            );
        }
        Kind::ForkedCheckpoint => {
            // The log key signs a tree of the same size whose leaf `k` differs: the fork's
            // checkpoint is swapped in, the records and proofs are the genuine ones.
            let k = rng.range(0, 97);
            let fork = forked(&world.records, k);
            let tree = tree_of(&fork).expect("tree");
            b.checkpoint = world
                .signer
                .sign(97, tree.root())
                .expect("signed")
                .note_text;
            case.what = format!("checkpoint of a fork from index {k}, validly signed");
        }
        Kind::ResealedWithOtherKey => {
            // A record altered, then everything above it recomputed and signed with the
            // attacker's own key, which may also replace the bundle's log_key.
            let p = rng.range(0, n);
            let mut r = record(&b.records[p]);
            let s = some_seconds(rng);
            r.event.at = shifted(r.event.at, s);
            let attacker = LogSigner::new(ORIGIN, SecretKey::from_seed(&[0xa7; 32])).expect("ok");
            b = resealed(world, p, r.to_line(), &attacker);
            if rng.coin() {
                b.log_key = attacker.verifier_key().to_string();
                case.what = format!("records[{p}].at moved by {s} s; resealed, log_key replaced");
            } else {
                case.what = format!("records[{p}].at moved by {s} s; resealed by another key");
            }
            case.also_untrusted = true;
        }
        Kind::EditedClaim => {
            let mut claims = serde_json::to_value(&world.bundle.claims).expect("json");
            let what = edit_claim(&mut claims, rng);
            case.what = format!("claim {what}");
            case.bytes = with_claims(world, &claims);
            return case;
        }
        Kind::ForkedLogVsOldCheckpoint => {
            // The operator forked the log at index k (any record, the bundle's or not) and
            // sealed a perfect bundle of the fork; the auditor kept a genuine checkpoint of
            // a size past k.
            let k = rng.range(0, 97);
            let old_size = rng.range(k + 1, 98) as u64;
            let fork = forked(&world.records, k);
            let fork_tree = tree_of(&fork).expect("tree");
            b = bundle_from_log(&fork, &replay(&fork), &agreement(), &world.signer)
                .expect("a bundle of the fork");
            let proof = ConsistencyProof {
                old_size,
                new_size: 97,
                hashes: prove_consistency(old_size, 97, &fork_tree).expect("proof"),
            };
            case.old = Some((world.old_checkpoint(old_size), proof));
            case.what =
                format!("fork from index {k}, auditor holds the checkpoint of size {old_size}");
        }
        Kind::TruncatedLogVsOldCheckpoint => {
            // The operator cut the log to `t` records (every Norrköping record is kept), and
            // perhaps grew it again differently; the auditor kept a genuine checkpoint of a
            // size past `t`.
            let t = rng.range(54, 97);
            let old_size = rng.range(t + 1, 98) as u64;
            let old = world.old_checkpoint(old_size);
            if rng.coin() {
                let cut = world.records[..t].to_vec();
                b = bundle_from_log(&cut, &replay(&cut), &agreement(), &world.signer)
                    .expect("a bundle of the cut log");
                let proof = ConsistencyProof {
                    old_size,
                    new_size: t as u64,
                    hashes: Vec::new(),
                };
                case.old = Some((old, proof));
                case.what = format!("log cut to {t}, auditor holds size {old_size}");
            } else {
                let regrown = forked(&world.records, t);
                let tree = tree_of(&regrown).expect("tree");
                b = bundle_from_log(&regrown, &replay(&regrown), &agreement(), &world.signer)
                    .expect("a bundle of the regrown log");
                let proof = ConsistencyProof {
                    old_size,
                    new_size: 97,
                    hashes: prove_consistency(old_size, 97, &tree).expect("proof"),
                };
                case.old = Some((old, proof));
                case.what =
                    format!("log cut to {t} and regrown to 97, auditor holds size {old_size}");
            }
        }
    }
    case.bytes = text(&b);
    case
}

/// Changes one claim to another plausible value; returns its path.
fn edit_claim(claims: &mut Value, rng: &mut Rng) -> String {
    let versions = claims["versions"].as_array().map_or(0, Vec::len);
    let signatures = claims["signatures"].as_array().map_or(0, Vec::len);
    match rng.range(0, 8) {
        0 => {
            let v = rng.range(0, versions);
            let now = claims["versions"][v]["status"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let other = ["open", "stale", "withdrawn", "in_force", "superseded"]
                .into_iter()
                .filter(|s| *s != now)
                .nth(rng.range(0, 4))
                .unwrap_or("stale");
            claims["versions"][v]["status"] = other.into();
            format!("versions[{v}].status {now} -> {other}")
        }
        1 => {
            let v = rng.range(0, versions);
            claims["versions"][v]["in_force_until"] = "2024-12-31".into();
            format!("versions[{v}].in_force_until = 2024-12-31")
        }
        2 => {
            let s = rng.range(0, signatures);
            claims["signatures"][s]["signed_on"] = "2019-12-24".into();
            format!("signatures[{s}].signed_on = 2019-12-24")
        }
        3 => {
            let s = rng.range(0, signatures);
            claims["signatures"]
                .as_array_mut()
                .expect("array")
                .remove(s);
            format!("signatures[{s}] removed")
        }
        4 => {
            let s = rng.range(0, signatures);
            claims["signatures"][s]["method"] = "paper".into();
            format!("signatures[{s}].method = paper")
        }
        5 => {
            claims["in_force"][0]["from"] = "2020-01-01".into();
            "in_force[0].from = 2020-01-01".into()
        }
        6 => {
            let h = rng.range(0, 2);
            let events = claims["heads"][h]["events"].as_u64().unwrap_or(0);
            claims["heads"][h]["events"] = (events + 1).into();
            format!("heads[{h}].events + 1")
        }
        _ => {
            claims["status"] = "in_force".into();
            "status = in_force (the request is hidden)".into()
        }
    }
}

fn verify_bytes(
    bytes: &[u8],
    trust: &Trust,
    old: Option<&(String, ConsistencyProof)>,
) -> Result<(), Failure> {
    // What `overens verify` does before the library: a bundle must be UTF-8 text.
    let text = std::str::from_utf8(bytes).map_err(|e| Failure {
        check: Check::Format,
        at: "bundle".into(),
        detail: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ),
    })?;
    verify_bundle(text, trust, old.map(|(t, p)| (t.as_str(), p.clone()))).map(|_| ())
}

/// Runs the real binary on a case; returns its exit code and stderr.
fn run_binary(dir: &Path, i: usize, case: &Case, log_key: &str) -> (Option<i32>, String) {
    let bundle = dir.join(format!("bundle-{i}.json"));
    std::fs::write(&bundle, &case.bytes).expect("write bundle");
    let registrar = examples::registrar().to_string();
    let mut args: Vec<String> = vec![
        "verify".into(),
        bundle.display().to_string(),
        "--log-key".into(),
        log_key.into(),
        "--registrar".into(),
        registrar,
    ];
    if let Some((old, proof)) = &case.old {
        let old_path = dir.join(format!("old-{i}.checkpoint"));
        let proof_path = dir.join(format!("proof-{i}.json"));
        std::fs::write(&old_path, old).expect("write");
        std::fs::write(&proof_path, serde_json::to_string(proof).expect("json")).expect("write");
        args.extend([
            "--checkpoint".into(),
            old_path.display().to_string(),
            "--consistency".into(),
            proof_path.display().to_string(),
        ]);
    }
    let run = overens(&args);
    run.assert_no_panic();
    (run.code, run.stderr)
}

/// What one mutation did to the verifier.
struct Outcome {
    kind: Kind,
    caught_by: Check,
    /// The check that caught it with the bundle's own keys trusted (resealed kind).
    untrusted: Option<Check>,
    /// It verified without the auditor's older checkpoint (fork and truncation kinds).
    invisible_without_old: bool,
    binary: bool,
}

/// Mutation `i`: its kind is `i` modulo the kinds, its randomness is seeded by `i` alone,
/// so the campaign is the same however the cases are spread over threads.
fn run_case(world: &World, dir: &Path, log_key: &str, i: usize) -> Outcome {
    let kind = KINDS[i % KINDS.len()];
    let mut rng = Rng(SEED ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let case = mutate(world, kind, &mut rng);
    assert_ne!(
        case.bytes,
        world.text.as_bytes(),
        "{kind:?} {} changed nothing",
        case.what
    );
    let failure = verify_bytes(&case.bytes, &world.trust, case.old.as_ref())
        .err()
        .unwrap_or_else(|| panic!("undetected: {kind:?}: {}", case.what));
    assert_eq!(failure.exit_code(), 1, "{kind:?} {}: {failure}", case.what);
    // With the bundle's own keys trusted, a resealed bundle's altered record itself must
    // still fail.
    let untrusted = case.also_untrusted.then(|| {
        verify_bytes(&case.bytes, &Trust::default(), None)
            .err()
            .unwrap_or_else(|| panic!("resealed, own keys: undetected: {}", case.what))
            .check
    });
    // The limit of a self-contained bundle: without the auditor's older checkpoint a
    // resealed fork or a truncated log is a perfectly consistent bundle.
    let invisible_without_old =
        case.old.is_some() && verify_bytes(&case.bytes, &world.trust, None).is_ok();
    let binary = i.is_multiple_of(BINARY_EVERY);
    if binary {
        let (code, stderr) = run_binary(dir, i, &case, log_key);
        assert_eq!(code, Some(1), "{kind:?} {}: {stderr}", case.what);
        let named = format!("{} check failed", failure.check);
        assert!(
            stderr.contains(&named),
            "{kind:?} {}: wanted {named:?}:\n{stderr}",
            case.what
        );
    }
    Outcome {
        kind,
        caught_by: failure.check,
        untrusted,
        invisible_without_old,
        binary,
    }
}

#[test]
fn every_mutation_of_a_bundle_is_detected() {
    let world = world();
    let dir = tempfile::tempdir().expect("tmp");
    let log_key = world.signer.verifier_key().to_string();

    // The valid bundle passes, alone and against an older checkpoint, in the library and
    // in the binary.
    verify_bytes(world.text.as_bytes(), &world.trust, None).expect("the valid bundle verifies");
    let old = (world.old_checkpoint(60), world.consistency(60, 97));
    verify_bytes(world.text.as_bytes(), &world.trust, Some(&old)).expect("the log only grew");
    for old in [None, Some(old)] {
        let valid = Case {
            what: "none".into(),
            bytes: world.text.clone().into_bytes(),
            old,
            also_untrusted: false,
        };
        let (code, stderr) = run_binary(dir.path(), usize::MAX, &valid, &log_key);
        assert_eq!(code, Some(0), "the valid bundle must verify:\n{stderr}");
    }

    let total = KINDS.len() * PER_KIND;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (world, dir, log_key) = (&world, dir.path(), log_key.as_str());
                scope.spawn(move || {
                    (t..total)
                        .step_by(threads)
                        .map(|i| run_case(world, dir, log_key, i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });

    let mut table: BTreeMap<Kind, BTreeMap<Check, usize>> = BTreeMap::new();
    let mut untrusted: BTreeMap<Check, usize> = BTreeMap::new();
    for o in &outcomes {
        *table
            .entry(o.kind)
            .or_default()
            .entry(o.caught_by)
            .or_default() += 1;
        if let Some(check) = o.untrusted {
            *untrusted.entry(check).or_default() += 1;
        }
    }
    let binary_runs = outcomes.iter().filter(|o| o.binary).count();
    let invisible = outcomes.iter().filter(|o| o.invisible_without_old).count();
    println!(
        "tamper campaign: {total} mutations (seed {SEED:#x}), {binary_runs} also run through \
         the binary; every one detected"
    );
    println!("{:<30} {:>5}  caught by", "mutation", "count");
    for (kind, checks) in &table {
        let count: usize = checks.values().sum();
        let by: Vec<String> = checks.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("{:<30} {count:>5}  {}", format!("{kind:?}"), by.join(", "));
    }
    let by: Vec<String> = untrusted.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!(
        "ResealedWithOtherKey, verified with the bundle's own keys instead: {}",
        by.join(", ")
    );
    println!(
        "forks and truncations that verify WITHOUT the auditor's older checkpoint: {invisible} \
         of {}",
        2 * PER_KIND
    );
    assert_eq!(outcomes.len(), total);
    assert_eq!(table.len(), KINDS.len());
    assert!(binary_runs >= 50, "{binary_runs} binary runs");
    // Without a held checkpoint, nothing in a resealed fork or truncation is wrong.
    assert_eq!(invisible, 2 * PER_KIND);
}

/// `overens verify --checkpoint OLD --server URL` fetches the consistency proof from a
/// running server (GET /v1/log/proof/consistency) and checks it like one from a file.
#[test]
fn verify_fetches_the_consistency_proof_from_a_server() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let registrar = examples::registrar_path().display().to_string();
    let log = examples::log_path().display().to_string();
    overens([
        "import",
        "--data",
        &data_arg,
        "--registrar",
        &registrar,
        &log,
    ])
    .expect_code(0);
    let bundle = dir.path().join("bundle.json");
    let bundle_arg = bundle.display().to_string();
    overens([
        "export-bundle",
        "--data",
        &data_arg,
        "--agreement",
        AGREEMENT,
        "--out",
        &bundle_arg,
    ])
    .expect_code(0);
    let log_pub = data.join("log.pub").display().to_string();
    overens([
        "verify",
        &bundle_arg,
        "--log-key",
        &log_pub,
        "--registrar",
        &registrar,
    ])
    .expect_code(0)
    .stdout_has(&["bundle verified", "(given by you)"]);

    // The auditor kept the genuine checkpoint of size 60, signed by this data directory's
    // log key (read here to make it; a real auditor saved the one the server served).
    let key_text = std::fs::read_to_string(data.join("log.key")).expect("log.key");
    let verifier: overens_log::VerifierKey = std::fs::read_to_string(data.join("log.pub"))
        .expect("log.pub")
        .trim()
        .parse()
        .expect("verifier key");
    let signer = LogSigner::new(
        verifier.name(),
        SecretKey::from_text(key_text.trim()).expect("secret key"),
    )
    .expect("signer");
    let records: Vec<LogRecord> = examples::log_text()
        .lines()
        .map(|l| LogRecord::parse_line(l).expect("record"))
        .collect();
    let tree = tree_of(&records).expect("tree");
    let old = dir.path().join("old.checkpoint");
    let old_arg = old.display().to_string();
    std::fs::write(
        &old,
        signer
            .sign(60, tree_hash(60, &tree).expect("root"))
            .expect("signed")
            .note_text,
    )
    .expect("write");
    // A checkpoint of size 60 of another history, signed by the same key: a fork.
    let forked_old = dir.path().join("forked.checkpoint");
    let forked_arg = forked_old.display().to_string();
    let fork = tree_of(&forked(&records, 30)).expect("tree");
    std::fs::write(
        &forked_old,
        signer
            .sign(60, tree_hash(60, &fork).expect("root"))
            .expect("signed")
            .note_text,
    )
    .expect("write");

    let server = Server::start(&["--data", &data_arg, "--listen", "127.0.0.1:0"]);
    let verify = |old: &str| {
        overens([
            "verify",
            &bundle_arg,
            "--log-key",
            &log_pub,
            "--registrar",
            &registrar,
            "--checkpoint",
            old,
            "--server",
            server.base(),
        ])
    };
    verify(&old_arg)
        .expect_code(0)
        .stdout_has(&["the log only grew since your checkpoint of size 60"]);
    verify(&forked_arg)
        .expect_code(1)
        .stderr_has(&["consistency check failed", "forked"]);
    // Without a proof source, --checkpoint is a usage error.
    overens(["verify", &bundle_arg, "--checkpoint", &old_arg]).expect_code(2);
}
