//! Append: round trip of every field, expected revisions, wrong-expected-version mapping,
//! idempotent re-appends, the size limit, required metadata, and the cost of one call.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use eventstore::{
    AppendToStreamOptions, CurrentRevision, Error, EventData, ExpectedRevision, ReadStreamOptions,
};
use overens_esdb_testserver::TestServer;
use overens_esdb_testserver::proto::shared::{
    StreamIdentifier, Uuid as ProtoUuid, uuid as proto_uuid,
};
use overens_esdb_testserver::proto::streams::AppendReq;
use overens_esdb_testserver::proto::streams::append_req::{
    Content, Options, ProposedMessage, options::ExpectedStreamRevision,
};
use overens_esdb_testserver::proto::streams::streams_client::StreamsClient;
use serde_json::json;
use uuid::Uuid;

use crate::{client, event, within};

fn expect(revision: ExpectedRevision) -> AppendToStreamOptions {
    AppendToStreamOptions::default().expected_revision(revision)
}

#[tokio::test]
async fn appended_events_read_back_with_every_field() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let before = SystemTime::now();
    let binary = event("Drafted", 1, b"\x00\x01binary").metadata(Bytes::from_static(b"custom"));
    let json = EventData::json("Signed", &json!({"by": "kommun"}))
        .expect("json event")
        .id(Uuid::from_u128(2));
    let written = within(
        "append",
        client.append_to_stream(
            "agreement-1",
            &expect(ExpectedRevision::NoStream),
            vec![binary, json],
        ),
    )
    .await
    .expect("append succeeds");
    assert_eq!(written.next_expected_version, 1);

    let stored = server.database().events();
    assert_eq!(stored.len(), 2);
    assert_eq!(written.position.commit, stored[1].position);
    assert_eq!(written.position.prepare, stored[1].position);

    let mut read = within(
        "read",
        client.read_stream("agreement-1", &ReadStreamOptions::default()),
    )
    .await
    .expect("read starts");
    let mut events = Vec::new();
    while let Some(e) = within("next", read.next()).await.expect("read continues") {
        events.push(e.event.expect("a recorded event, not a link"));
    }
    assert_eq!(events.len(), 2);
    let (first, second) = (&events[0], &events[1]);
    assert_eq!(first.stream_id, "agreement-1");
    assert_eq!((first.revision, second.revision), (0, 1));
    assert_eq!(
        (first.id, second.id),
        (Uuid::from_u128(1), Uuid::from_u128(2))
    );
    assert_eq!(
        (first.event_type.as_str(), second.event_type.as_str()),
        ("Drafted", "Signed")
    );
    assert_eq!(first.data.as_ref(), b"\x00\x01binary");
    assert_eq!(first.custom_metadata.as_ref(), b"custom");
    assert!(second.custom_metadata.is_empty());
    assert_eq!(
        second.as_json::<serde_json::Value>().expect("json data"),
        json!({"by": "kommun"})
    );
    assert!(!first.is_json && second.is_json);
    assert_eq!(
        first.metadata.get("content-type").map(String::as_str),
        Some("application/octet-stream")
    );
    assert_eq!(
        second.metadata.get("content-type").map(String::as_str),
        Some("application/json")
    );
    // The client truncates `created` to whole seconds.
    let created = SystemTime::from(first.created);
    assert!(
        created >= before - Duration::from_secs(1) && created <= SystemTime::now(),
        "{created:?}"
    );
    assert_eq!(first.position.commit, stored[0].position);
    assert_eq!(first.position.prepare, stored[0].position);
    assert!(first.position.commit < second.position.commit);
    assert_eq!(second.position, written.position);
}

#[tokio::test]
async fn expected_revisions_and_wrong_expected_version() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let db = server.database();
    let append = |stream: &'static str, revision, id| {
        let client = client.clone();
        async move {
            within(
                "append",
                client.append_to_stream(stream, &expect(revision), event("E", id, b"x")),
            )
            .await
        }
    };
    // Each refusal: the client's WrongExpectedVersion with the server's view, and no change.
    let refused = |result: eventstore::Result<eventstore::WriteResult>| match result {
        Err(Error::WrongExpectedVersion { current, expected }) => (current, expected),
        other => panic!("expected WrongExpectedVersion, got {other:?}"),
    };

    assert_eq!(
        refused(append("s", ExpectedRevision::StreamExists, 1).await),
        (CurrentRevision::NoStream, ExpectedRevision::StreamExists)
    );
    assert_eq!(
        refused(append("s", ExpectedRevision::Exact(0), 1).await),
        (CurrentRevision::NoStream, ExpectedRevision::Exact(0))
    );
    assert!(db.is_empty());

    assert_eq!(
        append("s", ExpectedRevision::NoStream, 1)
            .await
            .expect("creates")
            .next_expected_version,
        0
    );
    assert_eq!(
        append("s", ExpectedRevision::Exact(0), 2)
            .await
            .expect("exact")
            .next_expected_version,
        1
    );
    assert_eq!(
        append("s", ExpectedRevision::StreamExists, 3)
            .await
            .expect("exists")
            .next_expected_version,
        2
    );
    assert_eq!(
        append("s", ExpectedRevision::Any, 4)
            .await
            .expect("any")
            .next_expected_version,
        3
    );
    let snapshot = db.events();

    assert_eq!(
        refused(append("s", ExpectedRevision::NoStream, 10).await),
        (CurrentRevision::Current(3), ExpectedRevision::NoStream)
    );
    assert_eq!(
        refused(append("s", ExpectedRevision::Exact(1), 11).await),
        (CurrentRevision::Current(3), ExpectedRevision::Exact(1))
    );
    assert_eq!(
        refused(append("s", ExpectedRevision::Exact(7), 12).await),
        (CurrentRevision::Current(3), ExpectedRevision::Exact(7))
    );
    assert_eq!(db.events(), snapshot);
}

