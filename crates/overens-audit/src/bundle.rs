//! The bundle document (format `overens-bundle/1`) and its text form.

use overens_core::{AgreementId, PublicKey};
use overens_log::{InclusionProof, KeyChain};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::build::BuildError;
use crate::claims::Claims;

/// The value of `format`: the bundle format this crate writes and verifies.
pub const FORMAT: &str = "overens-bundle/1";

/// An audit bundle: everything an auditor needs to check one agreement offline.
///
/// - `registrars`: the trust anchors the log was written under;
/// - `log_key`: the log's verifier key (`<name>+<hex key ID>+<base64(0x01 ‖ key)>`);
/// - `records`: every log record of the `directory` stream and of `agreement/<agreement>`,
///   in index order, each as its canonical (RFC 8785) JSON text;
/// - `checkpoint`: a signed note (C2SP tlog-checkpoint) of the log at some size;
/// - `proofs`: one RFC 9162 inclusion proof per record, in the same order, against that
///   checkpoint;
/// - `claims`: what the server computed (versions, signatures, in-force periods);
/// - `key_chain`: when the log's key was rotated, every key-transition note (signed note,
///   `overens/log-key/v1`) from the log's first key to `log_key`, in order, so an auditor who
///   pinned an earlier key can follow the rotations offline. Absent (empty) otherwise.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub registrars: Vec<PublicKey>,
    pub log_key: String,
    pub agreement: AgreementId,
    /// Each record's canonical JSON line (it is written into the bundle verbatim).
    pub records: Vec<String>,
    pub checkpoint: String,
    pub proofs: Vec<InclusionProof>,
    pub claims: Claims,
    pub key_chain: Vec<String>,
}

/// The document as written: records and proofs are one compact line each.
#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    registrars: &'a [PublicKey],
    log_key: &'a str,
    agreement: &'a AgreementId,
    records: Vec<Box<RawValue>>,
    checkpoint: &'a str,
    proofs: Vec<Box<RawValue>>,
    claims: &'a Claims,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    key_chain: &'a [String],
}

impl Bundle {
    /// The bundle with the log's key chain in it (when the key was rotated): the chain must
    /// accept the bundle's checkpoint as signed by the bundle's log key, the key for its size.
    pub fn with_key_chain(mut self, chain: &KeyChain) -> Result<Self, BuildError> {
        let (_, signer) = chain
            .verify_checkpoint(&self.checkpoint)
            .map_err(|e| BuildError::KeyChain(e.to_string()))?;
        if signer.to_string() != self.log_key {
            return Err(BuildError::KeyChain(format!(
                "the checkpoint is signed by {signer}, the bundle names {}",
                self.log_key
            )));
        }
        self.key_chain = chain.notes();
        Ok(self)
    }

    /// The bundle's JSON text: indented, with each record (its canonical bytes, verbatim)
    /// and each proof on a line of its own. Fails only if a record is not JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let records = self
            .records
            .iter()
            .map(|r| RawValue::from_string(r.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let proofs = self
            .proofs
            .iter()
            .map(|p| serde_json::to_string(p).and_then(RawValue::from_string))
            .collect::<Result<Vec<_>, _>>()?;
        let document = Document {
            format: FORMAT,
            registrars: &self.registrars,
            log_key: &self.log_key,
            agreement: &self.agreement,
            records,
            checkpoint: &self.checkpoint,
            proofs,
            claims: &self.claims,
            key_chain: &self.key_chain,
        };
        let mut text = serde_json::to_string_pretty(&document)?;
        text.push('\n');
        Ok(text)
    }
}
