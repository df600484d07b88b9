//! The write route's request bodies, through the real router (`tower::ServiceExt::oneshot`)
//! over a real pipeline and SQLite store in a temporary directory, loaded with the example
//! log and its registrar as `overens serve --demo` is.

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{Method, Request, header};
use overens_core::{Digest32, Envelope, State, StreamId};
use overens_pipeline::{DataDir, Pipeline, PipelineOptions, import};
use overens_server::{AppState, Limits, PROBLEM_TYPES};
use overens_store::SqliteOptions;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::Outcome;
use crate::examples::{self, LOG, log_signer, registrar};

/// The routes a body is posted to (the selector's bits 3–5 pick one).
const ROUTES: [&str; 8] = [
    "/v1/streams/directory/events",
    "/v1/streams/agreement/norrkoping-barn-och-unga/events",
    "/v1/streams/agreement/norrtalje-bus/events",
    "/v1/streams/agreement/ny-overenskommelse/events",
    "/v1/streams/agreement/Not_A_Slug/events",
    "/v1/streams/agreement/%C3%B6vers%C3%A4ttning/events",
    "/v1/streams/agreement/a%2Fb/events",
    "/v1/streams/directory/events?seq=1",
];

/// The content types sent (the selector's bits 0–2 pick one; `None` sends no header).
const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("APPLICATION/JSON"),
    Some("text/plain"),
    None,
    Some("application/problem+json"),
    Some("application/jsonx"),
    Some("multipart/form-data; boundary=x"),
];

/// The statuses the write routes document for a refusal (docs/api.md, the OpenAPI
/// document). 503 is documented for a failed store, which a fuzzer must never cause.
const REFUSALS: [u16; 8] = [400, 401, 403, 404, 409, 413, 415, 422];

/// A server as the demo runs it, and a runtime to drive it.
pub struct WriteFixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    app: AppState,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for WriteFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteFixture")
            .field("dir", &self._dir.path())
            .finish_non_exhaustive()
    }
}

impl WriteFixture {
    /// A new data directory with the example log imported, its pipeline and router.
    /// `max_skew` is off, so that re-signed events reach the domain rules whatever their
    /// `at`; the demo's skew check is the same code for every `at`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("overens-fuzz-write-")
            .tempdir()
            .expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (router, app) = runtime.block_on(async {
            let data = DataDir::new(dir.path());
            let trust = data.trust(&[registrar()]).expect("trusts the registrar");
            {
                let store = data.open_store(SqliteOptions::default()).expect("a store");
                import(
                    &store,
                    State::new(trust),
                    &[("log.jsonl".into(), LOG.into())],
                )
                .await
                .expect("the example log imports");
            }
            let (store, replayed) = data
                .open(&[], SqliteOptions::default(), &mut |_, _| {})
                .await
                .expect("the store replays");
            let pipeline = Pipeline::start_signed(
                Arc::new(store.into()),
                replayed,
                log_signer(),
                PipelineOptions {
                    max_skew: None,
                    ..PipelineOptions::default()
                },
            )
            .expect("the pipeline starts");
            let app = AppState::new(pipeline, Limits::default(), None);
            let (router, _) = overens_server::api(app.clone());
            (router, app)
        });
        WriteFixture {
            runtime,
            router,
            app,
            _dir: dir,
        }
    }
}

impl Default for WriteFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The fixture of one fuzzing process (its temporary directory outlives the process:
/// fuzz/run-all.sh points TMPDIR somewhere it cleans).
static FIXTURE: LazyLock<WriteFixture> = LazyLock::new(WriteFixture::new);

/// [`check_write_with`] on the process's one fixture.
pub fn check_write(data: &[u8]) -> Outcome {
    check_write_with(&FIXTURE, data)
}

/// What the log looks like from outside: its length, checkpoint and every stream head the
/// input could touch.
fn log_view(app: &AppState) -> (u64, Option<u64>, Digest32) {
    let snapshot = app.snapshot();
    (
        snapshot.len,
        snapshot.checkpoint.map(|c| c.size),
        snapshot.state.head(&StreamId::Directory).prev,
    )
}

/// Re-signs every envelope of the body with example key `key`, and when `fix_head`, gives
/// each the `seq` and `prev` its stream's head asks for (chained within the batch), so the
/// fuzzer's events reach the domain's rules instead of stopping at the signature.
fn resign(body: &[u8], key: usize, fix_head: bool, app: &AppState) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let key = examples::key(key);
    let state = app.snapshot().state;
    let mut heads: Vec<(StreamId, u64, Digest32)> = Vec::new();
    let mut sign = |item: Value| -> Value {
        let Ok(envelope) = Envelope::from_value(item.clone()) else {
            return item;
        };
        let mut unsigned = envelope.unsigned();
        unsigned.signer = key.public();
        if fix_head {
            let (seq, prev) = match heads.iter().find(|(s, ..)| *s == unsigned.stream) {
                Some((_, seq, prev)) => (*seq, *prev),
                None => {
                    let head = state.head(&unsigned.stream);
                    (head.next_seq, head.prev)
                }
            };
            unsigned.seq = seq;
            unsigned.prev = prev;
        }
        let signed = unsigned.sign(&key);
        let next = (signed.seq.saturating_add(1), signed.hash());
        match heads.iter_mut().find(|(s, ..)| *s == signed.stream) {
            Some(head) => (head.1, head.2) = next,
            None => heads.push((signed.stream.clone(), next.0, next.1)),
        }
        serde_json::to_value(&signed).unwrap_or(Value::Null)
    };
    let signed = match value {
        Value::Array(items) => Value::Array(items.into_iter().map(&mut sign).collect()),
        other => sign(other),
    };
    serde_json::to_vec(&signed).ok()
}

