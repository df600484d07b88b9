//! The transparency log over the global log: the store's roots and proofs agree with a tree
//! computed independently from the records' leaf hashes (`overens_log::MemoryHashes`), every
//! proof verifies with the plain RFC 9162 verifiers, and no tree past the committed records
//! is ever answered.

use std::sync::Arc;

use overens_core::{Digest32, Timestamp};
use overens_log::{
    EMPTY_ROOT, MemoryHashes, prove_consistency, prove_inclusion, tree_hash, verify_consistency,
    verify_inclusion,
};

use super::{
    Chain, StoreFactory, agreement, append_ok, batch, check_consistent, directory, ok, read_all,
    restore_record, snapshot, ts,
};
use crate::{EventStore, StoreError, StoredRecord};

/// Every record's leaf hash, checked against its log line.
fn leaves(log: &[StoredRecord]) -> Vec<Digest32> {
    log.iter()
        .map(|r| {
            assert_eq!(
                r.leaf,
                crate::leaf_hash(r.log_line().as_bytes()),
                "record {}: leaf is not the leaf hash of its line",
                r.index
            );
            r.leaf
        })
        .collect()
}

/// The tree computed from scratch from what `read_log` returns.
async fn independent<S: EventStore>(store: &S) -> MemoryHashes {
    MemoryHashes::from_leaves(&leaves(&read_all(store).await))
}

/// Every root the store gives, for every size up to its length, is the independent one.
async fn assert_roots<S: EventStore>(store: &S, what: &str) -> MemoryHashes {
    let tree = independent(store).await;
    let len = ok(store.len().await, "len");
    assert_eq!(tree.size(), len, "{what}: read_log and len disagree");
    for size in 0..=len {
        let expected = tree_hash(size, &tree).unwrap_or_else(|e| panic!("memory root: {e}"));
        assert_eq!(
            ok(store.tree_head(size).await, "tree_head"),
            expected,
            "{what}: the root of size {size}"
        );
    }
    tree
}

/// `n` appends raced at once, each to its own stream, so that a store that groups
/// commits puts several of them in one transaction.
async fn racing_appends<S: EventStore>(store: &Arc<S>, round: &str, n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = store.clone();
            let events = Chain::new(agreement(&format!("trad-{round}-{i}"))).batch(1 + i % 3);
            tokio::spawn(async move { store.append(batch(&events)).await })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap_or_else(|e| panic!("append task: {e}"))
            .unwrap_or_else(|e| panic!("racing append: {e}"));
    }
}

/// A log grown every way a store is written: single appends, batches, restores, appends
/// racing each other (commit groups), and refused requests between them. After each step
/// every root of every size is the root of the tree computed from the records alone.
pub async fn tree_heads_match_an_independent_tree<S: EventStore>(store: S) {
    let store = Arc::new(store);
    assert_eq!(ok(store.tree_head(0).await, "tree_head"), EMPTY_ROOT);
    assert_roots(&*store, "empty").await;

    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("tradet"));
    let restored = [dir.next_event(), deal.next_event(), deal.next_event()];
    let records = restored
        .iter()
        .zip(0..)
        .map(|(e, i)| restore_record(e, i, ts("2019-02-03T04:05:06Z")))
        .collect();
    ok(store.restore(records).await, "restore");
    assert_roots(&*store, "after a restore").await;

    append_ok(&*store, &[dir.next_event()]).await;
    let tree = assert_roots(&*store, "after one append").await;
    assert_eq!(tree.size(), 4);

    append_ok(&*store, &deal.batch(5)).await;
    assert_roots(&*store, "after a batch").await;

    // A refused append leaves the tree as it was.
    let before = ok(store.tree_head(9).await, "tree_head");
    let stale = deal.sign_at(
        super::fresh_id(),
        0,
        Digest32::ZERO,
        &super::some_event(&deal.stream),
    );
    assert!(store.append(batch(&[stale])).await.is_err());
    assert_eq!(ok(store.len().await, "len"), 9);
    assert_eq!(ok(store.tree_head(9).await, "tree_head"), before);

    for round in 0..4 {
        racing_appends(&store, &round.to_string(), 12).await;
        assert_roots(&*store, &format!("after racing appends, round {round}")).await;
    }
    // A restore after appends, and appends after it again.
    let len = ok(store.len().await, "len");
    let later = Timestamp::from_datetime(
        read_all(&*store)
            .await
            .last()
            .map_or(ts("2019-02-03T04:05:06Z"), |r| r.recorded_at)
            .datetime()
            + chrono::Duration::seconds(1),
    );
    ok(
        store
            .restore(vec![restore_record(&dir.next_event(), len, later)])
            .await,
        "restore",
    );
    append_ok(&*store, &dir.batch(3)).await;
    assert_roots(&*store, "after a restore following appends").await;
    check_consistent(&snapshot(&*store, &[]).await);
}

/// Grows a log in batches of varied sizes, on two streams.
struct Grower {
    dir: Chain,
    deal: Chain,
    step: usize,
}

impl Grower {
    fn new() -> Self {
        Grower {
            dir: Chain::new(directory()),
            deal: Chain::new(agreement("bevisad")),
            step: 0,
        }
    }

    /// Appends until the log holds `n` records.
    async fn grow<S: EventStore>(&mut self, store: &S, n: u64) {
        let mut len = ok(store.len().await, "len");
        while len < n {
            let size = ((self.step % 4) + 1).min((n - len) as usize);
            let chain = if self.step.is_multiple_of(3) {
                &mut self.dir
            } else {
                &mut self.deal
            };
            len += append_ok(store, &chain.batch(size)).await.indexes.len() as u64;
            self.step += 1;
        }
    }
}

