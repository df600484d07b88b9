//! Catch-up subscriptions: confirmation, history (start exclusive), caught-up, live events;
//! prefix filters and checkpoints on `$all`.

use eventstore::{
    Position, StreamPosition, SubscribeToAllOptions, SubscribeToStreamOptions, Subscription,
    SubscriptionEvent, SubscriptionFilter,
};
use overens_esdb_testserver::TestServer;

use crate::{client, event, within};

/// What a subscription delivered, in order: `stream@revision` per event, and markers.
async fn take(
    subscription: &mut Subscription,
    until_caught_up: bool,
    events: usize,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut got = 0;
    while got < events || until_caught_up && !seen.iter().any(|s| s == "caught-up") {
        let next = within("subscription event", subscription.next_subscription_event())
            .await
            .expect("subscription continues");
        seen.push(match next {
            SubscriptionEvent::Confirmed(_) => "confirmed".to_owned(),
            SubscriptionEvent::CaughtUp => "caught-up".to_owned(),
            SubscriptionEvent::Checkpoint(p) => format!("checkpoint@{}", p.commit),
            SubscriptionEvent::EventAppeared(e) => {
                got += 1;
                let e = e.get_original_event();
                format!("{}@{}", e.stream_id, e.revision)
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    seen
}

async fn append(client: &eventstore::Client, stream: &str, ids: std::ops::RangeInclusive<u128>) {
    let events: Vec<_> = ids.map(|id| event("E", id, b"x")).collect();
    within(
        "append",
        client.append_to_stream(stream.to_owned(), &Default::default(), events),
    )
    .await
    .expect("append");
}

#[tokio::test]
async fn subscribe_to_all_with_a_prefix_filter_history_then_live() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    append(&client, "overens-a", 1..=2).await;
    append(&client, "other", 3..=3).await;
    append(&client, "overens-b", 4..=4).await;

    let filter = SubscriptionFilter::on_stream_name().add_prefix("overens-");
    let mut subscription = client
        .subscribe_to_all(&SubscribeToAllOptions::default().filter(filter))
        .await;
    assert_eq!(
        take(&mut subscription, true, 3).await,
        [
            "confirmed",
            "overens-a@0",
            "overens-a@1",
            "overens-b@0",
            "caught-up"
        ]
    );

    append(&client, "other", 5..=5).await;
    append(&client, "overens-a", 6..=6).await;
    assert_eq!(take(&mut subscription, false, 1).await, ["overens-a@2"]);
}

#[tokio::test]
async fn subscribe_to_all_from_a_position_starts_after_it() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    append(&client, "overens-a", 1..=3).await;
    let second = server.database().events()[1].position;

    let options = SubscribeToAllOptions::default()
        .position(StreamPosition::Position(Position {
            commit: second,
            prepare: second,
        }))
        .filter(SubscriptionFilter::on_stream_name().add_prefix("overens-"));
    let mut subscription = client.subscribe_to_all(&options).await;
    assert_eq!(
        take(&mut subscription, true, 1).await,
        ["confirmed", "overens-a@2", "caught-up"]
    );

    // From the end: only what comes after subscribing.
    let mut live = client
        .subscribe_to_all(&SubscribeToAllOptions::default().position(StreamPosition::End))
        .await;
    assert_eq!(take(&mut live, true, 0).await, ["confirmed", "caught-up"]);
    append(&client, "x", 4..=4).await;
    assert_eq!(take(&mut live, false, 1).await, ["x@0"]);
}

#[tokio::test]
async fn subscribe_to_stream_from_start_and_after_a_revision() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    append(&client, "s", 1..=3).await;
    append(&client, "t", 4..=4).await;

    // The client's default for stream subscriptions is `End` (for `$all` it is `Start`).
    let from_start = SubscribeToStreamOptions::default().start_from(StreamPosition::Start);
    let mut all = client.subscribe_to_stream("s", &from_start).await;
    assert_eq!(
        take(&mut all, true, 3).await,
        ["confirmed", "s@0", "s@1", "s@2", "caught-up"]
    );

    let options = SubscribeToStreamOptions::default().start_from(StreamPosition::Position(1));
    let mut after = client.subscribe_to_stream("s", &options).await;
    assert_eq!(
        take(&mut after, true, 1).await,
        ["confirmed", "s@2", "caught-up"]
    );

    append(&client, "t", 5..=5).await;
    append(&client, "s", 6..=6).await;
    assert_eq!(take(&mut all, false, 1).await, ["s@3"]);
    assert_eq!(take(&mut after, false, 1).await, ["s@3"]);

    // A stream that does not exist yet: no error, just nothing until it does.
    let mut later = client.subscribe_to_stream("later", &from_start).await;
    assert_eq!(take(&mut later, true, 0).await, ["confirmed", "caught-up"]);
    append(&client, "later", 7..=7).await;
    assert_eq!(take(&mut later, false, 1).await, ["later@0"]);

    // The default, `End`: only what comes after subscribing.
    let mut live = client
        .subscribe_to_stream("s", &SubscribeToStreamOptions::default())
        .await;
    assert_eq!(take(&mut live, true, 0).await, ["confirmed", "caught-up"]);
    append(&client, "s", 8..=8).await;
    assert_eq!(take(&mut live, false, 1).await, ["s@4"]);
}

#[tokio::test]
async fn a_filtered_all_subscription_sends_checkpoints() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    append(&client, "other", 1..=3).await;
    append(&client, "overens-a", 4..=4).await;
    let positions: Vec<u64> = server
        .database()
        .events()
        .iter()
        .map(|e| e.position)
        .collect();

    // Window 2 × multiplier 1 (the client always sends 1): a checkpoint every 2 events considered.
    let filter = SubscriptionFilter::on_stream_name()
        .add_prefix("overens-")
        .max(2);
    let mut subscription = client
        .subscribe_to_all(&SubscribeToAllOptions::default().filter(filter))
        .await;
    assert_eq!(
        take(&mut subscription, true, 1).await,
        [
            "confirmed".to_owned(),
            format!("checkpoint@{}", positions[1]),
            "overens-a@0".to_owned(),
            format!("checkpoint@{}", positions[3]),
            "caught-up".to_owned(),
        ]
    );
}
