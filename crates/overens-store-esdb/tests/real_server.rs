//! The conformance suite and an end-to-end flow against a real EventStoreDB/KurrentDB,
//! named by `OVERENS_ESDB_URL` (a connection string). Every test here is ignored by
//! default, so a plain `cargo test` reports them as ignored, never as passed:
//!
//! ```text
//! OVERENS_ESDB_URL='esdb://admin:changeit@localhost:2113?tls=false' \
//!     cargo test -p overens-store-esdb --test real_server -- --ignored
//! ```
//!
//! The user must be allowed to read `$all` (an admin, by default). `large_payloads` needs the
//! server's MaxAppendSize above its default 1 MiB (e.g. 16 MiB). Each run writes under a
//! prefix of its own (`t<run>-<n>-`), so runs never see each other's streams.
//! Run with `--ignored` but without the variable, every test fails: none passes silently.

mod support;

use support::Esdb;

const VARIABLE: &str = "OVERENS_ESDB_URL";

/// Stores on the real server; panics when the variable is not set.
fn real() -> Esdb {
    match std::env::var(VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Esdb::url(url),
        _ => panic!(
            "{VARIABLE} is not set: these tests need a real EventStoreDB/KurrentDB \
             (e.g. {VARIABLE}='esdb://admin:changeit@localhost:2113?tls=false')"
        ),
    }
}

/// The cases of `overens_store::conformance_suite!`, each ignored unless asked for (the
/// macro itself has no way to mark its tests ignored). Keep this list in step with it.
macro_rules! ignored_suite {
    (@store $($case:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        #[ignore = "needs OVERENS_ESDB_URL (a real EventStoreDB/KurrentDB)"]
        async fn $case() {
            let factory = real();
            let store = overens_store::conformance::StoreFactory::fresh(&factory).await;
            overens_store::conformance::run(overens_store::conformance::$case(store)).await;
        }
    )+};
    (@factory $($case:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        #[ignore = "needs OVERENS_ESDB_URL (a real EventStoreDB/KurrentDB)"]
        async fn $case() {
            let factory = real();
            overens_store::conformance::run(overens_store::conformance::$case(&factory)).await;
        }
    )+};
}

mod conformance {
    use super::real;

    ignored_suite!(@store
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
    ignored_suite!(@factory persistence_after_reopen, the_tree_survives_reopen);
}

/// A migration and two instances: restore a log, append on one instance and the other,
/// converge, restart one from its cache, and all agree on the log and the root.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs OVERENS_ESDB_URL (a real EventStoreDB/KurrentDB)"]
async fn end_to_end_on_a_real_server() {
    use overens_store::EventStore;
    use overens_store::conformance::{
        Chain, StoreFactory, agreement, append_ok, check_consistent, directory, restore_record,
        snapshot, ts,
    };
    use overens_store_esdb::EsdbStore;
    use std::time::Duration;

    let factory = real();
    let a = factory.fresh().await;
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("verklig"));
    let restored = vec![
        restore_record(&dir.next_event(), 0, ts("2019-05-01T08:00:00Z")),
        restore_record(&deal.next_event(), 1, ts("2019-05-01T08:00:01Z")),
        restore_record(&deal.next_event(), 2, ts("2019-05-01T08:00:01Z")),
    ];
    a.restore(restored).await.expect("restore");
    append_ok(&a, &deal.batch(2)).await;

    // A second instance on the same prefix, with a cache of its own.
    let mut second = a.options().clone();
    second.cache_path = a.cache_path().with_extension("second.sqlite");
    let b = EsdbStore::connect(second.clone())
        .await
        .expect("b connects");
    let appended = append_ok(&b, &dir.batch(3)).await;
    assert_eq!(appended.indexes, vec![5, 6, 7]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while a.len().await.expect("len") < 8 {
        assert!(tokio::time::Instant::now() < deadline, "a did not catch up");
        a.wait_for_growth(7, Duration::from_millis(500))
            .await
            .expect("wait");
    }
    let on_a = snapshot(&a, &[]).await;
    check_consistent(&on_a);
    assert_eq!(snapshot(&b, &[]).await, on_a);

    // b restarts from its cache: the same log, resumed, not re-read.
    drop(b);
    let b = EsdbStore::connect(second).await.expect("b reconnects");
    assert_eq!(b.followed_since_connect(), 0);
    assert_eq!(snapshot(&b, &[]).await, on_a);
    let a = factory.reopen(a).await;
    assert_eq!(snapshot(&a, &[]).await, on_a);
}
