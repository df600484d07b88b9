//! What the adapter's tests share: stores on an in-process test server, each with its own
//! stream prefix and cache file.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use overens_esdb_testserver::TestServer;
use overens_store::conformance::StoreFactory;
use overens_store_esdb::{Deadlines, EsdbOptions, EsdbStore};
use tempfile::TempDir;
use tokio::sync::OnceCell;

/// The MaxAppendSize the tests' servers run with.
pub const LARGE_APPENDS: usize = 16 << 20;

/// Deadlines short enough that a test of a lost server ends quickly.
pub fn test_deadlines() -> Deadlines {
    Deadlines {
        call: Duration::from_secs(5),
        index: Duration::from_secs(20),
        catch_up: Duration::from_secs(20),
        cache_lock: Duration::from_secs(10),
        retries: 8,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
    }
}

/// Options for a store on `connection_string` with `prefix`, its cache in `dir`.
pub fn options(connection_string: &str, prefix: &str, cache: PathBuf) -> EsdbOptions {
    EsdbOptions {
        connection_string: connection_string.to_owned(),
        prefix: prefix.to_owned(),
        cache_path: cache,
        deadlines: test_deadlines(),
    }
}

pub async fn connect(options: EsdbOptions) -> EsdbStore {
    EsdbStore::connect(options)
        .await
        .unwrap_or_else(|e| panic!("the store connects: {e}"))
}

/// Where the factory's stores live: a test server it starts (or a real one).
pub enum Target {
    TestServer(OnceCell<TestServer>),
    Url(String),
}

/// Stores for the conformance suite: each fresh store gets its own prefix and cache file on
/// one server; a reopen connects again with the same options.
pub struct Esdb {
    target: Target,
    dir: TempDir,
    made: AtomicUsize,
    /// Prefixes of this factory, unique between runs against a long-lived real server.
    run: String,
}

impl Esdb {
    /// Stores on a test server of their own, started on first use.
    pub fn test_server() -> Self {
        Esdb::with(Target::TestServer(OnceCell::new()))
    }

    /// Stores on the server at `url`.
    pub fn url(url: String) -> Self {
        Esdb::with(Target::Url(url))
    }

    fn with(target: Target) -> Self {
        Esdb {
            target,
            dir: tempfile::tempdir().expect("a temporary directory"),
            made: AtomicUsize::new(0),
            run: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        }
    }

    pub async fn connection_string(&self) -> String {
        match &self.target {
            Target::TestServer(cell) => cell
                .get_or_init(|| async {
                    let server = TestServer::start().await.expect("the test server starts");
                    // A server run with MaxAppendSize = 16 MiB, as docs ask (the default 1 MiB
                    // refuses the suite's 1 MiB envelopes).
                    server.database().set_max_append_size(LARGE_APPENDS);
                    server
                })
                .await
                .connection_string(),
            Target::Url(url) => url.clone(),
        }
    }
}

impl StoreFactory for Esdb {
    type Store = EsdbStore;

    async fn fresh(&self) -> EsdbStore {
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("t{}-{n}-", self.run);
        let cache = self.dir.path().join(format!("cache-{n}.sqlite"));
        connect(options(&self.connection_string().await, &prefix, cache)).await
    }

    async fn reopen(&self, store: EsdbStore) -> EsdbStore {
        let options = store.options().clone();
        drop(store);
        connect(options).await
    }
}
