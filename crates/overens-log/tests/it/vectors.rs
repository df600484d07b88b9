//! The RFC 6962 test vectors that transparency-log implementations share (Certificate
//! Transparency's merkle_tree_test, as kept in transparency-dev/merkle's proof/verify_test.go).

use overens_core::Digest32;
use overens_log::{
    EMPTY_ROOT, MemoryHashes, ProofError, leaf_hash, prove_consistency, prove_inclusion, tree_hash,
    verify_consistency, verify_inclusion,
};

use crate::reference::Reference;

pub(crate) fn h(hex: &str) -> Digest32 {
    hex.parse().expect("64 hex digits")
}

/// The eight leaves' data.
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// The roots of the trees of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based leaf index, tree size, audit path).
const INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency path).
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaf_hashes() -> Vec<Digest32> {
    LEAVES.iter().map(|d| leaf_hash(d)).collect()
}

fn hashes(hex: &[&str]) -> Vec<Digest32> {
    hex.iter().map(|x| h(x)).collect()
}

#[test]
fn roots_of_every_size_are_the_published_ones() {
    let tree = MemoryHashes::from_leaves(&leaf_hashes());
    let reference = Reference::new(leaf_hashes());
    assert_eq!(tree_hash(0, &tree), Ok(EMPTY_ROOT));
    assert_eq!(
        EMPTY_ROOT,
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    for (size, root) in (1..).zip(ROOTS) {
        assert_eq!(tree_hash(size, &tree), Ok(h(root)), "size {size}");
        assert_eq!(reference.root(size), h(root), "reference, size {size}");
    }
    // A single leaf is its own root: the leaf hash of "" is the first root.
    assert_eq!(leaf_hash(b""), h(ROOTS[0]));
}

#[test]
fn inclusion_proofs_are_the_published_ones_and_verify() {
    let tree = MemoryHashes::from_leaves(&leaf_hashes());
    let leaves = leaf_hashes();
    for (index, size, path) in INCLUSION {
        let path = hashes(path);
        let root = h(ROOTS[size as usize - 1]);
        let leaf = leaves[index as usize];
        assert_eq!(prove_inclusion(index, size, &tree), Ok(path.clone()));
        assert_eq!(verify_inclusion(&leaf, index, size, &path, &root), Ok(()));
        assert!(
            tlog_tiles::check_record(
                &path.iter().map(|x| tlog_tiles::Hash(x.0)).collect(),
                size,
                tlog_tiles::Hash(root.0),
                index,
                tlog_tiles::Hash(leaf.0),
            )
            .is_ok()
        );
        for (what, probe) in corrupt_inclusion(index, size, &path, &root, &leaf) {
            assert!(
                verify_inclusion(
                    &probe.leaf,
                    probe.index,
                    probe.size,
                    &probe.path,
                    &probe.root
                )
                .is_err(),
                "{what} verified for ({index}, {size})"
            );
        }
    }
    // A one-leaf tree: the empty path, the leaf is the root.
    assert_eq!(prove_inclusion(0, 1, &tree), Ok(vec![]));
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 1, &[], &h(ROOTS[0])),
        Ok(())
    );
}

#[test]
fn consistency_proofs_are_the_published_ones_and_verify() {
    let tree = MemoryHashes::from_leaves(&leaf_hashes());
    for (old, new, path) in CONSISTENCY {
        let path = hashes(path);
        let (old_root, new_root) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        assert_eq!(prove_consistency(old, new, &tree), Ok(path.clone()));
        assert_eq!(
            verify_consistency(old, new, &path, &old_root, &new_root),
            Ok(())
        );
        assert!(
            tlog_tiles::check_tree(
                &path.iter().map(|x| tlog_tiles::Hash(x.0)).collect(),
                new,
                tlog_tiles::Hash(new_root.0),
                old,
                tlog_tiles::Hash(old_root.0),
            )
            .is_ok()
        );
        if path.is_empty() {
            continue;
        }
        for (what, p) in corrupt_consistency(old, new, &path, &old_root, &new_root) {
            assert!(
                verify_consistency(p.old, p.new, &p.path, &p.old_root, &p.new_root).is_err(),
                "{what} verified for ({old}, {new})"
            );
        }
    }
}

