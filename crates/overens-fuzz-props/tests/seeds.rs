//! CI's short fuzzing, on stable: every committed seed and regression input in
//! fuzz/seeds/<target>/ through the very property function its fuzz target runs.

use std::path::{Path, PathBuf};

use overens_fuzz_props::{Outcome, TARGETS, WriteFixture, check_write_with};

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

/// The files of one target's seed directory, in name order.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir().join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, bytes)
        })
        .collect()
}

/// Runs every seed of `target`; each target has seeds, and at least one of them reaches
/// the accepting path (so the properties about accepted inputs are really checked).
fn run(target: &str, check: impl Fn(&[u8]) -> Outcome) {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let mut accepted = 0;
    for (name, bytes) in &seeds {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(bytes)))
            .unwrap_or_else(|_| panic!("{target}: seed {name} breaks a property"));
        if outcome == Outcome::Accepted {
            accepted += 1;
        }
    }
    assert!(accepted > 0, "{target}: no seed is accepted");
}

#[test]
fn every_target_has_a_seed_directory() {
    for (target, _) in TARGETS {
        assert!(seeds_dir().join(target).is_dir(), "fuzz/seeds/{target}");
    }
}

#[test]
fn envelope_seeds() {
    run("envelope", overens_fuzz_props::check_envelope);
}

#[test]
fn record_seeds() {
    run("record", overens_fuzz_props::check_record);
}

#[test]
fn jcs_seeds() {
    run("jcs", overens_fuzz_props::check_jcs);
}

#[test]
fn bundle_seeds() {
    run("bundle", overens_fuzz_props::check_bundle);
}

#[test]
fn merkle_seeds() {
    run("merkle", overens_fuzz_props::check_merkle);
}

#[test]
fn note_seeds() {
    run("note", overens_fuzz_props::check_note);
}

/// With a fixture of its own, deleted afterwards (the fuzz target's lives as long as its
/// process).
#[test]
fn write_seeds() {
    let fixture = WriteFixture::new();
    run("write", |bytes| check_write_with(&fixture, bytes));
}

/// The write target reaches the append itself: a new party, re-signed by the registrar at
/// the directory's head, is appended once (the property then checks the log grew by it)
/// and refused the second time (its id and its party are taken).
#[test]
fn the_write_target_appends_a_resigned_event() {
    let fixture = WriteFixture::new();
    let (_, seed) = seeds("write")
        .into_iter()
        .find(|(name, _)| name == "new-party-resigned.json")
        .expect("the seed");
    assert_eq!(check_write_with(&fixture, &seed), Outcome::Accepted);
    assert_eq!(check_write_with(&fixture, &seed), Outcome::Refused);
}
