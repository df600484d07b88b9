//! The `overens` binary, black-box: key generation, log verification, tampering, and queries.

use std::fs;
use std::path::{Path, PathBuf};

use overens_core::{PublicKey, SecretKey};
use overens_tests::{
    Run, TINY_AGREEMENT, example_log, example_registrar, overens, overens_with_env, tiny_log,
};
use tempfile::TempDir;

/// A temporary directory holding the tiny log and its registrar key.
struct Fixture {
    dir: TempDir,
    log: PathBuf,
    registrar: String,
    lines: Vec<String>,
}

impl Fixture {
    fn new() -> Self {
        let tiny = tiny_log();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("log.jsonl");
        fs::write(&log, tiny.text()).expect("write log");
        Fixture {
            registrar: tiny.registrar_key(),
            lines: tiny.builder.lines().to_vec(),
            log,
            dir,
        }
    }

    /// Writes a variant of the log and returns its path.
    fn variant(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.dir.path().join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        fs::write(&path, text).expect("write variant");
        path
    }

    fn verify(&self, log: &Path) -> Run {
        overens([
            "verify-log".as_ref(),
            log.as_os_str(),
            "--registrar".as_ref(),
            self.registrar.as_ref(),
        ])
    }

    /// Runs a query command on the tiny log's agreement.
    fn query(&self, command: &str, extra: &[&str]) -> Run {
        let log = self.log.to_str().expect("utf-8 path");
        let mut args = vec![
            command,
            "--log",
            log,
            "--registrar",
            &self.registrar,
            "--agreement",
            TINY_AGREEMENT,
        ];
        args.extend_from_slice(extra);
        overens(args)
    }
}

// ---- keygen ----------------------------------------------------------------------------

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn keygen_writes_an_owner_only_secret_and_a_matching_public_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("anna.key");
    let run = overens(["keygen".as_ref(), "--out".as_ref(), out.as_os_str()]);
    run.expect_code(0);

    let printed = run.stdout.trim_end_matches('\n');
    assert_eq!(run.stdout, format!("{printed}\n"), "exactly one line");
    let public: PublicKey = printed.parse().expect("stdout is a public key");
    let pub_file = fs::read_to_string(dir.path().join("anna.key.pub")).expect(".pub written");
    assert_eq!(pub_file, format!("{public}\n"));

    let secret_text = fs::read_to_string(&out).expect("key written");
    assert!(secret_text.ends_with('\n') && secret_text.lines().count() == 1);
    let secret = SecretKey::from_text(&secret_text).expect("key file holds a seed");
    assert_eq!(secret.public(), public, "the .pub belongs to the key");
    #[cfg(unix)]
    assert_eq!(
        mode(&out),
        0o600,
        "the secret is readable by its owner only"
    );

    let again = dir.path().join("other.key");
    let second = overens(["keygen".as_ref(), "--out".as_ref(), again.as_os_str()]);
    second.expect_code(0);
    assert_ne!(second.stdout, run.stdout, "every key is fresh");
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("k");
    overens(["keygen".as_ref(), "--out".as_ref(), out.as_os_str()]).expect_code(0);
    let before = fs::read_to_string(&out).expect("key");

    overens(["keygen".as_ref(), "--out".as_ref(), out.as_os_str()])
        .expect_code(2)
        .stderr_has(&["already exists", "--force"]);
    assert_eq!(fs::read_to_string(&out).expect("key"), before, "untouched");

    // The .pub alone existing is enough to refuse: no half-written pair.
    let lone = dir.path().join("lone");
    fs::write(dir.path().join("lone.pub"), "x\n").expect("write");
    overens(["keygen".as_ref(), "--out".as_ref(), lone.as_os_str()])
        .expect_code(2)
        .stderr_has(&["lone.pub already exists"]);
    assert!(!lone.exists(), "no secret written when the pair cannot be");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let forced = overens([
        "keygen".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--force".as_ref(),
    ]);
    forced.expect_code(0);
    let after = fs::read_to_string(&out).expect("key");
    assert_ne!(after, before, "--force writes a new key");
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600, "an overwritten key is tightened to 0600");
    let public = SecretKey::from_text(&after).expect("seed").public();
    assert_eq!(forced.stdout, format!("{public}\n"));
}

// ---- verify-log ------------------------------------------------------------------------

