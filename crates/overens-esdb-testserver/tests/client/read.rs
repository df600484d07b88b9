//! Reads: a stream in both directions from every kind of start, a missing stream, and `$all`
//! (positions inclusive forwards, exclusive backwards; filtered reads through a raw client).

use eventstore::{
    Error, ExpectedRevision, Position, ReadAllOptions, ReadStream, ReadStreamOptions,
    StreamPosition,
};
use overens_esdb_testserver::TestServer;
use overens_esdb_testserver::proto::shared::Empty;
use overens_esdb_testserver::proto::streams::ReadReq;
use overens_esdb_testserver::proto::streams::read_req::Options;
use overens_esdb_testserver::proto::streams::read_req::options::filter_options::{
    Expression, Filter, Window,
};
use overens_esdb_testserver::proto::streams::read_req::options::{
    AllOptions, CountOption, FilterOption, FilterOptions, StreamOption, all_options::AllOption,
};
use overens_esdb_testserver::proto::streams::read_resp::Content;
use overens_esdb_testserver::proto::streams::streams_client::StreamsClient;

use crate::{client, event, within};

async fn drain(mut read: ReadStream) -> Vec<(String, u64, Position)> {
    let mut out = Vec::new();
    while let Some(e) = within("next", read.next()).await.expect("read continues") {
        let e = e.event.expect("a recorded event");
        out.push((e.stream_id, e.revision, e.position));
    }
    out
}

async fn seed(client: &eventstore::Client) {
    for (stream, ids) in [("a", 1..=3), ("b", 4..=5), ("a", 6..=6)] {
        let events: Vec<_> = ids.map(|id| event("E", id, b"x")).collect();
        within(
            "seed",
            client.append_to_stream(stream, &Default::default(), events),
        )
        .await
        .expect("seed append");
    }
}

#[tokio::test]
async fn a_stream_reads_from_any_start_in_both_directions() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    seed(&client).await;
    let revisions = |events: Vec<(String, u64, Position)>| {
        events
            .into_iter()
            .map(|(s, r, _)| {
                assert_eq!(s, "a");
                r
            })
            .collect::<Vec<_>>()
    };
    let read = |options: ReadStreamOptions| {
        let client = client.clone();
        async move {
            drain(
                within("read", client.read_stream("a", &options))
                    .await
                    .expect("read starts"),
            )
            .await
        }
    };

    assert_eq!(
        revisions(read(ReadStreamOptions::default()).await),
        [0, 1, 2, 3]
    );
    assert_eq!(
        revisions(
            read(
                ReadStreamOptions::default()
                    .position(StreamPosition::Position(1))
                    .max_count(2)
            )
            .await
        ),
        [1, 2]
    );
    // The client's `position(End)` also turns the read backwards (and `Start` forwards), so
    // set the direction after the position.
    assert_eq!(
        revisions(read(ReadStreamOptions::default().position(StreamPosition::End)).await),
        [3, 2, 1, 0]
    );
    assert_eq!(
        revisions(
            read(
                ReadStreamOptions::default()
                    .position(StreamPosition::Position(2))
                    .backwards()
            )
            .await
        ),
        [2, 1, 0]
    );
    assert_eq!(
        revisions(
            read(
                ReadStreamOptions::default()
                    .position(StreamPosition::Start)
                    .backwards()
            )
            .await
        ),
        [0]
    );
    assert_eq!(
        revisions(
            read(
                ReadStreamOptions::default()
                    .position(StreamPosition::End)
                    .forwards()
            )
            .await
        ),
        Vec::<u64>::new()
    );
    assert_eq!(
        revisions(read(ReadStreamOptions::default().position(StreamPosition::Position(9))).await),
        Vec::<u64>::new()
    );
}

#[tokio::test]
async fn a_missing_stream_is_not_found_on_read() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    seed(&client).await;
    // The call itself succeeds; the first `next` reports the missing stream.
    let mut read = within(
        "read",
        client.read_stream("missing", &ReadStreamOptions::default()),
    )
    .await
    .expect("read starts");
    let result = within("next", read.next()).await;
    assert!(matches!(result, Err(Error::ResourceNotFound)), "{result:?}");
    // Appending with NoStream to it still works: only reads report it missing.
    within(
        "append",
        client.append_to_stream(
            "missing",
            &eventstore::AppendToStreamOptions::default()
                .expected_revision(ExpectedRevision::NoStream),
            event("E", 99, b"x"),
        ),
    )
    .await
    .expect("append creates the stream");
}

