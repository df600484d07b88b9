//! The signed envelope (format v1): canonical bytes, signing input, event hash, verification.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{Digest32, PublicKey, SecretKey, Signature};
use crate::event::{Event, StreamKind};
use crate::id::{EventId, StreamId};
use crate::jcs;
use crate::time::Timestamp;

/// The domain-separation prefix of an event's signing input.
pub const EVENT_SIGNING_PREFIX: &[u8] = b"overens/event/v1\n";

/// The largest `seq` (and log index) that survives JCS, which writes numbers as doubles.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An envelope as received: well-formed, but neither its signature nor its payload checked.
/// Only [`Envelope::verify`] turns it into a [`VerifiedEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub v: u32,
    pub id: EventId,
    pub stream: StreamId,
    pub seq: u64,
    pub prev: Digest32,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: Timestamp,
    pub signer: PublicKey,
    pub payload: Map<String, Value>,
    pub sig: Signature,
}

/// The envelope without `sig`: what a signer signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsignedEnvelope {
    pub v: u32,
    pub id: EventId,
    pub stream: StreamId,
    pub seq: u64,
    pub prev: Digest32,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: Timestamp,
    pub signer: PublicKey,
    pub payload: Map<String, Value>,
}

/// Why an envelope is not a valid, verified event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("unsupported envelope version {0} (this is format v1)")]
    UnsupportedVersion(u32),
    #[error("seq {0} is larger than 2^53-1")]
    SeqTooLarge(u64),
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    #[error("invalid {kind} payload: {reason}")]
    InvalidPayload { kind: String, reason: String },
    #[error(
        "{0} payload is not in its one canonical form (an explicit null, or a field that \
         should be left out)"
    )]
    NonCanonicalPayload(String),
    #[error("{kind} does not belong in stream `{stream}`")]
    WrongStream { kind: String, stream: String },
    #[error("signer key is a small-order (weak) ed25519 key")]
    WeakKey,
    #[error("signature does not verify against the signer key")]
    BadSignature,
}

impl EnvelopeError {
    /// Errors of shape rather than of authenticity (HTTP 400 rather than 401).
    pub fn is_malformed(&self) -> bool {
        !matches!(self, EnvelopeError::WeakKey | EnvelopeError::BadSignature)
    }
}

impl UnsignedEnvelope {
    /// An envelope for `event`, ready to sign.
    pub fn new(
        id: EventId,
        stream: StreamId,
        seq: u64,
        prev: Digest32,
        at: Timestamp,
        signer: PublicKey,
        event: &Event,
    ) -> Self {
        UnsignedEnvelope {
            v: 1,
            id,
            stream,
            seq,
            prev,
            kind: event.type_name().to_owned(),
            at,
            signer,
            payload: event.payload(),
        }
    }

    /// `overens/event/v1` ‖ 0x0A ‖ JCS(envelope without `sig`).
    pub fn signing_input(&self) -> Vec<u8> {
        let mut input = EVENT_SIGNING_PREFIX.to_vec();
        write_canonical(
            &mut input,
            Fields {
                v: self.v,
                id: &self.id,
                stream: &self.stream,
                seq: self.seq,
                prev: &self.prev,
                kind: &self.kind,
                at: &self.at,
                signer: &self.signer,
                payload: &self.payload,
                sig: None,
            },
        )
        .expect("envelope is plain JSON");
        input
    }

    pub fn sign(self, key: &SecretKey) -> Envelope {
        debug_assert_eq!(
            key.public(),
            self.signer,
            "signing with another key than `signer`"
        );
        let sig = key.sign(&self.signing_input());
        Envelope {
            v: self.v,
            id: self.id,
            stream: self.stream,
            seq: self.seq,
            prev: self.prev,
            kind: self.kind,
            at: self.at,
            signer: self.signer,
            payload: self.payload,
            sig,
        }
    }
}

impl Envelope {
    /// Reads one envelope from JSON text (any spelling; the canonical bytes are rebuilt).
    pub fn parse(text: &str) -> Result<Envelope, EnvelopeError> {
        serde_json::from_str(text).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }

    pub fn from_value(value: Value) -> Result<Envelope, EnvelopeError> {
        serde_json::from_value(value).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }

