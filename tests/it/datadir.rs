//! The data directory, black-box: `import`, `export`, `replay`, every projection command
//! with `--data` instead of `--log`, and tampering with the SQLite file behind the store's
//! back.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use overens_core::Digest32;
use overens_tests::{Run, example_log, example_registrar, overens, overens_with_env};
use tempfile::TempDir;

/// A temporary folder; the data directory is `DIR/data` inside it, so tests can check that
/// a refused first import does not even create it.
struct Dir {
    tmp: TempDir,
}

impl Dir {
    fn new() -> Self {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn store(&self) -> PathBuf {
        self.data().join("overens.sqlite")
    }

    /// `overens COMMAND --data DIR ARGS…`
    fn run(&self, command: &str, args: &[&str]) -> Run {
        let mut all: Vec<OsString> = vec![command.into(), "--data".into(), self.data().into()];
        all.extend(args.iter().map(Into::into));
        overens(all)
    }

    /// `overens import --data DIR [--registrar KEY] FILE…`
    fn import(&self, registrar: Option<&Path>, files: &[&Path]) -> Run {
        let mut all: Vec<OsString> = vec!["import".into(), "--data".into(), self.data().into()];
        if let Some(key) = registrar {
            all.extend(["--registrar".into(), key.into()]);
        }
        all.extend(files.iter().map(Into::into));
        overens(all)
    }

    /// A data directory holding the whole example log.
    fn with_examples() -> Self {
        let dir = Dir::new();
        dir.import(Some(&example_registrar()), &[&example_log()])
            .expect_code(0);
        dir
    }

    /// The store's log file, through `export --out -`.
    fn export(&self) -> String {
        let run = self.run("export", &["--out", "-"]);
        run.expect_code(0);
        run.stdout
    }

    fn write(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.path(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        fs::write(&path, text).expect("write log file");
        path
    }

    fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store()).expect("open the store with rusqlite")
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn example_lines() -> Vec<String> {
    let text = fs::read_to_string(example_log()).expect("read the example log");
    text.lines().map(str::to_owned).collect()
}

/// Another key than the examples' registrar (a party's signatory key).
fn other_key() -> PathBuf {
    let path = example_registrar().with_file_name("kson-1.pub");
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// Flips the case of the first letter of a note, an ordinary string of a payload: the line
/// stays canonical JSON and only the signature can tell.
fn flip_note(text: &str) -> String {
    let at = text.find("\"note\":\"").expect("a note") + "\"note\":\"".len();
    let mut bytes = text.as_bytes().to_vec();
    assert!(bytes[at].is_ascii_alphabetic(), "{text}");
    bytes[at] ^= 0x20;
    String::from_utf8(bytes).expect("still UTF-8")
}

/// The line number (1-based) of the first example record, from index 40 on, with a note.
fn noted_line() -> usize {
    example_lines()
        .iter()
        .enumerate()
        .skip(40)
        .find(|(_, l)| l.contains("\"note\":\""))
        .map(|(i, _)| i + 1)
        .expect("an example record with a note after index 40")
}

// ---- import, export, replay ------------------------------------------------------------

#[test]
fn import_then_export_gives_the_same_bytes() {
    let dir = Dir::new();
    let run = dir.import(Some(&example_registrar()), &[&example_log()]);
    run.expect_code(0)
        .stdout_has(&["imported 97 records, 0 already present", "holds 97 records"]);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let registrars = fs::read_to_string(dir.data().join("registrars.txt")).expect("anchors");
    let key = fs::read_to_string(example_registrar()).expect("key");
    assert!(registrars.contains(key.trim()), "{registrars}");

    let original = fs::read(example_log()).expect("read the example log");
    let out = dir.path("export.jsonl");
    dir.run("export", &["--out", out.to_str().expect("utf-8 path")])
        .expect_code(0)
        .stdout_has(&["exported 97 records to "]);
    assert!(
        fs::read(&out).expect("export written") == original,
        "the same bytes"
    );
    assert_eq!(dir.export().as_bytes(), original.as_slice(), "--out - too");
    let leftovers: Vec<_> = fs::read_dir(dir.tmp.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // One stream: its records, with their global indexes, in log order.
    let stream = "agreement/norrtalje-bus";
    let expected: String = example_lines()
        .iter()
        .filter(|l| l.contains(&format!("\"stream\":\"{stream}\"")))
        .map(|l| format!("{l}\n"))
        .collect();
    let run = dir.run("export", &["--stream", stream, "--out", "-"]);
    run.expect_code(0);
    assert!(!expected.is_empty());
    assert_eq!(run.stdout, expected);
    dir.run("export", &["--stream", "agreement/okand", "--out", "-"])
        .expect_code(2)
        .stderr_has(&["holds no stream `agreement/okand`"]);
}

#[test]
fn files_continue_the_stored_log_and_a_second_import_finds_everything_present() {
    let lines = example_lines();
    let dir = Dir::new();
    let first = dir.write("first.jsonl", &lines[..50]);
    let rest = dir.write("rest.jsonl", &lines[50..]);
    dir.import(Some(&example_registrar()), &[&first])
        .expect_code(0)
        .stdout_has(&["imported 50 records, 0 already present"]);
    // Later imports need no --registrar: the directory recorded its anchors.
    dir.import(None, &[&first, &rest])
        .expect_code(0)
        .stdout_has(&[
            "imported 47 records, 50 already present",
            "holds 97 records",
        ]);
    dir.import(None, &[&example_log()])
        .expect_code(0)
        .stdout_has(&["imported 0 records, 97 already present", "holds 97 records"]);
    // The same keys again are fine.
    dir.import(Some(&example_registrar()), &[&rest])
        .expect_code(0)
        .stdout_has(&["imported 0 records, 47 already present"]);
    assert_eq!(
        dir.export(),
        fs::read_to_string(example_log()).expect("log")
    );

    // Files are one log, in order: not the same records twice, not out of order.
    dir.import(None, &[&rest, &first])
        .expect_code(1)
        .stderr_has(&[
            "first.jsonl: line 1, index 0",
            "index 0 where 97 was expected",
        ]);
}

#[test]
fn replay_prints_one_summary_line() {
    let dir = Dir::with_examples();
    let run = dir.run("replay", &[]);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let line = run.stdout.trim_end();
    let rest = line
        .strip_prefix("replayed 97 events in ")
        .unwrap_or_else(|| panic!("{line}"));
    let (seconds, rest) = rest.split_once(" s (").unwrap_or_else(|| panic!("{line}"));
    seconds.parse::<f64>().expect("seconds");
    let (rate, rest) = rest
        .split_once(" events/s); ")
        .unwrap_or_else(|| panic!("{line}"));
    rate.parse::<u64>().expect("events per second");
    assert_eq!(rest, "2 agreements, 10 parties");
    // stderr is not a terminal here: no progress bar.
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn commands_on_a_directory_without_a_store_do_not_create_one() {
    let dir = Dir::new();
    for command in ["replay", "agreements", "verify-log"] {
        dir.run(command, &[])
            .expect_code(2)
            .stderr_has(&["holds no store", "overens import"]);
    }
    dir.run("export", &["--out", "-"])
        .expect_code(2)
        .stderr_has(&["holds no store"]);
    assert!(!dir.data().exists(), "nothing created");

    // Exactly one source.
    let log = example_log();
    let log = log.to_str().expect("utf-8 path");
    dir.run("agreements", &["--log", log])
        .expect_code(2)
        .stderr_has(&["cannot be used with"]);
    overens(["agreements"]).expect_code(2);
}

// ---- the same answers from a data directory as from the log file -----------------------

#[test]
fn every_projection_answers_the_same_from_data_as_from_the_log() {
    let dir = Dir::with_examples();
    let log = example_log();
    let key = example_registrar();
    let from_log = |command: &str, args: &[&str]| {
        let mut all: Vec<OsString> = vec![
            command.into(),
            "--log".into(),
            log.clone().into(),
            "--registrar".into(),
            key.clone().into(),
        ];
        all.extend(args.iter().map(Into::into));
        overens(all)
    };
    let compare = |command: &str, args: &[&str]| {
        let expected = from_log(command, args);
        expected.expect_code(0);
        assert!(!expected.stdout.is_empty(), "{command} {args:?}");
        let got = dir.run(command, args);
        got.expect_code(0);
        assert_eq!(got.stdout, expected.stdout, "{command} {args:?}");
        assert!(got.stderr.is_empty(), "{}", got.stderr);
    };

    compare("agreements", &[]);
    compare("agreements", &["--json"]);
    let listed = from_log("agreements", &["--json"]).json();
    let ids: Vec<String> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let id = id.as_str();
        for json in [&[][..], &["--json"][..]] {
            let with = |extra: &[&str]| -> Vec<String> {
                let mut all = vec!["--agreement".to_owned(), id.to_owned()];
                all.extend(extra.iter().map(|s| (*s).to_owned()));
                all.extend(json.iter().map(|s| (*s).to_owned()));
                all
            };
            compare("versions", &args(&with(&[])));
            compare("signatures", &args(&with(&[])));
            compare("timeline", &args(&with(&[])));
            for (on, as_of) in [
                ("2013-01-01", "2026-01-01T00:00:00Z"),
                ("2013-01-01", "2030-01-01T00:00:00Z"),
                ("2021-06-01", "2030-01-01T00:00:00Z"),
            ] {
                compare("in-force", &args(&with(&["--on", on, "--as-of", as_of])));
            }
            let count = from_log("versions", &["--agreement", id, "--json"])
                .json()
                .as_array()
                .map_or(0, Vec::len);
            if count >= 2 {
                let to = count.to_string();
                compare("diff", &args(&with(&["--from", "1", "--to", &to])));
            }
        }
    }

    // verify-log names its source; the rest of the line is the same.
    let file = from_log("verify-log", &[]);
    file.expect_code(0);
    let data = dir.run("verify-log", &[]);
    data.expect_code(0);
    let log_text = log.to_str().expect("utf-8 path");
    let dir_text = dir.data();
    let dir_text = dir_text.to_str().expect("utf-8 path");
    assert_eq!(
        data.stdout.replacen(dir_text, "SOURCE", 1),
        file.stdout.replacen(log_text, "SOURCE", 1)
    );

    // The directory's own keys may be given again, on the line or in the environment.
    let key_text = key.to_str().expect("utf-8 path");
    dir.run("agreements", &["--registrar", key_text])
        .expect_code(0);
    let data_path = dir.data();
    overens_with_env(
        [
            "agreements".as_ref(),
            "--data".as_ref(),
            data_path.as_os_str(),
        ],
        &[("OVERENS_REGISTRAR", key_text)],
    )
    .expect_code(0);
}

// ---- refusals ------------------------------------------------------------------------

#[test]
fn other_registrar_keys_are_refused() {
    let dir = Dir::with_examples();
    let before = dir.export();
    let other = other_key();
    dir.import(Some(&other), &[&example_log()])
        .expect_code(2)
        .stderr_has(&["registrars.txt trusts other registrar keys than the ones given"]);
    let other = other.to_str().expect("utf-8 path");
    for command in ["replay", "agreements"] {
        let run = dir.run(command, &["--registrar", other]);
        run.expect_code(2)
            .stderr_has(&["trusts other registrar keys"]);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert_eq!(dir.export(), before, "unchanged");
}

#[test]
fn a_refused_first_import_leaves_nothing_behind() {
    let dir = Dir::new();
    // Wrong trust anchors: the very first record is not signed by a registrar.
    dir.import(Some(&other_key()), &[&example_log()])
        .expect_code(1)
        .stderr_has(&[
            "refused, nothing was changed",
            "log.jsonl: line 1, index 0, stream directory, seq 0: rule broken: \
             PartyRegistered must be signed by a registrar",
        ]);
    assert!(
        !dir.data().exists(),
        "no directory, no store, no recorded keys"
    );
    // No keys at all.
    dir.import(None, &[&example_log()])
        .expect_code(2)
        .stderr_has(&["records no registrar keys", "--registrar"]);
    assert!(!dir.data().exists());
    // The right keys still work afterwards: the wrong ones were never recorded.
    dir.import(Some(&example_registrar()), &[&example_log()])
        .expect_code(0);
}

#[test]
fn a_tampered_file_is_refused_and_the_store_is_unchanged() {
    let lines = example_lines();
    let dir = Dir::new();
    let first = dir.write("first.jsonl", &lines[..40]);
    dir.import(Some(&example_registrar()), &[&first])
        .expect_code(0);
    let before = dir.export();
    let stored = fs::read(dir.store()).expect("store");

    // A flipped letter in a record the store does not hold yet.
    let line = noted_line();
    let mut bad = lines.clone();
    bad[line - 1] = flip_note(&bad[line - 1]);
    let bad = dir.write("bad.jsonl", &bad);
    let run = dir.import(None, &[&bad]);
    run.expect_code(1).stderr_has(&[
        "refused, nothing was changed",
        &format!(
            "bad.jsonl: line {line}, index {}, stream agreement/",
            line - 1
        ),
        "signature does not verify",
    ]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // A flipped letter in a record the store holds: the file does not continue it.
    let held = lines[..40]
        .iter()
        .position(|l| l.contains("\"note\":\""))
        .map(|i| i + 1);
    if let Some(held) = held {
        let mut bad = lines.clone();
        bad[held - 1] = flip_note(&bad[held - 1]);
        let bad = dir.write("bad-held.jsonl", &bad);
        dir.import(None, &[&bad])
            .expect_code(1)
            .stderr_has(&[&format!(
                "bad-held.jsonl line {held}: the store already holds index {} with other bytes",
                held - 1
            )]);
    }

    // A missing record.
    let mut gap = lines.clone();
    gap.remove(60);
    let gap = dir.write("gap.jsonl", &gap);
    dir.import(None, &[&gap])
        .expect_code(1)
        .stderr_has(&["gap.jsonl: line 61, index 61", "where 60 was expected"]);

    assert_eq!(dir.export(), before, "the store is unchanged");
    assert!(
        fs::read(dir.store()).expect("store") == stored,
        "byte for byte"
    );
}

// ---- tampering with the SQLite file ----------------------------------------------------

/// What every command that reads a tampered store must do: exit 1, name the index, and
/// print nothing on stdout as if the store were valid.
fn assert_refused(dir: &Dir, index: u64, what: &str) {
    let index = format!("index {index}");
    let replay = dir.run("replay", &[]);
    replay
        .expect_code(1)
        .stderr_has(&["does not verify", &index, what]);
    assert!(replay.stdout.is_empty(), "{}", replay.stdout);

    let in_force = dir.run(
        "in-force",
        &["--agreement", "norrtalje-bus", "--on", "2013-01-01"],
    );
    in_force
        .expect_code(1)
        .stderr_has(&["does not verify", &index, what]);
    assert!(in_force.stdout.is_empty(), "{}", in_force.stdout);

    for (command, args) in [
        ("agreements", &["--json"][..]),
        ("verify-log", &[][..]),
        ("export", &["--out", "-"][..]),
    ] {
        let run = dir.run(command, args);
        run.expect_code(1).stderr_has(&[&index]);
        assert!(run.stdout.is_empty(), "{command}: {}", run.stdout);
    }
    // Nothing is imported on top of it either.
    let run = dir.import(None, &[&example_log()]);
    run.expect_code(1).stderr_has(&[&index]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// The index of the first stored record from 40 on whose envelope holds a note.
fn noted_index(conn: &rusqlite::Connection) -> (u64, Vec<u8>) {
    let (index, envelope): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT idx, envelope FROM events WHERE idx >= 40 AND instr(envelope, ?1) > 0 \
             ORDER BY idx LIMIT 1",
            [b"\"note\":\"".as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a stored record with a note");
    (u64::try_from(index).expect("index"), envelope)
}

#[test]
fn a_changed_byte_of_a_stored_envelope_is_refused() {
    let dir = Dir::with_examples();
    let conn = dir.sqlite();
    let (index, envelope) = noted_index(&conn);
    let text = String::from_utf8(envelope).expect("UTF-8 envelope");
    let changed = flip_note(&text);
    let rows = conn
        .execute(
            "UPDATE events SET envelope = ?1 WHERE idx = ?2",
            rusqlite::params![changed.as_bytes(), index as i64],
        )
        .expect("update");
    assert_eq!(rows, 1);
    drop(conn);
    assert_refused(
        &dir,
        index,
        "the stored event hash does not match the envelope",
    );
}

#[test]
fn a_changed_envelope_with_recomputed_hashes_still_fails_its_signature() {
    // Someone who knows the schema recomputes the event hash and the leaf hash: the
    // signature is what they cannot recompute.
    let dir = Dir::with_examples();
    let conn = dir.sqlite();
    let (index, envelope) = noted_index(&conn);
    let changed = flip_note(&String::from_utf8(envelope).expect("UTF-8 envelope"));
    let recorded_at: String = conn
        .query_row(
            "SELECT recorded_at FROM events WHERE idx = ?1",
            [index as i64],
            |r| r.get(0),
        )
        .expect("recorded_at");
    let hash = Digest32::of(changed.as_bytes());
    let line =
        format!("{{\"event\":{changed},\"index\":{index},\"recorded_at\":\"{recorded_at}\"}}");
    let mut leaf_input = vec![0u8];
    leaf_input.extend_from_slice(line.as_bytes());
    let leaf = Digest32::of(&leaf_input);
    conn.execute(
        "UPDATE events SET envelope = ?1, hash = ?2, leaf = ?3 WHERE idx = ?4",
        rusqlite::params![
            changed.as_bytes(),
            hash.0.as_slice(),
            leaf.0.as_slice(),
            index as i64
        ],
    )
    .expect("update");
    drop(conn);
    assert_refused(&dir, index, "signature does not verify");
}

#[test]
fn a_deleted_row_is_refused() {
    let dir = Dir::with_examples();
    let conn = dir.sqlite();
    let rows = conn
        .execute("DELETE FROM events WHERE idx = 40", [])
        .expect("delete");
    assert_eq!(rows, 1);
    drop(conn);
    assert_refused(&dir, 40, "missing");
}

#[test]
fn an_edited_recorded_at_is_refused() {
    let dir = Dir::with_examples();
    let conn = dir.sqlite();
    let times = |conn: &rusqlite::Connection| -> (String, String) {
        conn.query_row(
            "SELECT (SELECT recorded_at FROM events WHERE idx = 39), \
                    (SELECT recorded_at FROM events WHERE idx = 40)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("recorded_at")
    };
    let (earlier, at) = times(&conn);
    assert_ne!(earlier, at, "the example records 39 and 40 apart");
    // Still a valid time, and still in order: only the leaf hash can tell.
    conn.execute(
        "UPDATE events SET recorded_at = ?1 WHERE idx = 40",
        [&earlier],
    )
    .expect("update");
    assert_eq!(times(&conn).1, earlier);
    drop(conn);
    assert_refused(&dir, 40, "the stored leaf hash does not match the record");
}

// ---- reading beside a running server -----------------------------------------------------

/// Projection commands and export open the store read-only, so they answer beside a server
/// that holds the directory (a backup while it runs), with what the store had committed;
/// writing commands are still refused there, and change nothing.
#[test]
fn reading_commands_answer_beside_a_running_server() {
    let dir = Dir::with_examples();
    let reads: [(&str, &[&str]); 6] = [
        ("agreements", &["--json"]),
        ("export", &["--out", "-"]),
        (
            "in-force",
            &[
                "--agreement",
                "norrtalje-bus",
                "--on",
                "2013-01-01",
                "--as-of",
                "2030-01-01T00:00:00Z",
            ],
        ),
        ("versions", &["--agreement", "norrtalje-bus", "--json"]),
        ("signatures", &["--agreement", "norrtalje-bus"]),
        ("verify-log", &[]),
    ];
    let alone: Vec<String> = reads
        .iter()
        .map(|(command, args)| {
            let run = dir.run(command, args);
            run.expect_code(0);
            run.stdout.clone()
        })
        .collect();
    let log_before = dir.export();

    let data = dir.data();
    let data = data.to_str().expect("UTF-8 path");
    let mut server = overens_tests::Server::start(&["--data", data, "--listen", "127.0.0.1:0"]);
    for ((command, args), expected) in reads.iter().zip(&alone) {
        let run = dir.run(command, args);
        run.expect_code(0);
        assert_eq!(&run.stdout, expected, "{command} beside the server");
    }
    // Writing still needs the directory to itself.
    dir.import(None, &[&example_log()])
        .expect_code(2)
        .stderr_has(&["in use by another process"]);
    assert_eq!(server.get_ok("/healthz")["log_len"], 97);
    assert!(
        server
            .terminate(std::time::Duration::from_secs(20))
            .success()
    );
    assert_eq!(dir.export(), log_before, "nothing changed");
}
