//! What only the EventStoreDB store has: several instances on one cluster, the index cache
//! across restarts, reconnects, appends whose outcome was lost, and events written around
//! the store. Against the in-process test server, through the real client.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eventstore::{AppendToStreamOptions, EventData, ExpectedRevision};
use overens_core::domain::StreamHead;
use overens_esdb_testserver::TestServer;
use overens_store::conformance::{
    Chain, Refusal, Snapshot, agreement, append_ok, assert_append_refused, batch, check_consistent,
    directory, snapshot,
};
use overens_store::{Conflict, EventStore, StoreError};
use overens_store_esdb::{EsdbOptions, EsdbStore};
use support::{LARGE_APPENDS, connect, options};
use tempfile::TempDir;

/// A test server with large appends allowed, and a directory for cache files.
async fn server() -> (TestServer, TempDir) {
    let server = TestServer::start().await.expect("the test server starts");
    server.database().set_max_append_size(LARGE_APPENDS);
    (server, tempfile::tempdir().expect("tempdir"))
}

fn opts(server: &TestServer, dir: &TempDir, cache: &str) -> EsdbOptions {
    options(
        &server.connection_string(),
        "overens-",
        dir.path().join(cache),
    )
}

/// Waits until `store` holds at least `len` records.
async fn caught_up_to(store: &EsdbStore, len: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = store.len().await.expect("len");
        if now >= len {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store is at {now} records, waited for {len}"
        );
        store
            .wait_for_growth(now, Duration::from_millis(500))
            .await
            .expect("wait_for_growth");
    }
}