    pub fn unsigned(&self) -> UnsignedEnvelope {
        UnsignedEnvelope {
            v: self.v,
            id: self.id,
            stream: self.stream.clone(),
            seq: self.seq,
            prev: self.prev,
            kind: self.kind.clone(),
            at: self.at,
            signer: self.signer,
            payload: self.payload.clone(),
        }
    }

    fn fields(&self) -> Fields<'_> {
        Fields {
            v: self.v,
            id: &self.id,
            stream: &self.stream,
            seq: self.seq,
            prev: &self.prev,
            kind: &self.kind,
            at: &self.at,
            signer: &self.signer,
            payload: &self.payload,
            sig: Some(&self.sig),
        }
    }

    /// JCS of the whole envelope, `sig` included: the bytes that are stored and hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.canonical_and_signing_input().0
    }

    /// The canonical bytes, and the signing input cut from them: JCS writes `sig` as one
    /// member of its own (`,"sig":"…"`, between `seq` and `signer`), so the canonical bytes
    /// without that member are exactly JCS(envelope without `sig`). One serialisation
    /// instead of two.
    fn canonical_and_signing_input(&self) -> (Vec<u8>, Vec<u8>) {
        let mut out = Vec::with_capacity(256 + 64 * self.payload.len());
        let sig = write_canonical(&mut out, self.fields()).expect("envelope is plain JSON");
        let input = signing_input_cut(&out, sig);
        (out, input)
    }

    /// Reads an envelope from bytes that must be its canonical form exactly (a stored
    /// event): anything else, or bytes that are not an envelope, is refused.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Envelope, crate::record::RecordError> {
        use crate::record::RecordError;
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
        let mut again = Vec::with_capacity(bytes.len());
        match write_canonical(&mut again, envelope.fields()) {
            Ok(_) if again == bytes => Ok(envelope),
            _ => Err(RecordError::NotCanonical),
        }
    }

    /// The event hash: SHA-256 of the canonical bytes. The next event of the stream names it
    /// as `prev`.
    pub fn hash(&self) -> Digest32 {
        Digest32::of(&self.canonical_bytes())
    }

    /// Checks the shape, the typed payload, the stream and the signature. It does not check
    /// the chain or the domain rules: those need state, see [`crate::State::decide`].
    pub fn verify(self) -> Result<VerifiedEvent, EnvelopeError> {
        self.verify_with(None)
    }

    /// Reads a stored envelope from bytes that must be its canonical form exactly, and
    /// verifies it as [`Envelope::verify`] does, with one parse and one serialisation (the
    /// signing input is cut from the bytes themselves). The outer error: the bytes are not
    /// an envelope in canonical form; the inner one: why the envelope does not verify.
    #[allow(clippy::type_complexity)]
    pub fn verify_canonical_bytes(
        bytes: &[u8],
    ) -> Result<Result<VerifiedEvent, EnvelopeError>, crate::record::RecordError> {
        use crate::record::RecordError;
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
        let mut again = Vec::with_capacity(bytes.len());
        match write_canonical(&mut again, envelope.fields()) {
            Ok(sig) if again == bytes => Ok(envelope.verify_with(Some((again, sig)))),
            _ => Err(RecordError::NotCanonical),
        }
    }

    /// [`Envelope::verify`], given the canonical bytes and where `sig` is in them when the
    /// caller has them already.
    fn verify_with(
        self,
        canonical: Option<(Vec<u8>, std::ops::Range<usize>)>,
    ) -> Result<VerifiedEvent, EnvelopeError> {
        let event = self.check_shape()?;
        if self.signer.is_weak() {
            return Err(EnvelopeError::WeakKey);
        }
        let (canonical, signing_input) = match canonical {
            Some((canonical, sig)) => {
                let input = signing_input_cut(&canonical, sig);
                (canonical, input)
            }
            None => self.canonical_and_signing_input(),
        };
        if !self.signer.verify(&signing_input, &self.sig) {
            return Err(EnvelopeError::BadSignature);
        }
        let hash = Digest32::of(&canonical);
        Ok(VerifiedEvent {
            envelope: self,
            event,
            hash,
            canonical,
        })
    }

    /// Everything but the signature, so a malformed event is reported as such.
    fn check_shape(&self) -> Result<Event, EnvelopeError> {
        if self.v != 1 {
            return Err(EnvelopeError::UnsupportedVersion(self.v));
        }
        if self.seq > MAX_SAFE_INTEGER {
            return Err(EnvelopeError::SeqTooLarge(self.seq));
        }
        if !crate::event::EVENT_TYPES.contains(&self.kind.as_str()) {
            return Err(EnvelopeError::UnknownType(self.kind.clone()));
        }
        let event = Event::from_payload(&self.kind, &self.payload).map_err(|e| {
            EnvelopeError::InvalidPayload {
                kind: self.kind.clone(),
                reason: e.to_string(),
            }
        })?;
        // One payload text per event: an explicit `null` where a field may be left out would
        // otherwise give two signed forms of the same event.
        if event.payload() != self.payload {
            return Err(EnvelopeError::NonCanonicalPayload(self.kind.clone()));
        }
        let fits = matches!(
            (event.stream_kind(), &self.stream),
            (StreamKind::Directory, StreamId::Directory)
                | (StreamKind::Agreement, StreamId::Agreement(_))
        );
        if !fits {
            return Err(EnvelopeError::WrongStream {
                kind: self.kind.clone(),
                stream: self.stream.to_string(),
            });
        }
        Ok(event)
    }
}

