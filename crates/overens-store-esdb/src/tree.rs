//! The RFC 9162 tree over the global log, kept in the cache's `nodes` table in the same
//! layout as the SQLite store's (`overens_store::sqlite::tree`, which does the work),
//! written in the transaction of the records it covers.

use overens_core::Digest32;
use overens_log::{ConsistencyProof, InclusionProof};
use overens_store::StoreError;
use overens_store::sqlite::tree as nodes;
use rusqlite::Connection;

/// A damaged tree here is a damaged cache, which the server can always replace.
fn in_cache(error: StoreError) -> StoreError {
    match error {
        StoreError::CorruptTree(what) => StoreError::CorruptTree(format!(
            "{what} (in the index cache: delete the cache to rebuild it from the server)"
        )),
        other => other,
    }
}

/// Writes the stored hashes of the leaves appended at `first, first + 1, …`.
pub(crate) fn append(conn: &Connection, first: u64, leaves: &[Digest32]) -> Result<(), StoreError> {
    nodes::append(conn, first, leaves).map_err(in_cache)
}

pub(crate) fn root(conn: &Connection, size: u64) -> Result<Digest32, StoreError> {
    nodes::root(conn, size).map_err(in_cache)
}

pub(crate) fn inclusion(
    conn: &Connection,
    index: u64,
    size: u64,
) -> Result<InclusionProof, StoreError> {
    nodes::inclusion(conn, index, size).map_err(in_cache)
}

pub(crate) fn consistency(
    conn: &Connection,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, StoreError> {
    nodes::consistency(conn, old_size, new_size).map_err(in_cache)
}
