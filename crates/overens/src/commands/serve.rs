//! `overens serve`: replay and verify a data directory, then serve the HTTP API until SIGINT
//! or SIGTERM. What it says on stdout is for people and scripts alike: the log's size, the
//! log's verifier key (`log key: <origin>+<key id>+<key>`), then `listening on http://ADDR`
//! (flushed), which tests wait for; logs go to stderr.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use overens_core::State;
use overens_pipeline::{
    AnyStore, AppendLimits, DataDir, LogSigner, Pipeline, PipelineOptions, Replayed, replay_store,
};
use overens_server::{AppState, Limits, api, serve, shutdown_signal};
use overens_store::sqlite::system_clock;
use overens_store::{SqliteOptions, SqliteStore};
use rand_core::{OsRng, RngCore as _};

use crate::cli::{ServeArgs, TrustArgs};
use crate::data::{self, data_error, given_keys};
use crate::demo;
use crate::error::CliError;
use crate::logging;
use crate::progress::ReplayProgress;
use crate::render;

pub(crate) fn run(args: &ServeArgs) -> Result<String, CliError> {
    if args.demo && !args.trust.registrars.is_empty() {
        return Err(CliError::Usage(
            "--demo trusts only the examples' test registrar: drop --registrar (and unset \
             OVERENS_REGISTRAR)",
        ));
    }
    if args.read_token.as_deref().is_some_and(str::is_empty) {
        return Err(CliError::Usage("--read-token is empty"));
    }
    logging::init();
    let runtime = data::runtime()?;
    let demo = if args.demo {
        Some(demo::prepare(args.data.as_deref(), &runtime)?)
    } else {
        None
    };
    let dir = match (&demo, &args.data) {
        (Some(demo), _) => demo.path(),
        (None, Some(dir)) => dir.as_path(),
        (None, None) => return Err(CliError::Usage("--data DIR or --demo is required")),
    };
    if let Some(demo) = &demo {
        say(&demo.banner);
    }
    let result = runtime.block_on(serve_dir(dir, args, demo.is_some()));
    // The sequencer task holds the store: ending the runtime closes it (its writer thread
    // is joined and the lock released) before a temporary demo directory is deleted.
    runtime.shutdown_timeout(Duration::from_secs(10));
    if let Some(demo) = demo
        && demo.is_temporary()
    {
        tracing::info!(dir = %demo.path().display(), "deleting the demo data directory");
    }
    result.map(|()| String::new())
}

