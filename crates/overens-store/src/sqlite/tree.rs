//! The RFC 9162 tree over the global log, as a `nodes` table keeps it: every stored hash
//! of Go sumdb/tlog's layout (see `overens_log::tree`) by its stored-hash index. The writer
//! adds the hashes of a transaction's new records in that same transaction, so a committed
//! record always has its nodes; roots and proofs read `O(log² n)` rows and never rebuild
//! the tree. Public for the other store that keeps its tree in SQLite: the EventStoreDB
//! store's index cache has the same `nodes (id, hash)` table.

use overens_core::Digest32;
use overens_log::{
    ConsistencyProof, HashReader, InclusionProof, LogError, prove_consistency, prove_inclusion,
    stored_hash_count, stored_hashes_for_leaves, tree_hash,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::read;
use crate::StoreError;

/// How many leaves a rebuild reads before it writes their nodes.
const REBUILD_CHUNK: usize = 4096;

/// Reads stored hashes through one connection. Inside the writer's transaction it also sees
/// the nodes that transaction has written.
pub(crate) struct Nodes<'c>(pub(crate) &'c Connection);

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

/// A failure to read the tree: the nodes do not fit the log.
fn damaged(error: LogError) -> StoreError {
    match error {
        LogError::MissingHash { index } => StoreError::CorruptTree(format!(
            "stored tree node {index} is missing from the nodes table"
        )),
        LogError::IndexOutOfRange { .. } | LogError::OldSizeLarger { .. } => {
            StoreError::InvalidRange(error.to_string())
        }
        other => StoreError::CorruptTree(other.to_string()),
    }
}

/// Writes the stored hashes for the leaves appended at `first, first + 1, …`: the new
/// records of the writer's open transaction.
pub fn append(conn: &Connection, first: u64, leaves: &[Digest32]) -> Result<(), StoreError> {
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

/// Why the nodes table does not fit a log of `len` records, if it does not: it must hold
/// exactly the stored hashes `0 .. stored_hash_count(len)`.
pub(crate) fn damage(conn: &Connection, len: u64) -> Result<Option<String>, StoreError> {
    let (count, min, max): (i64, Option<i64>, Option<i64>) =
        conn.query_row("SELECT count(*), min(id), max(id) FROM nodes", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let expected = stored_hash_count(len);
    let fits = count as u64 == expected
        && match expected {
            0 => min.is_none(),
            n => min == Some(0) && max == Some(n as i64 - 1),
        };
    if fits {
        return Ok(None);
    }
    let ids = match (min, max) {
        (Some(min), Some(max)) => format!("ids {min} to {max}"),
        _ => "none".to_owned(),
    };
    Ok(Some(format!(
        "the nodes table holds {count} hashes ({ids}), but a tree of {len} records has \
         {expected} (ids 0 to {}); it was edited or truncated behind the store's back (it is \
         derived from the records: docs/operations.md says how to rebuild it)",
        expected.saturating_sub(1)
    )))
}

/// Computes every stored hash from the records' `leaf` column, replacing what the nodes
/// table holds: once, for a file written before the table existed (schema version 1). The
/// caller holds the transaction. Returns the number of records covered.
pub(crate) fn rebuild(conn: &Connection) -> Result<u64, StoreError> {
    conn.execute("DELETE FROM nodes", [])?;
    let mut stmt = conn.prepare("SELECT idx, leaf FROM events ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut first = 0u64;
    let mut chunk = Vec::with_capacity(REBUILD_CHUNK);
    while let Some(row) = rows.next()? {
        let next = first + chunk.len() as u64;
        let index: i64 = row.get(0)?;
        if index != next as i64 {
            return Err(StoreError::Corrupt {
                index: next,
                reason: format!("record {next} is missing (the next one is {index})"),
            });
        }
        chunk.push(read::digest(next, row.get(1)?)?);
        if chunk.len() == REBUILD_CHUNK {
            append(conn, first, &chunk)?;
            first += chunk.len() as u64;
            chunk.clear();
        }
    }
    append(conn, first, &chunk)?;
    Ok(first + chunk.len() as u64)
}

/// The root of the tree of the first `size` records.
pub fn root(conn: &Connection, size: u64) -> Result<Digest32, StoreError> {
    tree_hash(size, &Nodes(conn)).map_err(damaged)
}

pub fn inclusion(conn: &Connection, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
    let hashes = prove_inclusion(index, size, &Nodes(conn)).map_err(damaged)?;
    Ok(InclusionProof {
        index,
        size,
        hashes,
    })
}

pub fn consistency(
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
