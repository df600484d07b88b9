//! Restoring records with their original place and time, and reopening a store.

use std::sync::Arc;

use overens_core::{Digest32, StreamId, Timestamp, VerifiedEvent};

use super::{
    Chain, Refusal, StoreFactory, agreement, append_ok, assert_repeat, assert_restore_refused,
    batch, check_consistent, directory, expected_record, fresh_id, ok, party_registered, read_all,
    restore_record, snapshot, some_event, ts,
};
use crate::{Appended, Conflict, EventStore, RestoreRecord, StoreError};

async fn restore_ok<S: EventStore>(store: &S, records: Vec<RestoreRecord>) {
    ok(store.restore(records).await, "restore");
}

/// Restored records keep exactly the index and `recorded_at` they were given (equal times
/// included), and appends continue after them: next index, next seq, no earlier time.
pub async fn restore_keeps_given_places<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("aterstalld"));
    let events: Vec<VerifiedEvent> = vec![
        dir.next_event(),
        deal.next_event(),
        deal.next_event(),
        dir.next_event(),
        deal.next_event(),
    ];
    let times = [
        ts("2019-01-01T00:00:00Z"),
        ts("2019-01-01T00:00:00Z"),
        ts("2019-06-30T12:34:56.789Z"),
        ts("2019-06-30T12:34:56.789123Z"),
        ts("2019-06-30T12:34:56.789123456Z"),
    ];
    let records: Vec<RestoreRecord> = events
        .iter()
        .zip(times)
        .zip(0..)
        .map(|((e, t), i)| restore_record(e, i, t))
        .collect();
    restore_ok(&store, records[..2].to_vec()).await;
    restore_ok(&store, records[2..].to_vec()).await;
    let expected: Vec<_> = events
        .iter()
        .zip(times)
        .zip(0..)
        .map(|((e, t), i)| expected_record(e, i, t))
        .collect();
    assert_eq!(read_all(&store).await, expected);
    assert_eq!(ok(store.len().await, "len"), 5);
    assert_eq!(ok(store.head(&dir.stream).await, "head"), dir.head);
    assert_eq!(ok(store.head(&deal.stream).await, "head"), deal.head);

    // Appends continue the log and the chains.
    let next = deal.next_event();
    let appended = append_ok(&store, std::slice::from_ref(&next)).await;
    assert_eq!(appended.indexes, vec![5]);
    assert!(appended.recorded_at >= times[4]);
    assert_eq!(ok(store.head(&deal.stream).await, "head"), deal.head);

    // And a restore can continue after appends, at the length, no earlier than the last.
    let later = dir.next_event();
    let at =
        Timestamp::from_datetime(appended.recorded_at.datetime() + chrono::Duration::seconds(1));
    restore_ok(&store, vec![restore_record(&later, 6, at)]).await;
    assert_eq!(
        ok(store.read_log(6, 10).await, "read_log"),
        vec![expected_record(&later, 6, at)]
    );
    // An empty restore changes nothing, whatever it answers.
    let before = snapshot(&store, &[]).await;
    let _ = store.restore(Vec::new()).await;
    assert_eq!(snapshot(&store, &[]).await, before);
    check_consistent(&before);
}