/// `overens/event/v1` ‖ 0x0A ‖ the canonical bytes without the `sig` member at `sig`.
fn signing_input_cut(canonical: &[u8], sig: std::ops::Range<usize>) -> Vec<u8> {
    let mut input = Vec::with_capacity(EVENT_SIGNING_PREFIX.len() + canonical.len());
    input.extend_from_slice(EVENT_SIGNING_PREFIX);
    input.extend_from_slice(&canonical[..sig.start]);
    input.extend_from_slice(&canonical[sig.end..]);
    input
}

/// The fields of an envelope, borrowed, for the canonical writer.
struct Fields<'a> {
    v: u32,
    id: &'a EventId,
    stream: &'a StreamId,
    seq: u64,
    prev: &'a Digest32,
    kind: &'a str,
    at: &'a Timestamp,
    signer: &'a PublicKey,
    payload: &'a Map<String, Value>,
    sig: Option<&'a Signature>,
}

/// Writes JCS of an envelope (without `sig` when it is `None`) straight into `out`: the
/// members in JCS order (`at`, `id`, `payload`, `prev`, `seq`, `sig`, `signer`, `stream`,
/// `type`, `v`), each value in its one text form. Byte for byte what the generic
/// canonicaliser gives (tested below), at a fraction of the cost: it runs for every
/// append and every replayed record. Returns where the `,"sig":"…"` member is in `out`
/// (an empty range when there is none).
fn write_canonical(
    out: &mut Vec<u8>,
    f: Fields<'_>,
) -> Result<std::ops::Range<usize>, jcs::CanonicalError> {
    out.extend_from_slice(b"{\"at\":");
    jcs::write_str(out, &f.at.to_string());
    out.extend_from_slice(b",\"id\":");
    jcs::write_str(out, &f.id.to_string());
    out.extend_from_slice(b",\"payload\":");
    jcs::write_object(out, f.payload)?;
    out.extend_from_slice(b",\"prev\":");
    jcs::write_str(out, &f.prev.to_hex());
    out.extend_from_slice(b",\"seq\":");
    jcs::write_u64(out, f.seq)?;
    let start = out.len();
    if let Some(sig) = f.sig {
        out.extend_from_slice(b",\"sig\":");
        jcs::write_str(out, &sig.to_string());
    }
    let sig = start..out.len();
    out.extend_from_slice(b",\"signer\":");
    jcs::write_str(out, &f.signer.to_string());
    out.extend_from_slice(b",\"stream\":");
    jcs::write_str(out, &f.stream.to_string());
    out.extend_from_slice(b",\"type\":");
    jcs::write_str(out, f.kind);
    out.extend_from_slice(b",\"v\":");
    jcs::write_u64(out, u64::from(f.v))?;
    out.push(b'}');
    Ok(sig)
}

/// An event whose shape, typed payload and signature were checked. Only
/// [`Envelope::verify`] (and, for replay, [`VerifiedEvent::from_trusted_parts`]'s callers in
/// this crate) construct one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    envelope: Envelope,
    event: Event,
    hash: Digest32,
    canonical: Vec<u8>,
}

