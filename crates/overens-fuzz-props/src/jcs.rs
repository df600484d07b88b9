//! RFC 8785 canonical JSON: overens-core's fast writer against serde_json_canonicalizer.
//!
//! The fast writer (`jcs::write_value`, crate-private) writes every envelope's payload, so
//! it is reached through an envelope whose payload is the fuzzer's JSON.

use overens_core::{Digest32, Envelope, EventId, SecretKey, Signature, StreamId, jcs};
use serde_json::{Map, Value};

use crate::Outcome;

/// An envelope around `payload`, with a `seq` the input chooses (the writer's integers).
/// Unsigned (a fixed `sig`): only its bytes matter here, and they must not depend on the
/// payload anywhere but in `payload`.
fn envelope(payload: Map<String, Value>, seq: u64) -> Envelope {
    Envelope {
        v: 1,
        id: EventId::v7(1_700_000_000_000, [7; 10]),
        stream: StreamId::Directory,
        seq,
        prev: Digest32::ZERO,
        kind: "PartyRegistered".into(),
        at: "2023-11-14T22:13:20Z".parse().expect("an instant"),
        signer: SecretKey::from_seed(&[0x4a; 32]).public(),
        payload,
        sig: Signature::from_bytes(&[0x5a; 64]),
    }
}

/// The fast writer's bytes of one JSON object: an envelope's canonical bytes, less what
/// surrounds `"payload":…` (members are written in JCS order, `payload` after `id`).
fn fast_object(map: &Map<String, Value>) -> Vec<u8> {
    let empty = envelope(Map::new(), 0).canonical_bytes();
    let with = envelope(map.clone(), 0).canonical_bytes();
    let at = find(&empty, b"\"payload\":{}").expect("every envelope has a payload") + 10;
    let suffix = empty.len() - (at + 2);
    assert!(with.len() >= at + suffix && with[..at] == empty[..at]);
    assert_eq!(with[with.len() - suffix..], empty[empty.len() - suffix..]);
    with[at..with.len() - suffix].to_vec()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Properties of canonical JSON, for any text serde_json reads:
///
/// - the library's canonical text of the input (`pipe`) equals `jcs::canonical` of the
///   parsed value and the fast writer's bytes (for an object; anything else is wrapped in
///   an object);
/// - the canonical text parses and re-canonicalises to itself;
/// - a whole envelope around it, with a `seq` from the input, is written by the fast writer
///   exactly as the library writes it.
pub fn check_jcs(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::Refused;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        assert!(serde_json_canonicalizer::pipe(text).is_err());
        return Outcome::Refused;
    };
    let oracle =
        serde_json_canonicalizer::pipe(text).expect("the library reads what serde_json reads");
    let ours = jcs::canonical(&value).expect("a parsed value is plain JSON");
    assert_eq!(String::from_utf8_lossy(&ours), oracle);

    let object = match &value {
        Value::Object(map) => map.clone(),
        other => Map::from_iter([(String::new(), other.clone())]),
    };
    let fast = fast_object(&object);
    let library =
        serde_json_canonicalizer::to_vec(&Value::Object(object.clone())).expect("plain JSON");
    assert_eq!(
        String::from_utf8_lossy(&fast),
        String::from_utf8_lossy(&library),
        "the fast writer differs from the library"
    );
    if value.is_object() {
        assert_eq!(fast, oracle.as_bytes());
    }

    let again = serde_json_canonicalizer::pipe(&oracle).expect("canonical text is JSON");
    assert_eq!(again, oracle, "canonical text is not a fixed point");
    let reparsed: Value = serde_json::from_str(&oracle).expect("canonical text is JSON");
    assert_eq!(
        jcs::canonical(&reparsed).expect("plain JSON"),
        oracle.as_bytes()
    );

    let seq = (data.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (data.len() % 64);
    let whole = envelope(object, seq);
    assert_eq!(
        whole.canonical_bytes(),
        serde_json_canonicalizer::to_vec(&whole).expect("plain JSON"),
        "an envelope's bytes differ from the library's"
    );
    Outcome::Accepted
}
