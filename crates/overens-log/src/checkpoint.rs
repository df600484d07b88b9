//! Checkpoints (C2SP tlog-checkpoint): the log's signed statement of its size and root.
//!
//! The body is three lines, `<origin>\n<size>\n<base64 root>\n`, signed as a C2SP signed note
//! by the log's own ed25519 key, so tools built for Go's sumdb/note can check it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use overens_core::{Digest32, PublicKey, SecretKey};

use crate::note::{NoteError, SignedNote, VerifierKey, VerifierKeyError};

/// Why a checkpoint could not be signed, read or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Key(#[from] VerifierKeyError),
    #[error("malformed checkpoint body: {0}")]
    MalformedBody(&'static str),
    #[error("checkpoint origin must be non-empty and without control characters")]
    InvalidOrigin,
    #[error("tree size {0:?} is not a decimal number without leading zeros that fits 64 bits")]
    SizeNotANumber(String),
    #[error("root hash {0:?} is not standard base64")]
    RootNotBase64(String),
    #[error("root hash is {0} bytes, not 32")]
    RootLength(usize),
    #[error("checkpoint has extension lines; the Överens log writes none")]
    ExtensionLines,
}

/// The log's tree at a size: origin (the log's name), number of leaves and root hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Digest32,
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 std root>\n`.
    pub fn to_note_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.0)
        )
    }

    /// Reads a note text written by [`Checkpoint::to_note_body`], and only such a text: the
    /// size without leading zeros, the root in canonical padded base64, no extension lines.
    pub fn from_note_body(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MalformedBody("does not end in a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MalformedBody(
                "fewer than three lines (origin, size, root)",
            ));
        };
        if lines.next().is_some() {
            return Err(CheckpointError::ExtensionLines);
        }
        if origin.is_empty() || origin.bytes().any(|b| b < 0x20) {
            return Err(CheckpointError::InvalidOrigin);
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size = size_ok
            .then(|| size.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| CheckpointError::SizeNotANumber(size.to_owned()))?;
        let bytes = STANDARD
            .decode(root)
            .map_err(|_| CheckpointError::RootNotBase64(root.to_owned()))?;
        if STANDARD.encode(&bytes) != root {
            return Err(CheckpointError::RootNotBase64(root.to_owned()));
        }
        let root: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::RootLength(bytes.len()))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: Digest32(root),
        })
    }

    /// The signed checkpoint: body, blank line, `— <key_name> <base64(key ID ‖ signature)>`.
    /// C2SP asks that the key name be the origin.
    pub fn sign(&self, key: &SecretKey, key_name: &str) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.bytes().any(|b| b < 0x20) {
            return Err(CheckpointError::InvalidOrigin);
        }
        Ok(SignedNote::sign(&self.to_note_body(), key, key_name)?.to_string())
    }

    /// Parses a signed checkpoint and verifies it: signed by `key` under `key_name` (other
    /// signatures, such as witness cosignatures, are ignored), with a well-formed body.
    pub fn parse_and_verify(
        text: &str,
        key_name: &str,
        key: &PublicKey,
    ) -> Result<Self, CheckpointError> {
        Self::parse_and_verify_with(text, &VerifierKey::new(key_name, *key)?)
    }

    /// [`Checkpoint::parse_and_verify`] with a verifier key.
    pub fn parse_and_verify_with(
        text: &str,
        verifier: &VerifierKey,
    ) -> Result<Self, CheckpointError> {
        let note = SignedNote::parse(text)?;
        Self::from_note_body(note.verify(verifier)?)
    }
}

/// A checkpoint as the log published it: its size and root, and the signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub size: u64,
    pub root: Digest32,
    /// The whole signed note: body, blank line, signature line.
    pub note_text: String,
}

/// The log's own signing key with the log's name: signs checkpoints (never events; it is
/// not a party's key). The key name is the origin, as C2SP recommends. Its `Debug` shows
/// the verifier key only.
#[derive(Clone)]
pub struct LogSigner {
    key: SecretKey,
    verifier: VerifierKey,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A signer for the log named `origin`. The origin is also the key name, so it must be
    /// one: non-empty, without spaces, `+` or control characters.
    pub fn new(origin: &str, key: SecretKey) -> Result<Self, CheckpointError> {
        if origin.is_empty() || origin.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(CheckpointError::InvalidOrigin);
        }
        let verifier = VerifierKey::new(origin, key.public())?;
        Ok(LogSigner { key, verifier })
    }

    /// The log's name: the first line of every checkpoint and the key name.
    pub fn origin(&self) -> &str {
        self.verifier.name()
    }

    /// What a verifier of this log's checkpoints needs: name, key ID and public key.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.verifier
    }

    /// Signs the checkpoint of the tree of `size` leaves with root `root`.
    pub fn sign(&self, size: u64, root: Digest32) -> Result<SignedCheckpoint, CheckpointError> {
        let checkpoint = Checkpoint {
            origin: self.origin().to_owned(),
            size,
            root,
        };
        let note_text = checkpoint.sign(&self.key, self.origin())?;
        Ok(SignedCheckpoint {
            size,
            root,
            note_text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn a_signer_signs_checkpoints_its_verifier_key_opens() {
        let key = SecretKey::from_seed(&[3; 32]);
        let signer = LogSigner::new("overens.example/log", key.clone()).expect("signer");
        assert_eq!(signer.origin(), "overens.example/log");
        let signed = signer.sign(5, leaf_hash(b"x")).expect("signed");
        let opened = Checkpoint::parse_and_verify_with(&signed.note_text, signer.verifier_key())
            .expect("verifies");
        assert_eq!((opened.size, opened.root), (5, signed.root));
        assert_eq!(opened.origin, "overens.example/log");
        let text: VerifierKey = signer
            .verifier_key()
            .to_string()
            .parse()
            .expect("verifier key text");
        assert_eq!(&text, signer.verifier_key());
        // The secret never shows in debug output.
        let debug = format!("{signer:?}");
        assert!(!debug.contains(&key.to_text()), "{debug}");
        assert!(debug.contains("overens.example/log+"), "{debug}");
        for bad in ["", "two words", "a+b", "tab\there", "nul\0"] {
            assert!(LogSigner::new(bad, key.clone()).is_err(), "{bad:?}");
        }
    }
}
