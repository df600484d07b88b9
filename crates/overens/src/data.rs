//! Data directories: the only part of the binary that runs async code. A tokio runtime is
//! built here, for one command, and only when that command reads or writes a store.

use std::path::Path;

use overens_core::PublicKey;
use overens_pipeline::{DataDir, DataDirError, Progress, Replayed};
use overens_store::{SqliteOptions, SqliteStore};
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
pub(crate) async fn open_verified(
    dir: &Path,
    trust: &TrustArgs,
    progress: Progress<'_>,
) -> Result<(SqliteStore, Replayed), CliError> {
    let given = given_keys(trust)?;
    let data = existing(dir)?;
    data.open(&given, SqliteOptions::default(), progress)
        .await
        .map_err(data_error(dir))
}
