//! Test harness: an in-process EventStoreDB gRPC server, so that the `eventstore` 4.0.0
//! client can be tested over real gRPC on loopback where no EventStoreDB/KurrentDB runs.
//!
//! Not a database. It keeps events in memory and implements only what the Överens adapter's
//! client calls use, from the `.proto` files the `eventstore` 4.0.0 crate ships (`proto/`,
//! compiled at build time by protox: no `protoc`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use overens_esdb_testserver::TestServer;
//!
//! let server = TestServer::start().await?;
//! let client = eventstore::Client::new(server.connection_string().parse()?)?;
//! let event = eventstore::EventData::binary("Drafted", bytes::Bytes::from_static(b"{}"));
//! client.append_to_stream("overens-directory", &Default::default(), event).await?;
//! assert_eq!(server.database().stream("overens-directory").len(), 1);
//!
//! let (db, addr) = (server.database(), server.addr());
//! server.stop().await; // the client now sees a lost connection
//! let server = TestServer::start_with(db, addr).await?; // same data, same address
//! # server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! # What it models
//!
//! - `Streams/Append` (client streaming: options, then proposed events). Expected revision
//!   `Any`, `NoStream`, `StreamExists` and `Exact(r)`; on a mismatch the reply carries the
//!   wrong-expected-version shape (current revision or "no stream", the expected revision as
//!   sent), which the client returns as `Error::WrongExpectedVersion { current, expected }`.
//!   Idempotency as EventStoreDB does it: with `NoStream`/`Exact(r)`, events whose ids repeat
//!   the events written right after the expected revision succeed without being written again
//!   (the reply names the existing events' last revision and position); a partial repeat is a
//!   wrong expected version. With `Any`/`StreamExists` a repeat is recognised by the first
//!   event's id anywhere in the stream (the real server only remembers recent ids, so a very
//!   old repeat would be written again there). `type` and `content-type` metadata are
//!   required; only "is it `application/json`" is kept, as on the real server, so a read gives
//!   back `application/json` or `application/octet-stream`. Appends over the size limit
//!   (default 1 MiB of data + custom metadata + type, [`Database::set_max_append_size`]) are
//!   refused with `InvalidArgument`, nothing written.
//! - `Streams/Read`, reads: one stream forwards or backwards from start, end or a revision
//!   (inclusive), up to a count; a missing stream answers `StreamNotFound` (the client's
//!   `ReadStream::next` returns `Error::ResourceNotFound`). `$all` forwards from a position
//!   (inclusive) or backwards (the events before the position: our reading of the real
//!   server, not checked against one), with filters (below).
//! - `Streams/Read`, catch-up subscriptions to a stream or to `$all`: first the confirmation,
//!   then the history after the start position (exclusive; `Start` means everything), then
//!   `CaughtUp`, then live events as they are appended. The 4.0.0 client surfaces these as
//!   `SubscriptionEvent::Confirmed`, `EventAppeared`, `CaughtUp` (and `Checkpoint`).
//! - Filters on `$all` (subscriptions, and reads though the 4.0.0 client never sends a filter
//!   with `read_all`): on stream name or event type, by prefixes (any of them) or else a
//!   regular expression (Rust's `regex`, fine for `^[^\$].*`-style patterns, not for .NET-only
//!   syntax). A filtered subscription sends a `Checkpoint` after every
//!   `window × checkpointIntervalMultiplier` events considered, matching or not (window 32
//!   unless the filter sets `max`), at the position of the last event considered.
//! - Every event carries stream name, revision, id, `type`, `content-type`, `created` (100-ns
//!   ticks since the Unix epoch, as the real server sends; the 4.0.0 client truncates it to
//!   whole seconds), data, custom metadata, and commit = prepare position. Positions in `$all`
//!   are strictly increasing and not contiguous (like the log-file offsets of a real server);
//!   the first event is at 1024, never 0 (the client reads 0/0 as "start").
//!
//! # What it does not model
//!
//! Clustering, gossip, leader election and `NotLeader` redirects; TLS and authentication (no
//! users, ACLs or `AccessDenied`); scavenging, `$maxAge`/`$maxCount`, stream metadata
//! (`$$stream`), deletes and tombstones (`Delete`/`Tombstone` answer unimplemented);
//! `BatchAppend`; persistent subscriptions; projections, link events and `resolve_links`
//! (there are no links); system events and `$`-streams (a real `$all` starts with some, so
//! adapters must filter); `FellBehind` (a subscriber here reads the log at its own pace and
//! never falls behind); `first_stream_position`/`last_stream_position` messages; deadlines
//! beyond what tonic does; persistence (data lives as long as the [`Database`]).
//! `ServerFeatures/GetSupportedMethods` answers unimplemented, which the client takes as "an
//! old server without optional features" (so `batch_append` returns `UnsupportedFeature`).
//! On a real server events read from a single stream may not carry a usable commit position;
//! here they do. Take `$all` positions from `$all` reads and subscriptions only.
//!
//! # Quirks of the `eventstore` 4.0.0 client (each seen in this crate's tests)
//!
//! - Use `discoveryInterval=0` in the connection string ([`TestServer::connection_string`]
//!   does), or the first connection waits 500 ms.
//! - The client never sets TCP_NODELAY, so Nagle holds each of its HTTP/2 frames after the
//!   first until the server ACKs, and Linux delays ACKs by up to 40 ms: measured here, 47 ms
//!   per append. TCP_NODELAY on the server's side does not help (it is the client's writes
//!   that wait); this server also sets TCP_QUICKACK after every read, which brings an append
//!   to about 1 ms. A real server will not do that: expect tens of milliseconds per call
//!   against one, and batch appends (one call per group of events).
//! - The client builds its rustls config from the process-default crypto provider (installing
//!   one from rustls' crate features, aws-lc-rs, if none is set). Nothing else in the process
//!   should install a different default provider first.
//! - The client resolves its node (and asks `GetSupportedMethods`) on its first call. If the
//!   server is unreachable then, that call fails with `Error::GrpcConnectionError` and the
//!   client's connection task gives up for good: every later call fails with
//!   `Error::ConnectionClosed`, even once the server is back. Such a client must be rebuilt.
//!   Once connected, a lost connection (or a server that is down) surfaces as
//!   `Error::ServerError` on each call, and a later call reconnects to the same address.
//! - `read_stream` on a missing stream succeeds; the first `ReadStream::next` returns
//!   `Error::ResourceNotFound`.
//! - `ReadStreamOptions::position` and `ReadAllOptions::position` also set the direction
//!   (`End`: backwards, `Start`: forwards): call `forwards()`/`backwards()` after them.
//! - `SubscribeToStreamOptions` starts at `End` by default, `SubscribeToAllOptions` at `Start`.
//! - A subscription without `retry_options` ends with the first error. With them it
//!   resubscribes by itself, after the last event it delivered (not after a checkpoint).
//! - `created` is truncated to whole seconds by the client.
//!
//! # Fault injection
//!
//! [`Database::fail_next_appends_after_commit`] (written, then the connection drops: an
//! unknown outcome), [`Database::fail_next_appends_before_commit`] (nothing written, same
//! symptom), [`TestServer::drop_connections`] (every connection drops, the server stays up),
//! [`TestServer::stop`] and [`TestServer::start_with`] (down, then back with the same data on
//! the same address).

mod database;
mod filter;
pub mod proto;
mod server;
mod service;

pub use database::{Database, RecordedEvent};
pub use server::TestServer;