async fn serve_dir(dir: &Path, args: &ServeArgs, demo: bool) -> Result<(), CliError> {
    let origin = args
        .origin
        .clone()
        .or_else(|| demo.then(|| "overens/demo".to_owned()));
    // The log's key is checked before a long replay when the directory holds a store (a
    // mistyped --origin fails at once); a new directory gets its key once it has a store.
    if DataDir::new(dir).store_path().is_file() {
        log_signer(dir, origin.as_deref())?;
    }
    let (store, replayed) = match data::cluster(args.store.url())? {
        Some(url) => open_cluster(dir, &args.trust, args.init, url).await?,
        None => {
            let (store, replayed) = open(dir, &args.trust, args.init).await?;
            (AnyStore::from(store), replayed)
        }
    };
    say(&render::replay_summary(&render::ReplaySummary::of(
        &replayed,
    )));
    // Read (again) now that the store and its lock are held: a key rotated between the
    // early check and the open must not be missed.
    let signer = log_signer(dir, origin.as_deref())?;
    let key_chain = DataDir::new(dir)
        .log_key_chain(signer.verifier_key())
        .map_err(data_error(dir))?;
    say(&format!("log key: {}\n", signer.verifier_key()));

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| CliError::Listen {
            addr: args.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| CliError::Listen {
        addr: args.listen.clone(),
        source,
    })?;

    let options = PipelineOptions {
        clock: Arc::new(system_clock),
        max_skew: Some(chrono::Duration::seconds(i64::from(args.max_skew_seconds))),
        limits: AppendLimits {
            max_string_bytes: args.max_string_bytes,
            max_parties: args.max_parties,
            max_sections: args.max_sections,
            max_forums: args.max_forums,
            max_representatives: args.max_representatives,
        },
        ..PipelineOptions::default()
    };
    let log_len = replayed.state.len();
    let log_key = signer.verifier_key().to_string();
    let shared = store.is_shared();
    let store = Arc::new(store);
    let started = if shared {
        // Several servers may write this log: follow it rather than own it.
        Pipeline::start_shared(store, replayed, Some(signer), options)
    } else {
        Pipeline::start_signed(store, replayed, signer, options)
    };
    let pipeline = started.map_err(|e| CliError::Data {
        dir: dir.to_owned(),
        error: Box::new(overens_pipeline::DataDirError::LogKey(e.to_string())),
    })?;
    let limits = Limits {
        max_body: args.max_body,
        max_batch: args.max_batch,
        request_timeout: Duration::from_secs(args.request_timeout_seconds.max(1)),
        max_json_depth: args.max_json_depth,
        max_concurrent: args.max_concurrent,
    };
    let (router, _openapi) =
        api(AppState::new(pipeline, limits, args.read_token.clone()).with_key_chain(key_chain));

    // Installed before the server says it listens, so an early SIGTERM stops it cleanly.
    let shutdown = shutdown_signal();
    let mut ready = format!("listening on http://{addr}\n");
    if demo {
        ready.push_str(&demo::urls(&format!("http://{}", reachable(addr))));
    }
    ready.push_str("stop with Ctrl-C (SIGINT) or SIGTERM\n");
    say(&ready);
    tracing::info!(
        %addr,
        data = %dir.display(),
        log_len,
        %log_key,
        max_skew_seconds = args.max_skew_seconds,
        max_body = args.max_body,
        read_token = args.read_token.is_some(),
        "serving"
    );
    serve(listener, router, async {
        shutdown.await;
        tracing::info!("shutting down: answering the requests in flight");
    })
    .await
    .map_err(CliError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// Opens the data directory and replays its store with every check (a bar on a terminal).
/// A directory without a store is served only with --init: a mistyped path must not serve a
/// new, empty log.
async fn open(
    dir: &Path,
    trust: &TrustArgs,
    init: bool,
) -> Result<(SqliteStore, Replayed), CliError> {
    let given = given_keys(trust)?;
    let data = if init && !DataDir::new(dir).store_path().exists() {
        let data = DataDir::new(dir);
        // Records the keys on first use; with none given, says that they are needed.
        data.trust(&given).map_err(data_error(dir))?;
        tracing::info!(dir = %dir.display(), "starting a new, empty log");
        data
    } else {
        data::existing(dir)?
    };
    let bar = ReplayProgress::on_terminal();
    let mut progress = |done: u64, total: u64| bar.update(done, total);
    let opened = data
        .open(&given, SqliteOptions::default(), &mut progress)
        .await
        .map_err(data_error(dir));
    bar.finish();
    opened
}

/// Connects to the cluster, catches up with its log into this server's index cache
/// (DIR/esdb-index.sqlite), and replays the whole log with every check, as for SQLite.
/// DIR keeps the trust anchors and the log key; it must exist unless --init.
async fn open_cluster(
    dir: &Path,
    trust: &TrustArgs,
    init: bool,
    url: &str,
) -> Result<(AnyStore, Replayed), CliError> {
    let given = given_keys(trust)?;
    let data = DataDir::new(dir);
    if !dir.is_dir() {
        if !init {
            return Err(CliError::Usage(
                "--data DIR does not exist: create it with --init (it keeps the trust \
                 anchors, the log key and the index cache)",
            ));
        }
        data.create().map_err(data_error(dir))?;
    }
    let registrars = data.trust(&given).map_err(data_error(dir))?;
    let store = data::connect_cluster(dir, url).await?;
    let bar = ReplayProgress::on_terminal();
    let mut progress = |done: u64, total: u64| bar.update(done, total);
    let replayed = replay_store(&store, State::new(registrars), &mut progress)
        .await
        .map_err(|e| data_error(dir)(overens_pipeline::DataDirError::Replay(e)));
    bar.finish();
    Ok((AnyStore::from(store), replayed?))
}

/// The log's own key from the data directory, made on first start from the operating
/// system's randomness (the binary is the edge that reads it).
fn log_signer(dir: &Path, origin: Option<&str>) -> Result<LogSigner, CliError> {
    DataDir::new(dir)
        .log_signer(origin, || {
            let mut seed = [0u8; 32];
            OsRng
                .try_fill_bytes(&mut seed)
                .map_err(|e| format!("cannot gather randomness from the operating system: {e}"))?;
            Ok(seed)
        })
        .map_err(data_error(dir))
}

/// An address a browser can reach: `0.0.0.0` and `::` listen everywhere, including on the
/// loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// Stdout, flushed at once: a script (or a test) waits for these lines while the server
/// runs. A server does not stop because nobody reads its stdout any more (`| head -2`).
fn say(text: &str) {
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        tracing::debug!(%error, "cannot write to stdout");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_shown_as_loopback() {
        let any: SocketAddr = "0.0.0.0:80".parse().expect("addr");
        assert_eq!(reachable(any).to_string(), "127.0.0.1:80");
        let v6: SocketAddr = "[::]:80".parse().expect("addr");
        assert_eq!(reachable(v6).to_string(), "[::1]:80");
        let one: SocketAddr = "10.1.2.3:80".parse().expect("addr");
        assert_eq!(reachable(one), one);
    }
}
