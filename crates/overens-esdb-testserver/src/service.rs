//! The `event_store.client.streams.Streams` service: `Append`, and `Read` for reads of a stream
//! or `$all` and for catch-up subscriptions. Delete, Tombstone and BatchAppend are unimplemented.

// tonic handlers answer `Status` (176 bytes); boxing it only to unbox it at the handler adds
// noise to a test harness.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::database::{
    AllCursor, AppendFault, AppendOutcome, Database, Expected, Proposed, RecordedEvent, StreamFrom,
};
use crate::filter::EventFilter;
use crate::proto::shared::{Empty, StreamIdentifier, uuid as proto_uuid};
use crate::proto::streams::append_req::{self, Content as AppendContent};
use crate::proto::streams::append_resp::{self, success, wrong_expected_version as wev};
use crate::proto::streams::read_req::options::{
    self as read_options, AllOptions, CountOption, FilterOption, ReadDirection, StreamOption,
    StreamOptions, all_options::AllOption, stream_options::RevisionOption, uuid_option,
};
use crate::proto::streams::read_resp::{self, Content as ReadContent, read_event};
use crate::proto::streams::streams_server::Streams;
use crate::proto::streams::{
    AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, DeleteReq, DeleteResp, ReadReq,
    ReadResp, TombstoneReq, TombstoneResp,
};
use crate::server::ConnectionHandle;

/// Events fetched from the log per step of a subscription, so that one slow subscriber never
/// holds the lock for long.
const SUBSCRIPTION_BATCH: usize = 256;

/// How long a faulted append waits for its dropped connection to take it down.
const FAULT_WAIT: Duration = Duration::from_secs(30);

type ReadStreamBox = Pin<Box<dyn Stream<Item = Result<ReadResp, Status>> + Send>>;

#[derive(Debug)]
pub(crate) struct StreamsService {
    db: Database,
}

impl StreamsService {
    pub(crate) fn new(db: Database) -> StreamsService {
        StreamsService { db }
    }
}

#[tonic::async_trait]
impl Streams for StreamsService {
    type ReadStream = ReadStreamBox;
    type BatchAppendStream = Pin<Box<dyn Stream<Item = Result<BatchAppendResp, Status>> + Send>>;

    async fn read(&self, request: Request<ReadReq>) -> Result<Response<ReadStreamBox>, Status> {
        let options = request
            .into_inner()
            .options
            .ok_or_else(|| Status::invalid_argument("ReadReq without options"))?;
        let ids = IdFormat::from_proto(options.uuid_option);
        let backwards = ReadDirection::try_from(options.read_direction)
            .map_err(|_| Status::invalid_argument("unknown read direction"))?
            == ReadDirection::Backwards;
        let filter = match options.filter_option {
            Some(FilterOption::Filter(filter)) => Some(EventFilter::from_proto(filter)?),
            Some(FilterOption::NoFilter(Empty {})) | None => None,
        };
        let target = match options.stream_option {
            Some(StreamOption::Stream(stream)) => Target::stream(stream)?,
            Some(StreamOption::All(all)) => Target::all(all)?,
            None => return Err(Status::invalid_argument("ReadReq without stream or $all")),
        };
        if filter.is_some() && matches!(target, Target::Stream { .. }) {
            return Err(Status::invalid_argument(
                "filters apply to $all only (this test server refuses rather than ignores them)",
            ));
        }
        let stream = match options.count_option {
            Some(CountOption::Count(count)) => {
                read(&self.db, target, backwards, count, filter.as_ref(), ids)
            }
            Some(CountOption::Subscription(_)) if backwards => {
                return Err(Status::invalid_argument("subscriptions read forwards only"));
            }
            Some(CountOption::Subscription(_)) => subscribe(&self.db, target, filter, ids),
            None => {
                return Err(Status::invalid_argument(
                    "ReadReq without count or subscription",
                ));
            }
        };
        Ok(Response::new(stream))
    }

