//! One module per command, and what they share: loading a verified log (from a log file or
//! a data directory), finding an agreement.

pub(crate) mod agreements;
pub(crate) mod diff;
pub(crate) mod enroll_proof;
pub(crate) mod export;
pub(crate) mod export_bundle;
pub(crate) mod import;
pub(crate) mod in_force;
pub(crate) mod keygen;
pub(crate) mod log_key;
pub(crate) mod replay;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod signatures;
pub(crate) mod submit;
pub(crate) mod timeline;
pub(crate) mod verify;
pub(crate) mod verify_log;
pub(crate) mod versions;

use std::fs;
use std::path::Path;

use overens_core::{Agreement, AgreementId, LogRecord, State, Timestamp, replay_log_file};
use serde::Serialize;

use crate::cli::{LogArgs, Source, TrustArgs};
use crate::data;
use crate::error::CliError;
use crate::keyfile::registrar_keys;

/// A log that replayed and verified in full.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) state: State,
    pub(crate) last_recorded_at: Option<Timestamp>,
}

/// The one way a command gets its state: `--log FILE` or `--data DIR`, replayed and
/// verified in full either way.
pub(crate) fn load(args: &LogArgs) -> Result<Loaded, CliError> {
    let source = args.source.source().ok_or(CliError::Usage(
        "exactly one of --log and --data is required",
    ))?;
    load_source(source, &args.trust)
}

pub(crate) fn load_source(source: Source<'_>, trust: &TrustArgs) -> Result<Loaded, CliError> {
    match source {
        Source::Log(path) => load_log(path, trust),
        Source::Data(dir) => load_data(dir, trust),
    }
}

/// Replays a data directory's store with every check, read-only (a server may be running
/// on it); the store is closed again before anything is answered.
fn load_data(dir: &Path, trust: &TrustArgs) -> Result<Loaded, CliError> {
    let runtime = data::runtime()?;
    let replayed = runtime.block_on(async {
        let (_store, replayed) =
            data::open_verified(dir, trust, data::Access::ReadOnly, &mut |_, _| {}).await?;
        Ok::<_, CliError>(replayed)
    })?;
    Ok(Loaded {
        state: replayed.state,
        last_recorded_at: replayed.last_recorded_at,
    })
}

/// A log file's text; a file that is not UTF-8 fails verification at the line it breaks.
pub(crate) fn read_log_text(path: &Path) -> Result<String, CliError> {
    let bytes = fs::read(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        CliError::NotUtf8 {
            path: path.to_owned(),
            line: valid.iter().filter(|b| **b == b'\n').count() + 1,
        }
    })
}

/// Reads and replays a log file; nothing is answered from a log that does not verify.
fn load_log(path: &Path, trust: &TrustArgs) -> Result<Loaded, CliError> {
    // Trust anchors first: without them there is nothing to check the log against, and the
    // caller should hear that before anything about the file.
    let registrars = registrar_keys(&trust.registrars)?;
    let text = read_log_text(path)?;
    let state = replay_log_file(&text, State::new(registrars)).map_err(|error| CliError::Log {
        path: path.to_owned(),
        error,
    })?;
    // replay_log_file keeps the last recorded time to itself; the last line has just been
    // verified, so reading it again is safe.
    let last_recorded_at = text
        .split_terminator('\n')
        .next_back()
        .and_then(|line| LogRecord::parse_line(line).ok())
        .map(|record| record.recorded_at);
    Ok(Loaded {
        state,
        last_recorded_at,
    })
}

pub(crate) fn find_agreement<'a>(
    state: &'a State,
    id: &AgreementId,
) -> Result<&'a Agreement, CliError> {
    state
        .agreement(id)
        .ok_or_else(|| CliError::UnknownAgreement {
            id: id.clone(),
            known: state.agreements().map(|a| a.id.clone()).collect(),
        })
}

/// One JSON document on one line, for `jq` and scripts.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    let mut text = serde_json::to_string(value)?;
    text.push('\n');
    Ok(text)
}
