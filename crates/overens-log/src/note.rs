//! C2SP signed notes (Go's sumdb/note) with ed25519 keys: signing, opening, verifier keys.
//!
//! A signed note is a text ending in a newline, a blank line, and signature lines
//! `— <key name> <base64(4-byte key ID ‖ signature)>`. The key ID of an ed25519 key is the first
//! four bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), big-endian.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use overens_core::{PublicKey, SecretKey, Signature};
use sha2::{Digest, Sha256};

/// The signature type byte of ed25519 in key IDs and verifier keys.
pub const ALG_ED25519: u8 = 0x01;
/// Notes larger than this are refused unread (Go's sumdb/note limit).
pub const MAX_NOTE_SIZE: usize = 1_000_000;
/// Notes with more signature lines than this are refused (Go's sumdb/note limit; the spec
/// asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note could not be signed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("note is larger than {MAX_NOTE_SIZE} bytes")]
    TooLarge,
    #[error("note contains a control character other than newline (byte {0:#04x})")]
    ControlCharacter(u8),
    #[error("note text is empty or does not end in a newline")]
    TextNotTerminated,
    #[error("no blank line separates the note text from its signatures")]
    NoSignatures,
    #[error("the signature block does not end in a newline")]
    SignaturesNotTerminated,
    #[error("malformed signature line {line:?}: {reason}")]
    MalformedSignature { line: String, reason: &'static str },
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("invalid key name {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidKeyName(String),
    #[error("note is not signed by key {name}+{key_id:08x}")]
    UnknownKey { name: String, key_id: u32 },
    #[error("signature by key {name}+{key_id:08x} does not verify")]
    BadSignature { name: String, key_id: u32 },
}

/// Why a verifier key text is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierKeyError {
    #[error("a verifier key is <name>+<8 hex digits>+<base64 key>")]
    Format,
    #[error("invalid key name {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidKeyName(String),
    #[error("key is not base64")]
    Base64,
    #[error("unknown signature algorithm {0:#04x} (only ed25519, 0x01, is known)")]
    UnknownAlgorithm(u8),
    #[error("an ed25519 key is 32 bytes after the algorithm byte, not {0}")]
    KeyLength(usize),
    #[error("not a valid ed25519 public key")]
    NotAPoint,
    #[error("key ID {found:08x} does not match the name and key (expected {expected:08x})")]
    KeyIdMismatch { expected: u32, found: u32 },
}

/// Key names are non-empty and contain neither Unicode spaces nor '+'.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// The key ID of an ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4], big-endian.
pub fn key_id(name: &str, key: &PublicKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A named ed25519 public key that verifies notes; its text is Go's verifier key
/// `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    key: PublicKey,
}

impl VerifierKey {
    pub fn new(name: &str, key: PublicKey) -> Result<Self, VerifierKeyError> {
        if !is_valid_key_name(name) {
            return Err(VerifierKeyError::InvalidKeyName(name.to_owned()));
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.key)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = Vec::with_capacity(33);
        key.push(ALG_ED25519);
        key.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            STANDARD.encode(key)
        )
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = VerifierKeyError;

    /// Go's `note.NewVerifier` grammar: the key ID must be 8 hex digits and match. Lowercase
    /// only (Go writes `%08x`): one text form per key, as `Display` writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, rest) = s.split_once('+').ok_or(VerifierKeyError::Format)?;
        let (id_hex, key64) = rest.split_once('+').ok_or(VerifierKeyError::Format)?;
        if !is_valid_key_name(name) {
            return Err(VerifierKeyError::InvalidKeyName(name.to_owned()));
        }
        if id_hex.len() != 8
            || !id_hex
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(VerifierKeyError::Format);
        }
        let found = u32::from_str_radix(id_hex, 16).map_err(|_| VerifierKeyError::Format)?;
        let bytes = STANDARD
            .decode(key64)
            .map_err(|_| VerifierKeyError::Base64)?;
        let (&alg, key) = bytes.split_first().ok_or(VerifierKeyError::KeyLength(0))?;
        if alg != ALG_ED25519 {
            return Err(VerifierKeyError::UnknownAlgorithm(alg));
        }
        let key: &[u8; 32] = key
            .try_into()
            .map_err(|_| VerifierKeyError::KeyLength(key.len()))?;
        let key = PublicKey::from_bytes(key).map_err(|_| VerifierKeyError::NotAPoint)?;
        let verifier = VerifierKey::new(name, key)?;
        let expected = verifier.key_id();
        if found != expected {
            return Err(VerifierKeyError::KeyIdMismatch { expected, found });
        }
        Ok(verifier)
    }
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn parse(line: &str) -> Result<Self, NoteError> {
        let malformed = |reason| NoteError::MalformedSignature {
            line: line.to_owned(),
            reason,
        };
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| malformed("does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("no space between key name and signature"))?;
        if !is_valid_key_name(name) {
            return Err(malformed("invalid key name"));
        }
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| malformed("signature is not base64"))?;
        if bytes.len() < 5 {
            return Err(malformed("signature is shorter than a key ID and one byte"));
        }
        let (id, signature) = bytes.split_at(4);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }

    fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(bytes)
        )
    }
}