    async fn append(
        &self,
        request: Request<Streaming<AppendReq>>,
    ) -> Result<Response<AppendResp>, Status> {
        let connection = request.extensions().get::<ConnectionHandle>().cloned();
        let mut messages = request.into_inner();
        let options = match messages.message().await? {
            Some(AppendReq {
                content: Some(AppendContent::Options(options)),
            }) => options,
            _ => {
                return Err(Status::invalid_argument(
                    "an append starts with its options",
                ));
            }
        };
        let stream = stream_name(options.stream_identifier)?;
        let expected = match options.expected_stream_revision {
            Some(append_req::options::ExpectedStreamRevision::Revision(r)) => Expected::Exact(r),
            Some(append_req::options::ExpectedStreamRevision::NoStream(_)) => Expected::NoStream,
            Some(append_req::options::ExpectedStreamRevision::Any(_)) => Expected::Any,
            Some(append_req::options::ExpectedStreamRevision::StreamExists(_)) => {
                Expected::StreamExists
            }
            None => return Err(Status::invalid_argument("append without expected revision")),
        };
        let max_size = self.db.max_append_size();
        let mut size = 0;
        let mut events = Vec::new();
        while let Some(message) = messages.message().await? {
            let Some(AppendContent::ProposedMessage(message)) = message.content else {
                return Err(Status::invalid_argument("options may only come first"));
            };
            let event = proposed(message)?;
            size += event.size();
            if size > max_size {
                return Err(max_append_size_exceeded(max_size));
            }
            events.push(event);
        }

        let fault = self.db.take_append_fault();
        if fault == Some(AppendFault::BeforeCommit) {
            return Err(drop_connection(connection).await);
        }
        let outcome = self.db.append(&stream, expected, events);
        if fault == Some(AppendFault::AfterCommit) {
            return Err(drop_connection(connection).await);
        }
        Ok(Response::new(append_response(outcome, expected)))
    }

    async fn delete(&self, _: Request<DeleteReq>) -> Result<Response<DeleteResp>, Status> {
        Err(Status::unimplemented(
            "Delete is not modelled by the test server",
        ))
    }

    async fn tombstone(&self, _: Request<TombstoneReq>) -> Result<Response<TombstoneResp>, Status> {
        Err(Status::unimplemented(
            "Tombstone is not modelled by the test server",
        ))
    }

    async fn batch_append(
        &self,
        _: Request<Streaming<BatchAppendReq>>,
    ) -> Result<Response<Self::BatchAppendStream>, Status> {
        Err(Status::unimplemented(
            "BatchAppend is not modelled by the test server",
        ))
    }
}

/// What a read or subscription is of.
#[derive(Debug)]
enum Target {
    Stream { name: String, from: StreamFrom },
    All { from: AllFrom },
}

#[derive(Clone, Copy, Debug)]
enum AllFrom {
    Start,
    End,
    /// A commit position (the prepare position is ignored: they are equal here).
    Position(u64),
}

impl Target {
    fn stream(options: StreamOptions) -> Result<Target, Status> {
        let from = match options.revision_option {
            Some(RevisionOption::Revision(r)) => StreamFrom::Revision(r),
            Some(RevisionOption::Start(_)) => StreamFrom::Start,
            Some(RevisionOption::End(_)) => StreamFrom::End,
            None => {
                return Err(Status::invalid_argument(
                    "stream read without a revision option",
                ));
            }
        };
        Ok(Target::Stream {
            name: stream_name(options.stream_identifier)?,
            from,
        })
    }

    fn all(options: AllOptions) -> Result<Target, Status> {
        let from = match options.all_option {
            Some(AllOption::Position(p)) => AllFrom::Position(p.commit_position),
            Some(AllOption::Start(_)) => AllFrom::Start,
            Some(AllOption::End(_)) => AllFrom::End,
            None => {
                return Err(Status::invalid_argument(
                    "$all read without a position option",
                ));
            }
        };
        Ok(Target::All { from })
    }
}

