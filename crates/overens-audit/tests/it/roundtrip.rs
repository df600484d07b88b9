//! A bundle of each example agreement verifies, and says what the log says.

use overens_audit::{Check, KeySource, Trust, verify_bundle};
use overens_core::SecretKey;
use overens_log::VerifierKey;

use crate::common::{NORRKOPING, ORIGIN, bundle, trusted};

#[test]
fn both_example_bundles_verify() {
    for agreement in [NORRKOPING, "norrtalje-bus"] {
        let text = bundle(agreement).to_json().expect("json");
        let report = verify_bundle(&text, &trusted(), None).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(report.log_key_source, KeySource::Given);
        assert_eq!(report.registrars_source, KeySource::Given);
        assert!(report.warnings.is_empty());
        assert_eq!(report.checkpoint.size, 97);
        assert_eq!(report.directory_records, 20);
    }
}

#[test]
fn the_report_reads_who_agreed_to_what() {
    let text = bundle("norrtalje-bus").to_json().expect("json");
    let report = verify_bundle(&text, &trusted(), None).expect("verifies");
    let out = report.to_text();
    for part in [
        "bundle verified: agreement norrtalje-bus",
        "version 1 from 2009-12-18 until 2012-05-01 (known to the log since 2026-11-03T13:18:02Z",
        "2009-12-18  Barn- och skolnämnden, Norrtälje kommun signed version 1",
        "version 3 from 2014-02-01 until further notice",
    ] {
        assert!(out.contains(part), "{part:?} not in\n{out}");
    }
    assert!(!out.contains("warning"), "{out}");
}

#[test]
fn without_trust_the_report_says_so() {
    let text = bundle(NORRKOPING).to_json().expect("json");
    let report = verify_bundle(&text, &Trust::default(), None).expect("verifies");
    assert_eq!(report.log_key_source, KeySource::Bundle);
    assert_eq!(report.registrars_source, KeySource::Bundle);
    assert_eq!(report.warnings.len(), 2);
    assert!(report.to_text().contains("TAKEN FROM THE BUNDLE ITSELF"));
    let other = VerifierKey::new(ORIGIN, SecretKey::from_seed(&[1; 32]).public()).expect("key");
    let failure = verify_bundle(
        &text,
        &Trust {
            registrars: None,
            log_key: Some(other),
        },
        None,
    )
    .expect_err("other key");
    assert_eq!(failure.check, Check::Trust);
    assert_eq!(failure.at, "log_key");
    let failure = verify_bundle(
        &text,
        &Trust {
            registrars: Some(vec![SecretKey::from_seed(&[2; 32]).public()]),
            log_key: None,
        },
        None,
    )
    .expect_err("other registrar");
    assert_eq!(failure.check, Check::Trust);
    assert_eq!(failure.at, "registrars");
}
