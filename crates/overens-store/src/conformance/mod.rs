//! The store conformance suite: what every [`EventStore`] must do, written once against the
//! trait and run against every store.
//!
//! Each case is a `pub async fn` that takes a fresh, empty store (the persistence cases take
//! a [`StoreFactory`], to reopen the store) and panics when the store breaks the contract.
//! [`conformance_suite!`](crate::conformance_suite) turns them into one named test per case:
//!
//! ```text
//! struct MyFactory;
//! impl overens_store::conformance::StoreFactory for MyFactory { /* … */ }
//!
//! overens_store::conformance_suite!(MyFactory);
//! ```
//!
//! The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) among its
//! dev-dependencies and this crate with the `conformance` feature.
//!
//! Every refusal is checked twice: the exact error, and that the log is unchanged (its
//! length, every record's bytes, every stream's records and head).

mod basics;
mod concurrency;
mod fixture;
mod refusals;
mod restore;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use overens_core::StreamId;
use overens_core::domain::StreamHead;

use crate::{AppendEvent, EventStore, RestoreRecord, StoreError, StoredRecord};

pub use basics::{
    append_and_read_back, empty_store, find_by_id, global_indexes_across_streams, large_payloads,
    read_log_window, read_stream_window, recorded_at_is_assigned_by_the_store, unicode_round_trips,
};
pub use concurrency::{
    follower_sees_existing_then_live_records, parallel_streams_all_succeed_in_order,
    racing_appends_have_one_winner_per_round, racing_identical_appends_store_once,
    wait_for_growth_wakes_and_times_out,
};
pub use fixture::*;
pub use refusals::{
    batches_are_atomic, idempotent_repeats, ids_reused_with_other_bytes_are_refused,
    optimistic_concurrency_conflicts, partial_repeats_are_refused,
};
pub use restore::{
    persistence_after_reopen, recorded_at_never_goes_back_after_restore,
    restore_keeps_given_places, restore_refusals_store_nothing,
};
pub use tree::{
    proofs_verify_against_the_roots, the_tree_survives_reopen,
    tree_heads_match_an_independent_tree, tree_sizes_beyond_the_log_are_refused,
};

/// How long one case may take before it counts as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Makes stores for the suite.
pub trait StoreFactory: Send + Sync {
    type Store: EventStore;

    /// A new, empty store, independent of every other store this factory made.
    fn fresh(&self) -> impl Future<Output = Self::Store> + Send;

    /// Closes `store` (dropping it) and opens the same log again, as after a restart.
    fn reopen(&self, store: Self::Store) -> impl Future<Output = Self::Store> + Send;
}

/// Runs one case, failing it if it does not finish within [`CASE_TIMEOUT`].
pub async fn run(case: impl Future<Output = ()>) {
    if tokio::time::timeout(CASE_TIMEOUT, case).await.is_err() {
        panic!("the case did not finish within {CASE_TIMEOUT:?}: is the store stuck?");
    }
}

/// One `#[tokio::test]` per conformance case, for the store made by the factory
/// expression (evaluated once per test). An attribute after the factory goes on every
/// test, e.g. `#[ignore = "needs a real server"]` for a store that needs one.
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {
        $crate::conformance_suite!($factory, #[doc = "A case of the store conformance suite."]);
    };
    ($factory:expr, #[$meta:meta]) => {
        $crate::conformance_suite!(@store $factory; #[$meta];
            empty_store,
            append_and_read_back,
            global_indexes_across_streams,
            recorded_at_is_assigned_by_the_store,
            read_stream_window,
            read_log_window,
            find_by_id,
            batches_are_atomic,
            optimistic_concurrency_conflicts,
            idempotent_repeats,
            ids_reused_with_other_bytes_are_refused,
            partial_repeats_are_refused,
            racing_appends_have_one_winner_per_round,
            racing_identical_appends_store_once,
            parallel_streams_all_succeed_in_order,
            follower_sees_existing_then_live_records,
            wait_for_growth_wakes_and_times_out,
            large_payloads,
            unicode_round_trips,
            restore_keeps_given_places,
            restore_refusals_store_nothing,
            recorded_at_never_goes_back_after_restore,
            tree_heads_match_an_independent_tree,
            proofs_verify_against_the_roots,
            tree_sizes_beyond_the_log_are_refused,
        );
        $crate::conformance_suite!(@factory $factory; #[$meta];
            persistence_after_reopen,
            the_tree_survives_reopen,
        );
    };
    (@store $factory:expr; #[$meta:meta]; $($case:ident),+ $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        #[$meta]
        async fn $case() {
            let factory = $factory;
            let store = $crate::conformance::StoreFactory::fresh(&factory).await;
            $crate::conformance::run($crate::conformance::$case(store)).await;
        }
    )+};
    (@factory $factory:expr; #[$meta:meta]; $($case:ident),+ $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        #[$meta]
        async fn $case() {
            let factory = $factory;
            $crate::conformance::run($crate::conformance::$case(&factory)).await;
        }
    )+};
}

