//! What a store refuses: broken batches, stale heads, reused ids and partial repeats. Every
//! refusal leaves the log exactly as it was.

use overens_core::{Digest32, StreamId};

use super::{
    Chain, Refusal, agreement, append_ok, assert_append_refused, assert_repeat, batch,
    check_consistent, directory, fresh_id, ok, snapshot, some_event,
};
use crate::{Conflict, EventStore, StoreError};

/// A batch goes in whole or not at all: a batch whose 2nd (or 3rd) event breaks the chain,
/// one that mixes streams, one with an id twice and an empty one are refused, store
/// nothing, and leave no hole in the indexes.
pub async fn batches_are_atomic<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("atom"));
    append_ok(&store, &dir.batch(2)).await;
    append_ok(&store, &deal.batch(1)).await;

    let head = dir.head;
    let first = dir.at_head();
    let skips = dir.sign_at(
        fresh_id(),
        head.next_seq + 2,
        first.hash(),
        &some_event(&dir.stream),
    );
    assert_append_refused(
        &store,
        batch(&[first.clone(), skips]),
        Refusal::InvalidBatch,
        "2nd event skips a seq",
    )
    .await;

    let wrong_prev = dir.sign_at(
        fresh_id(),
        head.next_seq + 1,
        Digest32([9; 32]),
        &some_event(&dir.stream),
    );
    assert_append_refused(
        &store,
        batch(&[first.clone(), wrong_prev]),
        Refusal::InvalidBatch,
        "2nd event names another prev",
    )
    .await;

    let repeats_seq = dir.sign_at(
        fresh_id(),
        head.next_seq,
        first.hash(),
        &some_event(&dir.stream),
    );
    assert_append_refused(
        &store,
        batch(&[first.clone(), repeats_seq]),
        Refusal::InvalidBatch,
        "2nd event repeats the 1st one's seq",
    )
    .await;

    let mut ahead = dir.clone();
    let good_two = ahead.batch(2);
    let third_bad = ahead.sign_at(
        fresh_id(),
        ahead.head.next_seq,
        good_two[0].hash(),
        &some_event(&dir.stream),
    );
    assert_append_refused(
        &store,
        batch(&[good_two[0].clone(), good_two[1].clone(), third_bad]),
        Refusal::InvalidBatch,
        "3rd event chains to the 1st",
    )
    .await;

    // Mixed streams, each event valid at its own stream's head.
    assert_append_refused(
        &store,
        batch(&[first.clone(), deal.at_head()]),
        Refusal::InvalidBatch,
        "a batch mixing streams",
    )
    .await;
    let mut other = Chain::new(agreement("annan"));
    let mut mixed = dir.clone().batch(1);
    mixed.push(other.next_event());
    assert_append_refused(
        &store,
        batch(&mixed),
        Refusal::InvalidBatch,
        "a batch mixing a new stream",
    )
    .await;

    assert_append_refused(
        &store,
        batch(&[first.clone(), first.clone()]),
        Refusal::InvalidBatch,
        "the same event twice in a batch",
    )
    .await;
    let same_id = dir.sign_at(
        first.envelope().id,
        head.next_seq + 1,
        first.hash(),
        &some_event(&dir.stream),
    );
    assert_append_refused(
        &store,
        batch(&[first.clone(), same_id]),
        Refusal::InvalidBatch,
        "two chained events with one id",
    )
    .await;

    assert_append_refused(&store, Vec::new(), Refusal::InvalidBatch, "an empty batch").await;

    // After all that, the next batch gets the next indexes: nothing was used up.
    let len = ok(store.len().await, "len");
    assert_eq!(len, 3);
    let good = dir.batch(2);
    let appended = append_ok(&store, &good).await;
    assert_eq!(appended.indexes, vec![3, 4]);
    assert_eq!(appended.log_len, 5);
    assert_eq!(ok(store.head(&dir.stream).await, "head"), dir.head);
    check_consistent(&snapshot(&store, &[&other.stream]).await);
}