/// Properties of `POST …/events`, for any body, content type and route (the input's first
/// byte picks content type, route, and whether the envelopes are re-signed with an example
/// key, its second byte which key):
///
/// - never a 5xx (nor a timeout), never an undocumented status;
/// - a refusal is `application/problem+json` with a documented `type`, its status and a
///   detail, and the log (length, checkpoint, heads) is unchanged;
/// - 200 (a repeat) changes nothing; 201 grows the log by exactly the events it lists, at
///   the indexes it gives, under a checkpoint that includes them.
pub fn check_write_with(fixture: &WriteFixture, data: &[u8]) -> Outcome {
    let Some((&selector, rest)) = data.split_first() else {
        return Outcome::Refused;
    };
    let (key, body) = rest
        .split_first()
        .map_or((0, rest), |(k, b)| (usize::from(*k), b));
    let content_type = CONTENT_TYPES[usize::from(selector & 7)];
    let route = ROUTES[usize::from((selector >> 3) & 7)];
    let body = if selector & 0x40 != 0 {
        resign(body, key, selector & 0x80 != 0, &fixture.app).unwrap_or_else(|| body.to_vec())
    } else {
        body.to_vec()
    };

    let before = log_view(&fixture.app);
    let mut request = Request::builder().method(Method::POST).uri(route);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Body::from(body)).expect("a request");
    let (status, content_type, answer) = fixture.runtime.block_on(async {
        let response = fixture
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is read");
        (status, content_type, body)
    });
    let after = log_view(&fixture.app);
    let text = String::from_utf8_lossy(&answer);
    assert!(status < 500, "{status} answered: {text}");
    let json: Value = serde_json::from_slice(&answer)
        .unwrap_or_else(|e| panic!("{status} with a body that is not JSON ({e}): {text}"));

    match status {
        200 | 201 => {
            assert_eq!(content_type, "application/json", "{status}: {text}");
            let indexes: Vec<u64> = serde_json::from_value(json["indexes"].clone())
                .unwrap_or_else(|e| panic!("no indexes ({e}): {text}"));
            let log_len = json["log_len"].as_u64().expect("log_len");
            assert_eq!(json["repeated"], Value::Bool(status == 200), "{text}");
            if status == 200 {
                assert_eq!(after.0, before.0, "a repeat changed the log");
                assert!(log_len <= after.0);
            } else {
                let added = indexes.len() as u64;
                assert!(added > 0, "201 with no event: {text}");
                assert_eq!(after.0, before.0 + added, "201 but the log grew otherwise");
                assert_eq!(indexes, (before.0..after.0).collect::<Vec<_>>(), "{text}");
                assert_eq!(log_len, after.0, "{text}");
                let checkpoint = json["checkpoint_size"].as_u64().expect("checkpoint_size");
                assert!(
                    checkpoint >= log_len,
                    "a checkpoint without the events: {text}"
                );
            }
            Outcome::Accepted
        }
        _ => {
            assert!(
                REFUSALS.contains(&status),
                "undocumented status {status}: {text}"
            );
            assert_eq!(content_type, "application/problem+json", "{status}: {text}");
            let kind = json["type"]
                .as_str()
                .and_then(|t| t.strip_prefix("/problems/"))
                .unwrap_or_else(|| panic!("no problem type: {text}"));
            let documented = PROBLEM_TYPES
                .iter()
                .find(|(name, ..)| *name == kind)
                .unwrap_or_else(|| panic!("undocumented problem type {kind}: {text}"));
            assert_eq!(documented.1, status, "{kind} with another status: {text}");
            assert_eq!(json["status"], status, "{text}");
            assert_eq!(json["title"], documented.2, "{text}");
            assert!(
                json["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "no detail: {text}"
            );
            assert_eq!(after, before, "a refused append changed the log: {text}");
            Outcome::Refused
        }
    }
}