#[test]
fn verify_log_accepts_a_valid_log_with_one_summary_line() {
    let f = Fixture::new();
    let run = f.verify(&f.log);
    run.expect_code(0).stdout_has(&[
        "19 records",
        "2 streams",
        "1 agreement,",
        "2 parties",
        "2 signatories",
        "last recorded at 2022-05-01T12:00:00Z",
    ]);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    // `--log` works as for every other command.
    let log = f.log.to_str().expect("utf-8 path");
    overens(["verify-log", "--log", log, "--registrar", &f.registrar]).expect_code(0);
}

#[test]
fn registrar_keys_come_from_files_and_the_environment() {
    let f = Fixture::new();
    let other = SecretKey::from_seed(&[9; 32]).public();
    let keys = f.dir.path().join("registrars");
    fs::write(
        &keys,
        format!(
            "# the trust anchors\n\n{other}  # an old registrar\n{}\n",
            f.registrar
        ),
    )
    .expect("write keys");
    let log = f.log.to_str().expect("utf-8 path");
    let keys = keys.to_str().expect("utf-8 path");
    overens(["verify-log", log, "--registrar", keys]).expect_code(0);
    overens_with_env(["verify-log", log], &[("OVERENS_REGISTRAR", &f.registrar)]).expect_code(0);
    overens_with_env(["verify-log", log], &[("OVERENS_REGISTRAR", keys)]).expect_code(0);
}

#[test]
fn a_flipped_byte_in_an_envelope_is_named() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    // Line 6 is the first SectionRevised; flip the case of one letter of its text.
    let at = lines[5].find("samverka kring").expect("section text") + 2;
    let mut bytes = lines[5].clone().into_bytes();
    bytes[at] ^= 0x20;
    lines[5] = String::from_utf8(bytes).expect("still UTF-8");
    f.verify(&f.variant("flipped.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 6, index 5, stream agreement/samverkan, seq 1: \
             signature does not verify against the signer key"]);
}

#[test]
fn a_flipped_byte_in_a_signature_is_named() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    let at = lines[11].find("\"sig\":\"").expect("sig") + 10;
    let mut bytes = lines[11].clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    lines[11] = String::from_utf8(bytes).expect("UTF-8");
    f.verify(&f.variant("sig.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 12, index 11, stream agreement/samverkan, seq 7: signature"]);
}

#[test]
fn a_deleted_line_is_named() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    lines.remove(6);
    f.verify(&f.variant("deleted.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 7, index 7, stream agreement/samverkan, seq 3: \
             index 7 where 6 was expected (a record is missing, repeated or out of order)"]);
}

#[test]
fn swapped_lines_are_named() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    lines.swap(7, 8);
    f.verify(&f.variant("swapped.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&[
            "line 8, index 8, stream agreement/samverkan, seq 4: index 8 where 7 was expected",
        ]);
}

#[test]
fn a_duplicated_line_is_named() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    let copy = lines[4].clone();
    lines.insert(5, copy);
    f.verify(&f.variant("duplicated.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&[
            "line 6, index 4, stream agreement/samverkan, seq 0: index 4 where 5 was expected",
        ]);
}

#[test]
fn a_dropped_tail_is_a_valid_prefix() {
    // A log file alone cannot show that records were cut off its end: that takes a signed
    // checkpoint. The summary at least says how many records were checked.
    let f = Fixture::new();
    let lines = &f.lines[..18];
    f.verify(&f.variant("prefix.jsonl", lines))
        .expect_code(0)
        .stdout_has(&["18 records"]);
}

#[test]
fn a_log_signed_by_an_untrusted_registrar_fails_on_its_first_line() {
    let f = Fixture::new();
    let stranger = SecretKey::from_seed(&[9; 32]).public().to_string();
    let log = f.log.to_str().expect("utf-8 path");
    overens(["verify-log", log, "--registrar", &stranger])
        .expect_code(1)
        .stderr_has(&["line 1, index 0, stream directory, seq 0: rule broken: \
             PartyRegistered must be signed by a registrar"]);
}

