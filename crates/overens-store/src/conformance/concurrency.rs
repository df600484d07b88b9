//! Many writers at once, and readers that follow the log live.

use std::sync::Arc;
use std::time::{Duration, Instant};

use overens_core::VerifiedEvent;
use tokio::sync::Barrier;

use super::{
    Chain, agreement, append_ok, batch, check_consistent, directory, expected_record, ok, read_all,
    read_whole_stream, snapshot,
};
use crate::{Appended, Conflict, EventStore, Follower, StoreError};

const RACERS: usize = 64;
const ROUNDS: u64 = 24;

/// Spawns one task per batch; all of them append at the same moment.
async fn race<S: EventStore>(
    store: &Arc<S>,
    batches: Vec<Vec<VerifiedEvent>>,
) -> Vec<Result<Appended, StoreError>> {
    let barrier = Arc::new(Barrier::new(batches.len()));
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|events| {
            let store = store.clone();
            let barrier = barrier.clone();
            let batch = batch(&events);
            tokio::spawn(async move {
                barrier.wait().await;
                store.append(batch).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap_or_else(|e| panic!("append task: {e}")));
    }
    results
}

/// 64 tasks append different events at the same seq of one stream, round after round:
/// each round exactly one wins, every other gets the `Conflict` that names the winner as
/// the head, and the chain stays intact.
pub async fn racing_appends_have_one_winner_per_round<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let mut chain = Chain::new(agreement("kapplopning"));
    for round in 0..ROUNDS {
        let head = chain.head;
        let rivals: Vec<VerifiedEvent> = (0..RACERS).map(|_| chain.at_head()).collect();
        let results = race(&store, rivals.iter().map(|e| vec![e.clone()]).collect()).await;
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {} winners", winners.len());
        let winner = &rivals[winners[0]];
        let appended = results[winners[0]].clone().expect("the winner");
        assert_eq!(appended.indexes, vec![round]);
        assert_eq!(appended.log_len, round + 1);
        assert!(!appended.repeated);
        chain.advance(winner);
        for (i, result) in results.iter().enumerate() {
            if i == winners[0] {
                continue;
            }
            let expected = StoreError::Conflict(Box::new(Conflict {
                stream: chain.stream.clone(),
                expected_seq: round + 1,
                expected_prev: winner.hash(),
                got_seq: head.next_seq,
                got_prev: head.prev,
            }));
            assert_eq!(result, &Err(expected), "round {round}, racer {i}");
        }
        assert_eq!(ok(store.len().await, "len"), round + 1);
        assert_eq!(ok(store.head(&chain.stream).await, "head"), chain.head);
        let last = ok(
            store.read_stream(&chain.stream, round, 10).await,
            "read_stream",
        );
        assert_eq!(
            last,
            vec![expected_record(winner, round, appended.recorded_at)]
        );
    }
    check_consistent(&snapshot(&*store, &[]).await);
}

/// 64 tasks append the very same batch at once: it is stored once, one task gets
/// `repeated: false`, and every task gets the same indexes and time.
pub async fn racing_identical_appends_store_once<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let mut chain = Chain::new(directory());
    append_ok(&*store, &chain.batch(1)).await;
    for round in 0..4u64 {
        let events = chain.batch(2);
        let results = race(&store, vec![events.clone(); RACERS]).await;
        let answers: Vec<Appended> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: an identical append failed: {e}")))
            .collect();
        let firsts: Vec<&Appended> = answers.iter().filter(|a| !a.repeated).collect();
        assert_eq!(
            firsts.len(),
            1,
            "round {round}: stored {} times",
            firsts.len()
        );
        let first = firsts[0].clone();
        assert_eq!(first.indexes, vec![1 + 2 * round, 2 + 2 * round]);
        for answer in &answers {
            assert_eq!(
                answer,
                &Appended {
                    repeated: answer.repeated,
                    ..first.clone()
                }
            );
        }
        assert_eq!(ok(store.len().await, "len"), 3 + 2 * round);
    }
    check_consistent(&snapshot(&*store, &[]).await);
}

