//! The data directory: where a node keeps its store and its trust anchors.
//!
//! ```text
//! DIR/overens.sqlite       the event store (with -wal and -shm beside it while open)
//! DIR/overens.lock         held by the one process that has the store open
//! DIR/registrars.txt       the registrar public keys this log trusts, one per line
//! ```

use std::path::{Path, PathBuf};

use overens_core::{PublicKey, State};
use overens_store::{SqliteOptions, SqliteStore, StoreError};

use crate::replay::{Progress, ReplayError, Replayed, replay_store};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: String },
    #[error("{0}")]
    Registrars(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    pub fn new(path: impl AsRef<Path>) -> Self {
        DataDir {
            path: path.as_ref().to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn store_path(&self) -> PathBuf {
        self.path.join("overens.sqlite")
    }

    fn registrars_path(&self) -> PathBuf {
        self.path.join("registrars.txt")
    }

    fn io(&self, path: &Path, e: std::io::Error) -> DataDirError {
        DataDirError::Io {
            path: path.to_path_buf(),
            error: e.to_string(),
        }
    }

    /// The registrar keys recorded in the directory, if any.
    pub fn registrars(&self) -> Result<Option<Vec<PublicKey>>, DataDirError> {
        let path = self.registrars_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&path, e)),
        };
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = line.parse().map_err(|e| {
                DataDirError::Registrars(format!("{} line {}: {e}", path.display(), n + 1))
            })?;
            keys.push(key);
        }
        Ok(Some(keys))
    }

    /// The trust anchors to use: those recorded in the directory, or `given` (recorded on
    /// first use). Giving keys that differ from the recorded ones is refused: a log's trust
    /// anchors do not change silently.
    pub fn trust(&self, given: &[PublicKey]) -> Result<Vec<PublicKey>, DataDirError> {
        match (self.registrars()?, given.is_empty()) {
            (Some(recorded), true) => Ok(recorded),
            (Some(recorded), false) => {
                let mut a = recorded.clone();
                let mut b = given.to_vec();
                a.sort();
                b.sort();
                a.dedup();
                b.dedup();
                if a == b {
                    Ok(recorded)
                } else {
                    Err(DataDirError::Registrars(format!(
                        "{} trusts other registrar keys than the ones given",
                        self.registrars_path().display()
                    )))
                }
            }
            (None, true) => Err(DataDirError::Registrars(format!(
                "{} records no registrar keys: give them with --registrar (they are the trust anchors)",
                self.path.display()
            ))),
            (None, false) => {
                self.create()?;
                let mut text =
                    String::from("# Registrar public keys: the trust anchors of this log.\n");
                for key in given {
                    text.push_str(&format!("{key}\n"));
                }
                let path = self.registrars_path();
                std::fs::write(&path, text).map_err(|e| self.io(&path, e))?;
                Ok(given.to_vec())
            }
        }
    }

    pub fn create(&self) -> Result<(), DataDirError> {
        std::fs::create_dir_all(&self.path).map_err(|e| self.io(&self.path, e))
    }

    /// Opens the store (creating the directory and file if needed).
    pub fn open_store(&self, options: SqliteOptions) -> Result<SqliteStore, DataDirError> {
        self.create()?;
        Ok(SqliteStore::open(self.store_path(), options)?)
    }

    /// Opens the store and replays it with full verification: what start-up does.
    pub async fn open(
        &self,
        registrars: &[PublicKey],
        options: SqliteOptions,
        progress: Progress<'_>,
    ) -> Result<(SqliteStore, Replayed), DataDirError> {
        let trust = self.trust(registrars)?;
        let store = self.open_store(options)?;
        let replayed = replay_store(&store, State::new(trust), progress).await?;
        Ok((store, replayed))
    }
}