impl VerifiedEvent {
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    pub fn event(&self) -> &Event {
        &self.event
    }

    pub fn hash(&self) -> Digest32 {
        self.hash
    }

    /// The stored bytes: exactly the bytes that were hashed.
    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }

    pub fn signer(&self) -> &PublicKey {
        &self.envelope.signer
    }

    pub fn stream(&self) -> &StreamId {
        &self.envelope.stream
    }

    pub fn seq(&self) -> u64 {
        self.envelope.seq
    }

    pub fn at(&self) -> Timestamp {
        self.envelope.at
    }

    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::PartyRegistered;
    use proptest::prelude::Strategy as _;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[1; 32])
    }

    fn envelope() -> Envelope {
        let event = Event::PartyRegistered(PartyRegistered {
            party: "region-ostergotland".parse().expect("slug"),
            name: "Region Östergötland".into(),
        });
        UnsignedEnvelope::new(
            EventId::v7(1_580_000_000_000, [3; 10]),
            StreamId::Directory,
            0,
            Digest32::ZERO,
            "2020-01-26T00:53:20Z".parse().expect("time"),
            key().public(),
            &event,
        )
        .sign(&key())
    }

    #[test]
    fn signed_envelopes_verify_and_hash_their_canonical_bytes() {
        let env = envelope();
        let text = String::from_utf8(env.canonical_bytes()).expect("utf-8");
        assert!(
            text.starts_with(r#"{"at":"2020-01-26T00:53:20Z","id":""#),
            "{text}"
        );
        assert!(text.contains("Region Östergötland"));
        let verified = Envelope::parse(&text)
            .expect("parses")
            .verify()
            .expect("verifies");
        assert_eq!(verified.canonical_bytes(), text.as_bytes());
        assert_eq!(verified.hash(), Digest32::of(text.as_bytes()));
    }

    #[test]
    fn signing_input_is_domain_separated() {
        let input = envelope().unsigned().signing_input();
        assert!(input.starts_with(b"overens/event/v1\n{\"at\":"));
        assert!(!String::from_utf8(input).expect("utf-8").contains("\"sig\""));
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let good = envelope();
        let mut cases: Vec<Envelope> = Vec::new();
        let mut e = good.clone();
        e.seq = 1;
        cases.push(e);
        let mut e = good.clone();
        e.prev = Digest32([1; 32]);
        cases.push(e);
        let mut e = good.clone();
        e.at = "2020-01-26T00:53:21Z".parse().expect("time");
        cases.push(e);
        let mut e = good.clone();
        e.id = EventId::v7(1_580_000_000_000, [4; 10]);
        cases.push(e);
        let mut e = good.clone();
        e.payload.insert("name".into(), "Region Östergötlan".into());
        cases.push(e);
        let mut e = good.clone();
        e.signer = SecretKey::from_seed(&[2; 32]).public();
        cases.push(e);
        for bad in cases {
            assert_eq!(bad.verify(), Err(EnvelopeError::BadSignature));
        }
    }

    #[test]
    fn malformed_envelopes_get_precise_errors() {
        let good = serde_json::to_value(envelope()).expect("json");
        let with = |field: &str, value: Value| {
            let mut v = good.clone();
            v[field] = value;
            Envelope::from_value(v)
                .and_then(Envelope::verify)
                .expect_err("refused")
                .to_string()
        };
        assert!(with("signer", "AAAA".into()).contains("wrong length: expected 32 bytes, got 3"));
        assert!(with("sig", "!!".into()).contains("not base64url"));
        assert!(with("seq", "7".into()).contains("invalid type: string"));
        assert!(with("prev", "00".into()).contains("not 64 lowercase hex"));
        assert!(with("at", "2020-01-26 00:53:20".into()).contains("not an RFC 3339 UTC instant"));
        assert!(with("id", "not-a-uuid".into()).contains("not a lowercase hyphenated UUID"));
        assert!(with("stream", "agreements/x".into()).contains("not a stream name"));
        assert_eq!(
            with("v", 2.into()),
            "unsupported envelope version 2 (this is format v1)"
        );
        assert_eq!(
            with("type", "PartyDeleted".into()),
            "unknown event type `PartyDeleted`"
        );
        assert!(
            with("payload", serde_json::json!({"party": 5, "name": "x"}))
                .contains("invalid PartyRegistered payload")
        );
        assert!(with("stream", "agreement/x".into()).contains("does not belong in stream"));
        let mut v = good.clone();
        v["extra"] = true.into();
        assert!(
            Envelope::from_value(v)
                .expect_err("extra")
                .to_string()
                .contains("unknown field `extra`")
        );
        assert!(
            Envelope::parse("{")
                .expect_err("eof")
                .to_string()
                .contains("EOF")
        );
    }

    /// Every envelope of the example log (and of its unsigned form).
    fn example_envelopes() -> Vec<Envelope> {
        include_str!("../../../events/examples/log.jsonl")
            .lines()
            .map(|line| {
                crate::record::LogRecord::parse_line(line)
                    .expect("example line")
                    .event
            })
            .collect()
    }

    /// The direct writer and the cut-out signing input give exactly the generic
    /// canonicaliser's bytes, for every example envelope.
    #[test]
    fn fast_canonical_bytes_and_signing_input_equal_the_slow_ones() {
        let examples = example_envelopes();
        assert!(examples.len() > 90);
        for env in examples.into_iter().chain([envelope()]) {
            let slow = jcs::canonical(&env).expect("canonical");
            assert_eq!(env.canonical_bytes(), slow);
            let mut slow_input = EVENT_SIGNING_PREFIX.to_vec();
            slow_input.extend(jcs::canonical(&env.unsigned()).expect("canonical"));
            let (canonical, input) = env.canonical_and_signing_input();
            assert_eq!(canonical, slow);
            assert_eq!(input, slow_input);
            assert_eq!(env.unsigned().signing_input(), slow_input);
            assert_eq!(Envelope::from_canonical_bytes(&slow), Ok(env.clone()));
            assert_eq!(
                Envelope::verify_canonical_bytes(&slow),
                Ok(env.clone().verify())
            );
            let verified = env.verify().expect("example verifies");
            assert_eq!(verified.canonical_bytes(), slow.as_slice());
        }
    }

    /// Stored bytes with a changed signature, key or field are refused exactly as
    /// `verify` refuses the parsed envelope.
    #[test]
    fn stored_bytes_verify_as_the_envelope_does() {
        let good = envelope();
        let mut cases = vec![good.clone()];
        let mut e = good.clone();
        e.seq = 1;
        cases.push(e);
        let mut e = good.clone();
        e.signer = SecretKey::from_seed(&[2; 32]).public();
        cases.push(e);
        let mut e = good.clone();
        let mut sig = e.sig.to_bytes();
        sig[5] ^= 1;
        e.sig = Signature::from_bytes(&sig);
        cases.push(e);
        let mut e = good.clone();
        e.kind = "PartyAdded".into();
        cases.push(e);
        let mut weak = [0u8; 32];
        weak[0] = 1;
        let mut e = good;
        e.signer = PublicKey::from_bytes(&weak).expect("a point");
        cases.push(e);
        for env in cases {
            assert_eq!(
                Envelope::verify_canonical_bytes(&env.canonical_bytes()),
                Ok(env.clone().verify())
            );
        }
    }

    #[test]
    fn only_canonical_bytes_are_read_as_stored_envelopes() {
        use crate::record::RecordError;
        let env = envelope();
        let text = String::from_utf8(env.canonical_bytes()).expect("utf-8");
        let spaced = text.replacen(",\"id\"", ", \"id\"", 1);
        assert_eq!(
            Envelope::from_canonical_bytes(spaced.as_bytes()),
            Err(RecordError::NotCanonical)
        );
        let reordered = serde_json::to_vec(&env).expect("json");
        assert_eq!(
            Envelope::from_canonical_bytes(&reordered),
            Err(RecordError::NotCanonical)
        );
        assert_eq!(
            Envelope::verify_canonical_bytes(&reordered),
            Err(RecordError::NotCanonical)
        );
        assert_eq!(
            Envelope::verify_canonical_bytes(spaced.as_bytes()),
            Err(RecordError::NotCanonical)
        );
        let mut escaped = text.clone().into_bytes();
        escaped.extend_from_slice(b" ");
        assert!(Envelope::from_canonical_bytes(&escaped).is_err());
        assert!(matches!(
            Envelope::from_canonical_bytes(b"{\"v\":1"),
            Err(RecordError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::from_canonical_bytes(&[0xff, 0xfe]),
            Err(RecordError::Malformed(_))
        ));
    }

    /// `from_payload` reads every example event as `from_parts` does.
    #[test]
    fn from_payload_equals_from_parts() {
        for env in example_envelopes() {
            assert_eq!(
                Event::from_payload(&env.kind, &env.payload).expect("reads"),
                Event::from_parts(&env.kind, &env.payload).expect("reads")
            );
        }
        let mut payload = serde_json::Map::new();
        payload.insert("party".into(), "kson".into());
        payload.insert("admin".into(), true.into());
        assert_eq!(
            Event::from_payload("PartyAdded", &payload).map_err(|e| e.to_string()),
            Event::from_parts("PartyAdded", &payload).map_err(|e| e.to_string())
        );
        payload.remove("party");
        assert_eq!(
            Event::from_payload("PartyAdded", &payload).map_err(|e| e.to_string()),
            Event::from_parts("PartyAdded", &payload).map_err(|e| e.to_string())
        );
        assert_eq!(
            Event::from_payload("PartyDeleted", &payload).map_err(|e| e.to_string()),
            Event::from_parts("PartyDeleted", &payload).map_err(|e| e.to_string())
        );
    }

    proptest::proptest! {
        /// Any payload, type text and seq: the direct writer equals the generic one, with
        /// and without `sig`, and the cut-out signing input equals the serialised one.
        #[test]
        fn fast_writer_equals_the_canonicaliser_for_any_envelope(
            payload in proptest::collection::btree_map(
                "[a-z\u{e9}\u{10000}]{0,6}",
                proptest::prop_oneof![
                    ".{0,40}".prop_map(Value::from),
                    proptest::num::u64::ANY.prop_map(Value::from),
                    proptest::num::f64::NORMAL.prop_map(Value::from),
                    proptest::strategy::Just(serde_json::json!({"b": [1, null, "\u{1}"], "a": -2})),
                ],
                0..6,
            ),
            kind in ".{0,20}",
            seq in proptest::num::u64::ANY,
        ) {
            let mut env = envelope();
            env.payload = payload.into_iter().collect();
            env.kind = kind;
            env.seq = seq;
            let slow = jcs::canonical(&env).expect("canonical");
            let mut slow_input = EVENT_SIGNING_PREFIX.to_vec();
            slow_input.extend(jcs::canonical(&env.unsigned()).expect("canonical"));
            let (canonical, input) = env.canonical_and_signing_input();
            proptest::prop_assert_eq!(canonical, slow);
            proptest::prop_assert_eq!(input, slow_input.clone());
            proptest::prop_assert_eq!(env.unsigned().signing_input(), slow_input);
        }

        /// Arbitrary text never panics the parser or the verifier: it is refused with a reason.
        #[test]
        fn arbitrary_text_is_refused_not_panicked(text in ".{0,300}") {
            if let Ok(env) = Envelope::parse(&text) {
                let _ = env.verify();
            }
        }

        /// Any field of a valid envelope replaced by an arbitrary JSON scalar or by a nested
        /// structure: a clean error or (for no-op replacements) success, never a panic.
        #[test]
        fn mangled_fields_are_refused_not_panicked(
            field in proptest::sample::select(vec!["v", "id", "stream", "seq", "prev", "type", "at", "signer", "payload", "sig"]),
            replacement in proptest::prop_oneof![
                proptest::num::i64::ANY.prop_map(Value::from),
                proptest::num::f64::NORMAL.prop_map(Value::from),
                ".{0,80}".prop_map(Value::from),
                proptest::strategy::Just(Value::Null),
                proptest::strategy::Just(serde_json::json!({"a": [1, {"b": null}]})),
            ],
        ) {
            let mut value = serde_json::to_value(envelope()).expect("json");
            value[field] = replacement;
            if let Ok(env) = Envelope::from_value(value) {
                let _ = env.verify();
            }
        }
    }
}
