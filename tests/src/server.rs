//! A running `overens serve`, driven over real HTTP on the loopback, and the client side of
//! a signed write: fetch the stream's head, sign an envelope here with the party's own key,
//! post it.
//!
//! Every server is started on port 0 and found by the `listening on http://ADDR` line it
//! prints; it is killed by a guard's `Drop`, so a failing test never leaves one running.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use std::path::Path;

use overens_core::domain::enrollment_message;
use overens_core::event::{PartyRegistered, SignatoryEnrolled};
use overens_core::{
    Date, Digest32, Envelope, Event, EventId, SecretKey, StreamId, Timestamp, UnsignedEnvelope,
};
use serde_json::Value;

use crate::binary::overens_bin;

/// A running `overens serve`, killed on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

/// One HTTP answer: status, `Content-Type` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics, showing it, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), HTTP {}: {}", self.status, self.body))
    }
}

/// An HTTP client that returns every status as an answer, not as an error.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

impl Server {
    /// Starts `overens serve ARGS` and waits until it listens.
    pub fn start(args: &[&str]) -> Server {
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

    /// `overens serve --init` on the new data directory `data`, trusting `registrar` only.
    pub fn start_new(data: &Path, registrar: &SecretKey) -> Server {
        let data = data.to_str().expect("temporary paths are UTF-8");
        let key = registrar.public().to_string();
        Server::start(&[
            "--data",
            data,
            "--init",
            "--registrar",
            &key,
            "--listen",
            "127.0.0.1:0",
        ])
    }

    /// The registrar registers `party` and enrolls `signatory` for it, with the key's proof
    /// of possession, through the API.
    pub fn register(
        &self,
        registrar: &SecretKey,
        party: &str,
        name: &str,
        signatory: &SecretKey,
        person: &str,
    ) {
        let party: overens_core::PartyId = party.parse().expect("party id");
        self.append_ok(
            &StreamId::Directory,
            registrar,
            &Event::PartyRegistered(PartyRegistered {
                party: party.clone(),
                name: name.into(),
            }),
        );
        self.enroll(registrar, &party, signatory, person);
    }

    /// The registrar enrolls `signatory` for the registered `party`.
    pub fn enroll(
        &self,
        registrar: &SecretKey,
        party: &overens_core::PartyId,
        signatory: &SecretKey,
        person: &str,
    ) {
        let proof = signatory.sign(&enrollment_message(party, &signatory.public()));
        self.append_ok(
            &StreamId::Directory,
            registrar,
            &Event::SignatoryEnrolled(SignatoryEnrolled {
                party: party.clone(),
                key: signatory.public(),
                name: person.into(),
                role: "signatory".into(),
                proof,
            }),
        );
    }

    /// `http://ADDR`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// What the server printed so far, for failure messages.
    pub fn output(&self) -> String {
        let out = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        let err = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        format!("\nstdout:\n{out}\nstderr:\n{err}")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request: `method` on `path`, with an optional `Content-Type` and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        self.request_with(&agent(), method, path, content_type, body)
    }

    /// [`Server::request`] through a given agent (one per thread, say).
    pub fn request_with(
        &self,
        agent: &ureq::Agent,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let url = self.url(path);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let request = request
            .body(body)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let mut response = agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}{}", self.output()));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {url}: body: {e}"));
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// GET `path`, the answer as it came.
    pub fn get_raw(&self, path: &str) -> Reply {
        self.request("GET", path, None, b"")
    }

    /// GET `path`: the status and the body as JSON.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(path, None)
    }

    /// GET `path` with an optional bearer token.
    pub fn get_with(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let url = self.url(path);
        let mut request = agent().get(&url);
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

    /// GET `path`, which must answer 200 with JSON.
    pub fn get_ok(&self, path: &str) -> Value {
        let (status, value) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    /// POST `body` as `application/json` to `path`.
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    /// POST one envelope (or a batch) to its stream's events route.
    pub fn post_events(&self, stream: &StreamId, body: &Value) -> Reply {
        self.post_json(&events_path(stream), body)
    }

    /// The `seq` and `prev` the next event of `stream` must be signed with.
    pub fn head(&self, stream: &StreamId) -> (u64, Digest32) {
        let head = self.get_ok(&format!("/v1/streams/{stream}/head"));
        let seq = head["next_seq"].as_u64().expect("next_seq");
        let prev = head["prev"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("prev: {head}"));
        (seq, prev)
    }

    /// The signer's write: the stream's head, `event` signed here by `key` at the current
    /// instant, posted. Returns the envelope and the answer.
    pub fn append(&self, stream: &StreamId, key: &SecretKey, event: &Event) -> (Envelope, Reply) {
        let (seq, prev) = self.head(stream);
        let envelope = sign(key, stream, seq, prev, now(), event);
        let reply = self.post_events(stream, &envelope_json(&envelope));
        (envelope, reply)
    }

    /// [`Server::append`], which must answer 201: the answer's JSON.
    pub fn append_ok(&self, stream: &StreamId, key: &SecretKey, event: &Event) -> Value {
        let (_, reply) = self.append(stream, key, event);
        assert_eq!(
            reply.status,
            201,
            "{} to {stream}: {}",
            event.type_name(),
            reply.body
        );
        reply.json()
    }

    /// SIGTERM, then the exit status, waiting at most `limit`.
    pub fn terminate(&mut self, limit: Duration) -> ExitStatus {
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

/// `/v1/streams/<stream>/events`.
pub fn events_path(stream: &StreamId) -> String {
    format!("/v1/streams/{stream}/events")
}

/// The current instant, as a signer's `at`.
pub fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// Today's date in Europe/Stockholm: the date a live signature made now carries.
pub fn today() -> Date {
    now().legal_date()
}

/// A fresh UUID v7 for an event signed at `at`: unique within the test process (a
/// counter) and across processes (the process id).
pub fn fresh_id(at: Timestamp) -> EventId {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&n.to_be_bytes());
    random[8..].copy_from_slice(&(std::process::id() as u16).to_be_bytes());
    let millis = u64::try_from(at.unix_millis()).expect("after 1970");
    EventId::v7(millis, random)
}

/// `event` in `stream` at `seq`/`prev`, signed by `key` at `at` with a fresh id.
pub fn sign(
    key: &SecretKey,
    stream: &StreamId,
    seq: u64,
    prev: Digest32,
    at: Timestamp,
    event: &Event,
) -> Envelope {
    UnsignedEnvelope::new(
        fresh_id(at),
        stream.clone(),
        seq,
        prev,
        at,
        key.public(),
        event,
    )
    .sign(key)
}

/// The envelope as JSON, as a client posts it.
pub fn envelope_json(envelope: &Envelope) -> Value {
    serde_json::to_value(envelope).expect("an envelope is JSON")
}