#[tokio::test]
async fn reappending_the_same_ids_is_idempotent() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let db = server.database();
    let batch = || vec![event("A", 1, b"one"), event("B", 2, b"two")];
    let first = within(
        "append",
        client.append_to_stream("s", &expect(ExpectedRevision::NoStream), batch()),
    )
    .await
    .expect("first append");
    let again = within(
        "re-append",
        client.append_to_stream("s", &expect(ExpectedRevision::NoStream), batch()),
    )
    .await
    .expect("a repeat succeeds");
    assert_eq!(again.next_expected_version, first.next_expected_version);
    assert_eq!(again.position, first.position);
    assert_eq!(db.len(), 2);

    // With `Any`, a repeat is recognised by its ids too.
    within(
        "any",
        client.append_to_stream("s", &expect(ExpectedRevision::Any), batch()),
    )
    .await
    .expect("a repeat with Any succeeds");
    assert_eq!(db.len(), 2);

    // Partly the same: not idempotent, refused, nothing written.
    let partial = vec![event("A", 1, b"one"), event("C", 3, b"three")];
    let result = within(
        "partial",
        client.append_to_stream("s", &expect(ExpectedRevision::NoStream), partial),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(Error::WrongExpectedVersion {
                current: CurrentRevision::Current(1),
                expected: ExpectedRevision::NoStream
            })
        ),
        "{result:?}"
    );
    assert_eq!(db.len(), 2);
}

#[tokio::test]
async fn an_append_over_the_size_limit_is_refused_whole() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    let db = server.database();
    db.set_max_append_size(10);
    let result = within(
        "append",
        client.append_to_stream(
            "s",
            &expect(ExpectedRevision::Any),
            vec![event("E", 1, b"12345"), event("E", 2, b"12345")],
        ),
    )
    .await;
    match result {
        Err(Error::Grpc { code, message }) => {
            assert_eq!(code, tonic::Code::InvalidArgument);
            assert!(message.contains("Maximum Append Size"), "{message}");
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    assert!(db.is_empty());
}

/// The `eventstore` client always sends `type` and `content-type`; a raw client can omit them.
#[tokio::test]
async fn proposed_events_need_type_and_content_type() {
    let server = TestServer::start().await.expect("server starts");
    let mut raw = StreamsClient::connect(format!("http://{}", server.addr()))
        .await
        .expect("raw client connects");
    for missing in ["type", "content-type"] {
        let mut metadata = HashMap::from([
            ("type".to_owned(), "E".to_owned()),
            (
                "content-type".to_owned(),
                "application/octet-stream".to_owned(),
            ),
        ]);
        metadata.remove(missing);
        let messages = vec![
            AppendReq {
                content: Some(Content::Options(Options {
                    stream_identifier: Some(StreamIdentifier {
                        stream_name: Bytes::from_static(b"s"),
                    }),
                    expected_stream_revision: Some(ExpectedStreamRevision::Any(Default::default())),
                })),
            },
            AppendReq {
                content: Some(Content::ProposedMessage(ProposedMessage {
                    id: Some(ProtoUuid {
                        value: Some(proto_uuid::Value::String(Uuid::from_u128(1).to_string())),
                    }),
                    metadata,
                    custom_metadata: Bytes::new(),
                    data: Bytes::from_static(b"x"),
                })),
            },
        ];
        let status = raw
            .append(futures::stream::iter(messages))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains(missing), "{}", status.message());
    }
    assert!(server.database().is_empty());
}

/// The client never sets TCP_NODELAY; without TCP_QUICKACK on the server each append waits
/// ~40 ms for a delayed ACK (see server.rs).
#[tokio::test]
async fn sequential_appends_do_not_wait_for_delayed_acks() {
    let server = TestServer::start().await.expect("server starts");
    let client = client(&server);
    within(
        "warm-up",
        client.append_to_stream("s", &Default::default(), event("E", 0, b"x")),
    )
    .await
    .expect("append");
    let calls = 25;
    let started = Instant::now();
    for id in 1..=calls {
        within(
            "append",
            client.append_to_stream("s", &Default::default(), event("E", id, b"x")),
        )
        .await
        .expect("append");
    }
    let per_call = started.elapsed() / calls as u32;
    assert!(
        per_call < Duration::from_millis(20),
        "{per_call:?} per append"
    );
}
