//! Lost connections: stop and restart with the same data, appends with an unknown outcome,
//! a network blip under a subscription, and what the client does when the server is down.

use std::time::Duration;

use eventstore::{
    AppendToStreamOptions, Error, ExpectedRevision, ReadStreamOptions, RetryOptions,
    SubscribeToAllOptions, SubscriptionEvent,
};
use overens_esdb_testserver::TestServer;

use crate::{client, event, within};

fn no_stream() -> AppendToStreamOptions {
    AppendToStreamOptions::default().expected_revision(ExpectedRevision::NoStream)
}

async fn read_ids(client: &eventstore::Client, stream: &str) -> Vec<u128> {
    let mut read = within(
        "read",
        client.read_stream(stream.to_owned(), &ReadStreamOptions::default()),
    )
    .await
    .expect("read starts");
    let mut ids = Vec::new();
    while let Some(e) = within("next", read.next()).await.expect("read continues") {
        ids.push(e.get_original_event().id.as_u128());
    }
    ids
}

/// An append right after a lost connection may still go out on the dead connection (if the
/// client has not noticed yet) and fail with `ServerError`; the next call reconnects. An
/// adapter retries the same ids, which is safe (idempotent); so does this.
async fn append_after_loss(
    client: &eventstore::Client,
    stream: &str,
    event: eventstore::EventData,
) -> eventstore::WriteResult {
    for _ in 0..3 {
        match within(
            "append",
            client.append_to_stream(stream.to_owned(), &Default::default(), event.clone()),
        )
        .await
        {
            Err(Error::ServerError(_)) => continue,
            result => return result.expect("append after reconnect"),
        }
    }
    panic!("no reconnect after three attempts")
}

/// Waits until the server has let go of every subscription (they end with their connection).
async fn no_subscriptions(server_db: &overens_esdb_testserver::Database) {
    within("subscriptions to end", async {
        while server_db.subscription_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

// On worker threads, as an adapter under a real runtime would run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_fails_the_client_and_a_restart_serves_the_same_data() {
    let server = TestServer::start().await.expect("server starts");
    let (db, addr) = (server.database(), server.addr());
    let client = client(&server);
    within(
        "append",
        client.append_to_stream("s", &no_stream(), event("E", 1, b"x")),
    )
    .await
    .expect("append");
    let mut subscription = client
        .subscribe_to_all(&SubscribeToAllOptions::default())
        .await;
    loop {
        let next = within("subscription", subscription.next_subscription_event())
            .await
            .expect("live");
        if matches!(next, SubscriptionEvent::CaughtUp) {
            break;
        }
    }
    assert_eq!(db.subscription_count(), 1);

    server.stop().await;
    let dropped = within(
        "subscription after stop",
        subscription.next_subscription_event(),
    )
    .await;
    assert!(matches!(dropped, Err(Error::ServerError(_))), "{dropped:?}");
    no_subscriptions(&db).await;
    let append = within(
        "append while down",
        client.append_to_stream("s", &Default::default(), event("E", 2, b"x")),
    )
    .await;
    assert!(matches!(append, Err(Error::ServerError(_))), "{append:?}");
    assert_eq!(db.len(), 1);

    let server = TestServer::start_with(db.clone(), addr)
        .await
        .expect("restarts on the same address");
    assert_eq!(server.addr(), addr);
    // The same client reconnects by itself and sees the old data.
    assert_eq!(read_ids(&client, "s").await, [1]);
    let written = within(
        "append after restart",
        client.append_to_stream(
            "s",
            &AppendToStreamOptions::default().expected_revision(ExpectedRevision::Exact(0)),
            event("E", 2, b"x"),
        ),
    )
    .await
    .expect("append after restart");
    assert_eq!(written.next_expected_version, 1);
    assert!(written.position.commit > db.events()[0].position);
    server.stop().await;
}

#[tokio::test]
async fn an_append_lost_after_commit_is_retried_idempotently() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let db = server.database();
    let batch = || vec![event("E", 1, b"one"), event("E", 2, b"two")];

    db.fail_next_appends_after_commit(1);
    let lost = within(
        "append",
        client.append_to_stream("s", &no_stream(), batch()),
    )
    .await;
    assert!(matches!(lost, Err(Error::ServerError(_))), "{lost:?}");
    assert_eq!(db.len(), 2, "written although the client saw an error");

    // The retry with the same ids and the same expectation succeeds without duplicates.
    let retried = within("retry", client.append_to_stream("s", &no_stream(), batch()))
        .await
        .expect("the retry succeeds");
    assert_eq!(retried.next_expected_version, 1);
    assert_eq!(retried.position.commit, db.events()[1].position);
    assert_eq!(read_ids(&client, "s").await, [1, 2]);
}

#[tokio::test]
async fn an_append_lost_before_commit_writes_nothing() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let db = server.database();

    db.fail_next_appends_before_commit(1);
    let lost = within(
        "append",
        client.append_to_stream("s", &no_stream(), event("E", 1, b"one")),
    )
    .await;
    assert!(matches!(lost, Err(Error::ServerError(_))), "{lost:?}");
    assert!(db.is_empty());

    within(
        "retry",
        client.append_to_stream("s", &no_stream(), event("E", 1, b"one")),
    )
    .await
    .expect("the retry writes");
    assert_eq!(read_ids(&client, "s").await, [1]);
}

