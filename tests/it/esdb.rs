//! The real binary on an EventStoreDB log, through the real `eventstore` client over
//! loopback gRPC against the in-process test server (no EventStoreDB server can run here):
//! a migration from SQLite gives the same log, root and projections, and two servers on one
//! cluster converge, each reading its own writes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use overens_core::event::SectionRevised;
use overens_core::{Event, StreamId};
use overens_esdb_testserver::TestServer;
use overens_tests::server::{envelope_json, now, sign};
use overens_tests::{Server, example_log, example_registrar, overens};
use serde_json::Value;
use tempfile::TempDir;

/// A test server on a runtime of its own, for as long as the test holds it.
struct Cluster {
    server: Option<TestServer>,
    runtime: tokio::runtime::Runtime,
}

impl Cluster {
    fn start() -> Cluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(TestServer::start())
            .expect("the test server starts");
        Cluster {
            server: Some(server),
            runtime,
        }
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("running").connection_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Every read a client makes of the example agreements (checkpoints differ by log key and
/// are compared by their roots).
fn reads(server: &Server) -> Vec<(String, String)> {
    let mut routes = vec!["/v1/agreements".to_owned(), "/v1/directory".to_owned()];
    for id in ["norrkoping-barn-och-unga", "norrtalje-bus"] {
        let a = format!("/v1/agreements/{id}");
        routes.extend([
            a.clone(),
            format!("{a}/versions"),
            format!("{a}/signatures"),
            format!("{a}/timeline"),
            format!("{a}/in-force?on=2021-01-01&as_of=2026-11-01T00:00:00Z"),
        ]);
    }
    routes.push("/v1/log/records".to_owned());
    routes
        .into_iter()
        .map(|route| {
            let reply = server.get_raw(&route);
            assert_eq!(reply.status, 200, "GET {route}: {}", reply.body);
            (route, reply.body)
        })
        .collect()
}

/// Both servers answer every read alike (a failure names the route and where they part).
fn same_reads(a: &Server, b: &Server) {
    for ((route, x), (_, y)) in reads(a).into_iter().zip(reads(b)) {
        if x != y {
            let at = x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
            let (x, y) = (&x[at.saturating_sub(80)..], &y[at.saturating_sub(80)..]);
            panic!(
                "GET {route} differs at byte {at}:\n{}\n{}",
                &x[..x.len().min(240)],
                &y[..y.len().min(240)]
            );
        }
    }
}

/// The size and root of a server's current checkpoint (lines 2 and 3 of the note).
fn tree(server: &Server) -> (String, String) {
    let note = server.get_raw("/v1/log/checkpoint").body;
    let lines: Vec<&str> = note.lines().collect();
    (lines[1].to_owned(), lines[2].to_owned())
}

#[test]
fn a_log_moved_from_sqlite_to_a_cluster_is_the_same_log() {
    let cluster = Cluster::start();
    let tmp = TempDir::new().expect("tmp");
    let (sqlite, esdb) = (tmp.path().join("sqlite"), tmp.path().join("esdb"));
    let registrar = example_registrar();
    overens_tests::examples::import_into(&sqlite);
    let exported = tmp.path().join("exported.jsonl");
    overens(["export", "--data", path(&sqlite), "--out", path(&exported)]).expect_code(0);

    // The file, imported into the cluster, then exported from it again.
    let url = cluster.url();
    overens([
        "import",
        "--data",
        path(&esdb),
        "--store",
        &url,
        "--registrar",
        path(&registrar),
        path(&exported),
    ])
    .expect_code(0)
    .stdout_has(&["imported 97 records"]);
    let again = tmp.path().join("again.jsonl");
    overens([
        "export",
        "--data",
        path(&esdb),
        "--store",
        &url,
        "--out",
        path(&again),
    ])
    .expect_code(0);
    assert_eq!(
        std::fs::read(&again).expect("again"),
        std::fs::read(&exported).expect("exported"),
        "the cluster's log is byte for byte the SQLite log"
    );
    // An import into a cluster that has the log already adds nothing.
    overens([
        "import",
        "--data",
        path(&esdb),
        "--store",
        &url,
        path(&exported),
    ])
    .expect_code(0)
    .stdout_has(&["imported 0 records, 97 already present"]);

    // Served from either store: the same projections and the same Merkle root.
    let from_sqlite = Server::start(&["--data", path(&sqlite), "--listen", "127.0.0.1:0"]);
    let from_cluster = Server::start(&[
        "--data",
        path(&esdb),
        "--store",
        &url,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(tree(&from_sqlite), tree(&from_cluster));
    same_reads(&from_sqlite, &from_cluster);
}

fn wait_for_len(server: &Server, len: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.get_ok("/healthz")["log_len"].as_u64() < Some(len) {
        assert!(Instant::now() < deadline, "the server did not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The example log imported into `cluster` through one data directory (`TMP/a`, returned),
/// and two servers on it, each with its own data directory (`TMP/a`, `TMP/b`).
fn two_servers(cluster: &Cluster, tmp: &TempDir) -> (PathBuf, Server, Server) {
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let url = cluster.url();
    let registrar = example_registrar();
    overens([
        "import",
        "--data",
        path(&a_dir),
        "--store",
        &url,
        "--registrar",
        path(&registrar),
        path(&example_log()),
    ])
    .expect_code(0);
    let start = |dir: &Path| {
        Server::start(&[
            "--data",
            path(dir),
            "--init",
            "--registrar",
            path(&registrar),
            "--store",
            &url,
            "--listen",
            "127.0.0.1:0",
        ])
    };
    (a_dir.clone(), start(&a_dir), start(&b_dir))
}

#[test]
fn two_servers_on_one_cluster_converge_and_read_their_own_writes() {
    let cluster = Cluster::start();
    let tmp = TempDir::new().expect("tmp");
    let (_, a, b) = two_servers(&cluster, &tmp);
    let stream = StreamId::Agreement("norrkoping-barn-och-unga".parse().expect("slug"));
    let key = overens_tests::examples::key("norrkoping-socialkontoret-1");
    let section = |text: &str| {
        Event::SectionRevised(SectionRevised {
            section: "syfte".parse().expect("slug"),
            heading: "Syfte".into(),
            text: text.into(),
        })
    };

    // A write on A is answered once A has folded it: A reads it at once.
    let answer = a.append_ok(&stream, &key, &section("Skrivet på A."));
    let index = answer["indexes"][0].as_u64().expect("an index");
    assert_eq!(a.get_ok("/healthz")["log_len"].as_u64(), Some(index + 1));
    // B sees it once its subscription has caught up, then writes on top of it.
    wait_for_len(&b, index + 1);
    let (seq, prev) = b.head(&stream);
    let envelope = sign(&key, &stream, seq, prev, now(), &section("Skrivet på B."));
    let reply = b.post_events(&stream, &envelope_json(&envelope));
    assert_eq!(reply.status, 201, "{}", reply.body);
    // A stale write on A (signed against the head before B's) loses to the cluster.
    let stale = sign(&key, &stream, seq, prev, now(), &section("För sent."));
    let reply = a.post_events(&stream, &envelope_json(&stale));
    assert_eq!(reply.status, 409, "{}", reply.body);

    wait_for_len(&a, index + 2);
    assert_eq!(tree(&a), tree(&b));
    same_reads(&a, &b);
    let records: Vec<Value> = reads(&a)
        .last()
        .map(|(_, body)| {
            body.lines()
                .map(|l| serde_json::from_str(l).expect("a record"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        records.len() as u64,
        index + 2,
        "the stale write left nothing"
    );
}

/// An envelope that continues its stream but whose signature does not verify, written to
/// the cluster by another tool (whoever has write access can): every server that follows
/// the log stops taking appends at it, says so on `/healthz` (503, with the index), keeps
/// answering reads from the verified log before it, and a replay refuses the log there.
#[test]
fn a_record_written_around_the_servers_that_does_not_verify_halts_them_all() {
    use eventstore::{AppendToStreamOptions, EventData, ExpectedRevision};

    let cluster = Cluster::start();
    let tmp = TempDir::new().expect("tmp");
    let (a_dir, a, b) = two_servers(&cluster, &tmp);
    let url = cluster.url();
    let before = reads(&a);

    let stream = StreamId::Agreement("norrkoping-barn-och-unga".parse().expect("slug"));
    let key = overens_tests::examples::key("norrkoping-socialkontoret-1");
    let section = Event::SectionRevised(SectionRevised {
        section: "syfte".parse().expect("slug"),
        heading: "Syfte".into(),
        text: "Skrivet förbi servrarna.".into(),
    });
    let (seq, prev) = a.head(&stream);
    let envelope = sign(&key, &stream, seq, prev, now(), &section);
    // One character of the signature changed: canonical, chained, not verifiable.
    let text = String::from_utf8(envelope.canonical_bytes()).expect("UTF-8");
    let at = text.find("\"sig\":\"").expect("a signature") + 10;
    let swapped = if &text[at..=at] == "A" { "B" } else { "A" };
    let altered = format!("{}{swapped}{}", &text[..at], &text[at + 1..]);
    cluster.runtime.block_on(async {
        let client =
            eventstore::Client::new(url.parse().expect("connection string")).expect("a client");
        client
            .append_to_stream(
                "overens-agreement-norrkoping-barn-och-unga",
                &AppendToStreamOptions::default()
                    .expected_revision(ExpectedRevision::Exact(seq - 1)),
                EventData::binary("SectionRevised", bytes::Bytes::from(altered))
                    .id(*envelope.id.as_uuid()),
            )
            .await
            .expect("written around the servers");
    });

    for server in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(20);
        let health = loop {
            let (status, health) = server.get("/healthz");
            if status == 503 {
                break health;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not halt: {health}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(health["status"], "halted");
        assert_eq!(health["log_len"], 97);
        let reason = health["reason"].as_str().expect("a reason");
        assert!(reason.contains("index 97"), "{reason}");
        let (_, refused) = server.append(&stream, &key, &section);
        assert_eq!(refused.status, 503, "{}", refused.body);
        assert_eq!(reads(server), before, "reads answer from the verified log");
    }
    drop((a, b));

    overens(["replay", "--data", path(&a_dir), "--store", &url])
        .expect_code(1)
        .stderr_has(&["index 97"]);
}
