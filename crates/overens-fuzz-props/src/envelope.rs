//! Envelope parsing and verification: what the server does with every posted event.

use overens_core::envelope::{EVENT_SIGNING_PREFIX, MAX_SAFE_INTEGER};
use overens_core::{Digest32, Envelope, EnvelopeError, SecretKey};

use crate::Outcome;

/// A key of the fuzzer's own (seed 0x45, 'E'): inputs are re-signed with it so that the
/// verifier's accepting path is reached, not only `BadSignature`.
fn fuzz_key() -> SecretKey {
    SecretKey::from_seed(&[0x45; 32])
}

/// Properties of envelope parsing and verification:
///
/// - text the parser refuses, the stored-bytes reader refuses too;
/// - an accepted envelope's canonical bytes are the JCS library's bytes for it, parse back
///   (as stored bytes) and re-serialise to themselves; the input is read as stored bytes
///   exactly when it is those canonical bytes;
/// - verification is deterministic, and verifying the canonical bytes gives the same
///   result; a verified event holds exactly the canonical bytes and their hash, and it has
///   only that one form;
/// - re-signed with a valid key, the envelope verifies unless its shape is wrong, and then
///   with the same error as before: the signature never depends on anything but the
///   signing input.
pub fn check_envelope(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(Envelope::from_canonical_bytes(data).is_err());
        return Outcome::Refused;
    };
    let Ok(envelope) = Envelope::parse(text) else {
        assert!(
            Envelope::from_canonical_bytes(data).is_err(),
            "the stored-bytes reader accepts what the parser refuses"
        );
        return Outcome::Refused;
    };

    let canonical = envelope.canonical_bytes();
    let oracle = serde_json_canonicalizer::to_vec(&envelope).expect("an envelope is plain JSON");
    assert_eq!(
        String::from_utf8_lossy(&canonical),
        String::from_utf8_lossy(&oracle),
        "the direct writer differs from the JCS library"
    );
    let unsigned = envelope.unsigned().signing_input();
    let mut expected_input = EVENT_SIGNING_PREFIX.to_vec();
    expected_input.extend(
        serde_json_canonicalizer::to_vec(&envelope.unsigned()).expect("an envelope is plain JSON"),
    );
    assert_eq!(unsigned, expected_input, "the signing input is not JCS");

    let verified = envelope.clone().verify();
    assert_eq!(
        envelope.clone().verify(),
        verified,
        "verification is not deterministic"
    );

    // JCS writes integers above 2^53 as the nearest double, so such a `seq` has no exact
    // canonical form; verification refuses it (`SeqTooLarge`) before anything is stored.
    if envelope.seq <= MAX_SAFE_INTEGER {
        let again = Envelope::from_canonical_bytes(&canonical)
            .unwrap_or_else(|e| panic!("canonical bytes do not read back: {e}"));
        assert_eq!(
            again.canonical_bytes(),
            canonical,
            "canonical bytes are not a fixed point"
        );
        if data == canonical.as_slice() {
            assert_eq!(Envelope::from_canonical_bytes(data).as_ref(), Ok(&envelope));
        } else {
            assert!(
                Envelope::from_canonical_bytes(data).is_err(),
                "non-canonical bytes read as stored bytes"
            );
        }
        assert_eq!(
            Envelope::verify_canonical_bytes(&canonical),
            Ok(envelope.clone().verify()),
            "verifying stored bytes differs from verifying the envelope"
        );
        if verified.is_ok() {
            assert_eq!(again, envelope, "a verified event has two forms");
        }
    } else {
        assert_eq!(verified, Err(EnvelopeError::SeqTooLarge(envelope.seq)));
    }
    if let Ok(event) = &verified {
        assert_eq!(event.canonical_bytes(), canonical.as_slice());
        assert_eq!(event.hash(), Digest32::of(&canonical));
        assert_eq!(event.envelope(), &envelope);
    }

    let key = fuzz_key();
    let mut unsigned = envelope.unsigned();
    unsigned.signer = key.public();
    let resigned = unsigned.sign(&key).verify();
    match &verified {
        Err(shape) if shape.is_malformed() => {
            assert_eq!(resigned.as_ref().err(), Some(shape), "shape checks changed");
        }
        _ => assert!(
            resigned.is_ok(),
            "a well-shaped envelope, signed, does not verify: {:?}",
            resigned.err()
        ),
    }
    Outcome::of(resigned.is_ok())
}
