//! Event stores: the [`EventStore`] trait every store implements, the embedded
//! [`SqliteStore`], and (feature `conformance`) the suite every store must pass.

mod error;
mod record;
pub mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

use std::future::Future;

pub use error::{Conflict, StoreError};
pub use overens_core::domain::StreamHead;
pub use overens_log::{ConsistencyProof, InclusionProof};
pub use record::{
    AppendEvent, Appended, RestoreRecord, StoredRecord, leaf_hash, record_leaf_hash, record_line,
};
pub use sqlite::{SqliteOptions, SqliteStore};

use overens_core::{Digest32, EventId, StreamId};

/// A durable, append-only global log of signed events, split into streams.
///
/// A store checks only what it can without the domain: each stream's chain (`seq`, `prev`),
/// event-id idempotency and the global order. Signatures and rules are the pipeline's job,
/// done before an event reaches the store.
#[allow(clippy::len_without_is_empty)]
pub trait EventStore: Send + Sync + 'static {
    /// Appends a batch of events to one stream, atomically: all or none. The first event's
    /// `seq`/`prev` must match the stream's head, and the batch must chain. The global index
    /// and `recorded_at` are assigned at commit. When every event's id is already stored
    /// with the same bytes, the first append's indexes and `recorded_at` are returned again
    /// (`Appended::repeated`; `log_len` is the log's length now).
    fn append(
        &self,
        batch: Vec<AppendEvent>,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Restores records with their original index and recorded time (import, migration):
    /// the first index must be the log's length, and recorded times never go backwards.
    fn restore(
        &self,
        records: Vec<RestoreRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The stored record of an event id, if any: how a retried append learns it landed.
    fn find(
        &self,
        id: EventId,
    ) -> impl Future<Output = Result<Option<StoredRecord>, StoreError>> + Send;

    /// The number of records in the global log.
    fn len(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// What the next event of `stream` must sign against.
    fn head(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<StreamHead, StoreError>> + Send;

    /// Up to `limit` events of one stream, from `from_seq` on.
    fn read_stream(
        &self,
        stream: &StreamId,
        from_seq: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    /// Up to `limit` records of the global log, from `from_index` on.
    fn read_log(
        &self,
        from_index: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    /// The RFC 9162 root of the tree of the first `size` records (for 0, the empty tree's
    /// root), read from the stored tree, never rebuilt. A size past the committed records is
    /// refused ([`StoreError::BeyondLog`]).
    fn tree_head(&self, size: u64) -> impl Future<Output = Result<Digest32, StoreError>> + Send;

    /// The inclusion proof of record `index` in the tree of `size` records. A size past the
    /// committed records is refused ([`StoreError::BeyondLog`]), an index not below the size
    /// too ([`StoreError::InvalidRange`]).
    fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> impl Future<Output = Result<InclusionProof, StoreError>> + Send;

    /// The consistency proof that the tree of `old_size` records is a prefix of the tree of
    /// `new_size` (empty when `old_size` is 0 or equals `new_size`). A new size past the
    /// committed records is refused ([`StoreError::BeyondLog`]), an old size larger than the
    /// new one too ([`StoreError::InvalidRange`]).
    fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> impl Future<Output = Result<ConsistencyProof, StoreError>> + Send;

    /// Waits until the log holds more than `known` records (or `timeout` passes) and returns
    /// the length then. Followers read the new records with [`EventStore::read_log`].
    fn wait_for_growth(
        &self,
        known: u64,
        timeout: std::time::Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Follows the global log live: every record from `from_index` on, in order, then each new
/// one as it is committed.
#[derive(Debug)]
pub struct Follower<'a, S: EventStore> {
    store: &'a S,
    next: u64,
    buffer: std::collections::VecDeque<StoredRecord>,
}

impl<'a, S: EventStore> Follower<'a, S> {
    pub fn new(store: &'a S, from_index: u64) -> Self {
        Follower {
            store,
            next: from_index,
            buffer: Default::default(),
        }
    }

    /// The next record, waiting for it if the follower has caught up.
    pub async fn next(&mut self) -> Result<StoredRecord, StoreError> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                self.next = record.index + 1;
                return Ok(record);
            }
            let batch = self.store.read_log(self.next, 1024).await?;
            if batch.is_empty() {
                self.store
                    .wait_for_growth(self.next, std::time::Duration::from_secs(30))
                    .await?;
            } else {
                self.buffer.extend(batch);
            }
        }
    }
}
