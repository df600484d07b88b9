//! RFC 9162 §2.1 written as plainly as the RFC states it (MTH, PATH, PROOF), to check against.

use std::cell::RefCell;
use std::collections::HashMap;

use overens_core::Digest32;
use overens_log::{EMPTY_ROOT, node_hash};

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// A tree of leaf hashes with the RFC's recursive definitions; subtree hashes are memoised
/// by range, which changes the cost and nothing else.
pub(crate) struct Reference {
    leaves: Vec<Digest32>,
    memo: RefCell<HashMap<(usize, usize), Digest32>>,
}

impl Reference {
    pub(crate) fn new(leaves: Vec<Digest32>) -> Self {
        Reference {
            leaves,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// MTH(D[lo:hi]).
    fn mth(&self, lo: usize, hi: usize) -> Digest32 {
        match hi - lo {
            0 => EMPTY_ROOT,
            1 => self.leaves[lo],
            n => {
                if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
                    return *h;
                }
                let k = split(n);
                let h = node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi));
                self.memo.borrow_mut().insert((lo, hi), h);
                h
            }
        }
    }

    pub(crate) fn root(&self, size: u64) -> Digest32 {
        self.mth(0, size as usize)
    }

    /// PATH(m, D[lo:hi]).
    fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Digest32> {
        let n = hi - lo;
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    pub(crate) fn inclusion(&self, index: u64, size: u64) -> Vec<Digest32> {
        self.path(index as usize, 0, size as usize)
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Digest32> {
        let n = hi - lo;
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![self.mth(lo, hi)]
            };
        }
        let k = split(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, b);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// PROOF(m, D[n]) for 0 < m <= n.
    pub(crate) fn consistency(&self, old: u64, new: u64) -> Vec<Digest32> {
        self.subproof(old as usize, 0, new as usize, true)
    }
}