#[test]
fn malformed_logs_get_precise_errors() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    lines[2] = "this is not JSON".into();
    f.verify(&f.variant("garbage.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 3: malformed log record: expected"]);

    let mut lines = f.lines.clone();
    lines[0] = lines[0].replacen(':', ": ", 1);
    f.verify(&f.variant("spaced.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 1: log record is not in canonical form"]);

    let mut lines = f.lines.clone();
    lines.insert(3, String::new());
    f.verify(&f.variant("blank.jsonl", &lines))
        .expect_code(1)
        .stderr_has(&["line 4: malformed log record"]);

    let mut text: String = f.lines[..3].iter().map(|l| format!("{l}\n")).collect();
    text.truncate(text.len() - 20);
    let cut = f.dir.path().join("cut.jsonl");
    fs::write(&cut, text).expect("write");
    f.verify(&cut)
        .expect_code(1)
        .stderr_has(&["line 3: malformed log record"]);

    let mut bytes: Vec<u8> = f.lines[..4]
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    bytes.extend_from_slice(b"\xff\xfe\n");
    let binary = f.dir.path().join("binary.jsonl");
    fs::write(&binary, bytes).expect("write");
    f.verify(&binary)
        .expect_code(1)
        .stderr_has(&["line 5: not UTF-8"]);

    let empty = f.variant("empty.jsonl", &[]);
    f.verify(&empty)
        .expect_code(0)
        .stdout_has(&["0 records", "nothing recorded"]);
}

#[test]
fn bad_registrar_arguments_are_usage_errors() {
    let f = Fixture::new();
    let log = f.log.to_str().expect("utf-8 path");

    overens(["verify-log", log]).expect_code(2).stderr_has(&[
        "no registrar key given",
        "trust anchors",
        "--registrar",
    ]);

    overens(["verify-log", log, "--registrar", "AAAA"])
        .expect_code(2)
        .stderr_has(&["--registrar `AAAA` is neither a public key \
             (wrong length: expected 32 bytes, got 3) nor the name of an existing file"]);

    let long = format!("{}AAAA", f.registrar);
    overens(["verify-log", log, "--registrar", &long])
        .expect_code(2)
        .stderr_has(&["wrong length: expected 32 bytes, got 35"]);

    let keys = f.dir.path().join("keys.txt");
    fs::write(&keys, format!("{}\nnot-a-key\n", f.registrar)).expect("write");
    overens([
        "verify-log".as_ref(),
        log.as_ref(),
        "--registrar".as_ref(),
        keys.as_os_str(),
    ])
    .expect_code(2)
    .stderr_has(&["keys.txt, line 2: `not-a-key` is not a public key"]);

    let empty = f.dir.path().join("none.txt");
    fs::write(&empty, "# nobody\n\n").expect("write");
    overens([
        "verify-log".as_ref(),
        log.as_ref(),
        "--registrar".as_ref(),
        empty.as_os_str(),
    ])
    .expect_code(2)
    .stderr_has(&["none.txt holds no keys"]);

    let missing = f.dir.path().join("missing.jsonl");
    overens([
        "verify-log".as_ref(),
        missing.as_os_str(),
        "--registrar".as_ref(),
        f.registrar.as_ref(),
    ])
    .expect_code(2)
    .stderr_has(&["cannot read", "missing.jsonl"]);
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    let f = Fixture::new();
    f.query("in-force", &["--on", "2021-13-01"])
        .expect_code(2)
        .stderr_has(&["not a date of the form YYYY-MM-DD"]);
    f.query("in-force", &["--on", "2021-01-01", "--as-of", "yesterday"])
        .expect_code(2)
        .stderr_has(&["not an RFC 3339 instant"]);
    f.query("versions", &["--agreement", "Not A Slug"])
        .expect_code(2);
    overens(["in-force", "--agreement", "x"]).expect_code(2);
    overens(["no-such-command"]).expect_code(2);

    let help = overens(["--help"]);
    help.expect_code(0).stdout_has(&[
        "Exit status:",
        "1  the log failed verification",
        "2  bad usage",
    ]);
    overens(["verify-log", "--help"])
        .expect_code(0)
        .stdout_has(&["Exit status:", "--registrar <KEY|FILE>"]);
}

#[test]
fn unknown_agreements_and_versions_exit_2() {
    let f = Fixture::new();
    let log = f.log.to_str().expect("utf-8 path");
    overens([
        "versions",
        "--log",
        log,
        "--registrar",
        &f.registrar,
        "--agreement",
        "okand",
    ])
    .expect_code(2)
    .stderr_has(&["no agreement `okand` in the log (it holds: samverkan)"]);
    f.query("diff", &["--from", "1", "--to", "3"])
        .expect_code(2)
        .stderr_has(&["agreement `samverkan` has no version 3 (versions are 1 to 2)"]);
    f.query("diff", &["--from", "0", "--to", "2"])
        .expect_code(2)
        .stderr_has(&["has no version 0"]);
}