/// Every inclusion proof of every record in trees of several sizes, and every consistency
/// proof between those sizes, verifies against the store's own roots with the RFC 9162
/// verifiers, and is the proof computed from the records alone.
pub async fn proofs_verify_against_the_roots<S: EventStore>(store: S) {
    Grower::new().grow(&store, 41).await;
    let log = read_all(&store).await;
    let leaves = leaves(&log);
    let tree = MemoryHashes::from_leaves(&leaves);
    let sizes = [0u64, 1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 40, 41];
    let mut roots = Vec::new();
    for size in sizes {
        let root = ok(store.tree_head(size).await, "tree_head");
        assert_eq!(Ok(root), tree_hash(size, &tree), "root of size {size}");
        roots.push(root);
        for index in 0..size {
            let proof = ok(store.inclusion_proof(index, size).await, "inclusion_proof");
            assert_eq!((proof.index, proof.size), (index, size));
            assert_eq!(
                Ok(&proof.hashes),
                prove_inclusion(index, size, &tree).as_ref(),
                "inclusion proof of {index} in {size}"
            );
            verify_inclusion(&leaves[index as usize], index, size, &proof.hashes, &root)
                .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e}"));
            assert_eq!(proof.verify(&leaves[index as usize], &root), Ok(()));
        }
    }
    for (i, &old) in sizes.iter().enumerate() {
        for (j, &new) in sizes.iter().enumerate().skip(i) {
            let proof = ok(store.consistency_proof(old, new).await, "consistency_proof");
            assert_eq!((proof.old_size, proof.new_size), (old, new));
            assert_eq!(
                Ok(&proof.hashes),
                prove_consistency(old, new, &tree).as_ref(),
                "consistency proof from {old} to {new}"
            );
            verify_consistency(old, new, &proof.hashes, &roots[i], &roots[j])
                .unwrap_or_else(|e| panic!("consistency from {old} to {new}: {e}"));
        }
    }
}

/// No root or proof of a tree past the committed records: the size is refused, and so are
/// a leaf not in its tree and a consistency proof from a larger tree to a smaller one.
pub async fn tree_sizes_beyond_the_log_are_refused<S: EventStore>(store: S) {
    assert_eq!(
        store.tree_head(1).await,
        Err(StoreError::BeyondLog { size: 1, len: 0 })
    );
    assert_eq!(
        store.inclusion_proof(0, 1).await.map(|p| p.size),
        Err(StoreError::BeyondLog { size: 1, len: 0 })
    );
    assert_eq!(
        store.consistency_proof(0, 1).await.map(|p| p.new_size),
        Err(StoreError::BeyondLog { size: 1, len: 0 })
    );
    assert!(matches!(
        store.inclusion_proof(0, 0).await,
        Err(StoreError::InvalidRange(_))
    ));

    Grower::new().grow(&store, 5).await;
    for size in [6, 7, 1 << 40, u64::MAX] {
        let beyond = StoreError::BeyondLog { size, len: 5 };
        assert_eq!(
            store.tree_head(size).await.map(|_| ()),
            Err(beyond.clone()),
            "tree_head({size})"
        );
        assert_eq!(
            store.inclusion_proof(0, size).await.map(|_| ()),
            Err(beyond.clone()),
            "inclusion_proof(0, {size})"
        );
        assert_eq!(
            store.consistency_proof(1, size).await.map(|_| ()),
            Err(beyond),
            "consistency_proof(1, {size})"
        );
    }
    for (index, size) in [(5, 5), (6, 5), (u64::MAX, 5), (0, 0)] {
        assert!(
            matches!(
                store.inclusion_proof(index, size).await,
                Err(StoreError::InvalidRange(_))
            ),
            "inclusion_proof({index}, {size})"
        );
    }
    for (old, new) in [(5, 4), (2, 1), (1, 0)] {
        assert!(
            matches!(
                store.consistency_proof(old, new).await,
                Err(StoreError::InvalidRange(_))
            ),
            "consistency_proof({old}, {new})"
        );
    }
    // What the store holds is still answered.
    assert!(
        ok(store.consistency_proof(0, 5).await, "consistency_proof")
            .hashes
            .is_empty()
    );
    assert!(
        ok(store.consistency_proof(5, 5).await, "consistency_proof")
            .hashes
            .is_empty()
    );
    assert_eq!(
        ok(store.inclusion_proof(4, 5).await, "inclusion_proof").index,
        4
    );
}

/// The tree survives a reopen: the same roots, and appends after it continue it.
pub async fn the_tree_survives_reopen<F: StoreFactory>(factory: &F) {
    let store = factory.fresh().await;
    let mut grower = Grower::new();
    grower.grow(&store, 23).await;
    let roots: Vec<Digest32> = {
        let mut roots = Vec::new();
        for size in 0..=23 {
            roots.push(ok(store.tree_head(size).await, "tree_head"));
        }
        roots
    };
    let store = factory.reopen(store).await;
    for (size, root) in (0..).zip(&roots) {
        assert_eq!(
            &ok(store.tree_head(size).await, "tree_head"),
            root,
            "root of size {size} after reopen"
        );
    }
    grower.grow(&store, 30).await;
    assert_roots(&store, "appends after reopen").await;
    let proof = ok(store.consistency_proof(23, 30).await, "consistency_proof");
    let new_root = ok(store.tree_head(30).await, "tree_head");
    assert_eq!(proof.verify(&roots[23], &new_root), Ok(()));
}
