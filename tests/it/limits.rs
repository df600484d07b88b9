//! Resource limits against the real binary: every `--max-…` bound is answered with its
//! documented status and problem type (413, 422, 429, 408) and changes nothing in the log;
//! slow clients hold at most their own slot, for at most the request timeout.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use overens_core::event::{AgreementDrafted, PartyAdded, SectionRevised};
use overens_core::{Event, SecretKey, StreamId};
use overens_tests::Server;
use overens_tests::server::{envelope_json, now, sign};
use serde_json::{Value, json};
use tempfile::TempDir;

const AGREEMENT: &str = "samverkan";

struct World {
    _tmp: TempDir,
    server: Server,
    alfa: SecretKey,
    stream: StreamId,
}

/// Two parties, a key each, and an agreement between them, on a server with `limits`.
fn world(limits: &[&str]) -> World {
    let tmp = TempDir::new().expect("tmp");
    let registrar = SecretKey::from_seed(&[0x71; 32]);
    let (alfa, beta) = (
        SecretKey::from_seed(&[0x72; 32]),
        SecretKey::from_seed(&[0x73; 32]),
    );
    let data = tmp.path().join("data");
    let key = registrar.public().to_string();
    let mut args = vec![
        "--data",
        data.to_str().expect("UTF-8"),
        "--init",
        "--registrar",
        &key,
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(limits);
    let server = Server::start(&args);
    server.register(&registrar, "alfa", "Alfa kommun", &alfa, "Anna");
    server.register(&registrar, "beta", "Region Beta", &beta, "Bo");
    server.register(
        &registrar,
        "gamma",
        "Gamma förbundet",
        &SecretKey::from_seed(&[0x74; 32]),
        "Cia",
    );
    let stream = StreamId::Agreement(AGREEMENT.parse().expect("slug"));
    server.append_ok(
        &stream,
        &alfa,
        &Event::AgreementDrafted(AgreementDrafted {
            title: "Samverkan".into(),
            parties: vec!["alfa".parse().expect("slug"), "beta".parse().expect("slug")],
            preamble: "Om samverkan.".into(),
        }),
    );
    World {
        _tmp: tmp,
        server,
        alfa,
        stream,
    }
}

impl World {
    /// What readers can see of the log: every record and the checkpoint.
    fn log(&self) -> (String, String) {
        let [records, checkpoint] =
            ["/v1/log/records", "/v1/log/checkpoint"].map(|path| self.server.get_raw(path));
        assert_eq!((records.status, checkpoint.status), (200, 200));
        (records.body, checkpoint.body)
    }

    fn events_path(&self) -> String {
        format!("/v1/streams/agreement/{AGREEMENT}/events")
    }

    /// Posts `body` raw and checks the answer is `status` with problem `kind`, and that
    /// the log is unchanged.
    fn refused(&self, body: &[u8], status: u16, kind: &str) -> Value {
        let before = self.log();
        let reply =
            self.server
                .request("POST", &self.events_path(), Some("application/json"), body);
        assert_eq!(reply.status, status, "{}", reply.body);
        let problem = reply.json();
        assert_eq!(problem["type"], format!("/problems/{kind}"), "{problem}");
        assert_eq!(self.log(), before, "a refused request changed the log");
        problem
    }

    fn signed(&self, event: &Event) -> Value {
        let (seq, prev) = self.server.head(&self.stream);
        envelope_json(&sign(&self.alfa, &self.stream, seq, prev, now(), event))
    }
}

fn section(text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: "syfte".parse().expect("slug"),
        heading: "Syfte".into(),
        text: text.into(),
    })
}

#[test]
fn every_limit_gets_its_documented_answer_and_changes_nothing() {
    let w = world(&[
        "--max-body",
        "4096",
        "--max-batch",
        "2",
        "--max-json-depth",
        "8",
        "--max-string-bytes",
        "200",
        "--max-parties",
        "2",
    ]);
    // Nesting deeper than allowed: refused before it is parsed.
    let deep = format!("{}{}", "[".repeat(9), "]".repeat(9));
    let problem = w.refused(deep.as_bytes(), 422, "limit-exceeded");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("9 levels")
    );
    // A body over --max-body.
    w.refused(&vec![b' '; 5000], 413, "too-large");
    // More events than --max-batch.
    let one = w.signed(&section("Kort."));
    w.refused(
        json!([one, one, one]).to_string().as_bytes(),
        413,
        "too-large",
    );
    // A string over --max-string-bytes (200 bytes; 'å' is 2).
    let long = w.signed(&section(&"å".repeat(101)));
    let problem = w.refused(long.to_string().as_bytes(), 422, "limit-exceeded");
    assert_eq!(problem["limit"], 200);
    // A third party over --max-parties 2.
    let third = w.signed(&Event::PartyAdded(PartyAdded {
        party: "gamma".parse().expect("slug"),
    }));
    let problem = w.refused(third.to_string().as_bytes(), 422, "limit-exceeded");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("parties"),
        "{problem}"
    );
    // Up to each bound is fine.
    let at_limit = w.signed(&section(&"å".repeat(100)));
    let reply = w.server.post_events(&w.stream, &at_limit);
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// Opens a connection that sends a request's head and part of its body, then stalls.
fn stalled(server: &Server) -> TcpStream {
    let addr = server.base().trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST /v1/streams/agreement/{AGREEMENT}/events HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"v\":"
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream
}

/// The status line and body of the answer on a raw connection.
fn answer(mut stream: TcpStream) -> (String, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the body (problem+json) is complete: the server closes or sends it whole.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        if text.windows(4).any(|w| w == b"\r\n\r\n") && text.ends_with(b"}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[test]
fn slow_and_many_clients_get_429_then_408_and_the_server_recovers() {
    let w = world(&["--max-concurrent", "2", "--request-timeout-seconds", "2"]);
    let before = w.log();
    let started = Instant::now();
    let slow = [stalled(&w.server), stalled(&w.server)];
    // Both slots are taken by clients that never finish their bodies.
    std::thread::sleep(Duration::from_millis(300));
    let busy = w.server.get_raw("/healthz");
    assert_eq!(busy.status, 429, "{}", busy.body);
    assert_eq!(busy.json()["type"], "/problems/too-many-requests");
    // Each slow client is cut off at the request timeout with a problem document.
    for stream in slow {
        let (status, body) = answer(stream);
        assert!(status.contains(" 408 "), "{status} {body}");
        let problem: Value = serde_json::from_str(&body).expect("a problem document");
        assert_eq!(problem["type"], "/problems/request-timeout");
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    // Then the server answers again, and nothing was written.
    assert_eq!(w.server.get_raw("/healthz").status, 200);
    assert_eq!(w.log(), before);
}
