//! Bundles of a log whose key was rotated: the chain of key transitions in the bundle leads
//! an auditor from the key it pinned to the key that signed the checkpoint.

use overens_audit::{BuildError, Check, Trust, bundle_from_log, tree_of, verify_bundle};
use overens_core::{AgreementId, SecretKey};
use overens_log::{
    ConsistencyProof, KeyChain, KeyTransition, LogSigner, VerifierKey, prove_consistency, tree_hash,
};
use serde_json::Value;

use crate::common::{NORRKOPING, ORIGIN, records, registrar, state_of, verifier};
use crate::schema;

/// The common test key (0x4c) is the log's first; seeds 2 and 3 follow it.
fn secret(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn signer(n: u8) -> LogSigner {
    LogSigner::new(ORIGIN, secret(n)).expect("signer")
}

fn key(n: u8) -> VerifierKey {
    signer(n).verifier_key().clone()
}

/// L → 2 at size 60, 2 → 3 at size 80.
fn notes() -> Vec<String> {
    vec![
        KeyTransition::sign(ORIGIN, &secret(0x4c), &secret(2), 60)
            .expect("first")
            .note()
            .to_owned(),
        KeyTransition::sign(ORIGIN, &secret(2), &secret(3), 80)
            .expect("second")
            .note()
            .to_owned(),
    ]
}

fn chain() -> KeyChain {
    KeyChain::follow(&verifier(), &notes()).expect("chain")
}

/// The bundle of the whole example log (97 records), signed by key `n`, with `chain`.
fn rotated_by(n: u8, chain: Option<&KeyChain>) -> Result<String, BuildError> {
    let all = records();
    let id: AgreementId = NORRKOPING.parse().expect("id");
    let mut bundle = bundle_from_log(&all, &state_of(&all), &id, &signer(n))?;
    if let Some(chain) = chain {
        bundle = bundle.with_key_chain(chain)?;
    }
    Ok(bundle.to_json().expect("json"))
}

fn rotated() -> String {
    rotated_by(3, Some(&chain())).expect("bundle")
}

fn trusting(log_key: VerifierKey) -> Trust {
    Trust {
        registrars: Some(vec![registrar()]),
        log_key: Some(log_key),
    }
}

fn edit(text: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(text).expect("json");
    f(&mut value);
    serde_json::to_string_pretty(&value).expect("json")
}

#[test]
fn an_auditor_who_pinned_the_first_key_follows_the_chain() {
    let text = rotated();
    let value: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["key_chain"], serde_json::json!(notes()));
    assert_eq!(value["log_key"], key(3).to_string());
    let report = verify_bundle(&text, &trusting(verifier()), None).expect("verifies");
    assert_eq!(report.log_key, key(3).to_string());
    let steps: Vec<(u64, &str, &str)> = report
        .key_rotations
        .iter()
        .map(|r| (r.from_size, r.old_key.as_str(), r.new_key.as_str()))
        .collect();
    let (k0, k2, k3) = (
        verifier().to_string(),
        key(2).to_string(),
        key(3).to_string(),
    );
    assert_eq!(
        steps,
        [
            (60, k0.as_str(), k2.as_str()),
            (80, k2.as_str(), k3.as_str())
        ]
    );
    let shown = report.to_text();
    assert!(
        shown.contains(&format!("key chain   from {k0}, 2 rotations")),
        "{shown}"
    );
    assert!(shown.contains(&format!("from size 80: {k3}")), "{shown}");

    // Pinned later in the chain, or the current key itself: fewer rotations to follow.
    let report = verify_bundle(&text, &trusting(key(2)), None).expect("from key 2");
    assert_eq!(report.key_rotations.len(), 1);
    let report = verify_bundle(&text, &trusting(key(3)), None).expect("from key 3");
    assert!(report.key_rotations.is_empty());
    // Trusting nothing, the chain is followed from its own first key, with the warning.
    let report = verify_bundle(&text, &Trust::default(), None).expect("self-consistent");
    assert_eq!(report.key_rotations.len(), 2);
    assert!(!report.warnings.is_empty());
    // And the schema describes the field.
    let validator = schema::validator();
    let errors = schema::errors(&validator, &serde_json::from_str(&text).expect("json"));
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn without_the_chain_the_pinned_key_does_not_reach_the_new_one() {
    let text = edit(&rotated(), |v| {
        v.as_object_mut().expect("object").remove("key_chain");
    });
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("no chain");
    assert_eq!((f.check, f.at.as_str()), (Check::Trust, "log_key"), "{f}");
    assert!(
        f.detail.contains("no key chain leading from your key"),
        "{f}"
    );
    // An empty chain is not the absent one.
    let text = edit(&rotated(), |v| v["key_chain"] = serde_json::json!([]));
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("empty");
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Format, "key_chain"),
        "{f}"
    );
}