/// Everything a reader can see of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub len: u64,
    /// The root of the tree of all `len` records, as the store gives it.
    pub root: overens_core::Digest32,
    /// The whole global log, read page by page.
    pub log: Vec<StoredRecord>,
    /// For every stream in the log (and every stream asked about): its records and head.
    pub streams: BTreeMap<StreamId, (Vec<StoredRecord>, StreamHead)>,
}

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e} ({e:?})"))
}

/// The whole global log, read in pages, checking that each page starts where asked.
pub async fn read_all<S: EventStore>(store: &S) -> Vec<StoredRecord> {
    let mut log = Vec::new();
    loop {
        let from = log.len() as u64;
        let page = ok(store.read_log(from, 100).await, "read_log");
        let Some(first) = page.first() else {
            return log;
        };
        assert_eq!(first.index, from, "read_log({from}, 100) starts elsewhere");
        assert!(page.len() <= 100, "read_log gave more than the limit");
        log.extend(page);
    }
}

/// The whole of one stream.
pub async fn read_whole_stream<S: EventStore>(store: &S, stream: &StreamId) -> Vec<StoredRecord> {
    ok(
        store.read_stream(stream, 0, usize::MAX).await,
        "read_stream",
    )
}

/// What a reader sees of the store; `also` names streams to include even when empty.
pub async fn snapshot<S: EventStore>(store: &S, also: &[&StreamId]) -> Snapshot {
    let len = ok(store.len().await, "len");
    let root = ok(store.tree_head(len).await, "tree_head");
    let log = read_all(store).await;
    let names: BTreeSet<StreamId> = log
        .iter()
        .map(|r| r.stream.clone())
        .chain(also.iter().map(|s| (*s).clone()))
        .collect();
    for record in &log {
        let found = ok(store.find(record.id).await, "find");
        assert_eq!(
            found.as_ref(),
            Some(record),
            "find({}) disagrees with read_log",
            record.id
        );
    }
    let mut streams = BTreeMap::new();
    for stream in names {
        let records = read_whole_stream(store, &stream).await;
        let head = ok(store.head(&stream).await, "head");
        streams.insert(stream, (records, head));
    }
    Snapshot {
        len,
        root,
        log,
        streams,
    }
}

/// Checks the invariants every log has: indexes 0.., `len` records, every stream's seqs
/// 0.. with its records in global order, heads after the last record, recorded times
/// never going back, each record's hash the hash of its bytes, and the tree's root the
/// root of the records' leaf hashes.
pub fn check_consistent(snapshot: &Snapshot) {
    assert_eq!(
        snapshot.len,
        snapshot.log.len() as u64,
        "len() disagrees with the records read_log gives"
    );
    for (i, record) in snapshot.log.iter().enumerate() {
        assert_eq!(record.index, i as u64, "global indexes have a hole");
        assert_eq!(
            record.hash,
            overens_core::Digest32::of(&record.envelope),
            "record {i}: hash is not the hash of its bytes"
        );
        assert_eq!(
            record.leaf,
            crate::leaf_hash(record.log_line().as_bytes()),
            "record {i}: leaf is not the RFC 9162 leaf hash of its log line"
        );
    }
    let tree = overens_log::MemoryHashes::from_leaves(snapshot.log.iter().map(|r| &r.leaf));
    assert_eq!(
        snapshot.root,
        tree.root(),
        "the store's root is not the root of the records' leaf hashes"
    );
    for pair in snapshot.log.windows(2) {
        assert!(
            pair[0].recorded_at <= pair[1].recorded_at,
            "recorded_at goes back from record {} ({}) to record {} ({})",
            pair[0].index,
            pair[0].recorded_at,
            pair[1].index,
            pair[1].recorded_at
        );
    }
    for (stream, (records, head)) in &snapshot.streams {
        let in_log: Vec<&StoredRecord> = snapshot
            .log
            .iter()
            .filter(|r| &r.stream == stream)
            .collect();
        assert_eq!(
            records.iter().collect::<Vec<_>>(),
            in_log,
            "read_stream({stream}) disagrees with read_log"
        );
        let mut prev = overens_core::Digest32::ZERO;
        for (seq, record) in records.iter().enumerate() {
            assert_eq!(record.seq, seq as u64, "stream {stream}: seqs have a hole");
            let text = std::str::from_utf8(&record.envelope)
                .unwrap_or_else(|e| panic!("stream {stream} seq {seq}: not UTF-8: {e}"));
            let envelope = overens_core::Envelope::parse(text)
                .unwrap_or_else(|e| panic!("stream {stream} seq {seq}: {e}"));
            assert_eq!(
                envelope.prev, prev,
                "stream {stream}: chain broken at {seq}"
            );
            assert_eq!(envelope.seq, record.seq, "stream {stream}: seq column");
            assert_eq!(envelope.id, record.id, "stream {stream}: id column");
            assert_eq!(&envelope.stream, stream, "stream {stream}: stream column");
            prev = record.hash;
        }
        let expected = StreamHead {
            next_seq: records.len() as u64,
            prev,
        };
        assert_eq!(
            *head, expected,
            "head({stream}) is not after its last record"
        );
    }
}

