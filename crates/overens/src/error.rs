//! Everything a command can fail with, and the exit status each failure maps to.

use std::io;
use std::path::PathBuf;

use overens_core::{AgreementId, LogError, StreamId};
use overens_pipeline::{DataDirError, ExportError, ImportError, ReplayError};
use overens_store::StoreError;

use crate::client::Problem;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{0}")]
    Usage(&'static str),
    #[error(
        "no registrar key given. Registrar keys are the trust anchors: a log is only as \
         trustworthy as the keys that registered its parties and enrolled its signatories. \
         Pass --registrar KEY|FILE (a base64url public key, or a file with one per line), \
         or set OVERENS_REGISTRAR"
    )]
    NoRegistrar,
    #[error(
        "--registrar `{value}` is neither a public key ({reason}) nor the name of an existing file"
    )]
    Registrar { value: String, reason: String },
    #[error("registrar file {}, line {line}: {reason}", path.display())]
    RegistrarFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("registrar file {} holds no keys", path.display())]
    EmptyRegistrarFile { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} already exists; pass --force to overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error("cannot gather randomness from the operating system: {0}")]
    Random(String),
    #[error("{} does not verify: line {line}: not UTF-8", path.display())]
    NotUtf8 { path: PathBuf, line: usize },
    #[error("{} does not verify: {error}", path.display())]
    Log { path: PathBuf, error: LogError },
    #[error("no agreement `{id}` in the log ({})", known_list(known))]
    UnknownAgreement {
        id: AgreementId,
        known: Vec<AgreementId>,
    },
    #[error("agreement `{agreement}` has no version {version} ({})", versions_list(*latest))]
    UnknownVersion {
        agreement: AgreementId,
        version: u32,
        latest: Option<u32>,
    },
    #[error("cannot encode the output as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "{} holds no store ({} is missing): import a log file into it first with \
         `overens import --data DIR --registrar KEY|FILE FILE`",
        dir.display(), store.display()
    )]
    NoStore { dir: PathBuf, store: PathBuf },
    #[error(
        "{} records no registrar keys (registrars.txt): the first `overens import --data DIR \
         --registrar KEY|FILE FILE` records them",
        dir.display()
    )]
    NoAnchors { dir: PathBuf },
    #[error("{}", data_message(dir, error))]
    Data {
        dir: PathBuf,
        error: Box<DataDirError>,
    },
    #[error("{}", import_message(dir, error))]
    Import {
        dir: PathBuf,
        error: Box<ImportError>,
    },
    #[error("export of {} failed: {error}", dir.display())]
    Export {
        dir: PathBuf,
        error: Box<ExportError>,
    },
    #[error("{} holds no stream `{stream}`", dir.display())]
    UnknownStream { dir: PathBuf, stream: StreamId },
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error("key file {}: {reason}", path.display())]
    KeyFile { path: PathBuf, reason: String },
    #[error(
        "key file {} is readable by others (mode {mode:04o}): a secret key must be private to \
         its holder, so it is not used. Run `chmod 600 {}` (and if others could read it, \
         consider the key exposed: have it revoked and enroll a new one)",
        path.display(), path.display()
    )]
    KeyFileOpen { path: PathBuf, mode: u32 },
    #[error("payload {}: {reason}", path.display())]
    Payload { path: PathBuf, reason: String },
    #[error("{0}")]
    Event(String),
    #[error("{0}")]
    Envelope(String),
    #[error("`{url}`: {reason}")]
    ServerUrl { url: String, reason: String },
    #[error("cannot reach {url}: {error}")]
    Http { url: String, error: String },
    #[error("unexpected answer from {url}: HTTP {status}: {body} (is this an Överens server?)")]
    Unexpected {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the server refused the event, nothing was appended: {0}")]
    Refused(Box<Problem>),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: io::Error },
    #[error("the server stopped with an error: {0}")]
    Serve(io::Error),
    #[error("cannot create a temporary data directory: {0}")]
    TempDir(io::Error),
    #[error("bundle {} does not verify: {failure}", path.display())]
    Unverified {
        path: PathBuf,
        failure: overens_audit::Failure,
    },
    #[error(
        "--log-key `{value}` is neither a verifier key ({reason}) nor a readable file holding one"
    )]
    LogKeyArg { value: String, reason: String },
    #[error(
        "{}: not a consistency proof ({{\"old_size\", \"new_size\", \"hashes\"}}): {reason}",
        path.display()
    )]
    ProofFile { path: PathBuf, reason: String },
    #[error("cannot get the consistency proof from {url}: {reason}")]
    ProofFetch { url: String, reason: String },
    #[error("the bundle of {} cannot be built: {error}", dir.display())]
    BuildBundle {
        dir: PathBuf,
        error: Box<overens_audit::BuildError>,
    },
}