fn conflict(
    stream: &StreamId,
    expected: overens_core::domain::StreamHead,
    got_seq: u64,
    got_prev: Digest32,
) -> Refusal {
    Refusal::Exactly(StoreError::Conflict(Box::new(Conflict {
        stream: stream.clone(),
        expected_seq: expected.next_seq,
        expected_prev: expected.prev,
        got_seq,
        got_prev,
    })))
}

/// An event signed against a head that is not the stream's head is a `Conflict` naming
/// the head it must sign against: a stale seq, a wrong prev, a seq ahead, and the same for
/// a stream that does not exist yet.
pub async fn optimistic_concurrency_conflicts<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let events = dir.batch(3);
    append_ok(&store, &events).await;
    let head = dir.head;
    let stream = dir.stream.clone();
    let event = |seq: u64, prev: Digest32| dir.sign_at(fresh_id(), seq, prev, &some_event(&stream));

    let cases = [
        ("stale seq 0", 0, Digest32::ZERO),
        ("stale seq 1", 1, events[0].hash()),
        (
            "stale seq 2, a rival of the last event",
            2,
            events[1].hash(),
        ),
        ("right seq, prev of an older event", 3, events[1].hash()),
        ("right seq, prev of no event", 3, Digest32([5; 32])),
        ("right seq, zero prev", 3, Digest32::ZERO),
        ("seq one ahead", 4, head.prev),
        ("seq far ahead", 1000, head.prev),
    ];
    for (what, seq, prev) in cases {
        assert_append_refused(
            &store,
            batch(&[event(seq, prev)]),
            conflict(&stream, head, seq, prev),
            what,
        )
        .await;
    }

    // A stale batch that chains internally is refused on its first event.
    let mut stale = Chain::new(directory());
    stale.head = overens_core::domain::StreamHead {
        next_seq: 2,
        prev: events[1].hash(),
    };
    let stale_batch = stale.batch(3);
    assert_append_refused(
        &store,
        batch(&stale_batch),
        conflict(&stream, head, 2, events[1].hash()),
        "a stale batch",
    )
    .await;

    // A stream no one has written to yet is at seq 0 after the zero hash.
    let empty = agreement("ny");
    let fresh = Chain::new(empty.clone());
    let empty_head = overens_core::domain::StreamHead::EMPTY;
    for (what, seq, prev) in [
        ("new stream, seq 1", 1, Digest32::ZERO),
        (
            "new stream, seq 0 after a non-zero prev",
            0,
            events[2].hash(),
        ),
    ] {
        let e = fresh.sign_at(fresh_id(), seq, prev, &some_event(&empty));
        assert_append_refused(
            &store,
            batch(&[e]),
            conflict(&empty, empty_head, seq, prev),
            what,
        )
        .await;
    }

    // The right head is accepted.
    let next = dir.next_event();
    let appended = append_ok(&store, std::slice::from_ref(&next)).await;
    assert_eq!(appended.indexes, vec![3]);
    assert_eq!(ok(store.head(&stream).await, "head"), dir.head);
    check_consistent(&snapshot(&store, &[&empty]).await);
}

/// The same batch again is answered with the first answer (`repeated: true`) and stores
/// nothing, also after the log has grown.
pub async fn idempotent_repeats<S: EventStore>(store: S) {
    let mut deal = Chain::new(agreement("samma"));
    let mut dir = Chain::new(directory());
    append_ok(&store, &dir.batch(1)).await;
    let three = deal.batch(3);
    let first = append_ok(&store, &three).await;
    assert_eq!(first.indexes, vec![1, 2, 3]);
    assert!(!first.repeated);
    let repeated = crate::Appended {
        repeated: true,
        ..first.clone()
    };

    let before = snapshot(&store, &[]).await;
    // Nothing appended since: the whole first answer again.
    assert_eq!(ok(store.append(batch(&three)).await, "repeat"), repeated);
    assert_eq!(ok(store.append(batch(&three)).await, "repeat"), repeated);
    assert_eq!(
        snapshot(&store, &[]).await,
        before,
        "a repeat changed the log"
    );

    // The log grows; the repeat still gets the first indexes and time.
    let single = dir.next_event();
    let single_first = append_ok(&store, std::slice::from_ref(&single)).await;
    append_ok(&store, &deal.batch(2)).await;
    append_ok(&store, &dir.batch(2)).await;
    let before = snapshot(&store, &[]).await;
    let answer = ok(store.append(batch(&three)).await, "repeat");
    assert_repeat(&answer, &first, before.len, "a batch after the log grew");
    let answer = ok(
        store.append(batch(std::slice::from_ref(&single))).await,
        "repeat",
    );
    assert_repeat(
        &answer,
        &single_first,
        before.len,
        "one event after the log grew",
    );
    assert_eq!(
        snapshot(&store, &[]).await,
        before,
        "a repeat changed the log"
    );
    check_consistent(&before);
}

