//! What every handler shares: the pipeline (and through it the store and the snapshots),
//! the limits, and the optional read token.

use std::sync::Arc;
use std::time::Duration;

use overens_core::Digest32;
use overens_pipeline::{AnyStore, KeyChain, Pipeline, Snapshot};
use subtle::ConstantTimeEq as _;

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

struct Inner {
    pipeline: Pipeline<AnyStore>,
    limits: Limits,
    /// The SHA-256 of the read token: comparing digests of equal length in constant time
    /// hides the token's length as well as its bytes.
    read_token: Option<Digest32>,
    /// The log's key chain when its key was rotated (`with_key_chain`).
    key_chain: std::sync::OnceLock<KeyChain>,
}

impl std::fmt::Debug for Inner {
    // The read token is a secret: a debug print says only whether there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pipeline", &self.pipeline)
            .field("limits", &self.limits)
            .field("read_token", &self.read_token.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(pipeline: Pipeline<AnyStore>, limits: Limits, read_token: Option<String>) -> Self {
        AppState {
            inner: Arc::new(Inner {
                pipeline,
                limits,
                read_token: read_token.map(|t| Digest32::of(t.as_bytes())),
                key_chain: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The chain of the log's keys, from its first key to the pipeline's: served at
    /// `/v1/log/keys` and put in bundles. The first chain given holds.
    pub fn with_key_chain(self, chain: KeyChain) -> Self {
        let _ = self.inner.key_chain.set(chain);
        self
    }

    /// The log's key chain, if one was given.
    pub fn key_chain(&self) -> Option<&KeyChain> {
        self.inner.key_chain.get()
    }

    pub fn pipeline(&self) -> &Pipeline<AnyStore> {
        &self.inner.pipeline
    }

    /// The projections as of the latest commit: reads never wait behind appends.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.pipeline.snapshot()
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Whether reads need a token (`--read-token`).
    pub fn needs_read_token(&self) -> bool {
        self.inner.read_token.is_some()
    }

    /// Whether `given` may read: always without a read token; with one, when `given` is it
    /// (compared in constant time, whatever its length).
    pub fn may_read(&self, given: Option<&[u8]>) -> bool {
        match &self.inner.read_token {
            None => true,
            Some(expected) => {
                given.is_some_and(|token| bool::from(Digest32::of(token).0.ct_eq(&expected.0)))
            }
        }
    }
}
