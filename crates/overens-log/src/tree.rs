//! The tree as a store keeps it: Go's sumdb/tlog "stored hash" layout, appends and proofs.
//!
//! Every complete subtree's hash is stored once, at a dense index: appending leaf `n` stores
//! its leaf hash and the hash of every subtree that leaf completes (`1 + trailing ones of n`
//! hashes, just under two on average), reading at most `log₂ n` earlier ones. A root, an
//! inclusion proof or a consistency proof then reads at most `O(log² n)` stored hashes, so
//! neither start-up nor a proof rebuilds the tree. The layout and the proof construction are
//! `tlog_tiles` (Cloudflare's port of Go's `golang.org/x/mod/sumdb/tlog`); this module adapts
//! it to [`Digest32`] and to errors instead of panics.

use std::cell::RefCell;

use overens_core::Digest32;

use crate::hash::{EMPTY_ROOT, node_hash};

/// The largest tree the index arithmetic accepts: stored-hash indexes stay below `2^63`.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Why a root or proof could not be computed from the stored hashes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The reader could not read (an I/O or database error, as text).
    #[error("reading stored hashes: {0}")]
    Storage(String),
    /// A stored hash the tree needs is not there: the store is behind or damaged.
    #[error("stored hash {index} is missing")]
    MissingHash { index: u64 },
    #[error("asked for {requested} stored hashes, the reader returned {returned}")]
    WrongHashCount { requested: usize, returned: usize },
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("no consistency proof from size {old} to the smaller size {new}")]
    OldSizeLarger { old: u64, new: u64 },
    #[error("tree size {size} exceeds the supported maximum {MAX_TREE_SIZE}")]
    TooLarge { size: u64 },
    /// `tlog_tiles` refused (a bug of ours if it ever happens: inputs are checked first).
    #[error("tree arithmetic: {0}")]
    Tlog(String),
}

/// Reads stored hashes by their stored-hash index ([`stored_hash_index`]). The store
/// implements it over its node table; [`MemoryHashes`] is the in-memory one.
pub trait HashReader {
    /// The hashes at `indexes`, in the order asked, exactly one per index (or an error).
    /// Callers ask in increasing order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Digest32>, LogError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Digest32>, LogError> {
        (**self).read_hashes(indexes)
    }
}

/// Where the hash of the `n`th subtree of height `level` (leaves `n·2^level ..
/// (n+1)·2^level`) is stored. Leaf `n`'s own hash is at `stored_hash_index(0, n)`.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    tlog_tiles::stored_hash_index(level, n)
}

/// The inverse of [`stored_hash_index`]: `(level, n)` of a stored hash.
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    tlog_tiles::split_stored_hash_index(index)
}

/// How many hashes a store holds for a tree of `size` leaves. The hashes for leaf `n` are
/// stored from `stored_hash_index(0, n)` = `stored_hash_count(n)` on.
pub fn stored_hash_count(size: u64) -> u64 {
    tlog_tiles::stored_hash_count(size)
}

fn check_size(size: u64) -> Result<(), LogError> {
    if size > MAX_TREE_SIZE {
        return Err(LogError::TooLarge { size });
    }
    Ok(())
}

/// The hashes to store when leaf `n` (0-based) with `leaf_hash` is appended to a tree of `n`
/// leaves whose hashes `reader` holds: the leaf hash first, then each subtree it completes.
/// They go at `stored_hash_count(n)..stored_hash_count(n + 1)`.
pub fn stored_hashes_for_leaf<R: HashReader + ?Sized>(
    n: u64,
    leaf_hash: &Digest32,
    reader: &R,
) -> Result<Vec<Digest32>, LogError> {
    check_size(n.saturating_add(1))?;
    with_tlog(reader, |r| {
        tlog_tiles::stored_hashes_for_record_hash(n, to_tlog(leaf_hash), r)
    })
    .map(from_tlog_vec)
}