/// transparency-dev's edge cases of the consistency verifier.
#[test]
fn consistency_edge_cases() {
    let (r1, r2) = (h(ROOTS[0]), h(ROOTS[1]));
    // The empty tree is a prefix of every tree, with an empty proof.
    assert_eq!(
        verify_consistency(0, 0, &[], &EMPTY_ROOT, &EMPTY_ROOT),
        Ok(())
    );
    assert_eq!(verify_consistency(0, 2, &[], &EMPTY_ROOT, &r2), Ok(()));
    assert!(matches!(
        verify_consistency(0, 2, &[], &r1, &r2),
        Err(ProofError::OldRootMismatch { .. })
    ));
    assert_eq!(
        verify_consistency(0, 1, &[EMPTY_ROOT], &EMPTY_ROOT, &r1),
        Err(ProofError::NotEmpty)
    );
    // Equal sizes: equal roots, empty proof.
    assert_eq!(verify_consistency(1, 1, &[], &r1, &r1), Ok(()));
    assert!(matches!(
        verify_consistency(1, 1, &[], &r1, &r2),
        Err(ProofError::NewRootMismatch { .. })
    ));
    assert!(matches!(
        verify_consistency(0, 0, &[], &EMPTY_ROOT, &r1),
        Err(ProofError::NewRootMismatch { .. })
    ));
    assert_eq!(
        verify_consistency(1, 1, &[r1], &r1, &r1),
        Err(ProofError::NotEmpty)
    );
    // Time travel to the past.
    assert_eq!(
        verify_consistency(2, 1, &[], &r2, &r1),
        Err(ProofError::OldSizeLarger {
            old_size: 2,
            new_size: 1
        })
    );
    // An empty proof between different sizes.
    assert_eq!(
        verify_consistency(1, 2, &[], &r1, &r2),
        Err(ProofError::TooShort)
    );
}

#[test]
fn inclusion_edge_cases() {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size) in [(0, 0), (1, 0), (2, 1), (1, 1)] {
        assert_eq!(
            verify_inclusion(&some, index, size, &[], &some),
            Err(ProofError::IndexOutOfRange { index, size })
        );
    }
    assert_eq!(verify_inclusion(&some, 0, 1, &[], &some), Ok(()));
    assert_eq!(
        verify_inclusion(&some, 0, 1, &[some], &some),
        Err(ProofError::TooLong)
    );
    assert_eq!(
        verify_inclusion(&some, 0, 2, &[], &some),
        Err(ProofError::TooShort)
    );
    assert!(matches!(
        verify_inclusion(&some, 0, 1, &[], &EMPTY_ROOT),
        Err(ProofError::RootMismatch { .. })
    ));
}

pub(crate) struct InclusionProbe {
    pub(crate) index: u64,
    pub(crate) size: u64,
    pub(crate) path: Vec<Digest32>,
    pub(crate) root: Digest32,
    pub(crate) leaf: Digest32,
}

