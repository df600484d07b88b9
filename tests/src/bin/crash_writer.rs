//! The crash test's victim: appends signed events through the real pipeline from many
//! concurrent writers into a data directory, and prints `ack <index> <id>` for each append
//! only after it returned (durable). The test kills it with SIGKILL at random moments.
//!
//! Usage: crash_writer DATA_DIR RUN WRITERS

use std::io::Write;
use std::sync::Arc;

use overens_core::event::{AgreementDrafted, SectionRevised};
use overens_core::{Event, EventId, PartyId, SecretKey, StreamId, Timestamp, UnsignedEnvelope};
use overens_pipeline::{DataDir, Pipeline, PipelineOptions};
use overens_store::SqliteOptions;
use overens_tests::examples;

/// The example parties whose test keys sign the load.
const PARTIES: [&str; 6] = [
    "norrkoping-utbildningskontoret",
    "norrkoping-socialkontoret",
    "region-ostergotland",
    "polisen-norrkoping",
    "kson",
    "norrtalje-socialnamnden",
];

fn key_of(party: &str) -> SecretKey {
    let path = examples::repo_root().join(format!("events/examples/keys/{party}-1.key"));
    let text = std::fs::read_to_string(&path).expect("example key");
    SecretKey::from_text(&text).expect("key text")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, run, writers] = args.as_slice() else {
        eprintln!("usage: crash_writer DATA_DIR RUN WRITERS");
        std::process::exit(2);
    };
    let writers: usize = writers.parse().expect("writers");
    let run = run.clone();
    let data = DataDir::new(dir);
    let (store, replayed) = data
        .open(
            &[examples::registrar()],
            SqliteOptions::default(),
            &mut |_, _| {},
        )
        .await
        .expect("the data directory opens and replays");
    let pipeline = Arc::new(Pipeline::start(
        Arc::new(store),
        replayed.state,
        replayed.ids,
        PipelineOptions::default(),
    ));
    let (acks, mut out) = tokio::sync::mpsc::unbounded_channel::<String>();
    for w in 0..writers {
        let pipeline = pipeline.clone();
        let acks = acks.clone();
        let party: PartyId = PARTIES[w % PARTIES.len()].parse().expect("slug");
        let stream: StreamId = format!("agreement/crash-{run}-{w}")
            .parse()
            .expect("stream");
        let run = run.clone();
        tokio::spawn(async move {
            let key = key_of(party.as_str());
            let mut n: u64 = 0;
            loop {
                let event = if n == 0 {
                    Event::AgreementDrafted(AgreementDrafted {
                        title: format!("Krocktest {run}/{w}"),
                        parties: vec![party.clone()],
                        preamble: "Överenskommelse för krocktest.".into(),
                    })
                } else {
                    Event::SectionRevised(SectionRevised {
                        section: format!("s{n}").parse().expect("slug"),
                        heading: format!("Avsnitt {n}"),
                        text: format!("Text nummer {n} för Östergötland."),
                    })
                };
                let head = pipeline.snapshot().state.head(&stream);
                let now = Timestamp::from_datetime(chrono_now());
                let mut random = [0u8; 10];
                random[..8].copy_from_slice(&n.to_be_bytes());
                random[8] = w as u8;
                random[9] = run.len() as u8;
                let id = EventId::v7(now.unix_millis() as u64, random);
                let envelope = UnsignedEnvelope::new(
                    id,
                    stream.clone(),
                    head.next_seq,
                    head.prev,
                    now,
                    key.public(),
                    &event,
                )
                .sign(&key);
                match pipeline.append(vec![envelope]).await {
                    Ok(done) => {
                        let _ = acks.send(format!("ack {} {id}", done.indexes[0]));
                        n += 1;
                    }
                    Err(e) => {
                        eprintln!("writer {w}: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                }
            }
        });
    }
    drop(acks);
    println!("ready");
    let mut stdout = std::io::stdout().lock();
    while let Some(line) = out.recv().await {
        // Written and flushed only after the append returned, so every printed ack is a
        // promise the test holds us to after the kill.
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    overens_store::sqlite::system_clock().datetime()
}