/// An id that is stored with other bytes is refused as `IdReused`, wherever the new event
/// would go: at the stored event's place, at the stream's head, in another stream, or as
/// the 2nd event of a batch.
pub async fn ids_reused_with_other_bytes_are_refused<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("ateranvand"));
    let stored = dir.batch(2);
    append_ok(&store, &stored).await;
    append_ok(&store, &deal.batch(1)).await;
    let id = stored[1].envelope().id;
    let reused = Refusal::Exactly(StoreError::IdReused(id));

    let same_place = dir.sign_at(id, 1, stored[0].hash(), &some_event(&dir.stream));
    assert_ne!(same_place.canonical_bytes(), stored[1].canonical_bytes());
    assert_append_refused(
        &store,
        batch(&[same_place]),
        reused.clone(),
        "re-signed at its place",
    )
    .await;

    let at_head = dir.sign_at(
        id,
        dir.head.next_seq,
        dir.head.prev,
        &some_event(&dir.stream),
    );
    assert_append_refused(&store, batch(&[at_head]), reused.clone(), "at the head").await;

    let elsewhere = deal.sign_at(
        id,
        deal.head.next_seq,
        deal.head.prev,
        &some_event(&deal.stream),
    );
    assert_append_refused(
        &store,
        batch(&[elsewhere]),
        reused.clone(),
        "in another stream",
    )
    .await;

    let fresh_first = deal.at_head();
    let second = deal.sign_at(
        id,
        deal.head.next_seq + 1,
        fresh_first.hash(),
        &some_event(&deal.stream),
    );
    assert_append_refused(
        &store,
        batch(&[fresh_first, second]),
        reused,
        "as the 2nd event of a batch",
    )
    .await;
    check_consistent(&snapshot(&store, &[]).await);
}

/// Events of an earlier batch sent again inside a new batch (with new events after them)
/// are refused; the new events alone are then accepted.
pub async fn partial_repeats_are_refused<S: EventStore>(store: S) {
    let mut deal = Chain::new(agreement("delvis"));
    let earlier = deal.batch(3);
    append_ok(&store, &earlier).await;
    let new = deal.batch(2);

    let mut last_and_new = vec![earlier[2].clone()];
    last_and_new.extend(new.iter().cloned());
    assert_append_refused(
        &store,
        batch(&last_and_new),
        Refusal::InvalidBatch,
        "the last event of a batch resent with new ones",
    )
    .await;
    let mut two_and_new = earlier[1..].to_vec();
    two_and_new.push(new[0].clone());
    assert_append_refused(
        &store,
        batch(&two_and_new),
        Refusal::InvalidBatch,
        "two events of a batch resent with a new one",
    )
    .await;
    let mut all_and_new = earlier.clone();
    all_and_new.push(new[0].clone());
    assert_append_refused(
        &store,
        batch(&all_and_new),
        Refusal::InvalidBatch,
        "a whole batch resent with a new one",
    )
    .await;

    let appended = append_ok(&store, &new).await;
    assert_eq!(appended.indexes, vec![3, 4]);
    assert!(!appended.repeated);
    check_consistent(&snapshot(&store, &[]).await);
}