#[tokio::test]
async fn all_reads_forwards_inclusive_and_backwards_exclusive() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    seed(&client).await;
    let stored = server.database().events();
    let positions: Vec<u64> = stored.iter().map(|e| e.position).collect();
    let read = |options: ReadAllOptions| {
        let client = client.clone();
        async move {
            drain(
                within("read_all", client.read_all(&options))
                    .await
                    .expect("read starts"),
            )
            .await
            .into_iter()
            .map(|(_, _, p)| {
                assert_eq!(p.commit, p.prepare);
                p.commit
            })
            .collect::<Vec<_>>()
        }
    };

    assert_eq!(read(ReadAllOptions::default()).await, positions);
    let at = |i: usize| {
        StreamPosition::Position(Position {
            commit: positions[i],
            prepare: positions[i],
        })
    };
    assert_eq!(
        read(ReadAllOptions::default().position(at(2)).max_count(2)).await,
        positions[2..4]
    );
    assert_eq!(
        read(ReadAllOptions::default().position(at(2)).backwards()).await,
        [positions[1], positions[0]]
    );
    let mut reversed = positions.clone();
    reversed.reverse();
    assert_eq!(
        read(ReadAllOptions::default().position(StreamPosition::End)).await,
        reversed
    );
}

/// The 4.0.0 client's `read_all` never sends a filter; a raw client checks the server's.
#[tokio::test]
async fn a_filtered_all_read_returns_only_matching_streams() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    seed(&client).await;
    within(
        "other",
        client.append_to_stream("ab", &Default::default(), event("E", 50, b"x")),
    )
    .await
    .expect("append");
    let mut raw = StreamsClient::connect(format!("http://{}", server.addr()))
        .await
        .expect("raw client connects");
    let request = ReadReq {
        options: Some(Options {
            stream_option: Some(StreamOption::All(AllOptions {
                all_option: Some(AllOption::Start(Empty {})),
            })),
            count_option: Some(CountOption::Count(3)),
            filter_option: Some(FilterOption::Filter(FilterOptions {
                filter: Some(Filter::StreamIdentifier(Expression {
                    regex: String::new(),
                    prefix: vec!["a".into()],
                })),
                window: Some(Window::Count(Empty {})),
                checkpoint_interval_multiplier: 1,
            })),
            ..Options::default()
        }),
    };
    let mut responses = raw.read(request).await.expect("read starts").into_inner();
    let mut streams = Vec::new();
    while let Some(response) = responses.message().await.expect("read continues") {
        match response.content {
            Some(Content::Event(e)) => {
                let e = e.event.expect("recorded event");
                streams.push(
                    String::from_utf8(e.stream_identifier.expect("stream").stream_name.to_vec())
                        .expect("utf-8"),
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // a:0..2 then b:… skipped, then a:3 would be 4th but count is 3.
    assert_eq!(streams, ["a", "a", "a"]);

    let request = ReadReq {
        options: Some(Options {
            stream_option: Some(StreamOption::All(AllOptions {
                all_option: Some(AllOption::Start(Empty {})),
            })),
            count_option: Some(CountOption::Count(10)),
            filter_option: Some(FilterOption::Filter(FilterOptions {
                filter: Some(Filter::StreamIdentifier(Expression {
                    regex: "^a.$".into(),
                    prefix: vec![],
                })),
                window: Some(Window::Max(1)),
                checkpoint_interval_multiplier: 1,
            })),
            ..Options::default()
        }),
    };
    let mut responses = raw.read(request).await.expect("read starts").into_inner();
    let mut count = 0;
    while let Some(response) = responses.message().await.expect("read continues") {
        let Some(Content::Event(e)) = response.content else {
            panic!("only events in a read")
        };
        assert_eq!(
            e.event
                .expect("recorded event")
                .stream_identifier
                .expect("stream")
                .stream_name
                .as_ref(),
            b"ab"
        );
        count += 1;
    }
    assert_eq!(count, 1);
}
