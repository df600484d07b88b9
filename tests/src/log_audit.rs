//! An outside auditor of the transparency log over HTTP: it keeps every checkpoint it is
//! shown, checks each one's signature with the log key, proves every new tree size
//! consistent with every earlier one, and recomputes the root from the records themselves.

use overens_core::{Digest32, LogRecord};
use overens_log::{Checkpoint, CompactRange, ConsistencyProof, VerifierKey, leaf_hash};

use crate::campaign::Http;

/// What the auditor holds: the log key, every distinct tree size seen with its root (in
/// the order seen, so sizes never go down), and the records it has read.
#[derive(Debug)]
pub struct LogAuditor {
    verifier: VerifierKey,
    /// Distinct sizes and their roots, in the order first seen.
    trees: Vec<(u64, Digest32)>,
    /// `trees[..proven]` are proven consistent with each other.
    proven: usize,
    lines: Vec<String>,
    pub checkpoints_seen: u64,
    pub proofs_checked: u64,
}

impl LogAuditor {
    /// Starts auditing the server at `http`: its log key is the one every later checkpoint
    /// must be signed with.
    pub fn new(http: &Http) -> LogAuditor {
        LogAuditor {
            verifier: Self::served_key(http),
            trees: Vec::new(),
            proven: 0,
            lines: Vec::new(),
            checkpoints_seen: 0,
            proofs_checked: 0,
        }
    }

    fn served_key(http: &Http) -> VerifierKey {
        let body = http.get_ok("/v1/log/key");
        let key: serde_json::Value = serde_json::from_str(&body).expect("the log key is JSON");
        key["verifier_key"]
            .as_str()
            .and_then(|k| k.parse().ok())
            .unwrap_or_else(|| panic!("no verifier key in {key}"))
    }

    /// The server still serves the log key the auditor started with.
    pub fn check_key_unchanged(&self, http: &Http) {
        assert_eq!(
            Self::served_key(http),
            self.verifier,
            "the log key changed: every checkpoint held so far is orphaned"
        );
    }

    /// Takes a signed checkpoint as served: its signature must verify with the log key, its
    /// size must not be below any size seen before, and a size seen before must come with
    /// the same root.
    pub fn observe(&mut self, note: &str) -> Checkpoint {
        let checkpoint = Checkpoint::parse_and_verify_with(note, &self.verifier)
            .unwrap_or_else(|e| panic!("checkpoint does not verify with the log key: {e}\n{note}"));
        self.checkpoints_seen += 1;
        if let Some(&(size, root)) = self.trees.last() {
            assert!(
                checkpoint.size >= size,
                "the log shrank: checkpoint of {} after one of {size}",
                checkpoint.size
            );
            if checkpoint.size == size {
                assert_eq!(checkpoint.root, root, "two roots for tree size {size}");
                return checkpoint;
            }
        }
        self.trees.push((checkpoint.size, checkpoint.root));
        checkpoint
    }

    /// `GET /v1/log/checkpoint`, observed.
    pub fn fetch_checkpoint(&mut self, http: &Http) -> Checkpoint {
        let note = http.get_ok("/v1/log/checkpoint");
        self.observe(&note)
    }

    /// For every tree size seen since the last call, a consistency proof from every earlier
    /// size, fetched from the server and checked against both roots.
    pub fn prove_consistency(&mut self, http: &Http) {
        for new in self.proven..self.trees.len() {
            let (new_size, new_root) = self.trees[new];
            for &(old_size, old_root) in &self.trees[..new] {
                let body = http.get_ok(&format!(
                    "/v1/log/proof/consistency?from={old_size}&to={new_size}"
                ));
                let proof: ConsistencyProof = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("not a consistency proof ({e}): {body}"));
                assert_eq!((proof.old_size, proof.new_size), (old_size, new_size));
                proof.verify(&old_root, &new_root).unwrap_or_else(|e| {
                    panic!("the tree of {new_size} does not extend the tree of {old_size}: {e}")
                });
                self.proofs_checked += 1;
            }
        }
        self.proven = self.trees.len();
    }

    /// Reads every record of the tree of `checkpoint` (`GET /v1/log/records`, page by page)
    /// and checks them: each line a canonical record at its index, the records read before
    /// unchanged byte for byte, and the root recomputed from them the checkpoint's.
    /// Returns the lines.
    pub fn check_records(&mut self, http: &Http, checkpoint: &Checkpoint) -> &[String] {
        let mut lines = Vec::with_capacity(checkpoint.size as usize);
        while (lines.len() as u64) < checkpoint.size {
            let from = lines.len() as u64;
            let to = checkpoint.size.min(from + 10_000);
            let page = http.get_ok(&format!("/v1/log/records?from={from}&to={to}"));
            lines.extend(page.lines().map(str::to_owned));
            assert_eq!(
                lines.len() as u64,
                to,
                "records {from}..{to} came back short"
            );
        }
        let mut tree = CompactRange::new();
        for (index, line) in lines.iter().enumerate() {
            let record = LogRecord::parse_line(line)
                .unwrap_or_else(|e| panic!("record {index} is not a log record: {e}"));
            assert_eq!(record.index, index as u64, "record out of place");
            if let Some(before) = self.lines.get(index) {
                assert_eq!(line, before, "record {index} changed");
            }
            tree.push(leaf_hash(line.as_bytes()));
        }
        assert!(
            lines.len() >= self.lines.len(),
            "records were lost: {} read before, {} now",
            self.lines.len(),
            lines.len()
        );
        assert_eq!(
            tree.root(),
            checkpoint.root,
            "the root of the {} records served is not the checkpoint's",
            checkpoint.size
        );
        self.lines = lines;
        &self.lines
    }
}
