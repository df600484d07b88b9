//! The committed example log and its test keys (public test keys, never for real use): the
//! real material the targets mutate and compare against.

use std::sync::LazyLock;

use overens_audit::{Bundle, Report, Trust, bundle_from_log, verify_bundle};
use overens_core::{AgreementId, LogRecord, PublicKey, SecretKey, State, replay_log_file};
use overens_log::LogSigner;

/// The example log (events/examples/log.jsonl), one canonical record per line.
pub const LOG: &str = include_str!("../../../events/examples/log.jsonl");

/// The agreement whose bundle the bundle target mutates.
pub const AGREEMENT: &str = "norrkoping-barn-och-unga";

/// The example keys by name, as the generator wrote them.
pub const KEYS: &[(&str, &str)] = &[
    (
        "registrar",
        include_str!("../../../events/examples/keys/registrar.key"),
    ),
    (
        "norrkoping-utbildningskontoret-1",
        include_str!("../../../events/examples/keys/norrkoping-utbildningskontoret-1.key"),
    ),
    (
        "region-ostergotland-1",
        include_str!("../../../events/examples/keys/region-ostergotland-1.key"),
    ),
    (
        "kson-1",
        include_str!("../../../events/examples/keys/kson-1.key"),
    ),
];

/// Example key `n` (modulo the number of keys).
pub fn key(n: usize) -> SecretKey {
    let (name, text) = KEYS[n % KEYS.len()];
    SecretKey::from_text(text.trim()).unwrap_or_else(|e| panic!("example key {name}: {e}"))
}

/// The examples' one registrar.
pub fn registrar() -> PublicKey {
    key(0).public()
}

/// A log key for the fuzz targets (seed 0x46, 'F'). Test only: its secret is in this file.
pub fn log_signer() -> LogSigner {
    LogSigner::new("overens.fuzz/log", SecretKey::from_seed(&[0x46; 32])).expect("a valid origin")
}

/// The example log's records.
pub fn records() -> &'static [LogRecord] {
    static RECORDS: LazyLock<Vec<LogRecord>> = LazyLock::new(|| {
        LOG.lines()
            .map(|line| LogRecord::parse_line(line).expect("an example line is a record"))
            .collect()
    });
    &RECORDS
}

/// The state the example log folds to.
pub fn state() -> &'static State {
    static STATE: LazyLock<State> = LazyLock::new(|| {
        replay_log_file(LOG, State::new([registrar()])).expect("the example log replays")
    });
    &STATE
}

/// The auditor's trust: the examples' registrar and the fuzz log key.
pub fn trust() -> Trust {
    Trust {
        registrars: Some(vec![registrar()]),
        log_key: Some(log_signer().verifier_key().clone()),
    }
}

/// The real bundle of [`AGREEMENT`], its text, and the report it verifies to.
pub struct RealBundle {
    pub bundle: Bundle,
    pub text: String,
    pub report: Report,
}

impl std::fmt::Debug for RealBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealBundle")
            .field("records", &self.bundle.records.len())
            .finish_non_exhaustive()
    }
}

pub fn real_bundle() -> &'static RealBundle {
    static BUNDLE: LazyLock<RealBundle> = LazyLock::new(|| {
        let agreement: AgreementId = AGREEMENT.parse().expect("an agreement id");
        let bundle = bundle_from_log(records(), state(), &agreement, &log_signer())
            .expect("the example bundle builds");
        let text = bundle.to_json().expect("the bundle is JSON");
        let report = verify_bundle(&text, &trust(), None).expect("the real bundle verifies");
        RealBundle {
            bundle,
            text,
            report,
        }
    });
    &BUNDLE
}
