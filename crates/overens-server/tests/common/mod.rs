//! What the router tests share: a data directory holding the example log, replayed, behind
//! a signed pipeline and the app state, as `overens serve` builds them.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use overens_core::{PublicKey, SecretKey, State};
use overens_pipeline::{AnyStore, DataDir, LogSigner, Pipeline, PipelineOptions, import};
use overens_server::{AppState, Limits};
use overens_store::SqliteOptions;

/// The log key these tests sign checkpoints with.
pub(crate) fn log_signer() -> LogSigner {
    LogSigner::new("overens.test/routes", SecretKey::from_seed(&[42; 32])).unwrap()
}

pub(crate) fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/examples")
}

/// The example server.
pub(crate) struct ExampleApp {
    /// Holds the data directory for as long as the app runs.
    pub(crate) dir: tempfile::TempDir,
    pub(crate) app: AppState,
    /// The replayed example log: the oracle answers are compared with.
    pub(crate) state: State,
    pub(crate) store: Arc<AnyStore>,
}

/// The example log imported into a new data directory, replayed, and served by a pipeline
/// signing with [`log_signer`] (no clock-skew check: the examples are dated in the past),
/// reads guarded by `token` if given.
pub(crate) async fn example_app(token: Option<&str>) -> ExampleApp {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let registrar: PublicKey = std::fs::read_to_string(examples().join("keys/registrar.pub"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let trust = data.trust(&[registrar]).unwrap();
    let log = std::fs::read_to_string(examples().join("log.jsonl")).unwrap();
    {
        let store = data.open_store(SqliteOptions::default()).unwrap();
        import(&store, State::new(trust), &[("log.jsonl".into(), log)])
            .await
            .unwrap();
    }
    let (store, replayed) = data
        .open(&[], SqliteOptions::default(), &mut |_, _| {})
        .await
        .unwrap();
    let store = Arc::new(AnyStore::from(store));
    let state = replayed.state.clone();
    let pipeline = Pipeline::start_signed(
        store.clone(),
        replayed,
        log_signer(),
        PipelineOptions {
            max_skew: None,
            ..PipelineOptions::default()
        },
    )
    .unwrap();
    let app = AppState::new(pipeline, Limits::default(), token.map(str::to_owned));
    ExampleApp {
        dir,
        app,
        state,
        store,
    }
}