/// A restore that does not start at the length, goes back in time, breaks a chain or
/// reuses an id is refused, and stores nothing of it, not even its valid first records.
pub async fn restore_refusals_store_nothing<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("vagrad"));
    let t = |text: &str| ts(&format!("2019-03-0{text}Z"));
    let stored = [dir.next_event(), deal.next_event(), dir.next_event()];
    restore_ok(
        &store,
        vec![
            restore_record(&stored[0], 0, t("1T10:00:00")),
            restore_record(&stored[1], 1, t("1T11:00:00")),
            restore_record(&stored[2], 2, t("2T09:00:00")),
        ],
    )
    .await;
    let last = t("2T09:00:00");
    let later = t("3T00:00:00");
    let (a, b) = {
        let mut d = dir.clone();
        (d.next_event(), d.next_event())
    };
    let mismatch = Refusal::RestoreMismatch;

    for (what, index) in [
        ("starts past the length", 4),
        ("starts before the length", 2),
        ("starts at 0 again", 0),
    ] {
        assert_restore_refused(
            &store,
            vec![restore_record(&a, index, later)],
            mismatch.clone(),
            what,
        )
        .await;
    }
    assert_restore_refused(
        &store,
        vec![restore_record(&a, 3, later), restore_record(&b, 5, later)],
        mismatch.clone(),
        "a hole after a valid first record",
    )
    .await;
    assert_restore_refused(
        &store,
        vec![restore_record(&a, 3, later), restore_record(&b, 3, later)],
        mismatch.clone(),
        "an index twice",
    )
    .await;

    let earlier = Timestamp::from_datetime(last.datetime() - chrono::Duration::milliseconds(1));
    assert_restore_refused(
        &store,
        vec![restore_record(&a, 3, earlier)],
        mismatch.clone(),
        "recorded before the last stored record",
    )
    .await;
    assert_restore_refused(
        &store,
        vec![restore_record(&a, 3, later), restore_record(&b, 4, last)],
        mismatch.clone(),
        "going back in time inside the restore",
    )
    .await;

    let skip = dir.sign_at(fresh_id(), 3, stored[2].hash(), &some_event(&dir.stream));
    let wrong_prev = dir.sign_at(fresh_id(), 2, stored[0].hash(), &some_event(&dir.stream));
    let stale = dir.sign_at(fresh_id(), 1, stored[0].hash(), &some_event(&dir.stream));
    let not_first = Chain::new(agreement("ny")).sign_at(
        fresh_id(),
        1,
        Digest32::ZERO,
        &some_event(&deal.stream),
    );
    for (what, event) in [
        ("skips a seq", &skip),
        ("names another prev", &wrong_prev),
        ("repeats a stored seq", &stale),
        ("a new stream not at seq 0", &not_first),
    ] {
        assert_restore_refused(
            &store,
            vec![restore_record(event, 3, later)],
            mismatch.clone(),
            what,
        )
        .await;
    }
    let breaks = dir.sign_at(fresh_id(), 4, stored[2].hash(), &some_event(&dir.stream));
    assert_restore_refused(
        &store,
        vec![
            restore_record(&a, 3, later),
            restore_record(&breaks, 4, later),
        ],
        mismatch.clone(),
        "the 2nd record breaks the chain",
    )
    .await;

    let stored_id = stored[1].envelope().id;
    let reuses = dir.sign_at(stored_id, 2, stored[2].hash(), &some_event(&dir.stream));
    assert_restore_refused(
        &store,
        vec![restore_record(&reuses, 3, later)],
        Refusal::Exactly(StoreError::IdReused(stored_id)),
        "reuses a stored id",
    )
    .await;
    let twice = dir.sign_at(a.envelope().id, 3, a.hash(), &some_event(&dir.stream));
    assert_restore_refused(
        &store,
        vec![
            restore_record(&a, 3, later),
            restore_record(&twice, 4, later),
        ],
        Refusal::Exactly(StoreError::IdReused(a.envelope().id)),
        "one id twice in the restore",
    )
    .await;

    // The valid continuation is accepted, at the same time as the last record.
    restore_ok(
        &store,
        vec![restore_record(&a, 3, last), restore_record(&b, 4, later)],
    )
    .await;
    assert_eq!(ok(store.len().await, "len"), 5);

    // After an append, a restore may not go back before the append's time.
    let mut dir = dir;
    dir.advance(&a);
    dir.advance(&b);
    let appended = append_ok(&store, &[dir.next_event()]).await;
    let c = dir.at_head();
    let before_append =
        Timestamp::from_datetime(appended.recorded_at.datetime() - chrono::Duration::seconds(1));
    assert_restore_refused(
        &store,
        vec![restore_record(&c, 6, before_append)],
        mismatch,
        "recorded before the last append",
    )
    .await;
    check_consistent(&snapshot(&store, &[&agreement("ny")]).await);
}

/// A year no test machine's clock shows.
fn far_future() -> Timestamp {
    ts("2100-01-01T00:00:00Z")
}

/// Restored times are part of the log's order: appends after a restore of records with a
/// later time than the clock's are recorded no earlier, also when the restore and the
/// appends race.
pub async fn recorded_at_never_goes_back_after_restore<S: EventStore>(store: S) {
    let store = Arc::new(store);
    let mut dir = Chain::new(directory());
    let first = dir.next_event();
    restore_ok(&*store, vec![restore_record(&first, 0, far_future())]).await;
    let appended = append_ok(&*store, &[dir.next_event()]).await;
    assert!(
        appended.recorded_at >= far_future(),
        "an append after a restore was recorded earlier ({})",
        appended.recorded_at
    );

    // Restores (each a second later) race appends to other streams: whatever interleaving
    // the store picks, no record is recorded before the one before it.
    let mut later = far_future();
    for round in 0..20i64 {
        later = Timestamp::from_datetime(later.datetime() + chrono::Duration::seconds(1));
        let len = ok(store.len().await, "len");
        let restored = dir.at_head();
        let restorer = {
            let store = store.clone();
            let record = restore_record(&restored, len, later);
            tokio::spawn(async move { store.restore(vec![record]).await })
        };
        let appenders: Vec<_> = (0..4)
            .map(|i| {
                let store = store.clone();
                let event = Chain::new(agreement(&format!("lopp-{round}-{i}"))).at_head();
                tokio::spawn(async move { store.append(batch(&[event])).await })
            })
            .collect();
        match restorer
            .await
            .unwrap_or_else(|e| panic!("restore task: {e}"))
        {
            Ok(()) => dir.advance(&restored),
            Err(StoreError::RestoreMismatch(_)) => {}
            Err(e) => panic!("round {round}: restore failed: {e}"),
        }
        for appender in appenders {
            appender
                .await
                .unwrap_or_else(|e| panic!("append task: {e}"))
                .unwrap_or_else(|e| panic!("round {round}: append failed: {e}"));
        }
    }
    check_consistent(&snapshot(&*store, &[]).await);
}