/// A parsed signed note: its text (with the final newline) and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge);
    }
    if let Some(b) = text.bytes().find(|&b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter(b));
    }
    Ok(())
}

impl SignedNote {
    /// Parses a signed note (the syntax only): the text ends at the last blank line.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        check_text(note)?;
        let split = note.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, sigs) = (&note[..=split], &note[split + 2..]);
        if sigs.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let sigs = sigs
            .strip_suffix('\n')
            .ok_or(NoteError::SignaturesNotTerminated)?;
        let signatures = sigs
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                if i >= MAX_SIGNATURES {
                    return Err(NoteError::TooManySignatures);
                }
                NoteSignature::parse(line)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signs `text` (which must end in a newline) with one ed25519 key.
    pub fn sign(text: &str, key: &SecretKey, key_name: &str) -> Result<Self, NoteError> {
        check_text(text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::TextNotTerminated);
        }
        if !is_valid_key_name(key_name) {
            return Err(NoteError::InvalidKeyName(key_name.to_owned()));
        }
        let signature = key.sign(text.as_bytes());
        Ok(SignedNote {
            text: text.to_owned(),
            signatures: vec![NoteSignature {
                name: key_name.to_owned(),
                key_id: key_id(key_name, &key.public()),
                signature: signature.to_bytes().to_vec(),
            }],
        })
    }

    /// Checks the signatures by `verifier`: at least one, and every one of them must verify
    /// (strict ed25519). Signatures by other keys (witnesses, a rotated key) are ignored, as
    /// the spec requires. Returns the text.
    pub fn verify(&self, verifier: &VerifierKey) -> Result<&str, NoteError> {
        let id = verifier.key_id();
        let mine: Vec<&NoteSignature> = self
            .signatures
            .iter()
            .filter(|s| s.name == verifier.name && s.key_id == id)
            .collect();
        if mine.is_empty() {
            return Err(NoteError::UnknownKey {
                name: verifier.name.clone(),
                key_id: id,
            });
        }
        for sig in mine {
            let ok = <&[u8; 64]>::try_from(sig.signature.as_slice())
                .map(|bytes| {
                    verifier
                        .key
                        .verify(self.text.as_bytes(), &Signature::from_bytes(bytes))
                })
                .unwrap_or(false);
            if !ok {
                return Err(NoteError::BadSignature {
                    name: verifier.name.clone(),
                    key_id: id,
                });
            }
        }
        Ok(&self.text)
    }

    /// Parses `note` and verifies it with `verifier`; returns the text.
    pub fn open(note: &str, verifier: &VerifierKey) -> Result<String, NoteError> {
        let parsed = SignedNote::parse(note)?;
        parsed.verify(verifier).map(str::to_owned)
    }
}

impl fmt::Display for SignedNote {
    /// The note's text form: text, blank line, signature lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            f.write_str(&sig.to_line())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (target `note`): an uppercase key ID was accepted and printed back
    /// in lowercase, two texts for one key.
    #[test]
    fn a_verifier_key_has_one_text_form() {
        let lower = "overens.fuzz/log+10726a84+Ae6TpPZvjRa4Gbub65/8zfzcFBLof+5qMkwqmaHg5nFI";
        let key: VerifierKey = lower.parse().expect("the fuzz log key");
        assert_eq!(key.to_string(), lower);
        let upper = "overens.fuzz/log+10726A84+Ae6TpPZvjRa4Gbub65/8zfzcFBLof+5qMkwqmaHg5nFI";
        assert_eq!(upper.parse::<VerifierKey>(), Err(VerifierKeyError::Format));
    }
}