async fn same_everywhere(stores: &[&EsdbStore]) -> Snapshot {
    // The instance that wrote last may be the only one that has it yet.
    let mut len = 0;
    for store in stores {
        len = len.max(store.len().await.expect("len"));
    }
    for store in stores {
        caught_up_to(store, len).await;
    }
    let first = snapshot(stores[0], &[]).await;
    check_consistent(&first);
    for store in &stores[1..] {
        assert_eq!(
            snapshot(*store, &[]).await,
            first,
            "two instances disagree on the log"
        );
    }
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_converge_to_one_log_and_root() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let mut dir_chain = Chain::new(directory());
    let mut deals = [Chain::new(agreement("a")), Chain::new(agreement("b"))];

    for round in 0..10usize {
        let (writer, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let deal = &mut deals[round % 2];
        append_ok(writer, &deal.batch(1 + round % 3)).await;
        // The directory is written on both instances in turn, each continuing the chain the
        // other one extended; the writer may not have indexed the other's last event yet.
        let appended = append_ok(writer, &dir_chain.batch(1)).await;
        assert!(!appended.repeated);
        // The other instance sees it once its subscription delivers it.
        caught_up_to(other, appended.log_len).await;
        assert_eq!(
            other.head(&directory()).await.expect("head"),
            dir_chain.head
        );
    }
    let both = same_everywhere(&[&a, &b]).await;
    assert_eq!(both.len, 10 + (1 + 2 + 3 + 1 + 2 + 3 + 1 + 2 + 3 + 1));

    // Rivals on both instances at the same head: one wins, the other gets the Conflict that
    // names the winner, whichever instance it is on.
    for round in 0..6 {
        let head = dir_chain.head;
        let (x, y) = (dir_chain.at_head(), dir_chain.at_head());
        let (rx, ry) = tokio::join!(
            a.append(batch(std::slice::from_ref(&x))),
            b.append(batch(std::slice::from_ref(&y)))
        );
        let (winner, loser) = match (&rx, &ry) {
            (Ok(_), Err(e)) => (&x, e),
            (Err(e), Ok(_)) => (&y, e),
            other => panic!("round {round}: {other:?}"),
        };
        assert_eq!(
            loser,
            &StoreError::Conflict(Box::new(Conflict {
                stream: directory(),
                expected_seq: head.next_seq + 1,
                expected_prev: winner.hash(),
                got_seq: head.next_seq,
                got_prev: head.prev,
            })),
            "round {round}"
        );
        dir_chain.advance(winner);
    }
    let both = same_everywhere(&[&a, &b]).await;
    assert_eq!(both.streams[&directory()].1, dir_chain.head);

    // A third instance started late reads the whole log from $all to the same root.
    let c = connect(opts(&server, &dir, "c.sqlite")).await;
    assert_eq!(same_everywhere(&[&a, &c]).await, both);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_signed_against_a_head_only_the_server_knows_is_accepted() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let mut deal = Chain::new(agreement("snabb"));
    append_ok(&a, &deal.batch(3)).await;
    // Straight away on b, which may not have indexed a's batch: b asks the server for the
    // stream's head, catches up, and appends.
    let appended = append_ok(&b, &deal.batch(2)).await;
    assert_eq!(appended.indexes, vec![3, 4]);
    assert_eq!(b.head(&deal.stream).await.expect("head"), deal.head);
    same_everywhere(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_batches_on_two_instances_are_stored_once() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let mut deal = Chain::new(agreement("samma"));
    for round in 0..5 {
        let events = deal.batch(2);
        let (ra, rb) = tokio::join!(a.append(batch(&events)), b.append(batch(&events)));
        let (ra, rb) = (ra.expect("append on a"), rb.expect("append on b"));
        assert_eq!(ra.indexes, rb.indexes, "round {round}");
        assert_eq!(ra.recorded_at, rb.recorded_at, "round {round}");
    }
    let log = same_everywhere(&[&a, &b]).await;
    assert_eq!(log.len, 10);
    assert_eq!(
        server.database().stream("overens-agreement-samma").len(),
        10,
        "the server holds a duplicate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_resumes_from_the_cache_and_a_deleted_cache_rebuilds_the_same_log() {
    let (server, dir) = server().await;
    let mut chain = Chain::new(agreement("omstart"));
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    for _ in 0..8 {
        append_ok(&a, &chain.batch(3)).await;
    }
    caught_up_to(&b, 24).await;
    assert_eq!(b.followed_since_connect(), 24);
    drop(b);
    // Written while b is down.
    for _ in 0..2 {
        append_ok(&a, &chain.batch(2)).await;
    }
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let log = same_everywhere(&[&a, &b]).await;
    assert_eq!(log.len, 28);
    assert_eq!(
        b.followed_since_connect(),
        4,
        "a restart re-read $all instead of resuming from the cached position"
    );

    // The cache deleted: b reads all of $all again, to the same log and root.
    drop(b);
    for file in ["b.sqlite", "b.sqlite-wal", "b.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    assert_eq!(b.followed_since_connect(), 28);
    assert_eq!(same_everywhere(&[&a, &b]).await, log);
    // And appends go on from there.
    append_ok(&b, &chain.batch(1)).await;
    same_everywhere(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cache_of_another_server_or_prefix_is_refused_and_left_alone() {
    let (server, dir) = server().await;
    let store = connect(opts(&server, &dir, "a.sqlite")).await;
    append_ok(&store, &Chain::new(directory()).batch(2)).await;
    let before = snapshot(&store, &[]).await;
    drop(store);

    // Another server (a fresh cluster) with the same cache: refused, nothing changed.
    let (other, _) = server_pair().await;
    let error = EsdbStore::connect(opts(&other, &dir, "a.sqlite"))
        .await
        .expect_err("a cache of another server");
    match &error {
        StoreError::Storage(message) => {
            assert!(message.contains("does not match the server"), "{message}")
        }
        other => panic!("refused with {other:?}"),
    }
    assert!(other.database().is_empty(), "the refused connect wrote");

    // Another prefix with the same cache: refused.
    let mut wrong = opts(&server, &dir, "a.sqlite");
    wrong.prefix = "annan-".into();
    match EsdbStore::connect(wrong).await {
        Err(StoreError::Storage(message)) => assert!(message.contains("prefix"), "{message}"),
        other => panic!("a cache of another prefix: {other:?}"),
    }
    // A bad connection string and a bad prefix: refused.
    let mut bad = opts(&server, &dir, "x.sqlite");
    bad.connection_string = "http://[nonsense".into();
    assert!(matches!(
        EsdbStore::connect(bad).await,
        Err(StoreError::Storage(_))
    ));
    let mut bad = opts(&server, &dir, "x.sqlite");
    bad.prefix = "$system-".into();
    assert!(matches!(
        EsdbStore::connect(bad).await,
        Err(StoreError::Storage(_))
    ));

    // The right server still opens the cache, unchanged by the refusals.
    let store = connect(opts(&server, &dir, "a.sqlite")).await;
    assert_eq!(snapshot(&store, &[]).await, before);
    assert_eq!(store.followed_since_connect(), 0);
}

async fn server_pair() -> (TestServer, TempDir) {
    server().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_reconnects_after_the_server_restarts() {
    let (server, dir) = server().await;
    let a = Arc::new(connect(opts(&server, &dir, "a.sqlite")).await);
    let mut chain = Chain::new(directory());
    append_ok(&*a, &chain.batch(2)).await;

    let (db, addr) = (server.database(), server.addr());
    server.stop().await;
    // An append while the server is down: retried with backoff until it is back.
    let pending = {
        let a = a.clone();
        let events = chain.batch(2);
        tokio::spawn(async move { a.append(batch(&events)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = TestServer::start_with(db, addr)
        .await
        .expect("the server restarts");
    let appended = pending
        .await
        .expect("append task")
        .expect("the append after the restart");
    assert_eq!(appended.indexes, vec![2, 3]);
    assert!(!appended.repeated);

    // The subscription is back too: another instance's writes reach this one.
    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let appended = append_ok(&b, &chain.batch(1)).await;
    caught_up_to(&a, appended.log_len).await;
    same_everywhere(&[&*a, &b]).await;

    // A network blip (every connection dropped, the server up) is survived the same way.
    server.drop_connections().await;
    append_ok(&*a, &chain.batch(1)).await;
    let log = same_everywhere(&[&*a, &b]).await;
    assert_eq!(log.len, 6);
    assert_eq!(server.database().stream("overens-directory").len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_down_longer_than_the_retries_is_an_error_that_changes_nothing() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let mut chain = Chain::new(directory());
    append_ok(&a, &chain.batch(1)).await;
    let before = snapshot(&a, &[]).await;
    let (db, addr) = (server.database(), server.addr());
    server.stop().await;
    let events = chain.batch(1);
    match a.append(batch(&events)).await {
        Err(StoreError::Storage(message)) => {
            assert!(message.contains("unknown"), "{message}")
        }
        other => panic!("an append to a stopped server: {other:?}"),
    }
    assert_eq!(snapshot(&a, &[]).await, before);
    let _server = TestServer::start_with(db, addr).await.expect("restart");
    // Sending the same batch again is safe: it is stored once.
    let appended = append_ok(&a, &events).await;
    assert_eq!(appended.indexes, vec![1]);
    assert!(!appended.repeated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_append_whose_reply_was_lost_is_retried_without_a_duplicate() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let db = server.database();
    let mut chain = Chain::new(agreement("forlorat-svar"));
    append_ok(&a, &chain.batch(1)).await;

    // Written, then the connection drops before the reply: the retry finds it stored.
    db.fail_next_appends_after_commit(1);
    let appended = append_ok(&a, &chain.batch(3)).await;
    assert_eq!(appended.indexes, vec![1, 2, 3]);
    assert_eq!(appended.log_len, 4);
    assert!(
        !appended.repeated,
        "the store's own write counted as a repeat"
    );

    // Dropped before the write: the retry writes it.
    db.fail_next_appends_before_commit(2);
    let appended = append_ok(&a, &chain.batch(2)).await;
    assert_eq!(appended.indexes, vec![4, 5]);
    assert!(!appended.repeated);

    // Lost replies on every attempt: the caller is told the outcome is unknown; the batch
    // was in fact stored (once), and sending it again gets its first answer.
    db.fail_next_appends_after_commit(support::test_deadlines().retries + 1);
    let events = chain.batch(2);
    match a.append(batch(&events)).await {
        Err(StoreError::Storage(message)) => assert!(message.contains("unknown"), "{message}"),
        other => panic!("every reply lost: {other:?}"),
    }
    let again = append_ok(&a, &events).await;
    assert_eq!(again.indexes, vec![6, 7]);
    assert!(again.repeated);

    let log = same_everywhere(&[&a]).await;
    assert_eq!(log.len, 8);
    assert_eq!(
        db.stream("overens-agreement-forlorat-svar").len(),
        8,
        "the server holds a duplicate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_over_the_servers_append_limit_is_refused_and_changes_nothing() {
    let (server, dir) = server().await;
    server.database().set_max_append_size(64 * 1024);
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let mut chain = Chain::new(directory());
    append_ok(&a, &chain.batch(2)).await;
    let big = chain
        .clone()
        .next_with(&overens_store::conformance::party_registered(
            &"Östergötland ".repeat(10_000),
        ));
    assert_append_refused(
        &a,
        batch(&[big]),
        Refusal::InvalidBatch,
        "a batch over the limit",
    )
    .await;
    assert_eq!(server.database().len(), 2);
    // Nothing is stuck: the next append goes through.
    append_ok(&a, &chain.batch(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_written_around_the_store_are_passed_over_alike_everywhere() {
    let (server, dir) = server().await;
    let a = connect(opts(&server, &dir, "a.sqlite")).await;
    let mut chain = Chain::new(directory());
    append_ok(&a, &chain.batch(2)).await;

    // Another tool writes to our streams: not an envelope, a copy of a stored event under a
    // new id, and a stream name that is not ours but has the prefix.
    let client = eventstore::Client::new(
        server
            .connection_string()
            .parse()
            .expect("connection string"),
    )
    .expect("client");
    let stored = a.read_log(0, 1).await.expect("read_log").remove(0);
    let foreign = vec![
        EventData::binary("Noise", Bytes::from_static(b"not an envelope")),
        EventData::binary("PartyRegistered", Bytes::from(stored.envelope.clone())),
    ];
    client
        .append_to_stream(
            "overens-directory",
            &AppendToStreamOptions::default().expected_revision(ExpectedRevision::Exact(1)),
            foreign,
        )
        .await
        .expect("foreign append");
    client
        .append_to_stream(
            "overens-something-else",
            &AppendToStreamOptions::default(),
            EventData::binary("Noise", Bytes::from_static(b"{}")),
        )
        .await
        .expect("foreign append");

    // The store goes on: its next append expects the revision after the foreign events.
    let appended = append_ok(&a, &chain.batch(1)).await;
    assert_eq!(appended.indexes, vec![2]);
    assert_eq!(a.head(&directory()).await, Ok(chain.head));
    assert_eq!(a.passed_over(), 3);

    let b = connect(opts(&server, &dir, "b.sqlite")).await;
    let log = same_everywhere(&[&a, &b]).await;
    assert_eq!(log.len, 3);
    assert_eq!(b.passed_over(), 3);
    assert_ne!(log.streams[&directory()].1, StreamHead::EMPTY);
}