/// [`stored_hashes_for_leaf`] for a batch of leaves appended at `first, first + 1, …`, as a
/// group commit writes them: hashes of earlier leaves of the same batch come from the batch,
/// the rest from `reader`. The result goes at `stored_hash_count(first)` on.
pub fn stored_hashes_for_leaves<R: HashReader + ?Sized>(
    first: u64,
    leaf_hashes: &[Digest32],
    reader: &R,
) -> Result<Vec<Digest32>, LogError> {
    let count = u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
    check_size(first.saturating_add(count))?;
    let pending = Pending {
        base: stored_hash_count(first),
        hashes: RefCell::new(Vec::new()),
        reader,
    };
    for (n, leaf) in (first..).zip(leaf_hashes) {
        let new = stored_hashes_for_leaf(n, leaf, &pending)?;
        pending.hashes.borrow_mut().extend(new);
    }
    Ok(pending.hashes.into_inner())
}

/// The stored hashes of a batch not yet written, in front of the reader of what is.
struct Pending<'a, R: ?Sized> {
    base: u64,
    hashes: RefCell<Vec<Digest32>>,
    reader: &'a R,
}

impl<R: HashReader + ?Sized> HashReader for Pending<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Digest32>, LogError> {
        let stored: Vec<u64> = indexes.iter().copied().filter(|&i| i < self.base).collect();
        let mut from_store = if stored.is_empty() {
            Vec::new()
        } else {
            read_exact(self.reader, &stored)?
        }
        .into_iter();
        let pending = self.hashes.borrow();
        indexes
            .iter()
            .map(|&i| {
                if i < self.base {
                    from_store.next().ok_or(LogError::MissingHash { index: i })
                } else {
                    usize::try_from(i - self.base)
                        .ok()
                        .and_then(|at| pending.get(at).copied())
                        .ok_or(LogError::MissingHash { index: i })
                }
            })
            .collect()
    }
}

/// The root of the tree of the first `size` leaves (RFC 9162 MTH), from at most
/// `1 + log₂ size` stored hashes.
pub fn tree_hash<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Digest32, LogError> {
    check_size(size)?;
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    with_tlog(reader, |r| tlog_tiles::tree_hash(size, r)).map(|h| Digest32(h.0))
}

/// The inclusion proof (RFC 9162 §2.1.3.1 PATH) of leaf `index` in the tree of `size`.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Digest32>, LogError> {
    check_size(size)?;
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    with_tlog(reader, |r| tlog_tiles::prove_record(size, index, r)).map(from_tlog_vec)
}