const STREAMS: usize = 24;
const PER_STREAM: usize = 10;

/// One task per stream, all at once, each appending its own chain (batches of 1 and 2):
/// every append succeeds, and each stream's records keep the order they were appended in.
pub async fn parallel_streams_all_succeed_in_order<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(STREAMS));
    let tasks: Vec<_> = (0..STREAMS)
        .map(|s| {
            let store = store.clone();
            let barrier = barrier.clone();
            let mut chain = if s == 0 {
                Chain::new(directory())
            } else {
                Chain::new(agreement(&format!("parallell-{s}")))
            };
            let mut batches = Vec::new();
            let mut n = 0;
            while n < PER_STREAM {
                let size = (1 + n % 2).min(PER_STREAM - n);
                batches.push(chain.batch(size));
                n += size;
            }
            tokio::spawn(async move {
                barrier.wait().await;
                let mut indexes = Vec::new();
                for events in &batches {
                    let appended = store
                        .append(batch(events))
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e}", chain.stream));
                    assert!(!appended.repeated);
                    assert_eq!(appended.indexes.len(), events.len());
                    let end = appended.indexes.last().map_or(0, |i| i + 1);
                    assert!(
                        appended.log_len >= end,
                        "log_len {} < {end}",
                        appended.log_len
                    );
                    indexes.extend(appended.indexes);
                }
                (chain, batches.concat(), indexes)
            })
        })
        .collect();
    let mut all_indexes = Vec::new();
    let mut chains = Vec::new();
    for task in tasks {
        let (chain, events, indexes) = task.await.unwrap_or_else(|e| panic!("stream task: {e}"));
        assert!(
            indexes.windows(2).all(|w| w[0] < w[1]),
            "{}: indexes out of order: {indexes:?}",
            chain.stream
        );
        all_indexes.extend(indexes.iter().copied());
        chains.push((chain, events, indexes));
    }
    all_indexes.sort_unstable();
    let total = (STREAMS * PER_STREAM) as u64;
    assert_eq!(all_indexes, (0..total).collect::<Vec<_>>());
    assert_eq!(ok(store.len().await, "len"), total);
    let log = read_all(&*store).await;
    for (chain, events, indexes) in &chains {
        let records = read_whole_stream(&*store, &chain.stream).await;
        assert_eq!(records.len(), PER_STREAM);
        for ((record, event), index) in records.iter().zip(events).zip(indexes) {
            assert_eq!(record, &log[*index as usize]);
            assert_eq!(record.envelope, event.canonical_bytes());
        }
        assert_eq!(ok(store.head(&chain.stream).await, "head"), chain.head);
    }
    check_consistent(&snapshot(&*store, &[]).await);
}

/// How long a live record may take to reach a follower or a waiter.
const PROMPT: Duration = Duration::from_secs(5);

/// A follower from 0 gives the existing records, then each new one as it is appended, in
/// order and promptly; a follower from the middle starts there.
pub async fn follower_sees_existing_then_live_records<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("foljare"));
    append_ok(&*store, &dir.batch(2)).await;
    append_ok(&*store, &deal.batch(3)).await;
    let existing = read_all(&*store).await;
    assert_eq!(existing.len(), 5);

    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let follower = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut follower = Follower::new(&*store, 0);
            for _ in 0..11 {
                let record = follower
                    .next()
                    .await
                    .unwrap_or_else(|e| panic!("follower: {e}"));
                if seen_tx.send(record).is_err() {
                    return;
                }
            }
        })
    };
    for record in &existing {
        let got = tokio::time::timeout(PROMPT, seen.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("the follower did not give existing record {}", record.index)
            })
            .expect("the follower stopped");
        assert_eq!(&got, record);
    }
    // Live: each append reaches the follower promptly (a follower that only wakes up on its
    // own timeout would take far longer).
    let mut live = Vec::new();
    for round in 0..4usize {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let events = if round % 2 == 0 {
            dir.batch(1)
        } else {
            deal.batch(2)
        };
        let appended = append_ok(&*store, &events).await;
        for (event, index) in events.iter().zip(&appended.indexes) {
            let got = tokio::time::timeout(PROMPT, seen.recv())
                .await
                .unwrap_or_else(|_| panic!("live record {index} did not reach the follower"))
                .expect("the follower stopped");
            let expected = expected_record(event, *index, appended.recorded_at);
            assert_eq!(got, expected);
            live.push(expected);
        }
    }
    tokio::time::timeout(PROMPT, follower)
        .await
        .expect("the follower finished")
        .unwrap_or_else(|e| panic!("follower task: {e}"));
    assert!(
        seen.try_recv().is_err(),
        "the follower gave more than it should"
    );

    let mut from_middle = Follower::new(&*store, 3);
    for expected in existing[3..].iter().chain(&live) {
        let got = tokio::time::timeout(PROMPT, from_middle.next())
            .await
            .expect("a follower from index 3")
            .unwrap_or_else(|e| panic!("follower: {e}"));
        assert_eq!(&got, expected);
    }
}