/// How event ids go out: the client asks for strings.
#[derive(Clone, Copy, Debug)]
enum IdFormat {
    String,
    Structured,
}

impl IdFormat {
    fn from_proto(option: Option<read_options::UuidOption>) -> IdFormat {
        match option.and_then(|o| o.content) {
            Some(uuid_option::Content::Structured(_)) => IdFormat::Structured,
            Some(uuid_option::Content::String(_)) | None => IdFormat::String,
        }
    }

    fn encode(self, id: Uuid) -> crate::proto::shared::Uuid {
        let value = match self {
            IdFormat::String => proto_uuid::Value::String(id.to_string()),
            IdFormat::Structured => {
                let (most, least) = id.as_u64_pair();
                proto_uuid::Value::Structured(proto_uuid::Structured {
                    most_significant_bits: most as i64,
                    least_significant_bits: least as i64,
                })
            }
        };
        crate::proto::shared::Uuid { value: Some(value) }
    }
}

/// A finite read: every message computed up front from one snapshot of the log.
fn read(
    db: &Database,
    target: Target,
    backwards: bool,
    count: u64,
    filter: Option<&EventFilter>,
    ids: IdFormat,
) -> ReadStreamBox {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let events: Vec<Arc<RecordedEvent>> = match target {
        Target::Stream { name, from } => {
            match db.read_stream(&name, from, backwards, count as u64) {
                Some(events) => events,
                None => {
                    let not_found = ReadContent::StreamNotFound(read_resp::StreamNotFound {
                        stream_identifier: Some(identifier(&name)),
                    });
                    return Box::pin(futures::stream::iter([Ok(message(not_found))]));
                }
            }
        }
        Target::All { from } => {
            let keep = |e: &Arc<RecordedEvent>| filter.is_none_or(|f| f.matches(e));
            if backwards {
                let before = match from {
                    AllFrom::Start => 0,
                    AllFrom::End => db.all_end(),
                    AllFrom::Position(p) => db.all_index_at(p),
                };
                db.all_backwards(before)
                    .into_iter()
                    .filter(keep)
                    .take(count)
                    .collect()
            } else {
                let at = match from {
                    AllFrom::Start => 0,
                    AllFrom::End => db.all_end(),
                    AllFrom::Position(p) => db.all_index_at(p),
                };
                db.all_forwards(at, usize::MAX)
                    .into_iter()
                    .filter(keep)
                    .take(count)
                    .collect()
            }
        }
    };
    let messages: Vec<Result<ReadResp, Status>> = events
        .iter()
        .map(|e| Ok(message(ReadContent::Event(read_event(e, ids)))))
        .collect();
    Box::pin(futures::stream::iter(messages))
}

/// Where a subscription reads next.
#[derive(Debug)]
enum Cursor {
    All(AllCursor),
    Stream { name: String, next: u64 },
}

