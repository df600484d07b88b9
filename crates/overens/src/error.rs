//! Everything a command can fail with, and the exit status each failure maps to.

use std::io;
use std::path::PathBuf;

use overens_core::{AgreementId, LogError};

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
}

impl CliError {
    /// 1 when the log itself is bad, 2 for everything the caller can fix by asking
    /// differently; the `--help` text promises exactly this.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Log { .. } | CliError::NotUtf8 { .. } => 1,
            _ => 2,
        }
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
