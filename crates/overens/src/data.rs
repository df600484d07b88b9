//! Data directories: the only part of the binary that runs async code. A tokio runtime is
//! built here, for one command, and only when that command reads or writes a store.

use std::path::Path;

use overens_core::{PublicKey, State};
use overens_pipeline::{AnyStore, DataDir, DataDirError, Progress, Replayed, replay_store};
use overens_store::{SqliteOptions, SqliteStore};
use overens_store_esdb::{EsdbOptions, EsdbStore};
use tokio::runtime::Runtime;

use crate::cli::TrustArgs;
use crate::error::CliError;
use crate::keyfile::registrar_keys;

pub(crate) fn runtime() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// `--registrar` for a data directory: optional, the directory records its own.
pub(crate) fn given_keys(trust: &TrustArgs) -> Result<Vec<PublicKey>, CliError> {
    if trust.registrars.is_empty() {
        Ok(Vec::new())
    } else {
        registrar_keys(&trust.registrars)
    }
}

pub(crate) fn data_error(dir: &Path) -> impl Fn(DataDirError) -> CliError + '_ {
    move |error| CliError::Data {
        dir: dir.to_owned(),
        error: Box::new(error),
    }
}

/// A data directory that already holds a store and its trust anchors. Reading commands
/// never create one: a mistyped path is an error, not a new empty log.
pub(crate) fn existing(dir: &Path) -> Result<DataDir, CliError> {
    let data = DataDir::new(dir);
    let store = data.store_path();
    if !store.is_file() {
        return Err(CliError::NoStore {
            dir: dir.to_owned(),
            store,
        });
    }
    if data.registrars().map_err(data_error(dir))?.is_none() {
        return Err(CliError::NoAnchors {
            dir: dir.to_owned(),
        });
    }
    Ok(data)
}

/// Opens an existing data directory's store and replays it with every check: what each
/// command that reads a store starts with. Nothing is answered from a store that fails.
/// Read-only, the command runs beside a server that holds the directory and answers from
/// the log as committed when it started.
pub(crate) async fn open_verified(
    dir: &Path,
    trust: &TrustArgs,
    access: Access,
    progress: Progress<'_>,
) -> Result<(SqliteStore, Replayed), CliError> {
    let given = given_keys(trust)?;
    let data = existing(dir)?;
    match access {
        Access::ReadOnly => data.open_read_only(&given, progress).await,
        Access::Exclusive => data.open(&given, SqliteOptions::default(), progress).await,
    }
    .map_err(data_error(dir))
}

/// The EventStoreDB/KurrentDB connection string of `--store`, if it names a cluster; `None`
/// (or `sqlite`) is the SQLite file in the data directory.
pub(crate) fn cluster(store: Option<&str>) -> Result<Option<&str>, CliError> {
    match store {
        None | Some("sqlite") => Ok(None),
        Some(url) if url.starts_with("esdb://") || url.starts_with("esdb+discover://") => {
            Ok(Some(url))
        }
        Some(_) => Err(CliError::Usage(
            "--store takes an esdb://… or esdb+discover://… connection string (without it, \
             the log is the SQLite file in --data)",
        )),
    }
}

/// Connects to the cluster with this data directory's index cache (DIR/esdb-index.sqlite),
/// caught up with the cluster's log.
pub(crate) async fn connect_cluster(dir: &Path, url: &str) -> Result<EsdbStore, CliError> {
    tracing::info!(store = %overens_store_esdb::redact(url), "connecting to the cluster");
    EsdbStore::connect(EsdbOptions::new(url, dir.join("esdb-index.sqlite")))
        .await
        .map_err(|e| data_error(dir)(DataDirError::Store(e)))
}

/// How a command opens a data directory's SQLite store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read-only, beside a server that may hold the directory.
    ReadOnly,
    /// With the store's lock: no server may run meanwhile (and an old file is migrated).
    Exclusive,
}

/// [`open_verified`] for either store: with a cluster, DIR keeps the trust anchors (and
/// the index cache) and must have them.
pub(crate) async fn open_verified_any(
    dir: &Path,
    trust: &TrustArgs,
    store: Option<&str>,
    access: Access,
    progress: Progress<'_>,
) -> Result<(AnyStore, Replayed), CliError> {
    let Some(url) = cluster(store)? else {
        let (store, replayed) = open_verified(dir, trust, access, progress).await?;
        return Ok((store.into(), replayed));
    };
    let given = given_keys(trust)?;
    let data = DataDir::new(dir);
    if data.registrars().map_err(data_error(dir))?.is_none() {
        return Err(CliError::NoAnchors {
            dir: dir.to_owned(),
        });
    }
    let registrars = data.trust(&given).map_err(data_error(dir))?;
    let store = connect_cluster(dir, url).await?;
    let replayed = replay_store(&store, State::new(registrars), progress)
        .await
        .map_err(|e| data_error(dir)(DataDirError::Replay(e)))?;
    Ok((store.into(), replayed))
}
