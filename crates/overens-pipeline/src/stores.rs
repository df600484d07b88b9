//! One type for whichever store a server runs on: the embedded SQLite file (one server, the
//! default) or an EventStoreDB/KurrentDB cluster (several servers on one log).

use std::time::Duration;

use overens_core::{Digest32, EventId, StreamId};
use overens_store::{
    AppendEvent, Appended, ConsistencyProof, EventStore, InclusionProof, RestoreRecord,
    SqliteStore, StoreError, StoredRecord, StreamHead,
};
use overens_store_esdb::EsdbStore;

#[derive(Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Esdb(EsdbStore),
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<EsdbStore> for AnyStore {
    fn from(store: EsdbStore) -> Self {
        AnyStore::Esdb(store)
    }
}

impl AnyStore {
    /// Several servers may write the log: the pipeline must follow it
    /// ([`crate::Pipeline::start_shared`]) rather than own it.
    pub fn is_shared(&self) -> bool {
        matches!(self, AnyStore::Esdb(_))
    }
}

/// Calls the same method on whichever store it is.
macro_rules! either {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Esdb($store) => $call.await,
        }
    };
}

impl EventStore for AnyStore {
    async fn append(&self, batch: Vec<AppendEvent>) -> Result<Appended, StoreError> {
        either!(self, s => s.append(batch))
    }
    async fn restore(&self, records: Vec<RestoreRecord>) -> Result<(), StoreError> {
        either!(self, s => s.restore(records))
    }
    async fn find(&self, id: EventId) -> Result<Option<StoredRecord>, StoreError> {
        either!(self, s => s.find(id))
    }
    async fn len(&self) -> Result<u64, StoreError> {
        either!(self, s => s.len())
    }
    async fn head(&self, stream: &StreamId) -> Result<StreamHead, StoreError> {
        either!(self, s => s.head(stream))
    }
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        either!(self, s => s.read_stream(stream, from_seq, limit))
    }
    async fn read_log(
        &self,
        from_index: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        either!(self, s => s.read_log(from_index, limit))
    }
    async fn tree_head(&self, size: u64) -> Result<Digest32, StoreError> {
        either!(self, s => s.tree_head(size))
    }
    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
        either!(self, s => s.inclusion_proof(index, size))
    }
    async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        either!(self, s => s.consistency_proof(old_size, new_size))
    }
    async fn wait_for_growth(&self, known: u64, timeout: Duration) -> Result<u64, StoreError> {
        either!(self, s => s.wait_for_growth(known, timeout))
    }
}
