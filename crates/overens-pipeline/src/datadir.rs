//! The data directory: where a node keeps its store and its trust anchors.
//!
//! ```text
//! DIR/overens.sqlite       the event store (with -wal and -shm beside it while open)
//! DIR/overens.lock         held by the one process that has the store open
//! DIR/registrars.txt       the registrar public keys this log trusts, one per line
//! DIR/log.key              the log's own signing key (checkpoints), owner-only (0600)
//! DIR/log.pub              its verifier key: `<origin>+<key id>+<base64 public key>`
//! DIR/log-keys/0001.note   the log's key transitions, one signed note a file, numbered
//!                          from 1 without gaps (none until the key is first rotated)
//! DIR/log-key.lock         held while the log's key files are read or rotated
//! ```
//!
//! Rotating the key (see [`DataDir::rotate_log_key`]) writes `log.key.new`, then the
//! transition note (the commit point), then `log.pub` and `log.key`, each by rename. A
//! rotation cut short is finished or undone the next time the key is read: finished when
//! its note was written, undone when not. The retired key is not kept.

use std::path::{Path, PathBuf};

use std::io::Write as _;

use overens_core::{PublicKey, SecretKey, State};
use overens_log::{KeyChain, KeyTransition, LogSigner, VerifierKey};
use overens_store::{EventStore as _, SqliteOptions, SqliteStore, StoreError};

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

/// A rotation of the log's key, done.
#[derive(Debug, Clone)]
pub struct LogKeyRotation {
    /// The transition note, signed by the old key and the new one.
    pub transition: KeyTransition,
    /// Where it was written.
    pub note_path: PathBuf,
    /// The log's keys now, from the first one it had.
    pub chain: KeyChain,
}