// ---- queries ---------------------------------------------------------------------------

#[test]
fn in_force_json_has_exactly_the_seven_fields() {
    let f = Fixture::new();
    let run = f.query(
        "in-force",
        &[
            "--on",
            "2020-06-01",
            "--as-of",
            "2024-01-01T00:00:00Z",
            "--json",
        ],
    );
    run.expect_code(0);
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one JSON object: {}",
        run.stdout
    );
    let json = run.json();
    let object = json.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "agreement",
            "as_of",
            "content_hash",
            "in_force_from",
            "in_force_until",
            "on",
            "version"
        ]
    );
    assert_eq!(json["agreement"], "samverkan");
    assert_eq!(json["on"], "2020-06-01");
    assert_eq!(json["as_of"], "2024-01-01T00:00:00Z");
    assert_eq!(json["version"], 1);
    assert_eq!(json["in_force_from"], "2020-03-01");
    assert_eq!(json["in_force_until"], "2021-03-01");
    let hash = json["content_hash"].as_str().expect("hex");
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));

    let later = f
        .query("in-force", &["--on", "2023-01-01", "--json"])
        .json();
    assert_eq!(later["version"], 2);
    assert_eq!(later["in_force_until"], serde_json::Value::Null);
    assert_ne!(later["content_hash"], json["content_hash"]);
}

#[test]
fn in_force_is_bitemporal() {
    let f = Fixture::new();
    // Before the agreement's first day nothing applied.
    let before = f
        .query("in-force", &["--on", "2020-02-28", "--json"])
        .json();
    assert_eq!(before["version"], serde_json::Value::Null);
    assert_eq!(before["content_hash"], serde_json::Value::Null);
    assert_eq!(before["in_force_from"], serde_json::Value::Null);
    assert_eq!(before["in_force_until"], serde_json::Value::Null);

    // Version 1 applied from 2020-03-01, but the log learned so only when the paper
    // signature was recorded on 2020-02-26 at 14:00:01.
    let early = f.query(
        "in-force",
        &[
            "--on",
            "2020-06-01",
            "--as-of",
            "2020-02-26T14:00:00Z",
            "--json",
        ],
    );
    assert_eq!(early.json()["version"], serde_json::Value::Null);
    let known = f.query(
        "in-force",
        &[
            "--on",
            "2020-06-01",
            "--as-of",
            "2020-02-26T16:00:00+01:00",
            "--json",
        ],
    );
    assert_eq!(known.json()["version"], 1);
    assert_eq!(known.json()["as_of"], "2020-02-26T15:00:00Z");
    // Before version 2 was signed, version 1 looked open-ended.
    let then = f.query(
        "in-force",
        &[
            "--on",
            "2021-06-01",
            "--as-of",
            "2021-01-01T00:00:00Z",
            "--json",
        ],
    );
    assert_eq!(then.json()["version"], 1);
    assert_eq!(then.json()["in_force_until"], serde_json::Value::Null);
}

#[test]
fn in_force_reads_well() {
    let f = Fixture::new();
    f.query(
        "in-force",
        &["--on", "2021-06-01", "--as-of", "2024-01-01T00:00:00Z"],
    )
    .expect_code(0)
    .stdout_has(&[
        "Version 2 of samverkan was in force on 2021-06-01 \
         (from 2021-03-01, still in force), as known at 2024-01-01T00:00:00Z.",
        "Content hash: ",
    ]);
    f.query(
        "in-force",
        &["--on", "2020-06-01", "--as-of", "2024-01-01T00:00:00Z"],
    )
    .expect_code(0)
    .stdout_has(&["Version 1 of samverkan", "from 2020-03-01 until 2021-03-01"]);
    f.query("in-force", &["--on", "2019-01-01"])
        .expect_code(0)
        .stdout_has(&["No version of samverkan was in force on 2019-01-01, as known at "]);
}

