//! `overens verify BUNDLE`: an audit bundle checked offline, from its records alone
//! (overens-audit does every check; this reads the files and the trust anchors).

use std::fs;
use std::path::Path;

use overens_audit::{Check, Failure, Trust, verify_bundle};
use overens_log::{Checkpoint, ConsistencyProof, SignedNote, VerifierKey};

use crate::cli::VerifyArgs;
use crate::client::Client;
use crate::commands::json;
use crate::error::CliError;
use crate::keyfile::registrar_keys;

pub(crate) fn run(args: &VerifyArgs) -> Result<String, CliError> {
    // What the auditor trusts comes first: a mistyped key is a usage error (2), whatever
    // the bundle holds.
    let registrars = if args.registrars.is_empty() {
        None
    } else {
        Some(registrar_keys(&args.registrars)?)
    };
    let log_key = args.log_key.as_deref().map(verifier_key).transpose()?;
    let bytes = fs::read(&args.bundle).map_err(|source| CliError::Read {
        path: args.bundle.clone(),
        source,
    })?;
    let unverified = |failure: Failure| CliError::Unverified {
        path: args.bundle.clone(),
        failure,
    };
    // A bundle that is not UTF-8 is a damaged bundle (1), not an unreadable file.
    let text = String::from_utf8(bytes).map_err(|e| {
        unverified(Failure {
            check: Check::Format,
            at: "bundle".into(),
            detail: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })
    })?;
    let old = match &args.checkpoint {
        None => None,
        Some(path) => {
            let old_text = read_text(path)?;
            let proof = match (&args.consistency, &args.server) {
                (Some(file), _) => read_proof(file)?,
                (None, Some(url)) => match fetch_proof(url, &old_text, &text, path)? {
                    Some(proof) => proof,
                    // The bundle's checkpoint cannot even be read: verifying without the
                    // old checkpoint names that failure (a bundle without a readable
                    // checkpoint never verifies).
                    None => {
                        let trust = Trust {
                            registrars,
                            log_key,
                        };
                        let failure =
                            verify_bundle(&text, &trust, None)
                                .err()
                                .unwrap_or_else(|| Failure {
                                    check: Check::Checkpoint,
                                    at: "checkpoint".into(),
                                    detail: "unreadable".into(),
                                });
                        return Err(unverified(failure));
                    }
                },
                (None, None) => {
                    return Err(CliError::Usage(
                        "--checkpoint needs the consistency proof from its size to the \
                         bundle's: --consistency PROOF_FILE or --server URL",
                    ));
                }
            };
            Some((old_text, proof))
        }
    };
    let trust = Trust {
        registrars,
        log_key,
    };
    let report = verify_bundle(
        &text,
        &trust,
        old.as_ref().map(|(t, p)| (t.as_str(), p.clone())),
    )
    .map_err(unverified)?;
    if args.json {
        json(&report)
    } else {
        Ok(report.to_text())
    }
}

/// `--log-key`: the verifier key itself, or a file holding it (DIR/log.pub, say).
fn verifier_key(value: &str) -> Result<VerifierKey, CliError> {
    match value.trim().parse::<VerifierKey>() {
        Ok(key) => Ok(key),
        Err(reason) => {
            let from_file = fs::read_to_string(value)
                .ok()
                .and_then(|text| text.trim().parse::<VerifierKey>().ok());
            from_file.ok_or_else(|| CliError::LogKeyArg {
                value: value.to_owned(),
                reason: reason.to_string(),
            })
        }
    }
}

fn read_text(path: &Path) -> Result<String, CliError> {
    fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_proof(path: &Path) -> Result<ConsistencyProof, CliError> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| CliError::ProofFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The tree size a signed checkpoint states (its signature is checked later, by the
/// verifier, with the log key).
fn stated_size(note: &str) -> Option<u64> {
    let parsed = SignedNote::parse(note).ok()?;
    Checkpoint::from_note_body(&parsed.text)
        .ok()
        .map(|c| c.size)
}

/// The consistency proof from the old checkpoint's size to the bundle's, from the server.
/// `None` when the bundle's checkpoint cannot be read.
fn fetch_proof(
    url: &str,
    old_text: &str,
    bundle_text: &str,
    old_path: &Path,
) -> Result<Option<ConsistencyProof>, CliError> {
    let old_size = stated_size(old_text).ok_or_else(|| CliError::Unverified {
        path: old_path.to_owned(),
        failure: Failure {
            check: Check::Input,
            at: "old checkpoint".into(),
            detail: "not a signed checkpoint note".into(),
        },
    })?;
    let new_size = serde_json::from_str::<serde_json::Value>(bundle_text)
        .ok()
        .and_then(|v| v.get("checkpoint")?.as_str().and_then(stated_size));
    let Some(new_size) = new_size else {
        return Ok(None);
    };
    if old_size > new_size {
        // No server can prove that a log shrank; the verifier reports it from the two
        // signed sizes alone, before it looks at any proof hash.
        return Ok(Some(ConsistencyProof {
            old_size,
            new_size,
            hashes: Vec::new(),
        }));
    }
    let client = Client::new(url)?;
    match client.consistency_proof(old_size, new_size)? {
        Ok(proof) => Ok(Some(proof)),
        Err(problem) => Err(CliError::ProofFetch {
            url: client.base().to_owned(),
            reason: problem.to_string(),
        }),
    }
}