// On worker threads, as an adapter under a real runtime would run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_with_retries_resumes_after_a_blip_without_gaps_or_repeats() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    for id in 1..=3 {
        within(
            "append",
            client.append_to_stream("s", &Default::default(), event("E", id, b"x")),
        )
        .await
        .expect("append");
    }
    let options = SubscribeToAllOptions::default().retry_options(
        RetryOptions::default()
            .retry_limit(5)
            .retry_delay(Duration::from_millis(50)),
    );
    let mut subscription = client.subscribe_to_all(&options).await;
    let mut ids = Vec::new();
    while ids.len() < 2 {
        if let SubscriptionEvent::EventAppeared(e) =
            within("event", subscription.next_subscription_event())
                .await
                .expect("live")
        {
            ids.push(e.get_original_event().id.as_u128());
        }
    }

    server.drop_connections().await;
    for id in 4..=5 {
        append_after_loss(&client, "s", event("E", id, b"x")).await;
    }
    while ids.len() < 5 {
        if let SubscriptionEvent::EventAppeared(e) =
            within("event", subscription.next_subscription_event())
                .await
                .expect("resubscribes")
        {
            ids.push(e.get_original_event().id.as_u128());
        }
    }
    assert_eq!(ids, [1, 2, 3, 4, 5]);
}

/// A client quirk worth knowing: if the first call finds no server, the 4.0.0 client's
/// connection task gives up for good, and the client must be rebuilt.
#[tokio::test]
async fn a_client_that_never_connected_stays_closed() {
    let server = TestServer::start().await.expect("server starts");
    let (db, addr) = (server.database(), server.addr());
    let client = client(&server);
    server.stop().await;

    let first = within(
        "first call",
        client.append_to_stream("s", &Default::default(), event("E", 1, b"x")),
    )
    .await;
    assert!(
        matches!(first, Err(Error::GrpcConnectionError(_))),
        "{first:?}"
    );

    let server = TestServer::start_with(db, addr).await.expect("restarts");
    let again = within(
        "second call",
        client.append_to_stream("s", &Default::default(), event("E", 1, b"x")),
    )
    .await;
    assert!(matches!(again, Err(Error::ConnectionClosed)), "{again:?}");
    let fresh = crate::client(&server);
    within(
        "fresh client",
        fresh.append_to_stream("s", &Default::default(), event("E", 1, b"x")),
    )
    .await
    .expect("a new client connects");
}
