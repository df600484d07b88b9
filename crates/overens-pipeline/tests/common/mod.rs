//! Shared fixture: the example log and its test keys, data directories (real SQLite files in
//! temp directories) with the examples imported, a fixed clock, signing helpers, and the
//! projections of a state as JSON (what "the same state" means in these tests).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use overens_core::domain::StreamHead;
use overens_core::projection::{agreement_view, in_force, signature_ledger, versions};
use overens_core::{
    AgreementId, Envelope, Event, EventId, PartyId, PublicKey, SecretKey, State, StreamId,
    Timestamp, UnsignedEnvelope,
};
use overens_pipeline::{
    DataDir, DataDirError, Pipeline, PipelineOptions, Replayed, export, import,
};
use overens_store::sqlite::Clock;
use overens_store::{EventStore, SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use tempfile::TempDir;

// --- the example log -------------------------------------------------------------------------

pub(crate) const EXAMPLE_LEN: u64 = 97;

pub(crate) fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/examples")
}

pub(crate) fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub(crate) fn log_text() -> String {
    read(&examples_dir().join("log.jsonl"))
}

/// The example log's lines, without their newlines.
pub(crate) fn log_lines() -> Vec<String> {
    log_text().lines().map(str::to_owned).collect()
}

/// Lines joined back into a log file (each ending in a newline).
pub(crate) fn file_of(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The examples' trust anchor.
pub(crate) fn registrar() -> PublicKey {
    read(&examples_dir().join("keys/registrar.pub"))
        .trim()
        .parse()
        .expect("registrar.pub holds a public key")
}

/// An example test key by name (`registrar`, `kson-1`, `region-ostergotland-1`, …).
pub(crate) fn key(name: &str) -> SecretKey {
    let text = read(&examples_dir().join(format!("keys/{name}.key")));
    SecretKey::from_text(&text).unwrap_or_else(|e| panic!("{name}.key: {e}"))
}

/// The signing key of a party's one example signatory.
pub(crate) fn party_key(party: &str) -> SecretKey {
    key(&format!("{party}-1"))
}

pub(crate) fn empty_state() -> State {
    State::new([registrar()])
}

pub(crate) fn pid(s: &str) -> PartyId {
    s.parse().expect("party slug")
}

pub(crate) fn aid(s: &str) -> AgreementId {
    s.parse().expect("agreement slug")
}

pub(crate) const BARN_OCH_UNGA: &str = "norrkoping-barn-och-unga";

pub(crate) fn stream(agreement: &str) -> StreamId {
    StreamId::Agreement(aid(agreement))
}

// --- time ------------------------------------------------------------------------------------

/// The test clock: after the last example record (2026-11-13), fixed.
pub(crate) const NOW: &str = "2026-12-01T12:00:00Z";

pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().expect("canonical timestamp")
}

pub(crate) fn now() -> Timestamp {
    ts(NOW)
}

pub(crate) fn minutes_from_now(minutes: i64) -> Timestamp {
    Timestamp::from_datetime(now().datetime() + chrono::Duration::minutes(minutes))
}

pub(crate) fn fixed_clock() -> Clock {
    Arc::new(now)
}

pub(crate) fn store_options() -> SqliteOptions {
    SqliteOptions {
        clock: fixed_clock(),
        ..SqliteOptions::default()
    }
}

pub(crate) fn pipeline_options(max_skew: Option<chrono::Duration>) -> PipelineOptions {
    PipelineOptions {
        clock: fixed_clock(),
        max_skew,
        ..PipelineOptions::default()
    }
}

// --- signing ---------------------------------------------------------------------------------

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh UUID v7 (unique within the test process).
pub(crate) fn new_id() -> EventId {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut random = [0x5a; 10];
    random[2..].copy_from_slice(&n.to_be_bytes());
    EventId::v7(now().unix_millis() as u64, random)
}

/// `event` for `stream`, signed by `key` against `head`, at `at`.
pub(crate) fn sign_at(
    key: &SecretKey,
    stream: &StreamId,
    head: StreamHead,
    at: Timestamp,
    event: &Event,
) -> Envelope {
    sign_with_id(new_id(), key, stream, head, at, event)
}

/// `event` signed against `head` at the test clock's time.
pub(crate) fn sign(
    key: &SecretKey,
    stream: &StreamId,
    head: StreamHead,
    event: &Event,
) -> Envelope {
    sign_at(key, stream, head, now(), event)
}

