//! Each kind of damage is named: which check, where, and what is wrong.

use overens_audit::{Bundle, Check, Failure, Trust, verify_bundle};
use overens_core::LogRecord;
use overens_log::{ConsistencyProof, prove_consistency, tree_hash};
use serde_json::Value;

use crate::common::{NORRKOPING, bundle, bundle_of, log_signer, records, trusted};

fn verify(bundle: &Bundle) -> Failure {
    let text = bundle.to_json().expect("json");
    verify_bundle(&text, &trusted(), None).expect_err("must fail")
}

fn verify_text(text: &str) -> Failure {
    verify_bundle(text, &trusted(), None).expect_err("must fail")
}

/// The bundle's text with its claims edited (records stay canonical: compact output).
fn with_claims(bundle: &Bundle, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(&bundle.to_json().expect("json")).expect("json");
    edit(&mut value["claims"]);
    serde_json::to_string(&value).expect("json")
}

#[test]
fn a_dropped_record_breaks_the_chain() {
    let mut b = bundle(NORRKOPING);
    b.records.remove(5);
    b.proofs.remove(5);
    let f = verify(&b);
    assert_eq!(f.check, Check::Chain, "{f}");
    assert_eq!(f.at, "records[5] (index 6, directory seq 6)");
    assert!(f.detail.contains("seq"), "{f}");
}

#[test]
fn a_dropped_last_record_is_caught_by_the_claims() {
    let mut b = bundle(NORRKOPING);
    b.records.pop();
    b.proofs.pop();
    let f = verify(&b);
    assert_eq!(f.check, Check::Claim, "{f}");
    assert_eq!(f.at, "claims.heads[1].events");
}

#[test]
fn a_record_without_its_proof_is_named() {
    let mut b = bundle(NORRKOPING);
    b.records.remove(3);
    let f = verify(&b);
    assert_eq!((f.check, f.at.as_str()), (Check::Proof, "proofs"), "{f}");
}

#[test]
fn a_repeated_record_is_out_of_order() {
    let mut b = bundle(NORRKOPING);
    b.records.insert(8, b.records[7].clone());
    b.proofs.insert(8, b.proofs[7].clone());
    let f = verify(&b);
    assert_eq!(f.check, Check::Order, "{f}");
    assert!(f.at.starts_with("records[8] (index 7,"), "{f}");
}

#[test]
fn a_swapped_signature_does_not_verify() {
    let mut b = bundle(NORRKOPING);
    let sig = |line: &str| {
        let start = line.find("\"sig\":\"").expect("sig") + 7;
        start..start + 86
    };
    let (a, c) = (b.records[2].clone(), b.records[3].clone());
    let mut a2 = a.clone();
    a2.replace_range(sig(&a), &c[sig(&c)]);
    b.records[2] = a2;
    let f = verify(&b);
    assert_eq!(f.check, Check::Signature, "{f}");
    assert!(f.at.starts_with("records[2] (index 2,"), "{f}");
}

#[test]
fn a_retimed_record_is_not_the_logs() {
    let mut b = bundle(NORRKOPING);
    // Back-dated to its predecessor's time: still in order, but not the bytes the log holds.
    let mut record = LogRecord::parse_line(&b.records[30]).expect("record");
    record.recorded_at = LogRecord::parse_line(&b.records[29])
        .expect("record")
        .recorded_at;
    b.records[30] = record.to_line();
    let f = verify(&b);
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Proof, "proofs[30] (of index 30)"),
        "{f}"
    );
    assert!(f.detail.contains("not leaf 30"), "{f}");
}

#[test]
fn a_non_canonical_record_is_refused() {
    let mut b = bundle(NORRKOPING);
    b.records[0] = b.records[0].replacen("{\"event\":", "{ \"event\":", 1);
    let f = verify(&b);
    assert_eq!(f.check, Check::Record, "{f}");
    assert!(f.detail.contains("canonical"), "{f}");
}

#[test]
fn another_agreements_record_does_not_belong() {
    let all = records();
    let mut b = bundle(NORRKOPING);
    b.records.push(all[60].to_line());
    b.proofs.push(b.proofs[0].clone());
    let f = verify(&b);
    assert_eq!(f.check, Check::Record, "{f}");
    assert!(f.detail.contains("agreement/norrtalje-bus"), "{f}");
}