/// A catch-up subscription: confirmation, the history after the start (exclusive), caught-up,
/// then live events; for a filtered `$all` subscription a checkpoint every
/// `checkpoint_interval` considered events. It reads the log at its own pace, so it never
/// falls behind (no `FellBehind`). Ends when the client goes away or the connection drops.
fn subscribe(
    db: &Database,
    target: Target,
    filter: Option<EventFilter>,
    ids: IdFormat,
) -> ReadStreamBox {
    let mut cursor = match target {
        Target::Stream { name, from } => {
            let next = match from {
                StreamFrom::Start => 0,
                StreamFrom::End => db.stream_len(&name),
                StreamFrom::Revision(r) => r.saturating_add(1),
            };
            Cursor::Stream { name, next }
        }
        Target::All { from } => Cursor::All(match from {
            AllFrom::Start => 0,
            AllFrom::End => db.all_end(),
            AllFrom::Position(p) => db.all_index_after(p),
        }),
    };
    let guard = db.subscription_guard();
    let db = db.clone();
    Box::pin(async_stream::stream! {
        let _guard = guard;
        let mut head = db.watch_head();
        yield Ok(message(ReadContent::Confirmation(read_resp::SubscriptionConfirmation {
            subscription_id: Uuid::new_v4().to_string(),
        })));
        let mut caught_up = false;
        let mut considered = 0u64;
        loop {
            // Mark the head seen before reading, so a write after the read wakes us below.
            head.borrow_and_update();
            let batch = match &mut cursor {
                Cursor::All(at) => {
                    let batch = db.all_forwards(*at, SUBSCRIPTION_BATCH);
                    *at += batch.len();
                    batch
                }
                Cursor::Stream { name, next } => {
                    let batch = db.stream_forwards(name, *next, SUBSCRIPTION_BATCH);
                    *next += batch.len() as u64;
                    batch
                }
            };
            if batch.is_empty() {
                if !caught_up {
                    caught_up = true;
                    yield Ok(message(ReadContent::CaughtUp(read_resp::CaughtUp {})));
                }
                if head.changed().await.is_err() {
                    break;
                }
                continue;
            }
            for event in batch {
                if filter.as_ref().is_none_or(|f| f.matches(&event)) {
                    yield Ok(message(ReadContent::Event(read_event(&event, ids))));
                }
                if let Some(filter) = &filter {
                    considered += 1;
                    if considered >= filter.checkpoint_interval {
                        considered = 0;
                        yield Ok(message(ReadContent::Checkpoint(read_resp::Checkpoint {
                            commit_position: event.position,
                            prepare_position: event.position,
                        })));
                    }
                }
            }
        }
    })
}

fn message(content: ReadContent) -> ReadResp {
    ReadResp {
        content: Some(content),
    }
}

fn read_event(event: &RecordedEvent, ids: IdFormat) -> read_resp::ReadEvent {
    let metadata = HashMap::from([
        ("type".to_owned(), event.event_type.clone()),
        ("content-type".to_owned(), event.content_type.to_owned()),
        ("created".to_owned(), event.created_ticks.to_string()),
    ]);
    read_resp::ReadEvent {
        event: Some(read_event::RecordedEvent {
            id: Some(ids.encode(event.id)),
            stream_identifier: Some(identifier(&event.stream)),
            stream_revision: event.revision,
            prepare_position: event.position,
            commit_position: event.position,
            metadata,
            custom_metadata: event.custom_metadata.clone(),
            data: event.data.clone(),
        }),
        link: None,
        position: Some(read_event::Position::CommitPosition(event.position)),
    }
}

fn identifier(stream: &str) -> StreamIdentifier {
    StreamIdentifier {
        stream_name: stream.to_owned().into(),
    }
}

fn stream_name(identifier: Option<StreamIdentifier>) -> Result<String, Status> {
    let name = identifier
        .ok_or_else(|| Status::invalid_argument("missing stream identifier"))?
        .stream_name;
    let name = String::from_utf8(name.to_vec())
        .map_err(|_| Status::invalid_argument("stream name is not UTF-8"))?;
    if name.is_empty() {
        return Err(Status::invalid_argument("empty stream name"));
    }
    Ok(name)
}

fn proposed(message: append_req::ProposedMessage) -> Result<Proposed, Status> {
    let id = match message.id.and_then(|id| id.value) {
        Some(proto_uuid::Value::String(s)) => s
            .parse()
            .map_err(|_| Status::invalid_argument("event id is not a UUID"))?,
        Some(proto_uuid::Value::Structured(s)) => Uuid::from_u64_pair(
            s.most_significant_bits as u64,
            s.least_significant_bits as u64,
        ),
        None => return Err(Status::invalid_argument("proposed event without an id")),
    };
    let required = |key: &str| {
        message
            .metadata
            .get(key)
            .cloned()
            .ok_or_else(|| missing_metadata(key))
    };
    let event_type = required("type")?;
    let content_type = required("content-type")?;
    Ok(Proposed {
        id,
        event_type,
        is_json: content_type == "application/json",
        data: message.data,
        custom_metadata: message.custom_metadata,
    })
}