pub(crate) fn sign_with_id(
    id: EventId,
    key: &SecretKey,
    stream: &StreamId,
    head: StreamHead,
    at: Timestamp,
    event: &Event,
) -> Envelope {
    UnsignedEnvelope::new(
        id,
        stream.clone(),
        head.next_seq,
        head.prev,
        at,
        key.public(),
        event,
    )
    .sign(key)
}

/// The head after `envelope`.
pub(crate) fn after(envelope: &Envelope) -> StreamHead {
    StreamHead {
        next_seq: envelope.seq + 1,
        prev: envelope.hash(),
    }
}

/// Events signed by `key` as one chained batch from `head`.
pub(crate) fn sign_batch(
    key: &SecretKey,
    stream: &StreamId,
    mut head: StreamHead,
    events: &[Event],
) -> Vec<Envelope> {
    let mut out = Vec::new();
    for event in events {
        let envelope = sign(key, stream, head, event);
        head = after(&envelope);
        out.push(envelope);
    }
    out
}

// --- data directories ------------------------------------------------------------------------

/// A temp directory holding a data directory.
pub(crate) fn data_dir() -> (TempDir, DataDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = DataDir::new(tmp.path().join("data"));
    (tmp, data)
}

/// Opens the data directory and replays its store, as start-up does.
pub(crate) async fn open(data: &DataDir) -> Result<(SqliteStore, Replayed), DataDirError> {
    data.open(&[registrar()], store_options(), &mut |_, _| {})
        .await
}

pub(crate) async fn open_ok(data: &DataDir) -> (SqliteStore, Replayed) {
    open(data)
        .await
        .expect("the data directory opens and replays")
}

/// A data directory with the example log imported, its store closed again.
pub(crate) async fn imported() -> (TempDir, DataDir) {
    let (tmp, data) = data_dir();
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, 0);
    let (_, summary) = import(&store, empty_state(), &[("log.jsonl".into(), log_text())])
        .await
        .expect("the example log imports");
    assert_eq!(summary.imported, EXAMPLE_LEN);
    close(Arc::new(store)).await;
    (tmp, data)
}

/// The whole store as a log file.
pub(crate) async fn export_bytes<S: EventStore>(store: &S) -> Vec<u8> {
    let mut out = Vec::new();
    export(store, None, &mut out).await.expect("export");
    out
}

/// Waits until every other holder of the store let go of it, then drops it (so its file
/// lock is free for the next open).
pub(crate) async fn close(mut store: Arc<SqliteStore>) {
    for _ in 0..5000 {
        match Arc::try_unwrap(store) {
            Ok(store) => {
                drop(store);
                return;
            }
            Err(shared) => {
                store = shared;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    panic!("the store is still held by someone after 5 s");
}

/// Opens the data directory and starts a pipeline on it.
pub(crate) async fn start(
    data: &DataDir,
    max_skew: Option<chrono::Duration>,
) -> Pipeline<SqliteStore> {
    let (store, replayed) = open_ok(data).await;
    Pipeline::start(
        Arc::new(store),
        replayed.state,
        replayed.ids,
        pipeline_options(max_skew),
    )
}

/// Stops a pipeline and closes its store.
pub(crate) async fn stop(pipeline: Pipeline<SqliteStore>) {
    let store = pipeline.store().clone();
    drop(pipeline);
    close(store).await;
}

// --- projections -----------------------------------------------------------------------------

/// Everything a reader can ask of a state, as JSON: per agreement its view, versions,
/// signature ledger, timeline, version in force now and stream head; the directory; the log
/// length.
pub(crate) fn projection(state: &State) -> Value {
    let directory = state.directory();
    let agreements: Vec<Value> = state
        .agreements()
        .map(|a| {
            json!({
                "id": a.id,
                "head": state.head(&StreamId::Agreement(a.id.clone())),
                "view": agreement_view(directory, a),
                "versions": versions(directory, a),
                "ledger": signature_ledger(directory, a),
                "timeline": a.timeline,
                "in_force_now": in_force(a, now().legal_date(), now()),
            })
        })
        .collect();
    json!({
        "len": state.len(),
        "directory": {
            "head": state.head(&StreamId::Directory),
            "registrars": directory.registrars(),
            "parties": directory.parties().collect::<Vec<_>>(),
            "signatories": directory.signatories().collect::<Vec<_>>(),
        },
        "agreements": agreements,
    })
}
