//! The verifiers auditors re-implement: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
//! (consistency), written step by step from the RFC and using nothing but SHA-256.

use overens_core::Digest32;
use serde::{Deserialize, Serialize};

use crate::hash::{EMPTY_ROOT, node_hash};

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeLarger { old_size: u64, new_size: u64 },
    #[error("the proof has more hashes than the tree sizes allow")]
    TooLong,
    #[error("the proof has fewer hashes than the tree sizes need")]
    TooShort,
    #[error("a proof between equal tree sizes, or from the empty tree, is empty")]
    NotEmpty,
    #[error("the proof leads to root {computed}, not to the expected {expected}")]
    RootMismatch {
        expected: Digest32,
        computed: Digest32,
    },
    #[error("the proof leads to old root {computed}, not to the expected {expected}")]
    OldRootMismatch {
        expected: Digest32,
        computed: Digest32,
    },
    #[error("the proof leads to new root {computed}, not to the expected {expected}")]
    NewRootMismatch {
        expected: Digest32,
        computed: Digest32,
    },
}

/// Shifts `fn_` and `sn` right together until `fn_`'s lowest bit is set or `fn_` is 0.
fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show that `leaf_hash` is leaf `index` of the tree of
/// `size` leaves whose root is `root`?
pub fn verify_inclusion(
    leaf_hash: &Digest32,
    index: u64,
    size: u64,
    proof: &[Digest32],
    root: &Digest32,
) -> Result<(), ProofError> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // 2. fn = leaf_index, sn = tree_size - 1.
    let (mut fn_, mut sn) = (index, size - 1);
    // 3. r = hash.
    let mut r = *leaf_hash;
    // 4. For each p in the inclusion path:
    for p in proof {
        // a. sn == 0: the path is longer than the tree is high.
        if sn == 0 {
            return Err(ProofError::TooLong);
        }
        // b. A right child, or the last node of its level: p is on the left.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // ii. Skip the levels where this node has no sibling.
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        // c. Up one level.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. sn must be 0 (the path reached the root) and r must be the root.
    if sn != 0 {
        return Err(ProofError::TooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`?
///
/// The RFC's algorithm covers `0 < old_size < new_size`. Outside it: equal sizes need an empty
/// proof and equal roots; the empty tree (root [`EMPTY_ROOT`]) is a prefix of every tree, with
/// an empty proof; a larger old size is never consistent.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Digest32],
    old_root: &Digest32,
    new_root: &Digest32,
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeLarger { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::NotEmpty);
        }
        if old_size == 0 && *old_root != EMPTY_ROOT {
            return Err(ProofError::OldRootMismatch {
                expected: *old_root,
                computed: EMPTY_ROOT,
            });
        }
        // Equal sizes: the new tree is the old one, root and all.
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch {
                expected: *new_root,
                computed: *old_root,
            });
        }
        return Ok(());
    }
    // 1. An empty path fails.
    if proof.is_empty() {
        return Err(ProofError::TooShort);
    }
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let mut path: Vec<Digest32> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // 3. fn = first - 1, sn = second - 1.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // 4. If LSB(fn) is set, shift both right until it is not.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. fr = sr = the first value of the path.
    let (mut fr, mut sr) = (path[0], path[0]);
    // 6. For each subsequent value c:
    for c in &path[1..] {
        // a. sn == 0: the path is longer than the new tree is high.
        if sn == 0 {
            return Err(ProofError::TooLong);
        }
        // b. c is a left sibling on both paths, or the old tree's last node of its level.
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            // iii. Skip the levels where this node has no sibling.
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            // Otherwise c is a right sibling that only the new tree has.
            sr = node_hash(&sr, c);
        }
        // c. Up one level.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. fr must be first_hash, sr second_hash, and sn 0.
    if sn != 0 {
        return Err(ProofError::TooShort);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch {
            expected: *old_root,
            computed: fr,
        });
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch {
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

/// An inclusion proof as served and bundled: leaf `index` is in the tree of `size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// The audit path, leaf to root (lowercase hex each).
    pub hashes: Vec<Digest32>,
}

impl InclusionProof {
    pub fn verify(&self, leaf_hash: &Digest32, root: &Digest32) -> Result<(), ProofError> {
        verify_inclusion(leaf_hash, self.index, self.size, &self.hashes, root)
    }
}

/// A consistency proof as served and bundled: the tree of `old_size` is a prefix of the
/// tree of `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// The consistency path (lowercase hex each).
    pub hashes: Vec<Digest32>,
}

impl ConsistencyProof {
    pub fn verify(&self, old_root: &Digest32, new_root: &Digest32) -> Result<(), ProofError> {
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.hashes,
            old_root,
            new_root,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn proofs_serialise_with_hex_hashes() {
        let proof = InclusionProof {
            index: 1,
            size: 2,
            hashes: vec![leaf_hash(b"")],
        };
        let json = serde_json::to_string(&proof).expect("json");
        assert_eq!(
            json,
            r#"{"index":1,"size":2,"hashes":["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]}"#
        );
        assert_eq!(
            serde_json::from_str::<InclusionProof>(&json).ok(),
            Some(proof)
        );
        let root = node_hash(&leaf_hash(b""), &leaf_hash(b"x"));
        let consistency = ConsistencyProof {
            old_size: 1,
            new_size: 2,
            hashes: vec![leaf_hash(b"x")],
        };
        assert_eq!(consistency.verify(&leaf_hash(b""), &root), Ok(()));
        let json = serde_json::to_string(&consistency).expect("json");
        assert!(json.starts_with(r#"{"old_size":1,"new_size":2,"hashes":["#));
        assert!(
            serde_json::from_str::<ConsistencyProof>(
                r#"{"old_size":1,"new_size":2,"hashes":[],"x":1}"#
            )
            .is_err()
        );
    }
}