fn append_response(outcome: AppendOutcome, expected: Expected) -> AppendResp {
    let result = match outcome {
        AppendOutcome::Success { current, position } => {
            append_resp::Result::Success(append_resp::Success {
                current_revision_option: Some(match current {
                    Some(r) => success::CurrentRevisionOption::CurrentRevision(r),
                    None => success::CurrentRevisionOption::NoStream(Empty {}),
                }),
                position_option: Some(match position {
                    Some(p) => success::PositionOption::Position(append_resp::Position {
                        commit_position: p,
                        prepare_position: p,
                    }),
                    None => success::PositionOption::NoPosition(Empty {}),
                }),
            })
        }
        AppendOutcome::WrongExpectedVersion { current } => {
            append_resp::Result::WrongExpectedVersion(wrong_expected_version(current, expected))
        }
    };
    AppendResp {
        result: Some(result),
    }
}

/// Both field sets: the one 4.0.0 reads, and the 20.6.0 one older clients read (which cannot
/// say "expected no stream", so it stays unset then).
fn wrong_expected_version(
    current: Option<u64>,
    expected: Expected,
) -> append_resp::WrongExpectedVersion {
    append_resp::WrongExpectedVersion {
        current_revision_option_20_6_0: Some(match current {
            Some(r) => wev::CurrentRevisionOption2060::CurrentRevision2060(r),
            None => wev::CurrentRevisionOption2060::NoStream2060(Empty {}),
        }),
        expected_revision_option_20_6_0: match expected {
            Expected::Exact(r) => Some(wev::ExpectedRevisionOption2060::ExpectedRevision2060(r)),
            Expected::Any => Some(wev::ExpectedRevisionOption2060::Any2060(Empty {})),
            Expected::StreamExists => {
                Some(wev::ExpectedRevisionOption2060::StreamExists2060(Empty {}))
            }
            Expected::NoStream => None,
        },
        current_revision_option: Some(match current {
            Some(r) => wev::CurrentRevisionOption::CurrentRevision(r),
            None => wev::CurrentRevisionOption::CurrentNoStream(Empty {}),
        }),
        expected_revision_option: Some(match expected {
            Expected::Exact(r) => wev::ExpectedRevisionOption::ExpectedRevision(r),
            Expected::Any => wev::ExpectedRevisionOption::ExpectedAny(Empty {}),
            Expected::StreamExists => wev::ExpectedRevisionOption::ExpectedStreamExists(Empty {}),
            Expected::NoStream => wev::ExpectedRevisionOption::ExpectedNoStream(Empty {}),
        }),
    }
}

/// The status EventStoreDB answers for a proposed event without `type` or `content-type`.
fn missing_metadata(key: &str) -> Status {
    let mut status =
        Status::invalid_argument(format!("Required Metadata Property '{key}' is missing"));
    status.metadata_mut().insert(
        "exception",
        MetadataValue::from_static("missing-required-metadata-property"),
    );
    status
}

/// The status EventStoreDB answers for an append over its `MaxAppendSize`.
fn max_append_size_exceeded(max: usize) -> Status {
    let mut status = Status::invalid_argument(format!("Maximum Append Size of {max} Exceeded."));
    status.metadata_mut().insert(
        "exception",
        MetadataValue::from_static("maximum-append-size-exceeded"),
    );
    if let Ok(value) = max.to_string().parse() {
        status.metadata_mut().insert("maximum-append-size", value);
    }
    status
}

/// Drops the append's connection (fault injection) and waits for that to cancel this handler;
/// the status is only seen if the connection somehow survives.
async fn drop_connection(connection: Option<ConnectionHandle>) -> Status {
    if let Some(connection) = connection {
        connection.drop_now();
        tokio::time::sleep(FAULT_WAIT).await;
    }
    Status::unavailable("connection dropped by fault injection")
}
