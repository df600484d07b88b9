//! How to connect an [`EsdbStore`](crate::EsdbStore): the server, the stream prefix, the local
//! index cache and the deadlines.

use std::path::PathBuf;
use std::time::Duration;

/// The prefix of every EventStoreDB stream the store writes and follows.
pub const DEFAULT_PREFIX: &str = "overens-";

/// How to connect an [`EsdbStore`](crate::EsdbStore). Its `Debug` hides the password of
/// the connection string.
#[derive(Clone)]
pub struct EsdbOptions {
    /// An EventStoreDB/KurrentDB connection string, e.g.
    /// `esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true` or
    /// `esdb://127.0.0.1:2113?tls=false`; credentials, TLS, node preference and
    /// `defaultDeadline` are read from it by the client (`ClientSettings`).
    pub connection_string: String,
    /// The prefix of the EventStoreDB streams: `<prefix>directory`,
    /// `<prefix>agreement-<slug>`. Every instance of one deployment uses the same one.
    pub prefix: String,
    /// The local SQLite file that caches the index of the global log (derived from the
    /// server; deleting it costs one re-read of `$all`).
    pub cache_path: PathBuf,
    pub deadlines: Deadlines,
}

impl std::fmt::Debug for EsdbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsdbOptions")
            .field("connection_string", &crate::redact(&self.connection_string))
            .field("prefix", &self.prefix)
            .field("cache_path", &self.cache_path)
            .field("deadlines", &self.deadlines)
            .finish()
    }
}

impl EsdbOptions {
    /// Options with the default prefix and deadlines.
    pub fn new(connection_string: impl Into<String>, cache_path: impl Into<PathBuf>) -> Self {
        EsdbOptions {
            connection_string: connection_string.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            cache_path: cache_path.into(),
            deadlines: Deadlines::default(),
        }
    }
}

/// How long the store waits, and how often it retries.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// The deadline of one call to the server (an append, a read).
    pub call: Duration,
    /// How long an append waits for the store's own follower to index what it wrote.
    pub index: Duration,
    /// How long `connect` waits for the follower to catch up with `$all` before it returns
    /// (it then goes on catching up in the background).
    pub catch_up: Duration,
    /// How long `connect` waits for the cache file's lock (a store of this process that was
    /// just dropped may still be closing it).
    pub cache_lock: Duration,
    /// How many times a call that failed for a reason that may pass (connection lost,
    /// deadline, server unavailable) is tried again before the error is returned.
    pub retries: u32,
    /// The first pause between attempts; it doubles each time, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            call: Duration::from_secs(10),
            index: Duration::from_secs(30),
            catch_up: Duration::from_secs(60),
            cache_lock: Duration::from_secs(10),
            retries: 6,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl Deadlines {
    /// The pause before attempt `attempt` (1 for the first retry).
    pub(crate) fn pause(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}
