//! Keys, signatures and hashes, with their one text form each (base64url or lowercase hex).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Why a key, signature or hash could not be read from its text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("not base64url without padding: {0}")]
    Base64(String),
    #[error("not canonical base64url (unpadded, no trailing bits)")]
    NonCanonicalBase64,
    #[error("wrong length: expected {expected} bytes, got {actual}")]
    Length { expected: usize, actual: usize },
    #[error("not 64 lowercase hex digits")]
    Hex,
    #[error("not a valid ed25519 public key (not a curve point)")]
    NotAPoint,
}

fn decode_b64<const N: usize>(text: &str) -> Result<[u8; N], EncodingError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| EncodingError::Base64(e.to_string()))?;
    // Only one text per byte string: otherwise a signer and a verifier could disagree about
    // which text was signed.
    if URL_SAFE_NO_PAD.encode(&bytes) != text {
        return Err(EncodingError::NonCanonicalBase64);
    }
    let actual = bytes.len();
    bytes.try_into().map_err(|_| EncodingError::Length {
        expected: N,
        actual,
    })
}

/// base64url without padding, the text form of keys and signatures.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

macro_rules! text_serde {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse()
                    .map_err(|e| serde::de::Error::custom(format_args!("{}: {e}", $what)))
            }
        }
    };
}

/// A SHA-256 digest: event hashes, `prev` links and content hashes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// The `prev` of the first event of a stream.
    pub const ZERO: Digest32 = Digest32([0; 32]);

    pub fn of(bytes: &[u8]) -> Self {
        Digest32(Sha256::digest(bytes).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({})", self.to_hex())
    }
}

impl std::str::FromStr for Digest32 {
    type Err = EncodingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if s.len() != 64 || !lower {
            return Err(EncodingError::Hex);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| EncodingError::Hex)?;
        Ok(Digest32(out))
    }
}
text_serde!(Digest32, "hash");

/// An ed25519 public key: a signatory's, a registrar's, or the log's.
///
/// Kept as its 32 bytes (checked to be a curve point when read) rather than as a
/// decompressed point: keys are copied into every view and rejection, and 32 bytes keep the
/// projections small. Verification decompresses it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

/// Decompressed keys, per thread: a log is signed by few keys, and decompressing one (a
/// square root in the field) costs as much as a fifth of a signature check. A pure memo: a
/// key's point never changes, so a hit gives exactly what decompressing again would.
mod key_cache {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use ed25519_dalek::VerifyingKey;

    /// More distinct keys than this in one thread and the cache starts over.
    const CAPACITY: usize = 1 << 14;

    thread_local! {
        static KEYS: RefCell<HashMap<[u8; 32], Option<VerifyingKey>>> =
            RefCell::new(HashMap::new());
    }

    /// The decompressed key, or `None` when the bytes are not a curve point.
    pub(super) fn decompress(bytes: &[u8; 32]) -> Option<VerifyingKey> {
        KEYS.with(|keys| {
            if let Some(found) = keys.borrow().get(bytes) {
                return *found;
            }
            let key = VerifyingKey::from_bytes(bytes).ok();
            let mut keys = keys.borrow_mut();
            if keys.len() >= CAPACITY {
                keys.clear();
            }
            keys.insert(*bytes, key);
            key
        })
    }
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, EncodingError> {
        key_cache::decompress(bytes)
            .map(|_| PublicKey(*bytes))
            .ok_or(EncodingError::NotAPoint)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The decompressed key, for ed25519-dalek's verification APIs.
    pub fn verifying_key(&self) -> VerifyingKey {
        key_cache::decompress(&self.0).expect("checked to be a point when constructed")
    }

    /// Small-order keys can "verify" forged signatures; they are never accepted as signers.
    pub fn is_weak(&self) -> bool {
        self.verifying_key().is_weak()
    }

    /// The authoritative check: strict ed25519 (no small-order keys, canonical `R` and `s`).
    pub fn verify(&self, message: &[u8], sig: &Signature) -> bool {
        let key = self.verifying_key();
        !key.is_weak() && key.verify_strict(message, &sig.0).is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64(self.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl std::str::FromStr for PublicKey {
    type Err = EncodingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::from_bytes(&decode_b64::<32>(s)?)
    }
}
text_serde!(PublicKey, "public key");

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(ed25519_dalek::Signature);

impl Signature {
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Signature(ed25519_dalek::Signature::from_bytes(bytes))
    }

    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    pub fn inner(&self) -> &ed25519_dalek::Signature {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64(&self.to_bytes()))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl std::str::FromStr for Signature {
    type Err = EncodingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Signature::from_bytes(&decode_b64::<64>(s)?))
    }
}
text_serde!(Signature, "signature");

/// A private signing key. It is handed in by the edge (a key file, a test fixture); the core
/// never creates one, because that needs randomness.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(seed))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message))
    }

    /// The seed as base64url, the content of a key file.
    pub fn to_text(&self) -> String {
        b64(&self.seed())
    }

    pub fn from_text(text: &str) -> Result<Self, EncodingError> {
        Ok(SecretKey::from_seed(&decode_b64::<32>(text.trim())?))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, not even in debug output.
        write!(f, "SecretKey(public: {})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip() {
        let key = SecretKey::from_seed(&[7; 32]);
        let public = key.public();
        assert_eq!(public.to_string().parse::<PublicKey>(), Ok(public));
        let sig = key.sign(b"x");
        assert_eq!(sig.to_string().parse::<Signature>(), Ok(sig));
        let h = Digest32::of(b"abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.to_hex().parse::<Digest32>(), Ok(h));
    }

    #[test]
    fn bad_texts_are_named() {
        assert!(matches!(
            "AAAA".parse::<PublicKey>(),
            Err(EncodingError::Length {
                expected: 32,
                actual: 3
            })
        ));
        assert!(matches!(
            "***".parse::<PublicKey>(),
            Err(EncodingError::Base64(_))
        ));
        let padded = format!("{}=", b64(&[1; 32]));
        assert!("not-hex".parse::<Digest32>().is_err());
        assert!(padded.parse::<PublicKey>().is_err());
        assert_eq!("A".repeat(64).parse::<Digest32>(), Err(EncodingError::Hex));
        // 43 chars carry 258 bits: the last char must leave the spare bits zero.
        let mut text = b64(&[0; 32]);
        text.pop();
        text.push('B');
        assert!(text.parse::<PublicKey>().is_err());
    }

    #[test]
    fn weak_keys_never_verify() {
        // The identity point: every signature with R = identity, s = 0 "verifies" leniently.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = PublicKey::from_bytes(&identity).expect("a point");
        assert!(weak.is_weak());
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!weak.verify(b"anything", &Signature::from_bytes(&sig)));
    }
}
