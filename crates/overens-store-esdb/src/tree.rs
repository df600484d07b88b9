//! The RFC 9162 tree over the global log, kept in the cache's `nodes` table in Go
//! sumdb/tlog's stored-hash layout (`overens_log::tree`), written in the transaction of
//! the records it covers; roots and proofs read `O(log² n)` rows.

use overens_core::Digest32;
use overens_log::{
    ConsistencyProof, HashReader, InclusionProof, LogError, prove_consistency, prove_inclusion,
    stored_hash_count, stored_hashes_for_leaves, tree_hash,
};
use rusqlite::{Connection, OptionalExtension, params};

use overens_store::StoreError;

/// Reads stored hashes through one connection (inside the follower's transaction, the
/// nodes it has written too).
struct Nodes<'c>(&'c Connection);

impl HashReader for Nodes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Digest32>, LogError> {
        let storage = |e: rusqlite::Error| LogError::Storage(e.to_string());
        let mut stmt = self
            .0
            .prepare_cached("SELECT hash FROM nodes WHERE id = ?1")
            .map_err(storage)?;
        indexes
            .iter()
            .map(|&index| {
                let id = i64::try_from(index).map_err(|_| LogError::MissingHash { index })?;
                let hash: Vec<u8> = stmt
                    .query_row([id], |r| r.get(0))
                    .optional()
                    .map_err(storage)?
                    .ok_or(LogError::MissingHash { index })?;
                let hash: [u8; 32] = hash.try_into().map_err(|_| {
                    LogError::Storage(format!("stored tree node {index} is not 32 bytes"))
                })?;
                Ok(Digest32(hash))
            })
            .collect()
    }
}

fn damaged(error: LogError) -> StoreError {
    match error {
        LogError::MissingHash { index } => StoreError::CorruptTree(format!(
            "stored tree node {index} is missing from the index cache (delete the cache to \
             rebuild it from the server)"
        )),
        LogError::IndexOutOfRange { .. } | LogError::OldSizeLarger { .. } => {
            StoreError::InvalidRange(error.to_string())
        }
        other => StoreError::CorruptTree(other.to_string()),
    }
}

/// Writes the stored hashes of the leaves appended at `first, first + 1, …`.
pub(crate) fn append(conn: &Connection, first: u64, leaves: &[Digest32]) -> Result<(), StoreError> {
    if leaves.is_empty() {
        return Ok(());
    }
    let hashes = stored_hashes_for_leaves(first, leaves, &Nodes(conn)).map_err(damaged)?;
    let mut insert = conn.prepare_cached("INSERT INTO nodes (id, hash) VALUES (?1, ?2)")?;
    for (id, hash) in (stored_hash_count(first)..).zip(&hashes) {
        insert.execute(params![id as i64, hash.0.as_slice()])?;
    }
    Ok(())
}

pub(crate) fn root(conn: &Connection, size: u64) -> Result<Digest32, StoreError> {
    tree_hash(size, &Nodes(conn)).map_err(damaged)
}

pub(crate) fn inclusion(
    conn: &Connection,
    index: u64,
    size: u64,
) -> Result<InclusionProof, StoreError> {
    let hashes = prove_inclusion(index, size, &Nodes(conn)).map_err(damaged)?;
    Ok(InclusionProof {
        index,
        size,
        hashes,
    })
}

pub(crate) fn consistency(
    conn: &Connection,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, StoreError> {
    let hashes = prove_consistency(old_size, new_size, &Nodes(conn)).map_err(damaged)?;
    Ok(ConsistencyProof {
        old_size,
        new_size,
        hashes,
    })
}
