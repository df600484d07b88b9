//! Merkle proofs (RFC 9162): a real tree built from the input is the oracle of what the
//! verifiers may accept.

use arbitrary::{Arbitrary, Unstructured};
use overens_core::Digest32;
use overens_log::{
    CompactRange, EMPTY_ROOT, MAX_TREE_SIZE, MemoryHashes, leaf_hash, node_hash, prove_consistency,
    prove_inclusion, tree_hash, verify_consistency, verify_inclusion,
};

use crate::Outcome;

/// The largest tree built: big enough for every shape of path up to height 7.
const MAX_LEAVES: usize = 130;

/// A change to a real proof, or a proof of the fuzzer's own.
#[derive(Debug, Arbitrary)]
enum Edit {
    Flip { at: u8, byte: u8, bit: u8 },
    Drop { at: u8 },
    Insert { at: u8, hash: Candidate },
    Swap { a: u8, b: u8 },
    Truncate { to: u8 },
    Replace { at: u8, hash: Candidate },
}

/// A hash to put in a proof: arbitrary bytes, or one the tree really stores (closer to a
/// proof that passes, so more of the verifier is reached).
#[derive(Debug, Arbitrary)]
enum Candidate {
    Bytes([u8; 32]),
    Stored(u16),
    Root(u8),
}

/// What the input asks for after the tree.
#[derive(Debug, Arbitrary)]
struct Query {
    index: u64,
    size: u64,
    old_size: u64,
    /// A leaf other than the real one when `Some`.
    leaf: Option<Candidate>,
    /// An old root other than the real one when `Some`.
    old_root: Option<Candidate>,
    edits: Vec<Edit>,
    /// Bounds proofs of sizes beyond the tree (the generators must refuse, not panic).
    wild: bool,
}

/// RFC 9162 §2.1.1 MTH, recursively: the reference the stored-hash tree is checked with.
fn mth(leaves: &[Digest32]) -> Digest32 {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, leaves: &[Digest32]) -> Vec<Digest32> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaves: &[Digest32], whole: bool) -> Vec<Digest32> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![mth(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], whole);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn pick(candidate: &Candidate, tree: &MemoryHashes, roots: &[Digest32]) -> Digest32 {
    match candidate {
        Candidate::Bytes(b) => Digest32(*b),
        Candidate::Stored(i) => tree.stored()[usize::from(*i) % tree.stored().len()],
        Candidate::Root(i) => roots[usize::from(*i) % roots.len()],
    }
}

fn edit(proof: &mut Vec<Digest32>, edits: &[Edit], tree: &MemoryHashes, roots: &[Digest32]) {
    let at = |i: u8, len: usize| usize::from(i) % len.max(1);
    for e in edits {
        match e {
            Edit::Flip { at: i, byte, bit } if !proof.is_empty() => {
                let i = at(*i, proof.len());
                proof[i].0[usize::from(*byte) % 32] ^= 1 << (bit % 8);
            }
            Edit::Drop { at: i } if !proof.is_empty() => {
                proof.remove(at(*i, proof.len()));
            }
            Edit::Insert { at: i, hash } => {
                let i = at(*i, proof.len() + 1);
                proof.insert(i, pick(hash, tree, roots));
            }
            Edit::Swap { a, b } if !proof.is_empty() => {
                let (a, b) = (at(*a, proof.len()), at(*b, proof.len()));
                proof.swap(a, b);
            }
            Edit::Truncate { to } => proof.truncate(usize::from(*to)),
            Edit::Replace { at: i, hash } if !proof.is_empty() => {
                let i = at(*i, proof.len());
                proof[i] = pick(hash, tree, roots);
            }
            _ => {}
        }
    }
}

