//! The data directory: where a node keeps its store and its trust anchors.
//!
//! ```text
//! DIR/overens.sqlite       the event store (with -wal and -shm beside it while open)
//! DIR/overens.lock         held by the one process that has the store open
//! DIR/registrars.txt       the registrar public keys this log trusts, one per line
//! DIR/log.key              the log's own signing key (checkpoints), owner-only (0600)
//! DIR/log.pub              its verifier key: `<origin>+<key id>+<base64 public key>`
//! ```

use std::path::{Path, PathBuf};

use std::io::Write as _;

use overens_core::{PublicKey, SecretKey, State};
use overens_log::{LogSigner, VerifierKey};
use overens_store::{SqliteOptions, SqliteStore, StoreError};

use crate::replay::{Progress, ReplayError, Replayed, replay_store};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: String },
    #[error("{0}")]
    Registrars(String),
    #[error("{0}")]
    LogKey(String),
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

    /// The log's secret key (base64url seed, mode 0600).
    pub fn log_key_path(&self) -> PathBuf {
        self.path.join("log.key")
    }

    /// The log's verifier key: origin, key ID and public key.
    pub fn log_pub_path(&self) -> PathBuf {
        self.path.join("log.pub")
    }

    /// The log's name when none is given or recorded: `overens/<directory name>`.
    pub fn default_origin(&self) -> String {
        let path = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let name: String = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() || c == '+' {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        if name.is_empty() {
            "overens/log".to_owned()
        } else {
            format!("overens/{name}")
        }
    }

    /// The log's own key, which signs its checkpoints (never a party's key), with the log's
    /// name (the checkpoints' origin and the key name). On first use the key is made from
    /// `new_seed` (the caller's randomness) and written to `DIR/log.key` (mode 0600), and
    /// its verifier key, which records the name, to `DIR/log.pub`. Later the recorded name
    /// holds: a different `origin` is refused, as is a key file others can read, a missing
    /// key beside a recorded one, or a `log.pub` that is not the key's.
    pub fn log_signer(
        &self,
        origin: Option<&str>,
        new_seed: impl FnOnce() -> Result<[u8; 32], String>,
    ) -> Result<LogSigner, DataDirError> {
        let (key_path, pub_path) = (self.log_key_path(), self.log_pub_path());
        let recorded = match std::fs::read_to_string(&pub_path) {
            Ok(text) => Some(text.trim().parse::<VerifierKey>().map_err(|e| {
                DataDirError::LogKey(format!(
                    "{}: not a verifier key (<origin>+<key id>+<base64 key>): {e}",
                    pub_path.display()
                ))
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.io(&pub_path, e)),
        };
        let key = match read_log_key(&key_path)? {
            Some(key) => key,
            None if recorded.is_some() => {
                return Err(DataDirError::LogKey(format!(
                    "{} records the log's key, but {} is missing: restore it from a backup. \
                     A new key would sign checkpoints nobody holding the published key can \
                     check; to start a new key anyway, delete {} too",
                    pub_path.display(),
                    key_path.display(),
                    pub_path.display()
                )));
            }
            None => {
                self.create()?;
                let seed = new_seed()
                    .map_err(|e| DataDirError::LogKey(format!("making the log's key: {e}")))?;
                let key = SecretKey::from_seed(&seed);
                write_secret(&key_path, &format!("{}\n", key.to_text()))
                    .map_err(|e| self.io(&key_path, e))?;
                key
            }
        };
        let name = match (&recorded, origin) {
            (Some(recorded), Some(given)) if recorded.name() != given => {
                return Err(DataDirError::LogKey(format!(
                    "this log is named `{}` ({}), not `{given}`: a log's name is in every \
                     checkpoint and never changes silently (to rename it, delete {} and start \
                     with --origin)",
                    recorded.name(),
                    pub_path.display(),
                    pub_path.display()
                )));
            }
            (Some(recorded), _) => recorded.name().to_owned(),
            (None, Some(given)) => given.to_owned(),
            (None, None) => self.default_origin(),
        };
        let signer = LogSigner::new(&name, key).map_err(|e| {
            DataDirError::LogKey(format!(
                "`{name}` cannot name a log: {e} (a log's name is non-empty, without spaces or \
                 '+', e.g. example.org/agreements)"
            ))
        })?;
        match recorded {
            Some(recorded) if &recorded != signer.verifier_key() => {
                return Err(DataDirError::LogKey(format!(
                    "{} is not the verifier key of {}: one of them was replaced",
                    pub_path.display(),
                    key_path.display()
                )));
            }
            Some(_) => {}
            None => {
                std::fs::write(&pub_path, format!("{}\n", signer.verifier_key()))
                    .map_err(|e| self.io(&pub_path, e))?;
            }
        }
        Ok(signer)
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

/// Reads the log's secret key, if the file exists. A file others can read is refused:
/// whoever reads it can sign checkpoints of this log.
fn read_log_key(path: &Path) -> Result<Option<SecretKey>, DataDirError> {
    let io = |e: std::io::Error| DataDirError::Io {
        path: path.to_path_buf(),
        error: e.to_string(),
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(DataDirError::LogKey(format!(
                "{} is readable by others (mode {mode:04o}): whoever reads it can sign this \
                 log's checkpoints; `chmod 600` it (and consider the key exposed)",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path).map_err(io)?;
    SecretKey::from_text(text.trim()).map(Some).map_err(|e| {
        DataDirError::LogKey(format!(
            "{}: not a secret key (one base64url ed25519 seed of 32 bytes): {e}",
            path.display()
        ))
    })
}

/// Writes a new secret file, owner-only from the start, and syncs it.
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite a key, nor follow a symlink put in its place.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