#[test]
fn versions_show_status_signatures_and_periods() {
    let f = Fixture::new();
    f.query("versions", &[]).expect_code(0).stdout_has(&[
        "Agreement samverkan: 2 versions",
        "Version 1: superseded",
        "\"första versionen\"",
        "from 2020-03-01 until 2021-03-01 (superseded by version 2)",
        "Version 2: in force",
        "Anna Andersson (kommundirektör, alfa-kommun)",
        "signed by      Alfa kommun (alfa-kommun); Region Beta (region-beta)",
        "from 2021-03-01, still in force",
    ]);
    let json = f.query("versions", &["--json"]).json();
    let list = json.as_array().expect("an array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["number"], 1);
    assert_eq!(list[0]["status"], "superseded");
    assert_eq!(list[0]["proposal"]["note"], "första versionen");
    assert_eq!(list[1]["status"], "in_force");
    assert_eq!(list[1]["in_force_from"], "2021-03-01");
    assert_eq!(list[1]["not_signed"], serde_json::json!([]));
}

#[test]
fn signatures_show_live_and_paper_signatures() {
    let f = Fixture::new();
    let tiny = tiny_log();
    let beta_key = tiny.beta.public().to_string();
    let registrar = tiny.registrar_key();
    f.query("signatures", &[]).expect_code(0).stdout_has(&[
        "Signatures of samverkan: 4 signatures",
        "Alfa kommun (alfa-kommun) signed on 2020-02-20, live",
        "Region Beta (region-beta) signed on 2020-02-25, on paper \
         (evidence: diarienummer RB 2020/17)",
        &format!("recorded by a registrar, key {registrar}"),
        &format!("by Bertil Berg (regiondirektör), key {beta_key}"),
        "recorded at 2020-02-26T14:00:01Z (log index 11)",
    ]);
    let json = f.query("signatures", &["--json"]).json();
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1]["method"]["kind"], "paper");
    assert_eq!(rows[1]["method"]["evidence"], "diarienummer RB 2020/17");
    assert_eq!(rows[1]["signed_on"], "2020-02-25");
    assert_eq!(rows[3]["party"], "region-beta");
    assert_eq!(rows[3]["method"]["kind"], "live");
    assert_eq!(rows[3]["key"], beta_key.as_str());
    assert_eq!(rows[3]["version"], 2);
}

#[test]
fn diff_shows_sections_word_by_word_and_forum_seats() {
    let f = Fixture::new();
    f.query("diff", &["--from", "1", "--to", "2"])
        .expect_code(0)
        .stdout_has(&[
            "Version 1 → version 2 of samverkan",
            "~ syfte (changed)",
            "Parterna ska samverka {+nära +}kring barn och [-unga.-]{+unga och deras familjer.+}",
            "+ uppfoljning \"Uppföljning\" (added)",
            "~ styrgrupp \"Styrgrupp\" (changed)",
            "+ representative beta-skolskoterska: Region Beta (region-beta), skolsköterska \
             (adjunct",
        ]);
    f.query("diff", &["--from", "2", "--to", "2"])
        .expect_code(0)
        .stdout_has(&["No differences."]);
    let json = f
        .query("diff", &["--from", "2", "--to", "1", "--json"])
        .json();
    assert_eq!(json["from"], 2);
    assert_eq!(json["to"], 1);
    let sections = json["sections"].as_array().expect("sections");
    assert!(
        sections
            .iter()
            .any(|s| s["change"] == "removed" && s["section"] == "uppfoljning"),
        "{json}"
    );
    assert_eq!(
        json["forums"][0]["representatives_removed"][0]["adjunct"],
        true
    );
}

#[test]
fn timeline_lists_every_agreement_event() {
    let f = Fixture::new();
    let run = f.query("timeline", &[]);
    run.expect_code(0).stdout_has(&[
        "Timeline of samverkan: 15 events",
        "#4 recorded 2020-02-01T08:00:00Z",
        "AgreementDrafted  by Anna Andersson (kommundirektör, alfa-kommun)",
        "drafted \"Samverkan kring barn och unga\" between Alfa kommun, Region Beta",
        "recorded Region Beta's paper signature of version 1 dated 2020-02-25",
        "proposed version 2 (årlig översyn), effective from 2021-03-01",
        "Region Beta requested renegotiation: nya lagkrav",
    ]);
    let json = f.query("timeline", &["--json"]).json();
    let entries = json.as_array().expect("an array");
    assert_eq!(entries.len(), 15);
    assert_eq!(entries[0]["type"], "AgreementDrafted");
    assert_eq!(entries[0]["stamp"]["index"], 4);
    assert_eq!(entries[14]["type"], "RenegotiationRequested");
    assert_eq!(entries[14]["by"]["name"], "Bertil Berg");
}

