//! Rotating the log's key with the real binary: serve, stop, `overens log-key rotate`, serve
//! again. The new key signs the checkpoints, `/v1/log/keys` serves the chain, and a bundle
//! made after the rotation verifies offline under the ORIGINAL key alone, by the key chain
//! it carries; a forged transition and a retired key's checkpoint are refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use overens_core::SecretKey;
use overens_log::{Checkpoint, KeyChain, KeyTransition, LogSigner, SignedNote, VerifierKey};
use overens_tests::{Server, example_registrar, overens, workspace_root};
use serde_json::Value;
use tempfile::TempDir;

const NORRKOPING: &str = "norrkoping-barn-och-unga";

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn serve(data: &Path) -> Server {
    Server::start(&["--data", path_str(data), "--listen", "127.0.0.1:0"])
}

fn stop(mut server: Server) {
    assert!(server.terminate(Duration::from_secs(20)).success());
}

fn log_key(server: &Server) -> VerifierKey {
    server.get_ok("/v1/log/key")["verifier_key"]
        .as_str()
        .expect("verifier key")
        .parse()
        .expect("a verifier key")
}

fn checkpoint_text(server: &Server) -> String {
    let reply = server.get_raw("/v1/log/checkpoint");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn secret_of(path: &Path) -> SecretKey {
    SecretKey::from_text(std::fs::read_to_string(path).expect("key file").trim()).expect("key")
}

fn verify(bundle: &Path, key: &VerifierKey) -> overens_tests::Run {
    overens([
        "verify".to_owned(),
        path_str(bundle).to_owned(),
        "--log-key".to_owned(),
        key.to_string(),
        "--registrar".to_owned(),
        path_str(&example_registrar()).to_owned(),
    ])
}

fn edit(text: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(text).expect("bundle JSON");
    f(&mut value);
    serde_json::to_string_pretty(&value).expect("JSON")
}

#[test]
fn a_rotated_key_is_followed_from_the_original_one() {
    let tmp = TempDir::new().expect("tmp");
    let data = tmp.path().join("data");
    overens_tests::examples::import_into(&data);

    // First start: the log gets its key; no rotation yet.
    let server = serve(&data);
    let original = log_key(&server);
    let keys = server.get_ok("/v1/log/keys");
    assert_eq!(keys["first_key"], original.to_string());
    assert_eq!(keys["current_key"], original.to_string());
    assert_eq!(keys["transitions"], serde_json::json!([]));
    let held = checkpoint_text(&server);
    let held_size = Checkpoint::parse_and_verify_with(&held, &original)
        .expect("signed by the first key")
        .size;
    assert_eq!(held_size, 97);

    // A running server holds the store: the rotation is refused and changes nothing.
    let key_file = data.join("log.key");
    let before = std::fs::read(&key_file).expect("log.key");
    overens(["log-key", "rotate", "--data", path_str(&data)])
        .expect_code(2)
        .stderr_has(&["in use by another process"]);
    assert_eq!(std::fs::read(&key_file).expect("log.key"), before);
    assert!(!data.join("log-keys").exists());
    // Kept by this test to play the retired key's thief below; the rotation deletes it.
    let retired_secret = secret_of(&key_file);
    stop(server);

    let run = overens(["log-key", "rotate", "--data", path_str(&data)]);
    run.expect_code(0)
        .stdout_has(&["at tree size 97", "(deleted)", "overens/log-key/v1\n"]);
    let new_key: VerifierKey = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("new log key: "))
        .expect("the new key is printed")
        .parse()
        .expect("a verifier key");
    assert_ne!(new_key, original);
    let note = std::fs::read_to_string(data.join("log-keys/0001.note")).expect("note");
    assert!(run.stdout.contains(&note), "the note is printed");
    assert_eq!(
        KeyTransition::open(&note).expect("a transition").new_key(),
        &new_key
    );
    assert!(
        !std::fs::read_to_string(&key_file)
            .expect("log.key")
            .contains(&retired_secret.to_text())
    );

    // Served again: the new key signs, the chain is served, the log keeps growing.
    let server = serve(&data);
    assert_eq!(log_key(&server), new_key);
    let keys = server.get_ok("/v1/log/keys");
    assert_eq!(keys["first_key"], original.to_string());
    assert_eq!(keys["current_key"], new_key.to_string());
    let transitions = keys["transitions"].as_array().expect("transitions");
    assert_eq!(transitions.len(), 1);
    assert_eq!(transitions[0]["from_size"], 97);
    assert_eq!(transitions[0]["old_key"], original.to_string());
    assert_eq!(transitions[0]["new_key"], new_key.to_string());
    assert_eq!(transitions[0]["note"], note);
    let registrar = secret_of(&workspace_root().join("events/examples/keys/registrar.key"));
    server.register(
        &registrar,
        "ny-kommun",
        "Ny kommun",
        &SecretKey::from_seed(&[77; 32]),
        "Ny Person",
    );
    let checkpoint = checkpoint_text(&server);
    let chain = KeyChain::follow(&original, std::slice::from_ref(&note)).expect("the served chain");
    let (opened, by) = chain.verify_checkpoint(&checkpoint).expect("follows");
    assert_eq!((opened.size, by), (99, &new_key));
    assert!(Checkpoint::parse_and_verify_with(&checkpoint, &original).is_err());

    // A bundle downloaded now verifies under the original key alone, by its key chain.
    let reply = server.get_raw(&format!("/v1/agreements/{NORRKOPING}/bundle"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let bundle_text = reply.body.clone();
    let bundle = tmp.path().join("bundle.json");
    std::fs::write(&bundle, &bundle_text).expect("write");
    verify(&bundle, &original).expect_code(0).stdout_has(&[
        "key chain   from",
        "from size 97:",
        &new_key.to_string(),
    ]);
    // And the checkpoint kept from before the rotation (the old key's, of size 97) is one
    // the log only extends.
    let held_file = tmp.path().join("held.checkpoint");
    std::fs::write(&held_file, &held).expect("write");
    overens([
        "verify",
        path_str(&bundle),
        "--log-key",
        &original.to_string(),
        "--registrar",
        path_str(&example_registrar()),
        "--checkpoint",
        path_str(&held_file),
        "--server",
        server.base(),
    ])
    .expect_code(0)
    .stdout_has(&["the log only grew since your checkpoint of size 97"]);
    // The data directory's own bundle carries the chain too (the server must be stopped).
    stop(server);
    let exported = tmp.path().join("exported.json");
    overens([
        "export-bundle",
        "--data",
        path_str(&data),
        "--agreement",
        NORRKOPING,
        "--out",
        path_str(&exported),
    ])
    .expect_code(0);
    verify(&exported, &original).expect_code(0);

    // Refused: a forged transition, one the original key did not sign.
    let new_secret = secret_of(&key_file);
    let origin = original.name();
    let body = KeyTransition::body(origin, &original, &new_key, 97);
    let thief = SecretKey::from_seed(&[66; 32]);
    let mut forged = SignedNote::sign(&body, &thief, origin).expect("note");
    forged.signatures.extend(
        SignedNote::sign(&body, &new_secret, origin)
            .expect("note")
            .signatures,
    );
    let forged_file = tmp.path().join("forged.json");
    std::fs::write(
        &forged_file,
        edit(&bundle_text, |v| {
            v["key_chain"] = serde_json::json!([forged.to_string()])
        }),
    )
    .expect("write");
    verify(&forged_file, &original)
        .expect_code(1)
        .stderr_has(&["key_chain check failed", "not signed by the old key"]);

    // Refused: the retired key (stolen) signs the checkpoint of size 99, beyond 97.
    let retired = LogSigner::new(origin, retired_secret).expect("signer");
    let root = Checkpoint::parse_and_verify_with(&checkpoint, &new_key)
        .expect("checkpoint")
        .root;
    let resigned = retired.sign(99, root).expect("signed");
    let retired_file = tmp.path().join("retired.json");
    std::fs::write(
        &retired_file,
        edit(&bundle_text, |v| {
            v["checkpoint"] = Value::String(resigned.note_text.clone());
            v["log_key"] = Value::String(original.to_string());
        }),
    )
    .expect("write");
    verify(&retired_file, &original)
        .expect_code(1)
        .stderr_has(&[
            "checkpoint check failed",
            "accepts only for sizes 0..=97",
            "a retired key signs nothing after its rotation",
        ]);
    // Without its key chain, the rotated bundle does not verify under the original key.
    let unchained = tmp.path().join("unchained.json");
    std::fs::write(
        &unchained,
        edit(&bundle_text, |v| {
            v.as_object_mut().expect("object").remove("key_chain");
        }),
    )
    .expect("write");
    verify(&unchained, &original)
        .expect_code(1)
        .stderr_has(&["trust check failed", "no key chain leading from your key"]);
}

#[test]
fn a_directory_without_a_key_or_a_store_is_not_rotated() {
    let tmp = TempDir::new().expect("tmp");
    let empty: PathBuf = tmp.path().join("nothing");
    overens(["log-key", "rotate", "--data", path_str(&empty)]).expect_code(2);
    assert!(!empty.exists());
    // A store but no key yet (imported, never served).
    let data = tmp.path().join("data");
    overens_tests::examples::import_into(&data);
    overens(["log-key", "rotate", "--data", path_str(&data)]).stderr_has(&["no log key to rotate"]);
    assert!(!data.join("log.key").exists());
    assert!(!data.join("log-keys").exists());
}
