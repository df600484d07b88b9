//! Crash test: a writer appends under concurrent load and is killed with SIGKILL, many
//! times; after each restart every acknowledged append is there and the log verifies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use overens_core::{EventId, State};
use overens_pipeline::{DataDir, import};
use overens_store::{EventStore, SqliteOptions};
use overens_tests::examples;

fn rounds() -> usize {
    std::env::var("OVERENS_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(12)
}

/// Runs the writer, lets it work for `millis`, kills it with SIGKILL, and returns the acks
/// it printed: (index, id).
fn run_and_kill(dir: &std::path::Path, round: usize, millis: u64) -> Vec<(u64, EventId)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
        .args([dir.to_str().expect("utf-8 path"), &format!("r{round}"), "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("crash_writer starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait until it has replayed and started, then give it `millis` of load.
    let ready = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("writer reports ready");
    assert_eq!(ready, "ready");
    std::thread::sleep(Duration::from_millis(millis));
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on unix
    child.wait().expect("reaped");
    reader.join().expect("reader");
    rx.try_iter()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("ack"), Some(index), Some(id)) => {
                    Some((index.parse().ok()?, id.parse().ok()?))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = DataDir::new(dir.path());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        data.trust(&[examples::registrar()]).expect("trust anchors");
        let store = data.open_store(SqliteOptions::default()).expect("store");
        let files = [("log.jsonl".to_owned(), examples::log_text())];
        import(&store, State::new([examples::registrar()]), &files)
            .await
            .expect("examples import");
    });

    let mut acknowledged: HashMap<EventId, u64> = HashMap::new();
    let mut seed: u64 = 0x5eed;
    for round in 0..rounds() {
        // A fixed pseudo-random spread of kill times, from almost at once to ~0.6 s.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let millis = 20 + (seed >> 33) % 600;
        let acks = run_and_kill(dir.path(), round, millis);
        acknowledged.extend(acks.iter().map(|(index, id)| (*id, *index)));

        // Restart: the store opens, the whole log verifies, every ack is where it was said.
        runtime.block_on(async {
            let (store, replayed) = data
                .open(&[], SqliteOptions::default(), &mut |_, _| {})
                .await
                .unwrap_or_else(|e| {
                    panic!("round {round}: the log does not verify after SIGKILL: {e}")
                });
            for (id, index) in &acknowledged {
                assert!(
                    replayed.ids.contains(id),
                    "round {round}: acknowledged event {id} is lost"
                );
                let stored = store.read_log(*index, 1).await.expect("read");
                assert_eq!(
                    stored.first().map(|r| r.id),
                    Some(*id),
                    "round {round}: index {index} moved"
                );
            }
            assert_eq!(store.len().await.expect("len"), replayed.records);
        });
    }
    eprintln!(
        "crash test: {} rounds, {} acknowledged appends, none lost",
        rounds(),
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= rounds(),
        "the writer acknowledged only {} appends in {} rounds: the test proved little",
        acknowledged.len(),
        rounds()
    );
}