#[test]
fn agreements_lists_status() {
    let f = Fixture::new();
    let log = f.log.to_str().expect("utf-8 path");
    overens(["agreements", "--log", log, "--registrar", &f.registrar])
        .expect_code(0)
        .stdout_has(&[
            "samverkan: renegotiation requested; version 2 in force since 2021-03-01",
            "\"Samverkan kring barn och unga\"",
        ]);
    let json = overens([
        "agreements",
        "--log",
        log,
        "--registrar",
        &f.registrar,
        "--json",
    ])
    .json();
    assert_eq!(json[0]["id"], "samverkan");
    assert_eq!(json[0]["status"], "renegotiation_requested");
    assert_eq!(json[0]["version_in_force"], 2);
}

#[test]
fn queries_refuse_a_log_that_does_not_verify() {
    let f = Fixture::new();
    let mut lines = f.lines.clone();
    lines.swap(15, 16);
    let bad = f.variant("bad.jsonl", &lines);
    let bad = bad.to_str().expect("utf-8 path");
    for command in ["versions", "signatures", "timeline"] {
        overens([
            command,
            "--log",
            bad,
            "--registrar",
            &f.registrar,
            "--agreement",
            TINY_AGREEMENT,
        ])
        .expect_code(1)
        .stderr_has(&["does not verify: line 16, index 16"]);
    }
}

// ---- the example log -------------------------------------------------------------------

/// The example log and its registrar key, or a failure saying they are missing.
fn examples() -> (PathBuf, PathBuf) {
    let (log, key) = (example_log(), example_registrar());
    assert!(
        log.is_file() && key.is_file(),
        "the example log ({}) or its registrar key ({}) is missing: generate them with \
         `cargo run -p overens-examples`",
        log.display(),
        key.display()
    );
    (log, key)
}

#[test]
fn the_example_log_verifies() {
    let (log, key) = examples();
    overens([
        "verify-log".as_ref(),
        log.as_os_str(),
        "--registrar".as_ref(),
        key.as_os_str(),
    ])
    .expect_code(0)
    .stdout_has(&["verified", "2 agreements"]);
}

#[test]
fn every_example_agreement_answers_every_query() {
    let (log, key) = examples();
    let base = |command: &str| -> Vec<std::ffi::OsString> {
        vec![
            command.into(),
            "--log".into(),
            log.clone().into(),
            "--registrar".into(),
            key.clone().into(),
        ]
    };
    let listed = overens(base("agreements").into_iter().chain(["--json".into()]));
    listed.expect_code(0);
    let agreements = listed.json();
    let ids: Vec<String> = agreements
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2, "{agreements}");
    for id in &ids {
        let with = |command: &str, extra: &[&str]| {
            let mut args = base(command);
            args.extend(["--agreement", id.as_str()].map(Into::into));
            args.extend(extra.iter().map(Into::into));
            overens(args)
        };
        let versions = with("versions", &["--json"]);
        versions.expect_code(0);
        let count = versions.json().as_array().map_or(0, Vec::len);
        assert!(count >= 1, "{id} has versions");
        with("versions", &[])
            .expect_code(0)
            .stdout_has(&["Version 1"]);
        with("signatures", &[])
            .expect_code(0)
            .stdout_has(&["signed on"]);
        with("timeline", &[])
            .expect_code(0)
            .stdout_has(&["AgreementDrafted"]);
        with("in-force", &["--on", "2024-01-01", "--json"]).expect_code(0);
        if count >= 2 {
            with("diff", &["--from", "1", "--to", &count.to_string()]).expect_code(0);
        }
    }
}

#[test]
fn a_tampered_example_log_is_refused() {
    let (log, key) = examples();
    let text = fs::read_to_string(&log).expect("read example log");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let middle = lines.len() / 2;
    lines.remove(middle);
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("log.jsonl");
    fs::write(
        &bad,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .expect("write");
    overens([
        "verify-log".as_ref(),
        bad.as_os_str(),
        "--registrar".as_ref(),
        key.as_os_str(),
    ])
    .expect_code(1)
    .stderr_has(&[&format!("line {}, index {}", middle + 1, middle + 1)]);
}
