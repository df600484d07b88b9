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

/// The whole conformance suite, each case ignored unless asked for.
mod conformance {
    use super::real;

    overens_store::conformance_suite!(
        real(),
        #[ignore = "needs OVERENS_ESDB_URL (a real EventStoreDB/KurrentDB)"]
    );
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
