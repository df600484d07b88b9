//! Properties over many trees: every proof from the stored hashes is the RFC's, verifies (with
//! ours and with tlog_tiles' verifier), and no proof verifies after any change.

use overens_core::Digest32;
use overens_log::{
    MemoryHashes, leaf_hash, prove_consistency, prove_inclusion, tree_hash, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

use crate::reference::Reference;
use crate::vectors::{corrupt_consistency, corrupt_inclusion};

fn tlog(path: &[Digest32]) -> Vec<tlog_tiles::Hash> {
    path.iter().map(|h| tlog_tiles::Hash(h.0)).collect()
}

fn t(h: &Digest32) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

/// Builds the tree both ways and checks every root, proof and verification; `flip` picks
/// which bit of which proof element the mutation checks flip (every one when `None`).
fn check_tree(leaves: &[Digest32], flip: Option<usize>) {
    let n = leaves.len() as u64;
    let tree = MemoryHashes::from_leaves(leaves);
    let reference = Reference::new(leaves.to_vec());
    let roots: Vec<Digest32> = (0..=n)
        .map(|size| {
            let root = tree_hash(size, &tree).expect("root");
            assert_eq!(root, reference.root(size), "root of size {size}");
            root
        })
        .collect();
    assert_eq!(tree.root(), roots[n as usize]);

    for size in 1..=n {
        let root = roots[size as usize];
        for index in 0..size {
            let leaf = leaves[index as usize];
            let path = prove_inclusion(index, size, &tree).expect("inclusion proof");
            assert_eq!(
                path,
                reference.inclusion(index, size),
                "PATH({index}, {size})"
            );
            assert_eq!(verify_inclusion(&leaf, index, size, &path, &root), Ok(()));
            assert!(
                tlog_tiles::check_record(&tlog(&path), size, t(&root), index, t(&leaf)).is_ok()
            );
            check_inclusion_mutations(leaves, &roots, index, size, &path, flip);
        }
    }
    for new in 1..=n {
        for old in 1..=new {
            let (r1, r2) = (roots[old as usize], roots[new as usize]);
            let path = prove_consistency(old, new, &tree).expect("consistency proof");
            assert_eq!(path, reference.consistency(old, new), "PROOF({old}, {new})");
            assert_eq!(verify_consistency(old, new, &path, &r1, &r2), Ok(()));
            if sampled(flip, old * 7 + new) {
                assert!(tlog_tiles::check_tree(&tlog(&path), new, t(&r2), old, t(&r1)).is_ok());
            }
            check_consistency_mutations(&roots, old, new, &path, flip);
        }
    }
}

fn flip_bits(path: &[Digest32], flip: Option<usize>) -> Vec<Vec<Digest32>> {
    let flips: Vec<(usize, usize)> = match flip {
        _ if path.is_empty() => Vec::new(),
        Some(seed) => vec![((seed / 256) % path.len(), seed % 256)],
        None => (0..path.len()).map(|i| (i, (i * 37) % 256)).collect(),
    };
    flips
        .into_iter()
        .map(|(i, bit)| {
            let mut wrong = path.to_vec();
            wrong[i].0[bit / 8] ^= 1 << (bit % 8);
            wrong
        })
        .collect()
}

fn check_inclusion_mutations(
    leaves: &[Digest32],
    roots: &[Digest32],
    index: u64,
    size: u64,
    path: &[Digest32],
    flip: Option<usize>,
) {
    let root = roots[size as usize];
    let leaf = leaves[index as usize];
    for wrong in flip_bits(path, flip) {
        assert!(verify_inclusion(&leaf, index, size, &wrong, &root).is_err());
    }
    let mut wrong_root = root;
    wrong_root.0[31] ^= 1;
    assert!(verify_inclusion(&leaf, index, size, path, &wrong_root).is_err());
    let mut wrong_leaf = leaf;
    wrong_leaf.0[0] ^= 0x80;
    assert!(verify_inclusion(&wrong_leaf, index, size, path, &root).is_err());
    let probes = if sampled(flip, index * 1009 + size) {
        corrupt_inclusion(index, size, path, &root, &leaf)
    } else {
        Vec::new()
    };
    for (what, p) in probes {
        assert!(
            verify_inclusion(&p.leaf, p.index, p.size, &p.path, &p.root).is_err(),
            "{what} verified for ({index}, {size})"
        );
    }
    // Another leaf's hash, or this leaf at another index, never verifies.
    for other in others(0..size, index, flip) {
        let o = other as usize;
        if leaves[o] != leaf {
            assert!(verify_inclusion(&leaves[o], index, size, path, &root).is_err());
        }
        assert!(verify_inclusion(&leaf, other, size, path, &root).is_err());
    }
    // The proof does not fit any other real tree head (size and its root, as a checkpoint
    // signs them together).
    for other in others(1..roots.len() as u64, size, flip) {
        let r = roots[other as usize];
        assert!(
            verify_inclusion(&leaf, index, other, path, &r).is_err(),
            "({index}, {size}) verified at size {other}"
        );
    }
}

/// Whether the cross-check with tlog_tiles and the full list of corruptions run for this
/// proof: always when exhaustive, for about one proof in eight (picked by `flip`) on random
/// trees (SHA-256 is slow in unoptimised test builds).
fn sampled(flip: Option<usize>, key: u64) -> bool {
    flip.is_none_or(|seed| (seed as u64).wrapping_add(key).is_multiple_of(8))
}

/// The values of `range` other than `except`: all of them, or one picked by `flip`.
fn others(range: std::ops::Range<u64>, except: u64, flip: Option<usize>) -> Vec<u64> {
    let all = range.filter(|&x| x != except);
    match flip {
        None => all.collect(),
        Some(seed) => {
            let all: Vec<u64> = all.collect();
            if all.is_empty() {
                return all;
            }
            vec![all[(seed / 7 + except as usize * 7919) % all.len()]]
        }
    }
}

fn check_consistency_mutations(
    roots: &[Digest32],
    old: u64,
    new: u64,
    path: &[Digest32],
    flip: Option<usize>,
) {
    let (r1, r2) = (roots[old as usize], roots[new as usize]);
    for wrong in flip_bits(path, flip) {
        assert!(verify_consistency(old, new, &wrong, &r1, &r2).is_err());
    }
    let (mut wrong_old, mut wrong_new) = (r1, r2);
    wrong_old.0[31] ^= 1;
    wrong_new.0[31] ^= 1;
    assert!(verify_consistency(old, new, path, &wrong_old, &r2).is_err());
    assert!(verify_consistency(old, new, path, &r1, &wrong_new).is_err());
    if !path.is_empty() && sampled(flip, old * 1009 + new) {
        for (what, p) in corrupt_consistency(old, new, path, &r1, &r2) {
            assert!(
                verify_consistency(p.old, p.new, &p.path, &p.old_root, &p.new_root).is_err(),
                "{what} verified for ({old}, {new})"
            );
        }
    }
    // No other pair of real tree heads accepts this proof.
    let n = roots.len() as u64 - 1;
    let pairs = others(1..n + 1, old, flip)
        .into_iter()
        .map(|o| (o, new))
        .chain(others(1..n + 1, new, flip).into_iter().map(|m| (old, m)));
    for (o, m) in pairs {
        if roots[o as usize] != roots[m as usize] {
            assert!(
                verify_consistency(o, m, path, &roots[o as usize], &roots[m as usize]).is_err(),
                "({old}, {new}) verified as ({o}, {m})"
            );
        }
    }
}

fn counted_leaves(n: u64) -> Vec<Digest32> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

/// Every tree up to 64 leaves (the prefixes of one), every proof, every corruption of every
/// proof: each element changed, each other index, size, leaf and tree head.
#[test]
fn every_proof_of_every_small_tree() {
    check_tree(&counted_leaves(0), None);
    check_tree(&counted_leaves(64), None);
}

/// Appending one by one, in batches, or all at once stores the same hashes.
#[test]
fn incremental_and_batched_appends_agree() {
    let leaves = counted_leaves(200);
    let one_by_one = MemoryHashes::from_leaves(&leaves);
    let mut batched = MemoryHashes::new();
    for chunk in leaves.chunks(13) {
        batched.append_batch(chunk).expect("batch");
    }
    assert_eq!(batched, one_by_one);
    let reference = Reference::new(leaves.clone());
    for size in 0..=200 {
        assert_eq!(tree_hash(size, &batched), Ok(reference.root(size)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Random trees up to 200 leaves: every (index, size) and (old, new) proof is the RFC's
    /// and verifies; a flipped bit, another leaf, index, size or root never does. (Leaves
    /// are distinct: with two equal leaves, swapping them is no change.)
    #[test]
    fn every_proof_of_random_trees(
        data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..=200),
        flip in any::<usize>(),
    ) {
        let leaves: Vec<Digest32> = (0u32..)
            .zip(&data)
            .map(|(i, d)| leaf_hash(&[&i.to_be_bytes()[..], d].concat()))
            .collect();
        check_tree(&leaves, Some(flip));
    }
}