/// Properties of the tree and the proof verifiers, over a tree of up to 130 leaves whose
/// data the input gives:
///
/// - the stored-hash tree, the compact range and batch appends agree on every prefix's
///   root, which is RFC 9162's MTH (checked for the sizes asked about); the generated
///   proofs are RFC 9162's PATH and PROOF, and verify;
/// - an inclusion proof (real, edited or made up) that verifies against a real root
///   proves the real leaf with the real path, nothing else;
/// - a consistency proof that verifies against a real new root proves the real old root
///   with the real proof, nothing else;
/// - sizes beyond the tree, out-of-range indexes and absurd sizes are refused by the
///   generators and the verifiers, never a panic.
pub fn check_merkle(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let Ok(count) = u.int_in_range(1..=MAX_LEAVES) else {
        return Outcome::Refused;
    };
    let mut leaves = Vec::with_capacity(count);
    for i in 0..count {
        let bytes: &[u8] = u.arbitrary().unwrap_or_default();
        let mut leaf = i.to_be_bytes().to_vec();
        leaf.extend_from_slice(bytes);
        leaves.push(leaf_hash(&leaf));
    }
    let tree = MemoryHashes::from_leaves(&leaves);
    let mut batched = MemoryHashes::new();
    let mut compact = CompactRange::new();
    let mut rest: &[Digest32] = &leaves;
    while !rest.is_empty() {
        let take = u.int_in_range(1..=rest.len()).unwrap_or(rest.len());
        batched
            .append_batch(&rest[..take])
            .expect("memory reads never fail");
        rest = &rest[take..];
    }
    assert_eq!(batched, tree, "batch appends differ from single ones");
    let n = count as u64;
    let mut roots = vec![EMPTY_ROOT];
    for k in 1..=count {
        compact.push(leaves[k - 1]);
        let root = tree_hash(k as u64, &tree).expect("a size within the tree");
        assert_eq!(
            compact.root(),
            root,
            "the compact range's root differs at {k}"
        );
        roots.push(root);
    }
    assert!(tree_hash(n + 1, &tree).is_err());

    let Ok(query) = Query::arbitrary(&mut u) else {
        return Outcome::Refused;
    };
    let (index, size, old_size) = if query.wild {
        (query.index, query.size, query.old_size)
    } else {
        let size = query.size % (n + 1);
        (query.index % (size + 1), size, query.old_size % (size + 1))
    };
    // The reference MTH (quadratic) for the sizes this input asks about.
    for k in [n, size, old_size] {
        if let Ok(k) = usize::try_from(k)
            && k <= count
        {
            assert_eq!(roots[k], mth(&leaves[..k]), "tree_hash({k}) is not MTH");
        }
    }
    let mut accepted = false;

    // Inclusion.
    let real_path = prove_inclusion(index, size, &tree);
    if index < size && size <= n {
        let (i, s) = (index as usize, size as usize);
        let real_path = real_path.expect("a proof inside the tree");
        assert_eq!(real_path, path(i, &leaves[..s]), "not RFC 9162 PATH");
        let root = roots[s];
        assert_eq!(
            verify_inclusion(&leaves[i], index, size, &real_path, &root),
            Ok(())
        );
        let leaf = query
            .leaf
            .as_ref()
            .map_or(leaves[i], |c| pick(c, &tree, &roots));
        let mut forged = real_path.clone();
        edit(&mut forged, &query.edits, &tree, &roots);
        if verify_inclusion(&leaf, index, size, &forged, &root).is_ok() {
            assert_eq!(leaf, leaves[i], "a wrong leaf was proven included");
            assert_eq!(forged, real_path, "a second path proves the same leaf");
            accepted = true;
        }
    } else {
        assert!(real_path.is_err(), "a proof outside the tree");
        let root = roots[(size.min(n)) as usize];
        let mut forged = Vec::new();
        edit(&mut forged, &query.edits, &tree, &roots);
        let leaf = leaves[(index % n) as usize];
        if index >= size {
            assert!(verify_inclusion(&leaf, index, size, &forged, &root).is_err());
        }
    }

    // Consistency.
    let real = prove_consistency(old_size, size, &tree);
    if old_size <= size && size <= n {
        let real = real.expect("a proof inside the tree");
        let (o, s) = (old_size as usize, size as usize);
        if 0 < o && o < s {
            assert_eq!(real, subproof(o, &leaves[..s], true), "not RFC 9162 PROOF");
        } else {
            assert!(real.is_empty());
        }
        assert_eq!(
            verify_consistency(old_size, size, &real, &roots[o], &roots[s]),
            Ok(())
        );
        let old_root = query
            .old_root
            .as_ref()
            .map_or(roots[o], |c| pick(c, &tree, &roots));
        let mut forged = real.clone();
        edit(&mut forged, &query.edits, &tree, &roots);
        if verify_consistency(old_size, size, &forged, &old_root, &roots[s]).is_ok() {
            assert_eq!(old_root, roots[o], "a wrong old root was proven a prefix");
            assert_eq!(forged, real, "a second consistency proof");
            accepted = true;
        }
    } else if old_size > size {
        assert!(real.is_err());
        let forged: Vec<Digest32> = Vec::new();
        assert!(verify_consistency(old_size, size, &forged, &EMPTY_ROOT, &EMPTY_ROOT).is_err());
    } else if old_size == 0 || old_size == size {
        // Trivially empty: nothing of the tree is needed (the store checks its sizes
        // against the log before it asks).
        if size > MAX_TREE_SIZE {
            assert!(real.is_err(), "a proof of an impossible size");
        } else {
            assert_eq!(real, Ok(Vec::new()));
        }
    } else {
        assert!(real.is_err(), "a consistency proof beyond the tree");
    }
    Outcome::of(accepted)
}
