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
        input.extend(jcs::canonical(self).expect("envelope is plain JSON"));
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

    /// JCS of the whole envelope, `sig` included: the bytes that are stored and hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        jcs::canonical(self).expect("envelope is plain JSON")
    }

    /// The event hash: SHA-256 of the canonical bytes. The next event of the stream names it
    /// as `prev`.
    pub fn hash(&self) -> Digest32 {
        Digest32::of(&self.canonical_bytes())
    }

    /// Checks the shape, the typed payload, the stream and the signature. It does not check
    /// the chain or the domain rules: those need state, see [`crate::State::decide`].
    pub fn verify(self) -> Result<VerifiedEvent, EnvelopeError> {
        let event = self.check_shape()?;
        if self.signer.is_weak() {
            return Err(EnvelopeError::WeakKey);
        }
        if !self
            .signer
            .verify(&self.unsigned().signing_input(), &self.sig)
        {
            return Err(EnvelopeError::BadSignature);
        }
        let canonical = self.canonical_bytes();
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
        let event = Event::from_parts(&self.kind, &self.payload).map_err(|e| {
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

    proptest::proptest! {
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