/// Everything a store holds survives a reopen: every record, every head, the length, the
/// ids (repeats still get the first answer) and the last recorded time.
pub async fn persistence_after_reopen<F: StoreFactory>(factory: &F) {
    let store = factory.fresh().await;
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("bestandig"));
    let mut other = Chain::new(agreement("annan"));
    restore_ok(
        &store,
        vec![
            restore_record(&dir.next_event(), 0, ts("2019-05-01T08:00:00Z")),
            restore_record(&deal.next_event(), 1, ts("2019-05-01T08:00:00.500Z")),
        ],
    )
    .await;
    let mut answers: Vec<(Vec<VerifiedEvent>, Appended)> = Vec::new();
    for events in [
        dir.batch(3),
        deal.batch(1),
        other.batch(2),
        vec![dir.next_with(&party_registered("Region Östergötland 🤝"))],
        deal.batch(2),
    ] {
        let appended = append_ok(&store, &events).await;
        answers.push((events, appended));
    }
    let streams: Vec<StreamId> = vec![
        dir.stream.clone(),
        deal.stream.clone(),
        other.stream.clone(),
    ];
    let never = agreement("aldrig");
    let before = snapshot(&store, &[&never]).await;
    assert_eq!(before.len, 11);
    check_consistent(&before);

    let store = factory.reopen(store).await;
    assert_eq!(
        snapshot(&store, &[&never]).await,
        before,
        "the log changed on reopen"
    );
    for stream in &streams {
        let expected = match stream {
            StreamId::Directory => dir.head,
            _ if *stream == deal.stream => deal.head,
            _ => other.head,
        };
        assert_eq!(ok(store.head(stream).await, "head"), expected);
    }

    // Ids and heads are remembered.
    for (events, first) in &answers {
        let answer = ok(store.append(batch(events)).await, "repeat after reopen");
        assert_repeat(&answer, first, before.len, "a repeat after reopen");
    }
    let stale = deal.sign_at(fresh_id(), 0, Digest32::ZERO, &some_event(&deal.stream));
    assert_eq!(
        store.append(batch(&[stale])).await,
        Err(StoreError::Conflict(Box::new(Conflict {
            stream: deal.stream.clone(),
            expected_seq: deal.head.next_seq,
            expected_prev: deal.head.prev,
            got_seq: 0,
            got_prev: Digest32::ZERO,
        })))
    );
    let reused_id = answers[0].0[1].envelope().id;
    let reused = dir.sign_at(
        reused_id,
        dir.head.next_seq,
        dir.head.prev,
        &some_event(&dir.stream),
    );
    assert_eq!(
        store.append(batch(&[reused])).await,
        Err(StoreError::IdReused(reused_id))
    );
    assert_eq!(
        snapshot(&store, &[&never]).await,
        before,
        "refusals changed the log"
    );

    // The log goes on where it was; the last recorded time is remembered too.
    let appended = append_ok(&store, &[other.next_event()]).await;
    assert_eq!(appended.indexes, vec![11]);
    let future = far_future();
    restore_ok(&store, vec![restore_record(&deal.next_event(), 12, future)]).await;
    let before = snapshot(&store, &[&never]).await;
    let store = factory.reopen(store).await;
    assert_eq!(
        snapshot(&store, &[&never]).await,
        before,
        "the log changed on reopen"
    );
    let appended = append_ok(&store, &[dir.next_event()]).await;
    assert_eq!(appended.indexes, vec![13]);
    assert!(
        appended.recorded_at >= future,
        "after reopen an append was recorded ({}) before the last record ({future})",
        appended.recorded_at
    );
    let store = factory.reopen(store).await;
    let after = snapshot(&store, &[&never]).await;
    assert_eq!(after.len, 14);
    check_consistent(&after);
}