#[test]
fn a_forged_transition_is_refused() {
    // A whole chain from a key nobody trusts, to the same keys.
    let forged_whole = vec![
        KeyTransition::sign(ORIGIN, &secret(9), &secret(2), 60)
            .expect("forged")
            .note()
            .to_owned(),
        notes()[1].clone(),
    ];
    let text = edit(&rotated(), |v| {
        v["key_chain"] = serde_json::json!(forged_whole)
    });
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("forged");
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::KeyChain, "key_chain"),
        "{f}"
    );
    assert!(f.detail.contains("is not in the chain of log keys"), "{f}");

    // A transition that names the pinned key as the old one, signed by another key.
    let body = KeyTransition::body(ORIGIN, &verifier(), &key(2), 60);
    let mut note = overens_log::SignedNote::sign(&body, &secret(9), ORIGIN).expect("note");
    note.signatures.extend(
        overens_log::SignedNote::sign(&body, &secret(2), ORIGIN)
            .expect("note")
            .signatures,
    );
    let forged = vec![note.to_string(), notes()[1].clone()];
    let text = edit(&rotated(), |v| v["key_chain"] = serde_json::json!(forged));
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("forged");
    assert_eq!(f.check, Check::KeyChain, "{f}");
    assert!(
        f.detail
            .contains("key transition 1: not signed by the old key"),
        "{f}"
    );

    // The transitions swapped.
    let swapped: Vec<String> = notes().into_iter().rev().collect();
    let text = edit(&rotated(), |v| v["key_chain"] = serde_json::json!(swapped));
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("swapped");
    assert_eq!(f.check, Check::KeyChain, "{f}");
    assert!(f.detail.contains("key transition 2 is from key"), "{f}");
}

#[test]
fn a_retired_key_signs_nothing_after_its_rotation() {
    // Key 2 was retired at size 80; a checkpoint of size 97 signed by it is refused, when
    // building and when verifying.
    let e = rotated_by(2, Some(&chain())).expect_err("retired key");
    assert!(
        matches!(&e, BuildError::KeyChain(m) if m.contains("retired key")),
        "{e}"
    );
    let unchained = rotated_by(2, None).expect("bundle");
    let text = edit(&unchained, |v| v["key_chain"] = serde_json::json!(notes()));
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("retired");
    assert_eq!(
        (f.check, f.at.as_str()),
        (Check::Checkpoint, "checkpoint"),
        "{f}"
    );
    assert!(
        f.detail.contains("accepts only for sizes 60..=80")
            && f.detail
                .contains("a retired key signs nothing after its rotation"),
        "{f}"
    );
    // The first key too, from its own pinning.
    let text = edit(&rotated_by(0x4c, None).expect("bundle"), |v| {
        v["key_chain"] = serde_json::json!(notes())
    });
    let f = verify_bundle(&text, &trusting(verifier()), None).expect_err("retired");
    assert_eq!(f.check, Check::Checkpoint, "{f}");
    assert!(f.detail.contains("sizes 0..=60"), "{f}");
}

#[test]
fn an_old_checkpoint_is_checked_with_the_key_of_its_size() {
    let all = records();
    let tree = tree_of(&all).expect("tree");
    let text = rotated();
    let held = |n: u8, size: u64| {
        let checkpoint = signer(n)
            .sign(size, tree_hash(size, &tree).expect("root"))
            .expect("signed");
        let proof = ConsistencyProof {
            old_size: size,
            new_size: 97,
            hashes: prove_consistency(size, 97, &tree).expect("proof"),
        };
        (checkpoint.note_text, proof)
    };
    // Size 60 signed by the first key (its last checkpoint), 70 by key 2.
    for (n, size) in [(0x4c, 60), (0x4c, 12), (2, 60), (2, 70), (3, 80)] {
        let (note, proof) = held(n, size);
        let report = verify_bundle(&text, &trusting(verifier()), Some((&note, proof)))
            .unwrap_or_else(|f| panic!("key {n} size {size}: {f}"));
        assert_eq!(report.consistency.map(|c| c.old_size), Some(size));
    }
    // Size 70 signed by the first key, retired at 60.
    let (note, proof) = held(0x4c, 70);
    let f = verify_bundle(&text, &trusting(verifier()), Some((&note, proof))).expect_err("retired");
    assert_eq!(f.check, Check::Consistency, "{f}");
    assert!(
        f.detail
            .contains("does not verify under the log's key chain"),
        "{f}"
    );
    assert!(f.detail.contains("retired"), "{f}");
}
