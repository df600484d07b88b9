//! What every handler shares: the pipeline (and through it the store and the snapshots),
//! the limits, and the optional read token.

use std::sync::Arc;
use std::time::Duration;

use overens_pipeline::{Pipeline, Snapshot};
use overens_store::SqliteStore;

/// Bounds on what one request may ask of the server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The most events in one append.
    pub max_batch: usize,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// The deepest nesting of arrays and objects a request body may have.
    pub max_json_depth: usize,
    /// How many requests are served at once; more are answered 429 at once.
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 1 << 20,
            max_batch: 256,
            request_timeout: Duration::from_secs(30),
            // An envelope nests 6 levels at most (payload → forum definition → chair →
            // turns → parties); 32 leaves room and keeps parsers' recursion shallow.
            max_json_depth: 32,
            max_concurrent: 256,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pipeline: Pipeline<SqliteStore>,
    limits: Limits,
    read_token: Option<String>,
}

impl AppState {
    pub fn new(
        pipeline: Pipeline<SqliteStore>,
        limits: Limits,
        read_token: Option<String>,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                pipeline,
                limits,
                read_token,
            }),
        }
    }

    pub fn pipeline(&self) -> &Pipeline<SqliteStore> {
        &self.inner.pipeline
    }

    /// The projections as of the latest commit: reads never wait behind appends.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.pipeline.snapshot()
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn read_token(&self) -> Option<&str> {
        self.inner.read_token.as_deref()
    }
}
