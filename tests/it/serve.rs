//! `overens serve` and `overens submit`: the real binary, over real HTTP on the loopback,
//! through the server harness of the support lib (`tests/src/server.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use overens_core::PublicKey;
use overens_core::domain::enrollment_message;
use overens_tests::{Server, example_registrar, overens, workspace_root};
use serde_json::json;
use tempfile::TempDir;

const NORRKOPING: &str = "norrkoping-barn-och-unga";
const NORRTALJE: &str = "norrtalje-bus";
/// A Norrköping party that has not signed version 2 in the example log.
const VARD: &str = "norrkoping-vard-och-omsorgskontoret";
/// Another Norrköping party that has not signed version 2.
const KULTUR: &str = "norrkoping-kultur-och-fritidskontoret";

/// A data directory holding the example log.
fn example_data(tmp: &TempDir) -> PathBuf {
    let data = tmp.path().join("data");
    overens_tests::examples::import_into(&data);
    data
}

fn serve_examples(tmp: &TempDir) -> Server {
    let data = example_data(tmp);
    Server::start(&["--data", path_str(&data), "--listen", "127.0.0.1:0"])
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// An example test key copied with mode 0600: a checkout does not keep file modes, and
/// `overens` refuses a secret key that others can read.
fn private_key(tmp: &TempDir, name: &str) -> PathBuf {
    let from = workspace_root().join(format!("events/examples/keys/{name}.key"));
    let to = tmp.path().join(format!("{name}.key"));
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    set_mode(&to, 0o600);
    to
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A RevisionSigned payload for the open proposal of `agreement`, as the server shows it.
fn signature_payload(server: &Server, tmp: &TempDir, party: &str) -> PathBuf {
    let view = server.get_ok(&format!("/v1/agreements/{NORRKOPING}"));
    let proposal = &view["open_proposal"];
    assert_eq!(proposal["version"], 2, "{view}");
    let payload = json!({
        "version": proposal["version"],
        "content_hash": proposal["content_hash"],
        "party": party,
    });
    let path = tmp.path().join(format!("sign-{party}.json"));
    std::fs::write(&path, payload.to_string()).expect("write payload");
    path
}

fn signed_parties(server: &Server) -> Vec<String> {
    let view = server.get_ok(&format!("/v1/agreements/{NORRKOPING}"));
    view["open_proposal"]["signed"]
        .as_array()
        .unwrap_or_else(|| panic!("no signed list: {view}"))
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn submit(server: &Server, key: &Path, payload: &Path) -> overens_tests::Run {
    overens([
        "submit",
        "--server",
        server.base(),
        "--key",
        path_str(key),
        "--stream",
        &format!("agreement/{NORRKOPING}"),
        "--type",
        "RevisionSigned",
        "--payload",
        path_str(payload),
    ])
}

#[test]
fn serve_answers_health_the_openapi_document_and_reads() {
    let tmp = TempDir::new().expect("tmp");
    let server = serve_examples(&tmp);
    assert!(
        server.output().contains("replayed 97 events"),
        "the log's size is printed{}",
        server.output()
    );

    let health = server.get_ok("/healthz");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["log_len"], 97);

    let openapi = server.get_ok("/openapi.json");
    assert!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
    assert!(openapi["paths"]["/v1/agreements"].is_object(), "{openapi}");

    let agreements = server.get_ok("/v1/agreements");
    let ids: Vec<&str> = agreements
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert!(
        ids.contains(&NORRKOPING) && ids.contains(&NORRTALJE),
        "{ids:?}"
    );

    let (status, problem) = server.get("/v1/agreements/no-such-agreement");
    assert_eq!(status, 404);
    assert_eq!(problem["type"], "/problems/not-found");
}

#[test]
fn submit_signs_with_the_party_key_and_the_server_refuses_another_party() {
    let tmp = TempDir::new().expect("tmp");
    let server = serve_examples(&tmp);
    assert!(!signed_parties(&server).contains(&VARD.to_owned()));

    let vard_key = private_key(&tmp, &format!("{VARD}-1"));
    let payload = signature_payload(&server, &tmp, VARD);
    let run = submit(&server, &vard_key, &payload);
    run.expect_code(0)
        .stdout_has(&["appended", "RevisionSigned", "index 97"]);
    assert!(
        signed_parties(&server).contains(&VARD.to_owned()),
        "the server shows the new signature"
    );
    assert_eq!(server.get_ok("/healthz")["log_len"], 98);

    // The police's key, signing for another party: refused by the server, named.
    let police_key = private_key(&tmp, "polisen-norrkoping-1");
    let payload = signature_payload(&server, &tmp, KULTUR);
    let run = submit(&server, &police_key, &payload);
    run.expect_code(1)
        .stderr_has(&["403", "/problems/signer-not-allowed"]);
    assert!(!signed_parties(&server).contains(&KULTUR.to_owned()));
    assert_eq!(server.get_ok("/healthz")["log_len"], 98, "nothing appended");

    // A second signature of the same version by the same party breaks a rule.
    let payload = signature_payload(&server, &tmp, VARD);
    submit(&server, &vard_key, &payload)
        .expect_code(1)
        .stderr_has(&["422", "/problems/rule-broken"]);
}

#[test]
fn an_envelope_signed_offline_is_appended_once() {
    let tmp = TempDir::new().expect("tmp");
    let server = serve_examples(&tmp);
    let head = server.get_ok(&format!("/v1/streams/agreement/{NORRKOPING}/head"));
    let seq = head["next_seq"].as_u64().expect("next_seq").to_string();
    let prev = head["prev"].as_str().expect("prev").to_owned();

    let key = private_key(&tmp, "polisen-norrkoping-1");
    let payload = signature_payload(&server, &tmp, "polisen-norrkoping");
    let envelope = tmp.path().join("envelope.json");
    overens([
        "sign",
        "--key",
        path_str(&key),
        "--stream",
        &format!("agreement/{NORRKOPING}"),
        "--type",
        "RevisionSigned",
        "--payload",
        path_str(&payload),
        "--seq",
        &seq,
        "--prev",
        &prev,
        "--out",
        path_str(&envelope),
    ])
    .expect_code(0);
    let post = || {
        overens([
            "submit",
            "--server",
            server.base(),
            "--envelope",
            path_str(&envelope),
            "--json",
        ])
    };
    let first = post();
    first.expect_code(0);
    let first = first.json();
    assert_eq!(first["repeated"], false, "{first}");
    let again = post();
    again.expect_code(0);
    let again = again.json();
    assert_eq!(again["repeated"], true, "{again}");
    assert_eq!(again["indexes"], first["indexes"]);
    assert_eq!(server.get_ok("/healthz")["log_len"], 98);
}

#[test]
fn secret_keys_readable_by_others_are_refused_before_anything_is_sent() {
    let tmp = TempDir::new().expect("tmp");
    let key = private_key(&tmp, &format!("{VARD}-1"));
    set_mode(&key, 0o644);
    let payload = tmp.path().join("payload.json");
    std::fs::write(
        &payload,
        json!({"version": 2, "content_hash": "00".repeat(32), "party": VARD}).to_string(),
    )
    .expect("write");
    overens([
        "submit",
        // Nothing listens here: the key is refused before any connection is tried.
        "--server",
        "http://127.0.0.1:9",
        "--key",
        path_str(&key),
        "--stream",
        &format!("agreement/{NORRKOPING}"),
        "--type",
        "RevisionSigned",
        "--payload",
        path_str(&payload),
    ])
    .expect_code(2)
    .stderr_has(&["readable by others", "chmod 600"]);

    // A misspelt field is named, also before anything is sent.
    set_mode(&key, 0o600);
    std::fs::write(
        &payload,
        r#"{"version": 2, "contenthash": "00", "party": "x"}"#,
    )
    .expect("write");
    overens([
        "submit",
        "--server",
        "http://127.0.0.1:9",
        "--key",
        path_str(&key),
        "--stream",
        &format!("agreement/{NORRKOPING}"),
        "--type",
        "RevisionSigned",
        "--payload",
        path_str(&payload),
    ])
    .expect_code(2)
    .stderr_has(&["unknown field `contenthash`"]);
}

#[test]
fn enroll_proof_is_the_new_keys_proof_of_possession() {
    let tmp = TempDir::new().expect("tmp");
    let key = tmp.path().join("new.key");
    let public = overens(["keygen".as_ref(), "--out".as_ref(), key.as_os_str()]);
    public.expect_code(0);
    let public: PublicKey = public.stdout.trim().parse().expect("a public key");
    let run = overens([
        "enroll-proof",
        "--key",
        path_str(&key),
        "--party",
        VARD,
        "--json",
    ]);
    run.expect_code(0);
    let answer = run.json();
    assert_eq!(answer["key"], public.to_string());
    assert_eq!(answer["party"], VARD);
    let proof = answer["proof"]
        .as_str()
        .expect("proof")
        .parse()
        .expect("a signature");
    let party = VARD.parse().expect("party id");
    assert!(public.verify(&enrollment_message(&party, &public), &proof));
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let tmp = TempDir::new().expect("tmp");
    let mut server = serve_examples(&tmp);
    assert_eq!(server.get_ok("/healthz")["status"], "ok");
    let status = server.terminate(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    // The store was closed and its lock released: the directory opens again.
    overens([
        "replay".as_ref(),
        "--data".as_ref(),
        tmp.path().join("data").as_os_str(),
    ])
    .expect_code(0)
    .stdout_has(&["replayed 97 events"]);
}

#[test]
fn demo_serves_both_example_agreements_and_cleans_up() {
    let mut server = Server::start(&["--demo", "--listen", "127.0.0.1:0"]);
    let output = server.output();
    assert!(output.contains("TEST keys"), "{output}");
    let ids: Vec<String> = server
        .get_ok("/v1/agreements")
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.contains(&NORRKOPING.to_owned()), "{ids:?}");
    assert!(ids.contains(&NORRTALJE.to_owned()), "{ids:?}");
    assert_eq!(
        server.get_ok(&format!("/v1/agreements/{NORRTALJE}"))["id"],
        NORRTALJE
    );

    let dir = output
        .lines()
        .find_map(|l| l.strip_prefix("demo data directory: "))
        .and_then(|rest| rest.split(" (temporary").next())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no demo directory named{output}"));
    assert!(dir.is_dir(), "{}", dir.display());
    let status = server.terminate(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", server.output());
    assert!(!dir.exists(), "{} is deleted on exit", dir.display());
}

#[test]
fn serve_refuses_a_directory_without_a_store() {
    let tmp = TempDir::new().expect("tmp");
    let missing = tmp.path().join("typo");
    overens([
        "serve".as_ref(),
        "--data".as_ref(),
        missing.as_os_str(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
    ])
    .expect_code(2)
    .stderr_has(&["holds no store"]);
    assert!(!missing.exists(), "nothing is created without --init");
}

#[test]
fn init_starts_a_new_empty_log() {
    let tmp = TempDir::new().expect("tmp");
    let data = tmp.path().join("new");
    let mut server = Server::start(&[
        "--data",
        path_str(&data),
        "--init",
        "--registrar",
        path_str(&example_registrar()),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(server.get_ok("/healthz")["log_len"], 0);
    let head = server.get_ok("/v1/streams/directory/head");
    assert_eq!(head["next_seq"], 0);
    assert_eq!(head["prev"], "0".repeat(64));
    assert_eq!(server.terminate(Duration::from_secs(10)).code(), Some(0));
    // Started once, the directory is an ordinary one: no --init, no --registrar needed.
    let mut again = Server::start(&["--data", path_str(&data), "--listen", "127.0.0.1:0"]);
    assert_eq!(again.get_ok("/healthz")["log_len"], 0);
    assert_eq!(again.terminate(Duration::from_secs(10)).code(), Some(0));
}

#[test]
fn a_read_token_guards_reads_but_not_health() {
    let tmp = TempDir::new().expect("tmp");
    let data = example_data(&tmp);
    let server = Server::start(&[
        "--data",
        path_str(&data),
        "--listen",
        "127.0.0.1:0",
        "--read-token",
        "s3cret",
    ]);
    let (status, problem) = server.get("/v1/agreements");
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["type"], "/problems/unauthorized");
    let (status, _) = server.get_with("/v1/agreements", Some("wrong"));
    assert_eq!(status, 401);
    let (status, agreements) = server.get_with("/v1/agreements", Some("s3cret"));
    assert_eq!(status, 200, "{agreements}");
    assert_eq!(server.get_ok("/healthz")["status"], "ok");
    // Neither the token nor the log's secret key is ever printed (one log line per
    // request, failed ones included).
    let log_key = std::fs::read_to_string(data.join("log.key")).expect("the log key");
    let output = server.output();
    assert!(
        output.contains("/v1/agreements"),
        "requests are logged: {output}"
    );
    assert!(
        !output.contains("s3cret"),
        "the read token leaked: {output}"
    );
    assert!(
        !output.contains(log_key.trim()),
        "the log's secret key leaked: {output}"
    );
}

/// The bundle a running server serves verifies offline with `overens verify`, under the log
/// key the server publishes and the examples' registrar; one changed byte makes it fail.
#[test]
fn a_served_bundle_verifies_offline_and_a_tampered_one_does_not() {
    let server = Server::start(&["--demo", "--listen", "127.0.0.1:0"]);
    let reply = server.get_raw("/v1/agreements/norrkoping-barn-och-unga/bundle");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let key = server.get_ok("/v1/log/key");
    let verifier = key["verifier_key"]
        .as_str()
        .expect("verifier key")
        .to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.json");
    std::fs::write(&bundle, &reply.body).expect("write bundle");
    let registrar = example_registrar();
    let args = |file: &std::path::Path| {
        vec![
            "verify".to_owned(),
            file.display().to_string(),
            "--log-key".to_owned(),
            verifier.clone(),
            "--registrar".to_owned(),
            registrar.display().to_string(),
        ]
    };
    overens(args(&bundle)).expect_code(0);

    let text = reply.body.clone();
    let tampered = text.replacen("Barnsamverket", "Barnsamverkat", 1);
    assert_ne!(tampered, text);
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, tampered).expect("write tampered");
    overens(args(&bad)).expect_code(1);
}

/// A server whose commit fails (here: a row written into its SQLite file behind its back
/// takes the index it was about to use) stops taking appends and says so: `/healthz` turns
/// 503 with the reason, every later append is a 503 `store-failed` problem with it, and
/// reads go on answering from the last verified log. A restart refuses the foreign row.
#[test]
fn a_halted_server_says_so_on_health_and_appends_while_reads_go_on() {
    use overens_core::event::SectionRevised;
    use overens_core::{Event, StreamId};

    let tmp = TempDir::new().expect("tmp");
    let data = example_data(&tmp);
    let server = Server::start(&["--data", path_str(&data), "--listen", "127.0.0.1:0"]);
    assert_eq!(server.get_ok("/healthz")["status"], "ok");
    let agreements = server.get_ok("/v1/agreements");

    let conn = rusqlite::Connection::open(data.join("overens.sqlite")).expect("the file");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn.execute(
        "INSERT INTO events (idx, stream, seq, id, recorded_at, hash, leaf, envelope)
         SELECT 97, stream, seq + 1000, randomblob(16), recorded_at, hash, leaf, envelope
         FROM events WHERE idx = 96",
        [],
    )
    .expect("a row behind the server's back");
    drop(conn);

    let stream = StreamId::Agreement("norrkoping-barn-och-unga".parse().expect("slug"));
    let key = overens_tests::examples::key(&format!("{VARD}-1"));
    let section = |text: &str| {
        Event::SectionRevised(SectionRevised {
            section: "syfte".parse().expect("slug"),
            heading: "Syfte".into(),
            text: text.into(),
        })
    };
    let (_, failed) = server.append(&stream, &key, &section("Första försöket."));
    assert!(failed.status >= 500, "{}", failed.body);

    let (status, health) = server.get("/healthz");
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "halted");
    assert_eq!(health["log_len"], 97);
    let reason = health["reason"].as_str().expect("a reason").to_owned();
    assert!(!reason.is_empty());

    let (_, refused) = server.append(&stream, &key, &section("Andra försöket."));
    assert_eq!(refused.status, 503, "{}", refused.body);
    let problem = refused.json();
    assert_eq!(problem["type"], "/problems/store-failed");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&reason) && d.contains("restart")),
        "{problem}"
    );
    assert_eq!(server.get_ok("/v1/agreements"), agreements, "reads go on");
    drop(server);

    let restart = overens(["replay", "--data", path_str(&data)]);
    restart.expect_code(1).stderr_has(&["index 97"]);
}
