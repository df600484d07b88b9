//! The pages' unit-test fixture: the example log imported into a temporary data directory,
//! served by a signed pipeline, and events appended as the parties' own clients would.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::Request;
use overens_core::{Event, EventId, SecretKey, State, StreamId, Timestamp, UnsignedEnvelope};
use overens_pipeline::{DataDir, LogSigner, Pipeline, PipelineOptions, import};
use overens_store::SqliteOptions;
use tower::ServiceExt as _;

use crate::{AppState, Limits};

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub app: AppState,
    pub router: axum::Router,
}

/// A page as served.
#[derive(Debug)]
pub(crate) struct Page {
    pub status: u16,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub(crate) fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/examples")
}

/// An example test key (`events/examples/keys/<name>.key`).
pub(crate) fn key(name: &str) -> SecretKey {
    let path = examples().join(format!("keys/{name}.key"));
    let text = std::fs::read_to_string(&path).expect("an example key");
    SecretKey::from_text(text.trim()).expect("key text")
}

pub(crate) async fn fixture(token: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::new(dir.path());
    let registrar = key("registrar").public();
    let trust = data.trust(&[registrar]).expect("trust");
    let log = std::fs::read_to_string(examples().join("log.jsonl")).expect("example log");
    {
        let store = data.open_store(SqliteOptions::default()).expect("store");
        import(&store, State::new(trust), &[("log.jsonl".into(), log)])
            .await
            .expect("import");
    }
    let (store, replayed) = data
        .open(&[], SqliteOptions::default(), &mut |_, _| {})
        .await
        .expect("open");
    let signer =
        LogSigner::new("overens.test/pages", SecretKey::from_seed(&[7; 32])).expect("log signer");
    let pipeline = Pipeline::start_signed(
        Arc::new(store.into()),
        replayed,
        signer,
        PipelineOptions {
            max_skew: None,
            ..PipelineOptions::default()
        },
    )
    .expect("pipeline");
    let app = AppState::new(pipeline, Limits::default(), token.map(str::to_owned));
    let (router, _) = crate::api(app.clone());
    Fixture {
        _dir: dir,
        app,
        router,
    }
}

impl Fixture {
    pub(crate) async fn get(&self, uri: &str) -> Page {
        self.get_with(uri, None).await
    }

    pub(crate) async fn get_with(&self, uri: &str, authorization: Option<&str>) -> Page {
        let mut request = Request::get(uri);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Page {
            status,
            content_type,
            headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
        }
    }

    /// `event`, signed by `key` against the stream's head, appended through the pipeline.
    pub(crate) async fn append(&self, stream: &str, key: &SecretKey, event: &Event) {
        let stream: StreamId = stream.parse().expect("stream id");
        let head = self.app.snapshot().state.head(&stream);
        let now = Timestamp::from_datetime(chrono::Utc::now());
        let millis = u64::try_from(now.unix_millis()).expect("after 1970");
        // Unique within the test process: a counter, whatever the stream or millisecond.
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        let id = EventId::v7(millis, random);
        let envelope = UnsignedEnvelope::new(
            id,
            stream,
            head.next_seq,
            head.prev,
            now,
            key.public(),
            event,
        )
        .sign(key);
        self.app
            .pipeline()
            .append(vec![envelope])
            .await
            .expect("appended");
    }
}