/// transparency-dev's corruptions of an inclusion proof.
pub(crate) fn corrupt_inclusion(
    index: u64,
    size: u64,
    path: &[Digest32],
    root: &Digest32,
    leaf: &Digest32,
) -> Vec<(String, InclusionProbe)> {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let probe = |index, size, path: Vec<Digest32>, root, leaf| InclusionProbe {
        index,
        size,
        path,
        root,
        leaf,
    };
    let p = path.to_vec();
    let with = |front: Option<Digest32>, back: Option<Digest32>| {
        front
            .into_iter()
            .chain(p.clone())
            .chain(back)
            .collect::<Vec<_>>()
    };
    let mut out = vec![
        (
            "index + 1".into(),
            probe(index + 1, size, p.clone(), *root, *leaf),
        ),
        (
            "index ^ 2".into(),
            probe(index ^ 2, size, p.clone(), *root, *leaf),
        ),
        (
            "size * 2".into(),
            probe(index, size * 2, p.clone(), *root, *leaf),
        ),
        (
            "size / 2".into(),
            probe(index, size / 2, p.clone(), *root, *leaf),
        ),
        (
            "wrong leaf".into(),
            probe(index, size, p.clone(), *root, some),
        ),
        (
            "empty root".into(),
            probe(index, size, p.clone(), EMPTY_ROOT, *leaf),
        ),
        (
            "random root".into(),
            probe(index, size, p.clone(), some, *leaf),
        ),
        (
            "trailing root".into(),
            probe(index, size, with(None, Some(*root)), *root, *leaf),
        ),
        (
            "preceding root".into(),
            probe(index, size, with(Some(*root), None), *root, *leaf),
        ),
    ];
    if index > 0 {
        out.push((
            "index - 1".into(),
            probe(index - 1, size, p.clone(), *root, *leaf),
        ));
    }
    for i in 0..p.len() {
        let mut wrong = p.clone();
        wrong[i].0[0] ^= 8;
        out.push((
            format!("modified path[{i}]"),
            probe(index, size, wrong, *root, *leaf),
        ));
    }
    if !p.is_empty() {
        let short = p[..p.len() - 1].to_vec();
        out.push((
            "removed component".into(),
            probe(index, size, short, *root, *leaf),
        ));
    }
    if p.len() > 1 {
        let mut inserted = vec![p[0], some];
        inserted.extend_from_slice(&p[1..]);
        out.push((
            "inserted component".into(),
            probe(index, size, inserted, *root, *leaf),
        ));
    }
    out
}

pub(crate) struct ConsistencyProbe {
    pub(crate) old: u64,
    pub(crate) new: u64,
    pub(crate) path: Vec<Digest32>,
    pub(crate) old_root: Digest32,
    pub(crate) new_root: Digest32,
}

/// transparency-dev's corruptions of a (non-empty) consistency proof.
pub(crate) fn corrupt_consistency(
    old: u64,
    new: u64,
    path: &[Digest32],
    old_root: &Digest32,
    new_root: &Digest32,
) -> Vec<(String, ConsistencyProbe)> {
    let wrong_root = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let (r1, r2) = (*old_root, *new_root);
    let p = path.to_vec();
    let probe = |old, new, path: Vec<Digest32>, old_root, new_root| ConsistencyProbe {
        old,
        new,
        path,
        old_root,
        new_root,
    };
    let with = |front: Option<Digest32>, back: Option<Digest32>| {
        front
            .into_iter()
            .chain(p.clone())
            .chain(back)
            .collect::<Vec<_>>()
    };
    let mut out = vec![
        ("old - 1".into(), probe(old - 1, new, p.clone(), r1, r2)),
        ("old + 1".into(), probe(old + 1, new, p.clone(), r1, r2)),
        ("old ^ 2".into(), probe(old ^ 2, new, p.clone(), r1, r2)),
        ("new * 2".into(), probe(old, new * 2, p.clone(), r1, r2)),
        ("new / 2".into(), probe(old, new / 2, p.clone(), r1, r2)),
        (
            "wrong old root".into(),
            probe(old, new, p.clone(), wrong_root, r2),
        ),
        (
            "wrong new root".into(),
            probe(old, new, p.clone(), r1, wrong_root),
        ),
        ("swapped roots".into(), probe(old, new, p.clone(), r2, r1)),
        ("empty proof".into(), probe(old, new, vec![], r1, r2)),
        (
            "trailing old root".into(),
            probe(old, new, with(None, Some(r1)), r1, r2),
        ),
        (
            "trailing new root".into(),
            probe(old, new, with(None, Some(r2)), r1, r2),
        ),
        (
            "preceding old root".into(),
            probe(old, new, with(Some(r1), None), r1, r2),
        ),
        (
            "preceding new root".into(),
            probe(old, new, with(Some(r2), None), r1, r2),
        ),
        (
            "preceding path[0]".into(),
            probe(old, new, with(Some(p[0]), None), r1, r2),
        ),
        (
            "truncated".into(),
            probe(old, new, p[..p.len() - 1].to_vec(), r1, r2),
        ),
    ];
    for i in 0..p.len() {
        let mut wrong = p.clone();
        wrong[i].0[0] ^= 16;
        out.push((
            format!("modified path[{i}]"),
            probe(old, new, wrong, r1, r2),
        ));
    }
    out
}
