//! Signed notes, checkpoints and verifier keys (C2SP): what a client or an auditor reads
//! from `/v1/log/checkpoint`, `/v1/log/key` and a bundle.

use overens_core::SecretKey;
use overens_log::{Checkpoint, SignedNote, VerifierKey};

use crate::Outcome;
use crate::examples::log_signer;

/// Properties of the note, checkpoint and key parsers, all run on the same text:
///
/// - a note `SignedNote::parse` accepts prints (`Display`) to exactly the input;
/// - a checkpoint body `Checkpoint::from_note_body` accepts is exactly `to_note_body()`;
/// - a verifier key `VerifierKey::from_str` accepts prints to exactly the input;
/// - the input's text, signed by the log key, opens under that key to the same text, and
///   as a checkpoint it verifies exactly when its body is a checkpoint, to the same one;
///   signed by another key of the same name, it is refused;
/// - a note the log key did not sign never verifies as a checkpoint of the log.
pub fn check_note(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::Refused;
    };
    let signer = log_signer();
    let verifier = signer.verifier_key();
    let mut accepted = false;

    if let Ok(note) = SignedNote::parse(text) {
        assert_eq!(note.to_string(), text, "a parsed note prints differently");
        assert_eq!(SignedNote::parse(&note.to_string()).as_ref(), Ok(&note));
        // The fuzzer cannot sign with the log key: a note it wrote never verifies, unless
        // it is a seed the log key really signed (then it verifies again, the same).
        if let Ok(opened) = note.verify(verifier) {
            assert_eq!(opened, note.text);
            assert!(
                signed_seed(text),
                "a note the log key did not sign verifies"
            );
        }
        accepted = true;
    }
    if let Ok(checkpoint) = Checkpoint::from_note_body(text) {
        assert_eq!(
            checkpoint.to_note_body(),
            text,
            "a checkpoint body prints differently"
        );
        accepted = true;
    }
    if let Ok(key) = text.parse::<VerifierKey>() {
        assert_eq!(key.to_string(), text, "a verifier key prints differently");
        accepted = true;
    }

    // The input as a note's text, signed here.
    let key = SecretKey::from_seed(&[0x46; 32]);
    match SignedNote::sign(text, &key, verifier.name()) {
        Ok(note) => {
            let printed = note.to_string();
            assert_eq!(
                SignedNote::open(&printed, verifier).as_deref(),
                Ok(text),
                "a note signed by the log key does not open"
            );
            let as_checkpoint = Checkpoint::parse_and_verify_with(&printed, verifier);
            match Checkpoint::from_note_body(text) {
                Ok(body) => assert_eq!(as_checkpoint, Ok(body)),
                Err(e) => assert_eq!(as_checkpoint, Err(e)),
            }
            let other = SecretKey::from_seed(&[0x47; 32]);
            let forged = SignedNote::sign(text, &other, verifier.name())
                .expect("the same text and name sign");
            assert!(SignedNote::open(&forged.to_string(), verifier).is_err());
        }
        Err(_) => {
            assert!(
                !text.ends_with('\n')
                    || text.bytes().any(|b| b < 0x20 && b != b'\n')
                    || text.len() > overens_log::note::MAX_NOTE_SIZE
            );
        }
    }
    Outcome::of(accepted)
}

/// Whether `text` is a note the fuzz log key signed: only seeds are, and their text was
/// signed with that key, so signing the text again (ed25519 is deterministic) gives it.
fn signed_seed(text: &str) -> bool {
    let Ok(note) = SignedNote::parse(text) else {
        return false;
    };
    let signer = log_signer();
    SignedNote::sign(
        &note.text,
        &SecretKey::from_seed(&[0x46; 32]),
        signer.verifier_key().name(),
    )
    .is_ok_and(|signed| note.signatures.contains(&signed.signatures[0]))
}
