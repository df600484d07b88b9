//! Building a bundle from the server's side: its records, its proofs, its checkpoint and
//! its state.

use std::fmt;

use overens_core::{AgreementId, Digest32, LogRecord, State, StreamId};
use overens_log::{
    Checkpoint, CheckpointError, InclusionProof, LogSigner, MemoryHashes, VerifierKey, leaf_hash,
    prove_inclusion,
};

use crate::bundle::Bundle;
use crate::claims::Claims;

/// Why a bundle could not be built. Each is a defect of the caller's inputs: a bundle that
/// would not verify is never written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("no agreement `{0}` in the log")]
    UnknownAgreement(AgreementId),
    #[error("the checkpoint does not verify under the log key: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the state folds {state} records but the checkpoint is of size {checkpoint}: the \
         claims and the checkpoint must describe the same log"
    )]
    SizeMismatch { state: u64, checkpoint: u64 },
    #[error("record index {index} is not in the checkpoint's tree of size {size}")]
    OutOfTree { index: u64, size: u64 },
    #[error("record index {index} follows index {previous}: records must be in log order")]
    Order { index: u64, previous: u64 },
    #[error("stream {stream}: {got} records given, the state holds {expected}")]
    Incomplete {
        stream: StreamId,
        expected: u64,
        got: u64,
    },
    #[error("no inclusion proof for index {index}: {reason}")]
    Proof { index: u64, reason: String },
    #[error(
        "the inclusion proof of index {index} does not lead to the checkpoint's root: {reason}"
    )]
    ProofMismatch { index: u64, reason: String },
    #[error("the whole log is needed: record {position} has index {index}")]
    NotWholeLog { position: u64, index: u64 },
    #[error("cannot encode the bundle: {0}")]
    Encoding(String),
    #[error("the log's key chain does not fit the bundle: {0}")]
    KeyChain(String),
}

/// Builds the bundle of `agreement`.
///
/// - `state`: the fold of exactly the first `size` records of the log, where `size` is the
///   checkpoint's (the claims are computed from it);
/// - `records`: the log's records, or any part of it holding every record of the
///   `directory` and of the agreement's stream up to `size` (others are skipped);
/// - `checkpoint`: the signed note of the log at `size`, verified here with `log_key`;
/// - `inclusion(index, size)`: the RFC 9162 audit path of a leaf (a store's, or
///   [`overens_log::prove_inclusion`] over a [`MemoryHashes`]). Every proof is checked
///   against the checkpoint's root before it goes in.
pub fn build_bundle<'a, E: fmt::Display>(
    state: &State,
    agreement: &AgreementId,
    records: impl IntoIterator<Item = &'a LogRecord>,
    checkpoint: &str,
    log_key: &VerifierKey,
    mut inclusion: impl FnMut(u64, u64) -> Result<Vec<Digest32>, E>,
) -> Result<Bundle, BuildError> {
    let folded = state
        .agreement(agreement)
        .ok_or_else(|| BuildError::UnknownAgreement(agreement.clone()))?;
    let tree = Checkpoint::parse_and_verify_with(checkpoint, log_key)?;
    if state.len() != tree.size {
        return Err(BuildError::SizeMismatch {
            state: state.len(),
            checkpoint: tree.size,
        });
    }
    let own_stream = StreamId::Agreement(agreement.clone());
    let mut lines = Vec::new();
    let mut proofs = Vec::new();
    let (mut directory_count, mut agreement_count) = (0u64, 0u64);
    let mut previous: Option<u64> = None;
    for record in records {
        let stream = &record.event.stream;
        if *stream != StreamId::Directory && *stream != own_stream {
            continue;
        }
        if record.index >= tree.size {
            return Err(BuildError::OutOfTree {
                index: record.index,
                size: tree.size,
            });
        }
        if let Some(previous) = previous
            && record.index <= previous
        {
            return Err(BuildError::Order {
                index: record.index,
                previous,
            });
        }
        previous = Some(record.index);
        if *stream == StreamId::Directory {
            directory_count += 1;
        } else {
            agreement_count += 1;
        }
        let line = record.to_line();
        let hashes = inclusion(record.index, tree.size).map_err(|e| BuildError::Proof {
            index: record.index,
            reason: e.to_string(),
        })?;
        let proof = InclusionProof {
            index: record.index,
            size: tree.size,
            hashes,
        };
        proof
            .verify(&leaf_hash(line.as_bytes()), &tree.root)
            .map_err(|e| BuildError::ProofMismatch {
                index: record.index,
                reason: e.to_string(),
            })?;
        lines.push(line);
        proofs.push(proof);
    }
    for (stream, got) in [
        (StreamId::Directory, directory_count),
        (own_stream, agreement_count),
    ] {
        let expected = state.head(&stream).next_seq;
        if got != expected {
            return Err(BuildError::Incomplete {
                stream,
                expected,
                got,
            });
        }
    }
    Ok(Bundle {
        registrars: state.directory().registrars().iter().copied().collect(),
        log_key: log_key.to_string(),
        agreement: agreement.clone(),
        records: lines,
        checkpoint: checkpoint.to_owned(),
        proofs,
        claims: Claims::of(state, folded),
        key_chain: Vec::new(),
    })
}

/// The Merkle tree of a whole log in memory: leaf `n` is the leaf hash of record `n`.
pub fn tree_of(records: &[LogRecord]) -> Result<MemoryHashes, BuildError> {
    let mut leaves = Vec::with_capacity(records.len());
    for (position, record) in (0u64..).zip(records) {
        if record.index != position {
            return Err(BuildError::NotWholeLog {
                position,
                index: record.index,
            });
        }
        leaves.push(leaf_hash(&record.canonical_bytes()));
    }
    Ok(MemoryHashes::from_leaves(&leaves))
}

/// A bundle from a whole log at hand, for tools and tests that hold every record but no
/// store: the tree is computed in memory over every record's leaf, and the log's signer
/// signs a checkpoint of its full size.
///
/// `state` must be the fold of exactly `records`.
pub fn bundle_from_log(
    records: &[LogRecord],
    state: &State,
    agreement: &AgreementId,
    signer: &LogSigner,
) -> Result<Bundle, BuildError> {
    let tree = tree_of(records)?;
    let checkpoint = signer.sign(tree.size(), tree.root())?;
    build_bundle(
        state,
        agreement,
        records,
        &checkpoint.note_text,
        signer.verifier_key(),
        |index, size| prove_inclusion(index, size, &tree),
    )
}