/// The consistency proof (RFC 9162 §2.1.4.1 PROOF) that the tree of `old` leaves is a
/// prefix of the tree of `new`. Empty when `old` is 0 or equals `new`.
pub fn prove_consistency<R: HashReader + ?Sized>(
    old: u64,
    new: u64,
    reader: &R,
) -> Result<Vec<Digest32>, LogError> {
    check_size(new)?;
    if old > new {
        return Err(LogError::OldSizeLarger { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    with_tlog(reader, |r| tlog_tiles::prove_tree(new, old, r)).map(from_tlog_vec)
}

/// Reads and checks that the reader kept its contract: one hash per index.
fn read_exact<R: HashReader + ?Sized>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Digest32>, LogError> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(LogError::WrongHashCount {
            requested: indexes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

/// Runs a `tlog_tiles` function over our reader. `tlog_tiles` panics when a reader returns
/// the wrong number of hashes and its error type cannot carry ours, so the adapter checks the
/// count itself and keeps the reader's error aside to return it unchanged.
fn with_tlog<R: HashReader + ?Sized, T>(
    reader: &R,
    f: impl FnOnce(&Adapter<'_, R>) -> Result<T, tlog_tiles::Error>,
) -> Result<T, LogError> {
    let adapter = Adapter {
        reader,
        error: RefCell::new(None),
    };
    f(&adapter).map_err(|e| {
        adapter
            .error
            .borrow_mut()
            .take()
            .unwrap_or_else(|| LogError::Tlog(e.to_string()))
    })
}

struct Adapter<'a, R: ?Sized> {
    reader: &'a R,
    error: RefCell<Option<LogError>>,
}

impl<R: HashReader + ?Sized> tlog_tiles::HashReader for Adapter<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        match read_exact(self.reader, indexes) {
            Ok(hashes) => Ok(hashes.iter().map(to_tlog).collect()),
            Err(e) => {
                let text = e.to_string();
                *self.error.borrow_mut() = Some(e);
                Err(tlog_tiles::Error::InvalidInput(text))
            }
        }
    }
}

fn to_tlog(h: &Digest32) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

fn from_tlog_vec(hashes: Vec<tlog_tiles::Hash>) -> Vec<Digest32> {
    hashes.into_iter().map(|h| Digest32(h.0)).collect()
}

/// The right edge of a tree: the root of each of its perfect subtrees, left to right (one
/// per set bit of the size). Enough to append leaves and to compute the root in `O(log n)`
/// memory, as replay does over a log it reads once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// The perfect subtrees' roots, the largest (leftmost) first.
    subtrees: Vec<Digest32>,
}

impl CompactRange {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash: merges it with every perfect subtree it completes.
    pub fn push(&mut self, leaf_hash: Digest32) {
        let mut hash = leaf_hash;
        let mut n = self.size;
        while n & 1 == 1 {
            match self.subtrees.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                None => break,
            }
            n >>= 1;
        }
        self.subtrees.push(hash);
        self.size += 1;
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 9162 root: the perfect subtrees folded from the right.
    pub fn root(&self) -> Digest32 {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(last) = subtrees.next() else {
            return EMPTY_ROOT;
        };
        subtrees.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The stored hashes of a whole tree in memory: for tests, tools and small logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryHashes {
    hashes: Vec<Digest32>,
    size: u64,
}

impl MemoryHashes {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of these leaf hashes, appended in order.
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a Digest32>) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.append(leaf).expect("memory reads never fail");
        }
        tree
    }

    /// Appends one leaf and returns its index.
    pub fn append(&mut self, leaf_hash: &Digest32) -> Result<u64, LogError> {
        let index = self.size;
        let new = stored_hashes_for_leaf(index, leaf_hash, self)?;
        self.hashes.extend(new);
        self.size += 1;
        Ok(index)
    }

    /// Appends a batch at once, as a group commit does.
    pub fn append_batch(&mut self, leaf_hashes: &[Digest32]) -> Result<(), LogError> {
        let new = stored_hashes_for_leaves(self.size, leaf_hashes, self)?;
        self.hashes.extend(new);
        self.size += u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
        Ok(())
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// All stored hashes, in stored-hash index order.
    pub fn stored(&self) -> &[Digest32] {
        &self.hashes
    }

    pub fn root(&self) -> Digest32 {
        tree_hash(self.size, self).expect("memory reads never fail")
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Digest32>, LogError> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(LogError::MissingHash { index })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Digest32> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_layout_is_sumdbs() {
        // Go's tlog_test.go: leaf n's hash sits after every hash of leaves 0..n.
        let expect = [
            (0, 0, 0),
            (0, 1, 1),
            (1, 0, 2),
            (0, 2, 3),
            (0, 3, 4),
            (1, 1, 5),
        ];
        for (level, n, index) in expect {
            assert_eq!(stored_hash_index(level, n), index);
            assert_eq!(split_stored_hash_index(index), (level, n));
        }
        assert_eq!(stored_hash_index(2, 0), 6);
        let mut tree = MemoryHashes::new();
        for (n, leaf) in (0..).zip(&leaves(100)) {
            assert_eq!(tree.stored().len() as u64, stored_hash_count(n));
            assert_eq!(stored_hash_index(0, n), stored_hash_count(n));
            tree.append(leaf).expect("append");
        }
        assert_eq!(tree.stored().len() as u64, stored_hash_count(100));
    }

    #[test]
    fn batches_store_what_single_appends_store() {
        let all = leaves(77);
        let one_by_one = MemoryHashes::from_leaves(&all);
        for split in [0, 1, 2, 5, 16, 40, 77] {
            let mut batched = MemoryHashes::from_leaves(&all[..split]);
            let (a, b) = all[split..].split_at((77 - split) / 2);
            batched.append_batch(a).expect("batch");
            batched.append_batch(b).expect("batch");
            assert_eq!(batched, one_by_one, "split at {split}");
        }
    }

    #[test]
    fn a_compact_range_has_the_roots_of_the_stored_tree() {
        let all = leaves(300);
        let tree = MemoryHashes::from_leaves(&all);
        let mut range = CompactRange::new();
        assert_eq!(range.root(), EMPTY_ROOT);
        for (n, leaf) in (1..).zip(&all) {
            range.push(*leaf);
            assert_eq!(range.size(), n);
            assert_eq!(Ok(range.root()), tree_hash(n, &tree), "size {n}");
            assert_eq!(range.subtrees.len() as u32, n.count_ones());
        }
    }

    #[test]
    fn small_roots_are_the_rfc_shapes() {
        let l = leaves(3);
        let tree = MemoryHashes::from_leaves(&l);
        assert_eq!(tree_hash(0, &tree), Ok(EMPTY_ROOT));
        assert_eq!(tree_hash(1, &tree), Ok(l[0]));
        assert_eq!(tree_hash(2, &tree), Ok(node_hash(&l[0], &l[1])));
        assert_eq!(
            tree_hash(3, &tree),
            Ok(node_hash(&node_hash(&l[0], &l[1]), &l[2]))
        );
    }

    /// A reader that lost hashes or returns the wrong count gives an error, never a panic.
    #[test]
    fn reader_failures_are_errors() {
        let empty = MemoryHashes::new();
        assert!(matches!(
            tree_hash(10, &empty),
            Err(LogError::MissingHash { .. })
        ));
        assert!(matches!(
            prove_inclusion(3, 10, &empty),
            Err(LogError::MissingHash { .. })
        ));
        assert!(matches!(
            prove_consistency(3, 10, &empty),
            Err(LogError::MissingHash { .. })
        ));
        assert!(matches!(
            stored_hashes_for_leaf(7, &leaves(1)[0], &empty),
            Err(LogError::MissingHash { .. })
        ));

        struct Short;
        impl HashReader for Short {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Digest32>, LogError> {
                Ok(vec![EMPTY_ROOT])
            }
        }
        assert!(matches!(
            tree_hash(7, &Short),
            Err(LogError::WrongHashCount {
                requested: 3,
                returned: 1
            })
        ));
        struct Broken;
        impl HashReader for Broken {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Digest32>, LogError> {
                Err(LogError::Storage("disk on fire".into()))
            }
        }
        assert_eq!(
            prove_inclusion(0, 2, &Broken),
            Err(LogError::Storage("disk on fire".into()))
        );
    }

    #[test]
    fn bad_arguments_are_named() {
        let tree = MemoryHashes::from_leaves(&leaves(4));
        assert_eq!(
            prove_inclusion(4, 4, &tree),
            Err(LogError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            prove_inclusion(0, 0, &tree),
            Err(LogError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            prove_consistency(3, 2, &tree),
            Err(LogError::OldSizeLarger { old: 3, new: 2 })
        );
        assert_eq!(prove_consistency(0, 4, &tree), Ok(vec![]));
        assert_eq!(prove_consistency(4, 4, &tree), Ok(vec![]));
        assert_eq!(
            tree_hash(u64::MAX, &tree),
            Err(LogError::TooLarge { size: u64::MAX })
        );
        assert!(matches!(
            prove_inclusion(0, u64::MAX, &tree),
            Err(LogError::TooLarge { .. })
        ));
    }
}
