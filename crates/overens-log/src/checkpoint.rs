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
