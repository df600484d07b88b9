//! The example log, its registrar, and a test log key.

use overens_audit::{Bundle, Trust, bundle_from_log};
use overens_core::{AgreementId, LogRecord, PublicKey, SecretKey, State, replay_log_file};
use overens_log::{LogSigner, VerifierKey};

pub(crate) const LOG: &str = include_str!("../../../../events/examples/log.jsonl");
const REGISTRAR: &str = include_str!("../../../../events/examples/keys/registrar.pub");
pub(crate) const ORIGIN: &str = "overens.example/log";
pub(crate) const NORRKOPING: &str = "norrkoping-barn-och-unga";

pub(crate) fn registrar() -> PublicKey {
    REGISTRAR.trim().parse().expect("registrar key")
}

/// The test log key: seed 0x4c ('L') repeated. Test only: its secret is in this file.
pub(crate) fn log_signer() -> LogSigner {
    LogSigner::new(ORIGIN, SecretKey::from_seed(&[0x4c; 32])).expect("signer")
}

pub(crate) fn verifier() -> VerifierKey {
    log_signer().verifier_key().clone()
}

pub(crate) fn records() -> Vec<LogRecord> {
    LOG.lines()
        .map(|l| LogRecord::parse_line(l).expect("record"))
        .collect()
}

/// The example log's first `size` records, replayed.
pub(crate) fn state_of(records: &[LogRecord]) -> State {
    let mut text = String::new();
    for r in records {
        text.push_str(&r.to_line());
        text.push('\n');
    }
    replay_log_file(&text, State::new([registrar()])).expect("replays")
}

pub(crate) fn bundle_of(records: &[LogRecord], agreement: &str) -> Bundle {
    let id: AgreementId = agreement.parse().expect("id");
    bundle_from_log(records, &state_of(records), &id, &log_signer()).expect("bundle")
}

pub(crate) fn bundle(agreement: &str) -> Bundle {
    bundle_of(&records(), agreement)
}

pub(crate) fn trusted() -> Trust {
    Trust {
        registrars: Some(vec![registrar()]),
        log_key: Some(verifier()),
    }
}
