//! The transparency log's pure primitives: RFC 9162 tree, proofs, C2SP checkpoints and notes.
//!
//! - [`hash`]: leaf and node hashes; a leaf is SHA-256(0x00 ‖ JCS(log record)).
//! - [`tree`]: the tree as stored (Go's sumdb/tlog stored-hash layout), appends, roots and
//!   proofs over a [`HashReader`] the store implements.
//! - [`verify`]: the RFC 9162 verifiers of inclusion and consistency proofs.
//! - [`note`] and [`checkpoint`]: C2SP signed notes and checkpoints, signed with the log's key.
//! - [`keychain`]: key-transition notes (the log's key rotated) and the chain verifiers follow.
//!
//! No I/O, no clock, no async: the store reads the hashes, the caller passes keys and sizes.

pub mod checkpoint;
pub mod hash;
pub mod keychain;
pub mod note;
pub mod tree;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, LogSigner, SignedCheckpoint};
pub use hash::{EMPTY_ROOT, leaf_hash, node_hash, record_leaf_hash};
pub use keychain::{
    ChainKey, KeyChain, KeyChainError, KeyTransition, TRANSITION_HEADER, TransitionError,
};
pub use note::{NoteError, SignedNote, VerifierKey, VerifierKeyError, key_id};
pub use tree::{
    CompactRange, HashReader, LogError, MAX_TREE_SIZE, MemoryHashes, prove_consistency,
    prove_inclusion, split_stored_hash_index, stored_hash_count, stored_hash_index,
    stored_hashes_for_leaf, stored_hashes_for_leaves, tree_hash,
};
pub use verify::{
    ConsistencyProof, InclusionProof, ProofError, verify_consistency, verify_inclusion,
};