/// The points a rotation passes, after which a test may cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RotationStep {
    NewKeyWritten,
    TransitionWritten,
    KeyInstalled,
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
    ///
    /// A key rotation that was cut short is finished (its transition note was written) or
    /// undone (it was not) first, and the key must be the last one of the directory's key
    /// chain (`log-keys/`).
    pub fn log_signer(
        &self,
        origin: Option<&str>,
        new_seed: impl FnOnce() -> Result<[u8; 32], String>,
    ) -> Result<LogSigner, DataDirError> {
        let _lock = self.lock_log_key()?;
        self.finish_rotation()?;
        let signer = self.read_signer(origin, new_seed)?;
        self.log_key_chain(signer.verifier_key())?;
        Ok(signer)
    }

    fn read_signer(
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

    /// The directory of the log's key-transition notes.
    pub fn log_keys_dir(&self) -> PathBuf {
        self.path.join("log-keys")
    }

    fn log_key_new_path(&self) -> PathBuf {
        self.path.join("log.key.new")
    }

    fn log_pub_new_path(&self) -> PathBuf {
        self.path.join("log.pub.new")
    }

    /// Held while the key files are read or rotated: a reader never sees a rotation in the
    /// middle, and never finishes or undoes one that is still running.
    fn lock_log_key(&self) -> Result<std::fs::File, DataDirError> {
        self.create()?;
        let path = self.path.join("log-key.lock");
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        file.try_lock().map_err(|_| {
            DataDirError::LogKey(format!(
                "the log's key is being rotated by another process ({} is held); try again \
                 when it is done",
                path.display()
            ))
        })?;
        Ok(file)
    }

    /// The log's key-transition notes, in order (empty before the first rotation). Files are
    /// `log-keys/<n>.note`, numbered 1, 2, … without gaps; nothing else is allowed there but
    /// a rotation's unfinished `.tmp` file.
    pub fn log_key_notes(&self) -> Result<Vec<String>, DataDirError> {
        let dir = self.log_keys_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&dir, e)),
        };
        let mut numbered = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                continue;
            }
            let number = name
                .strip_suffix(".note")
                .filter(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    DataDirError::LogKey(format!(
                        "{}: `{name}` is not a key transition (<number>.note)",
                        dir.display()
                    ))
                })?;
            numbered.push((number, entry.path()));
        }
        numbered.sort();
        let mut notes = Vec::with_capacity(numbered.len());
        for (expected, (number, path)) in (1..).zip(numbered) {
            if number != expected {
                return Err(DataDirError::LogKey(format!(
                    "{}: key transition {expected} is missing (the next is {}): the chain of \
                     the log's keys has a hole; restore it from a backup",
                    dir.display(),
                    path.display()
                )));
            }
            notes.push(std::fs::read_to_string(&path).map_err(|e| self.io(&path, e))?);
        }
        Ok(notes)
    }

    /// The chain of the log's keys, from the first key it had to `current` (which must be
    /// the last one): what the server serves and puts in bundles.
    pub fn log_key_chain(&self, current: &VerifierKey) -> Result<KeyChain, DataDirError> {
        let notes = self.log_key_notes()?;
        let dir = self.log_keys_dir();
        let bad = |e: &dyn std::fmt::Display| {
            DataDirError::LogKey(format!("{}: the log's key chain: {e}", dir.display()))
        };
        let Some(first) = notes.first() else {
            return Ok(KeyChain::new(current.clone()));
        };
        let first = KeyTransition::open(first).map_err(|e| bad(&e))?;
        let chain = KeyChain::follow(first.old_key(), &notes).map_err(|e| bad(&e))?;
        if chain.current() != current {
            return Err(DataDirError::LogKey(format!(
                "{} is {current}, but the last key transition in {} introduces {}: the key \
                 files and the chain disagree",
                self.log_pub_path().display(),
                dir.display(),
                chain.current()
            )));
        }
        Ok(chain)
    }

    /// Rotates the log's key: a new key from `new_seed`, a transition note signed by the old
    /// key and the new one, from the size the log has now. Opens the store for the time of
    /// the rotation, so a running server (which holds it) makes it fail and nothing is
    /// changed. Refused too without a key, or when `log.key` is readable by others (then the
    /// old key may be exposed: see the procedure for a compromised log key).
    ///
    /// The retired key is deleted (`log.key` is replaced by rename): it has no more use, and
    /// a copy kept is a key that can still sign checkpoints of the sizes it covered.
    pub async fn rotate_log_key(
        &self,
        new_seed: impl FnOnce() -> Result<[u8; 32], String>,
    ) -> Result<LogKeyRotation, DataDirError> {
        // Before the store is opened: a directory without a key gets no store made for it.
        match std::fs::symlink_metadata(self.log_key_path()) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DataDirError::LogKey(format!(
                    "{} has no log key to rotate (it is made when the server first starts)",
                    self.path.display()
                )));
            }
            Err(e) => return Err(self.io(&self.log_key_path(), e)),
        }
        let store = self.open_store(SqliteOptions::default())?;
        let size = store.len().await?;
        self.rotate_log_key_at(&store, size, new_seed)
    }

    /// [`DataDir::rotate_log_key`] with the store already open (`store`, which holds the
    /// directory's lock: no server can run meanwhile) and the log's size `size_now`.
    pub fn rotate_log_key_at(
        &self,
        store: &SqliteStore,
        size_now: u64,
        new_seed: impl FnOnce() -> Result<[u8; 32], String>,
    ) -> Result<LogKeyRotation, DataDirError> {
        self.rotate_steps(store, size_now, new_seed, &mut |_| Ok(()))
    }

    fn rotate_steps(
        &self,
        store: &SqliteStore,
        size_now: u64,
        new_seed: impl FnOnce() -> Result<[u8; 32], String>,
        after: &mut dyn FnMut(RotationStep) -> std::io::Result<()>,
    ) -> Result<LogKeyRotation, DataDirError> {
        if store.path() != self.store_path() {
            return Err(DataDirError::LogKey(format!(
                "the store given is {}, not this directory's {}",
                store.path().display(),
                self.store_path().display()
            )));
        }
        let _lock = self.lock_log_key()?;
        self.finish_rotation()?;
        let key_path = self.log_key_path();
        let old_secret = read_log_key(&key_path)?
            .ok_or_else(|| DataDirError::LogKey(format!("{} is missing", key_path.display())))?;
        let old = self.read_signer(None, || Err("the log has no key to rotate".into()))?;
        let mut chain = self.log_key_chain(old.verifier_key())?;
        let seed = new_seed()
            .map_err(|e| DataDirError::LogKey(format!("making the log's new key: {e}")))?;
        let new_secret = SecretKey::from_seed(&seed);
        let refused = |e: &dyn std::fmt::Display| {
            DataDirError::LogKey(format!("rotating the log's key: {e}"))
        };
        let transition = KeyTransition::sign(old.origin(), &old_secret, &new_secret, size_now)
            .map_err(|e| refused(&e))?;
        chain.push(transition.note()).map_err(|e| refused(&e))?;
        let number = chain.transitions().len();

        // 1. The new key, beside the old one.
        let key_new = self.log_key_new_path();
        write_secret(&key_new, &format!("{}\n", new_secret.to_text()))
            .map_err(|e| self.io(&key_new, e))?;
        sync_dir(&self.path).map_err(|e| self.io(&self.path, e))?;
        after(RotationStep::NewKeyWritten).map_err(|e| self.io(&key_new, e))?;

        // 2. The transition note: once it is in place, the rotation has happened.
        let dir = self.log_keys_dir();
        std::fs::create_dir_all(&dir).map_err(|e| self.io(&dir, e))?;
        sync_dir(&self.path).map_err(|e| self.io(&self.path, e))?;
        let note_path = dir.join(format!("{number:04}.note"));
        if note_path.exists() {
            return Err(DataDirError::LogKey(format!(
                "{} exists already",
                note_path.display()
            )));
        }
        replace_file(&note_path, transition.note(), None).map_err(|e| self.io(&note_path, e))?;
        after(RotationStep::TransitionWritten).map_err(|e| self.io(&note_path, e))?;

        // 3. The new key in place of the old: log.pub first, then log.key.
        self.install_new_key(&new_secret, old.origin())?;
        after(RotationStep::KeyInstalled).map_err(|e| self.io(&key_path, e))?;
        Ok(LogKeyRotation {
            transition,
            note_path,
            chain,
        })
    }

    /// log.pub becomes the new key's, then log.key.new replaces log.key.
    fn install_new_key(&self, new_secret: &SecretKey, origin: &str) -> Result<(), DataDirError> {
        let new_key = VerifierKey::new(origin, new_secret.public())
            .map_err(|e| DataDirError::LogKey(format!("the log's new key: {e}")))?;
        let pub_path = self.log_pub_path();
        replace_file(
            &pub_path,
            &format!("{new_key}\n"),
            Some(&self.log_pub_new_path()),
        )
        .map_err(|e| self.io(&pub_path, e))?;
        let (key_new, key_path) = (self.log_key_new_path(), self.log_key_path());
        std::fs::rename(&key_new, &key_path).map_err(|e| self.io(&key_path, e))?;
        sync_dir(&self.path).map_err(|e| self.io(&self.path, e))
    }

    /// Finishes or undoes a rotation that was cut short (with the key lock held): finished
    /// if its transition note is the chain's last (it introduces `log.key.new`'s key),
    /// undone otherwise. Leftover temporary files are removed.
    fn finish_rotation(&self) -> Result<(), DataDirError> {
        let dir = self.log_keys_dir();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().ends_with(".tmp") {
                    let path = entry.path();
                    std::fs::remove_file(&path).map_err(|e| self.io(&path, e))?;
                }
            }
        }
        let pub_new = self.log_pub_new_path();
        if pub_new.exists() {
            std::fs::remove_file(&pub_new).map_err(|e| self.io(&pub_new, e))?;
        }
        let key_new = self.log_key_new_path();
        let text = match std::fs::read_to_string(&key_new) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(&key_new, e)),
        };
        // A key file cut short was never synced, so no note can name its key: undone below.
        let new_secret = SecretKey::from_text(text.trim()).ok();
        let notes = self.log_key_notes()?;
        let last = match notes.last() {
            Some(note) => Some(KeyTransition::open(note).map_err(|e| {
                DataDirError::LogKey(format!("{}: the last key transition: {e}", dir.display()))
            })?),
            None => None,
        };
        match (last, new_secret) {
            (Some(last), Some(new_secret)) if last.new_key().key() == &new_secret.public() => {
                tracing::warn!("finishing a rotation of the log's key that was cut short");
                self.install_new_key(&new_secret, last.origin())
            }
            _ => {
                tracing::warn!("undoing a rotation of the log's key that was cut short");
                std::fs::remove_file(&key_new).map_err(|e| self.io(&key_new, e))?;
                sync_dir(&self.path).map_err(|e| self.io(&self.path, e))
            }
        }
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

    /// Opens the store for reading only, beside a server that may be writing it, and replays
    /// it with full verification: the log as committed at this moment. Nothing in the
    /// directory is created, locked or changed.
    pub async fn open_read_only(
        &self,
        registrars: &[PublicKey],
        progress: Progress<'_>,
    ) -> Result<(SqliteStore, Replayed), DataDirError> {
        // `trust` records given keys in a directory without any: not for a reader.
        let trust = match self.registrars()? {
            Some(_) => self.trust(registrars)?,
            None => self.trust(&[])?,
        };
        let store = SqliteStore::open_read_only(self.store_path())?;
        let replayed = replay_store(&store, State::new(trust), progress).await?;
        Ok((store, replayed))
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

/// Writes `path` whole or not at all: a temporary file beside it (`tmp`, else `path.tmp`),
/// synced, renamed over it, and the directory synced.
fn replace_file(path: &Path, text: &str, tmp: Option<&Path>) -> std::io::Result<()> {
    let tmp = tmp.map_or_else(
        || {
            let mut name = path.as_os_str().to_owned();
            name.push(".tmp");
            PathBuf::from(name)
        },
        Path::to_path_buf,
    );
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Makes a directory's entries (a rename, a new file) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    const ORIGIN: &str = "overens.test/rotation";

    fn seed(n: u8) -> impl FnOnce() -> Result<[u8; 32], String> {
        move || Ok([n; 32])
    }

    fn no_seed() -> Result<[u8; 32], String> {
        Err("no new key here".into())
    }

    fn verifier(n: u8) -> VerifierKey {
        VerifierKey::new(ORIGIN, SecretKey::from_seed(&[n; 32]).public()).expect("key")
    }

    /// A directory whose log has key 1.
    fn keyed() -> (tempfile::TempDir, DataDir) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = DataDir::new(tmp.path().join("node"));
        data.log_signer(Some(ORIGIN), seed(1)).expect("first key");
        (tmp, data)
    }

    /// Every file of the directory but the store's and the locks, with its bytes.
    fn files(data: &DataDir) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut dirs = vec![data.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
                let path = entry.path();
                let name = path
                    .strip_prefix(data.path())
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                if path.is_dir() {
                    dirs.push(path);
                } else if !name.starts_with("overens.") && !name.ends_with(".lock") {
                    out.insert(name, std::fs::read(&path).expect("file"));
                }
            }
        }
        out
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("file").permissions().mode() & 0o777
    }

    fn current(data: &DataDir) -> VerifierKey {
        data.log_signer(None, no_seed)
            .expect("signer")
            .verifier_key()
            .clone()
    }

    #[tokio::test]
    async fn a_rotation_writes_the_transition_and_installs_the_new_key() {
        let (_tmp, data) = keyed();
        let old_secret = std::fs::read_to_string(data.log_key_path()).expect("key");
        let done = data.rotate_log_key(seed(2)).await.expect("rotated");
        assert_eq!(done.transition.old_key(), &verifier(1));
        assert_eq!(done.transition.new_key(), &verifier(2));
        assert_eq!(done.transition.from_size(), 0, "an empty store");
        assert_eq!(done.note_path, data.log_keys_dir().join("0001.note"));
        assert_eq!(current(&data), verifier(2));
        assert_eq!(
            std::fs::read_to_string(data.log_pub_path()).expect("pub"),
            format!("{}\n", verifier(2))
        );
        assert_eq!(mode(&data.log_key_path()), 0o600);

        // A second rotation, at a later size, with the store held by the caller.
        let store = data.open_store(SqliteOptions::default()).expect("store");
        let again = data
            .rotate_log_key_at(&store, 7, seed(3))
            .expect("rotated again");
        drop(store);
        assert_eq!(again.transition.from_size(), 7);
        assert_eq!(again.chain.current(), &verifier(3));
        assert_eq!(current(&data), verifier(3));
        let notes = data.log_key_notes().expect("notes");
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[1], again.transition.note());
        let chain = data.log_key_chain(&verifier(3)).expect("chain");
        assert_eq!(chain.pinned(), &verifier(1));
        assert_eq!(chain.key_for(6), &verifier(2));
        assert_eq!(chain.key_for(7), &verifier(3));
        // Nothing left over, and the retired keys are gone.
        let left = files(&data);
        assert_eq!(
            left.keys().cloned().collect::<Vec<_>>(),
            [
                "log-keys/0001.note",
                "log-keys/0002.note",
                "log.key",
                "log.pub"
            ]
        );
        for bytes in left.values() {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(old_secret.trim()),
                "the retired key was kept"
            );
        }
    }

    #[tokio::test]
    async fn a_rotation_is_refused_while_a_server_holds_the_store() {
        let (_tmp, data) = keyed();
        let before = files(&data);
        let store = data.open_store(SqliteOptions::default()).expect("store");
        let e = data
            .rotate_log_key(seed(2))
            .await
            .expect_err("store in use");
        assert!(
            matches!(&e, DataDirError::Store(e) if e.to_string().contains("in use by another process")),
            "{e}"
        );
        drop(store);
        assert_eq!(files(&data), before);
        assert_eq!(current(&data), verifier(1));
        // A rotation in progress (the key lock held) keeps readers and rotations out.
        let lock = data.lock_log_key().expect("lock");
        let e = data.log_signer(None, no_seed).expect_err("locked");
        assert!(e.to_string().contains("being rotated"), "{e}");
        let e = data.rotate_log_key(seed(2)).await.expect_err("locked");
        assert!(e.to_string().contains("being rotated"), "{e}");
        drop(lock);
        assert_eq!(files(&data), before);
    }

    #[tokio::test]
    async fn a_key_others_can_read_is_not_rotated() {
        let (_tmp, data) = keyed();
        std::fs::set_permissions(data.log_key_path(), std::fs::Permissions::from_mode(0o640))
            .expect("chmod");
        let before = files(&data);
        let e = data.rotate_log_key(seed(2)).await.expect_err("readable");
        assert!(e.to_string().contains("readable by others"), "{e}");
        assert_eq!(files(&data), before);
        assert_eq!(mode(&data.log_key_path()), 0o640);
    }

    #[tokio::test]
    async fn without_a_key_there_is_nothing_to_rotate() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = DataDir::new(tmp.path());
        let e = data.rotate_log_key(seed(2)).await.expect_err("no key");
        assert!(e.to_string().contains("no log key to rotate"), "{e}");
        assert_eq!(std::fs::read_dir(tmp.path()).expect("dir").count(), 0);
    }

    #[tokio::test]
    async fn from_sizes_never_go_back_and_a_key_is_never_reused() {
        let (_tmp, data) = keyed();
        let store = data.open_store(SqliteOptions::default()).expect("store");
        data.rotate_log_key_at(&store, 7, seed(2)).expect("rotated");
        let before = files(&data);
        let e = data
            .rotate_log_key_at(&store, 3, seed(3))
            .expect_err("size back");
        assert!(e.to_string().contains("from-sizes never decrease"), "{e}");
        let e = data
            .rotate_log_key_at(&store, 9, seed(1))
            .expect_err("old key again");
        assert!(e.to_string().contains("already used"), "{e}");
        let e = data
            .rotate_log_key_at(&store, 9, seed(2))
            .expect_err("same key");
        assert!(e.to_string().contains("same key"), "{e}");
        assert_eq!(files(&data), before);
        let other = DataDir::new(data.path().join("elsewhere"));
        let e = other
            .rotate_log_key_at(&store, 9, seed(4))
            .expect_err("not its store");
        assert!(e.to_string().contains("not this directory's"), "{e}");
        drop(store);
        assert_eq!(current(&data), verifier(2));
    }

    #[test]
    fn a_rotation_cut_short_is_finished_or_undone() {
        let steps = [
            (RotationStep::NewKeyWritten, 1),
            (RotationStep::TransitionWritten, 2),
            (RotationStep::KeyInstalled, 2),
        ];
        for (step, expected) in steps {
            let (_tmp, data) = keyed();
            let store = data.open_store(SqliteOptions::default()).expect("store");
            let e = data
                .rotate_steps(&store, 4, seed(2), &mut |at| {
                    if at == step {
                        Err(std::io::Error::other("power cut"))
                    } else {
                        Ok(())
                    }
                })
                .expect_err("cut short");
            assert!(e.to_string().contains("power cut"), "{e}");
            drop(store);
            assert_eq!(current(&data), verifier(expected), "{step:?}");
            let notes = data.log_key_notes().expect("notes");
            assert_eq!(notes.len(), usize::from(expected == 2), "{step:?}");
            let left: Vec<String> = files(&data).into_keys().collect();
            let mut want = vec!["log.key".to_owned(), "log.pub".to_owned()];
            if expected == 2 {
                want.insert(0, "log-keys/0001.note".to_owned());
            }
            assert_eq!(left, want, "{step:?}");
            assert_eq!(mode(&data.log_key_path()), 0o600);
        }

        // Cut between log.pub and log.key: the note and log.pub are new, log.key is old.
        let (_tmp, data) = keyed();
        let store = data.open_store(SqliteOptions::default()).expect("store");
        let done = data.rotate_log_key_at(&store, 4, seed(2)).expect("rotated");
        drop(store);
        std::fs::rename(data.log_key_path(), data.log_key_new_path()).expect("mv");
        write_secret(
            &data.log_key_path(),
            &format!("{}\n", SecretKey::from_seed(&[1; 32]).to_text()),
        )
        .expect("old key back");
        assert_eq!(current(&data), verifier(2));
        assert_eq!(
            data.log_key_chain(&verifier(2))
                .expect("chain")
                .transitions(),
            std::slice::from_ref(&done.transition)
        );

        // A new key file cut short in its writing, no note: undone.
        let (_tmp, data) = keyed();
        std::fs::write(data.log_key_new_path(), "AAA").expect("torn");
        std::fs::create_dir_all(data.log_keys_dir()).expect("dir");
        std::fs::write(data.log_keys_dir().join("0001.note.tmp"), "half").expect("tmp");
        assert_eq!(current(&data), verifier(1));
        assert_eq!(
            files(&data).into_keys().collect::<Vec<_>>(),
            ["log.key", "log.pub"]
        );
    }

    #[tokio::test]
    async fn key_files_that_disagree_with_the_chain_are_refused() {
        let (_tmp, data) = keyed();
        data.rotate_log_key(seed(2)).await.expect("rotated");
        let store = data.open_store(SqliteOptions::default()).expect("store");
        data.rotate_log_key_at(&store, 5, seed(3)).expect("rotated");
        drop(store);
        let dir = data.log_keys_dir();
        let first = std::fs::read_to_string(dir.join("0001.note")).expect("note");

        // A hole in the numbering.
        std::fs::remove_file(dir.join("0001.note")).expect("rm");
        let e = data.log_signer(None, no_seed).expect_err("hole");
        assert!(e.to_string().contains("key transition 1 is missing"), "{e}");
        // A first transition that does not lead to the second one's old key. (A first
        // transition forged whole, from some other key to key 2, is consistent here: the
        // directory does not pin its first key; a verifier that pinned it refuses that.)
        let forged = KeyTransition::sign(
            ORIGIN,
            &SecretKey::from_seed(&[1; 32]),
            &SecretKey::from_seed(&[4; 32]),
            0,
        )
        .expect("forged");
        std::fs::write(dir.join("0001.note"), forged.note()).expect("write");
        let e = data.log_signer(None, no_seed).expect_err("broken link");
        assert!(
            e.to_string().contains("key transition 2 is from key"),
            "{e}"
        );
        // Back as it was, but log.pub replaced by the retired key's.
        std::fs::write(dir.join("0001.note"), &first).expect("write");
        assert_eq!(current(&data), verifier(3));
        std::fs::write(data.log_pub_path(), format!("{}\n", verifier(2))).expect("write");
        let e = data.log_signer(None, no_seed).expect_err("pub replaced");
        assert!(e.to_string().contains("not the verifier key"), "{e}");
        // A stray file.
        std::fs::write(data.log_pub_path(), format!("{}\n", verifier(3))).expect("write");
        std::fs::write(dir.join("notes.txt"), "x").expect("write");
        let e = data.log_signer(None, no_seed).expect_err("stray");
        assert!(e.to_string().contains("is not a key transition"), "{e}");
    }
}