/// `wait_for_growth` returns at once when the log is already longer, promptly after an
/// append (with the length after the whole batch), and after its timeout when nothing
/// happens.
pub async fn wait_for_growth_wakes_and_times_out<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let timeout = Duration::from_millis(300);

    // Nothing happens: it waits out its timeout and gives the unchanged length.
    let start = Instant::now();
    assert_eq!(
        ok(store.wait_for_growth(0, timeout).await, "wait_for_growth"),
        0
    );
    let waited = start.elapsed();
    assert!(
        waited >= timeout - Duration::from_millis(20),
        "returned after {waited:?}"
    );
    assert!(waited < timeout + PROMPT, "returned after {waited:?}");

    let mut chain = Chain::new(agreement("vanta"));
    append_ok(&*store, &chain.batch(2)).await;

    // Already longer: no wait.
    let start = Instant::now();
    assert_eq!(
        ok(
            store.wait_for_growth(0, Duration::from_secs(30)).await,
            "wait"
        ),
        2
    );
    assert_eq!(
        ok(
            store.wait_for_growth(1, Duration::from_secs(30)).await,
            "wait"
        ),
        2
    );
    assert!(start.elapsed() < PROMPT);

    // Caught up, nothing happens.
    let start = Instant::now();
    assert_eq!(
        ok(store.wait_for_growth(2, timeout).await, "wait_for_growth"),
        2
    );
    assert!(start.elapsed() >= timeout - Duration::from_millis(20));

    // An append while waiting: woken promptly, and never in the middle of a batch.
    for round in 0..3u64 {
        let known = ok(store.len().await, "len");
        let events = chain.batch(3);
        let appender = {
            let store = store.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                store.append(batch(&events)).await
            })
        };
        let start = Instant::now();
        let len = ok(
            store.wait_for_growth(known, Duration::from_secs(30)).await,
            "wait",
        );
        assert!(
            start.elapsed() < PROMPT,
            "round {round}: woken after {:?}",
            start.elapsed()
        );
        assert_eq!(
            len,
            known + 3,
            "round {round}: the waiter saw part of a batch"
        );
        let appended = appender
            .await
            .unwrap_or_else(|e| panic!("append task: {e}"))
            .unwrap_or_else(|e| panic!("append: {e}"));
        assert_eq!(appended.log_len, known + 3);
    }

    // Many waiters, one append: all woken.
    let known = ok(store.len().await, "len");
    let waiters: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.wait_for_growth(known, Duration::from_secs(30)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let other = Chain::new(directory()).at_head();
    append_ok(&*store, &[other]).await;
    for waiter in waiters {
        let len = tokio::time::timeout(PROMPT, waiter)
            .await
            .expect("a waiter was not woken")
            .unwrap_or_else(|e| panic!("waiter: {e}"));
        assert_eq!(ok(len, "wait_for_growth"), known + 1);
    }
}