/// What a refusal must be.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Exactly this error.
    Exactly(StoreError),
    /// [`StoreError::InvalidBatch`], whatever its text.
    InvalidBatch,
    /// [`StoreError::RestoreMismatch`], whatever its text.
    RestoreMismatch,
}

impl Refusal {
    fn check(&self, error: &StoreError, what: &str) {
        let fits = match self {
            Refusal::Exactly(expected) => error == expected,
            Refusal::InvalidBatch => matches!(error, StoreError::InvalidBatch(_)),
            Refusal::RestoreMismatch => matches!(error, StoreError::RestoreMismatch(_)),
        };
        assert!(fits, "{what}: refused with {error:?}, expected {self:?}");
    }
}

/// Appends `batch`, which must be refused as `refusal`, and checks nothing changed.
pub async fn assert_append_refused<S: EventStore>(
    store: &S,
    batch: Vec<AppendEvent>,
    refusal: Refusal,
    what: &str,
) {
    let streams: Vec<StreamId> = batch.iter().map(|e| e.stream().clone()).collect();
    let streams: Vec<&StreamId> = streams.iter().collect();
    let before = snapshot(store, &streams).await;
    let new_ids = unknown_ids(store, batch.iter().map(AppendEvent::id)).await;
    match store.append(batch).await {
        Ok(appended) => panic!("{what}: accepted ({appended:?}), expected {refusal:?}"),
        Err(error) => refusal.check(&error, what),
    }
    let after = snapshot(store, &streams).await;
    assert_eq!(after, before, "{what}: the refused append changed the log");
    assert_still_unknown(store, &new_ids, what).await;
}

/// Restores `records`, which must be refused as `refusal`, and checks nothing changed.
pub async fn assert_restore_refused<S: EventStore>(
    store: &S,
    records: Vec<RestoreRecord>,
    refusal: Refusal,
    what: &str,
) {
    let streams: Vec<StreamId> = records.iter().map(|r| r.event.stream().clone()).collect();
    let streams: Vec<&StreamId> = streams.iter().collect();
    let before = snapshot(store, &streams).await;
    let new_ids = unknown_ids(store, records.iter().map(|r| r.event.id())).await;
    match store.restore(records).await {
        Ok(()) => panic!("{what}: accepted, expected {refusal:?}"),
        Err(error) => refusal.check(&error, what),
    }
    let after = snapshot(store, &streams).await;
    assert_eq!(after, before, "{what}: the refused restore changed the log");
    assert_still_unknown(store, &new_ids, what).await;
}

/// The ids `find` does not know.
async fn unknown_ids<S: EventStore>(
    store: &S,
    ids: impl Iterator<Item = overens_core::EventId>,
) -> Vec<overens_core::EventId> {
    let mut unknown = Vec::new();
    for id in ids {
        if ok(store.find(id).await, "find").is_none() {
            unknown.push(id);
        }
    }
    unknown
}

async fn assert_still_unknown<S: EventStore>(store: &S, ids: &[overens_core::EventId], what: &str) {
    for id in ids {
        assert_eq!(
            ok(store.find(*id).await, "find"),
            None,
            "{what}: find({id}) knows an event of a refused request"
        );
    }
}

/// Checks the answer to a repeated append: the first answer's indexes and time, marked
/// `repeated`. Its `log_len` may be the first answer's or the length now (any length that
/// holds the batch and that the log has reached), so it is checked to be in between.
pub fn assert_repeat(answer: &crate::Appended, first: &crate::Appended, len_now: u64, what: &str) {
    assert_eq!(
        (&answer.indexes, answer.recorded_at, answer.repeated),
        (&first.indexes, first.recorded_at, true),
        "{what}: a repeat did not get the first answer"
    );
    let holds = first.indexes.last().map_or(0, |i| i + 1);
    assert!(
        holds <= answer.log_len && answer.log_len <= len_now,
        "{what}: a repeat answered log_len {} (the batch ends at {holds}, the log at {len_now})",
        answer.log_len
    );
}

/// Appends a batch that must be accepted.
pub async fn append_ok<S: EventStore>(
    store: &S,
    events: &[overens_core::VerifiedEvent],
) -> crate::Appended {
    ok(store.append(batch(events)).await, "append")
}
