//! `overens serve` and `overens submit`: the real binary, over real HTTP on the loopback.
//!
//! Every server is started on port 0 and found by the `listening on http://ADDR` line it
//! prints; it is killed by a guard's `Drop`, so a failing test never leaves one running.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use overens_core::PublicKey;
use overens_core::domain::enrollment_message;
use overens_tests::{example_log, example_registrar, overens, overens_bin, workspace_root};
use serde_json::{Value, json};
use tempfile::TempDir;

const NORRKOPING: &str = "norrkoping-barn-och-unga";
const NORRTALJE: &str = "norrtalje-bus";
/// A Norrköping party that has not signed version 2 in the example log.
const VARD: &str = "norrkoping-vard-och-omsorgskontoret";
/// Another Norrköping party that has not signed version 2.
const KULTUR: &str = "norrkoping-kultur-och-fritidskontoret";

/// A running `overens serve`, killed on drop.
struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(overens_bin())
            .arg("serve")
            .args(args)
            .env_remove("OVERENS_REGISTRAR")
            .env_remove("OVERENS_READ_TOKEN")
            .env_remove("OVERENS_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start overens serve: {e}"));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready, listening) = mpsc::channel();
        // Both pipes are drained for the server's whole life: a full pipe would block it.
        let out = child.stdout.take().expect("stdout is piped");
        let kept = Arc::clone(&stdout);
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = ready.send(url.to_owned());
                }
                let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let err = child.stderr.take().expect("stderr is piped");
        let kept = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut err = err;
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                kept.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            stdout,
            stderr,
        };
        match listening.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => server.base = base,
            Err(e) => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                thread::sleep(Duration::from_millis(200));
                panic!(
                    "the server never said where it listens ({e}){}",
                    server.output()
                );
            }
        }
        server
    }

    fn output(&self) -> String {
        let out = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        let err = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        format!("\nstdout:\n{out}\nstderr:\n{err}")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: the status and the body as JSON.
    fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(path, None)
    }

    /// GET `path` with an optional bearer token.
    fn get_with(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let url = self.url(path);
        let mut request = agent.get(&url);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}{}", self.output()));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("GET {url}: body: {e}"));
        let value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"));
        (status, value)
    }

    fn get_ok(&self, path: &str) -> Value {
        let (status, value) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    /// SIGTERM, then the exit status, waiting at most `limit`.
    fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "still running {limit:?} after SIGTERM{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A data directory holding the example log.
fn example_data(tmp: &TempDir) -> PathBuf {
    let data = tmp.path().join("data");
    overens([
        "import".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--registrar".as_ref(),
        example_registrar().as_os_str(),
        example_log().as_os_str(),
    ])
    .expect_code(0);
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
        &server.base,
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
            &server.base,
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
}