#[test]
fn a_false_claim_is_named_by_its_path() {
    let b = bundle(NORRKOPING);
    let text = with_claims(&b, |c| c["versions"][1]["status"] = "in_force".into());
    let f = verify_text(&text);
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Claim, "claims.versions[1].status")
    );
    assert!(
        f.detail.contains("\"in_force\"") && f.detail.contains("\"open\""),
        "{f}"
    );
    let text = with_claims(&b, |c| {
        c["signatures"].as_array_mut().expect("array").pop();
    });
    let f = verify_text(&text);
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Claim, "claims.signatures")
    );
    let text = with_claims(&b, |c| c["in_force"][0]["from"] = "2020-03-01".into());
    assert_eq!(verify_text(&text).at, "claims.in_force[0].from");
}

#[test]
fn a_broken_document_is_a_format_failure_and_an_unknown_version_an_input_one() {
    let f = verify_text("{\"format\":");
    assert_eq!(f.check, Check::Format);
    assert_eq!(f.exit_code(), 1);
    let text = bundle(NORRKOPING)
        .to_json()
        .expect("json")
        .replace("overens-bundle/1", "overens-bundle/2");
    let f = verify_text(&text);
    assert_eq!((f.check, f.exit_code()), (Check::Input, 2));
}

#[test]
fn an_altered_checkpoint_does_not_verify() {
    let mut b = bundle(NORRKOPING);
    b.checkpoint = b.checkpoint.replacen("\n97\n", "\n98\n", 1);
    let f = verify(&b);
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Checkpoint, "checkpoint"),
        "{f}"
    );
}

/// The auditor kept the checkpoint of size 60; the log grew to 97.
#[test]
fn the_log_only_grew_since_an_old_checkpoint() {
    let all = records();
    let tree = overens_audit::tree_of(&all).expect("tree");
    let old = log_signer()
        .sign(60, tree_hash(60, &tree).expect("root"))
        .expect("signed");
    let proof = ConsistencyProof {
        old_size: 60,
        new_size: 97,
        hashes: prove_consistency(60, 97, &tree).expect("proof"),
    };
    let text = bundle(NORRKOPING).to_json().expect("json");
    let report = verify_bundle(&text, &trusted(), Some((&old.note_text, proof.clone())))
        .expect("consistent");
    assert_eq!(report.consistency.as_ref().map(|c| c.old_size), Some(60));
    assert!(
        report
            .to_text()
            .contains("the log only grew since your checkpoint of size 60")
    );

    // A proof for other sizes, or an altered one, fails.
    let mut wrong = proof.clone();
    wrong.hashes[0].0[0] ^= 1;
    let f = verify_bundle(&text, &trusted(), Some((&old.note_text, wrong))).expect_err("bad");
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Consistency, "consistency proof")
    );

    // A bundle of a truncated log (size 54) against the checkpoint of size 60.
    let short = bundle_of(&all[..54], NORRKOPING).to_json().expect("json");
    let f = verify_bundle(
        &short,
        &trusted(),
        Some((
            &old.note_text,
            ConsistencyProof {
                old_size: 60,
                new_size: 54,
                hashes: vec![],
            },
        )),
    )
    .expect_err("shrank");
    assert_eq!(f.check, Check::Consistency);
    assert!(f.detail.contains("the log shrank"), "{f}");

    // An old checkpoint that is not a note is the auditor's input error (exit 2).
    let f = verify_bundle(&text, &trusted(), Some(("not a note", proof))).expect_err("input");
    assert_eq!((f.check, f.exit_code()), (Check::Input, 2));
}

#[test]
fn trust_none_still_checks_everything_else() {
    let mut b = bundle(NORRKOPING);
    b.records.swap(10, 11);
    b.proofs.swap(10, 11);
    let text = b.to_json().expect("json");
    let f = verify_bundle(&text, &Trust::default(), None).expect_err("order");
    // Record 11 now comes first: the directory expects seq 10.
    assert_eq!(f.check, Check::Chain, "{f}");
    assert!(f.at.starts_with("records[10] (index 11,"), "{f}");
}