impl CliError {
    /// 1 when the log itself is bad (or a server refused an event), 2 for everything the
    /// caller can fix by asking differently; the `--help` text promises exactly this.
    pub(crate) fn exit_code(&self) -> u8 {
        let refused = match self {
            CliError::Log { .. } | CliError::NotUtf8 { .. } | CliError::Refused(_) => true,
            // The failed check decides: 2 for unusable input, 1 for a bundle that is wrong.
            CliError::Unverified { failure, .. } => return failure.exit_code(),
            // The verified store's records, proofs and tree do not agree.
            CliError::BuildBundle { .. } => true,
            CliError::Data { error, .. } => data_refused(error),
            CliError::Import { error, .. } => import_refused(error),
            CliError::Export { error, .. } => match &**error {
                ExportError::Store(e) => store_refused(e),
                ExportError::Io(_) => false,
            },
            _ => false,
        };
        if refused { 1 } else { 2 }
    }
}

/// Did the stored log fail verification (rather than the disk, the lock or the caller)?
fn data_refused(error: &DataDirError) -> bool {
    match error {
        DataDirError::Io { .. } | DataDirError::Registrars(_) | DataDirError::LogKey(_) => false,
        DataDirError::Store(e) => store_refused(e),
        DataDirError::Replay(e) => replay_refused(e),
    }
}

fn import_refused(error: &ImportError) -> bool {
    match error {
        ImportError::Store(e) => store_refused(e),
        ImportError::Stored(e) => replay_refused(e),
        ImportError::Log { .. } | ImportError::Diverges { .. } | ImportError::Gap { .. } => true,
    }
}

fn replay_refused(error: &ReplayError) -> bool {
    match error {
        ReplayError::Log(_) | ReplayError::Tampered { .. } | ReplayError::TreeMismatch { .. } => {
            true
        }
        ReplayError::Store(e) => store_refused(e),
    }
}

fn store_refused(error: &StoreError) -> bool {
    match error {
        StoreError::Corrupt { .. }
        | StoreError::CorruptTree(_)
        | StoreError::Conflict(_)
        | StoreError::IdReused(_)
        | StoreError::RestoreMismatch(_) => true,
        StoreError::InvalidBatch(_)
        | StoreError::BeyondLog { .. }
        | StoreError::InvalidRange(_)
        | StoreError::Storage(_)
        | StoreError::ReadOnly(_)
        | StoreError::Failed => false,
    }
}

fn import_message(dir: &std::path::Path, error: &ImportError) -> String {
    match error {
        ImportError::Stored(_) => format!(
            "import into {} refused, nothing was changed: its stored log does not verify: {error}",
            dir.display()
        ),
        _ if import_refused(error) => format!(
            "import into {} refused, nothing was changed: {error}",
            dir.display()
        ),
        _ => format!("import into {} failed: {error}", dir.display()),
    }
}

fn data_message(dir: &std::path::Path, error: &DataDirError) -> String {
    if data_refused(error) {
        format!(
            "data directory {} does not verify, nothing is answered from it: {error}",
            dir.display()
        )
    } else {
        format!("data directory {}: {error}", dir.display())
    }
}

fn known_list(known: &[AgreementId]) -> String {
    if known.is_empty() {
        "it holds none".into()
    } else {
        let ids: Vec<&str> = known.iter().map(AgreementId::as_str).collect();
        format!("it holds: {}", ids.join(", "))
    }
}

fn versions_list(latest: Option<u32>) -> String {
    match latest {
        None => "nothing has been proposed yet".into(),
        Some(1) => "only version 1 exists".into(),
        Some(n) => format!("versions are 1 to {n}"),
    }
}
