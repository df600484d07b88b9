//! Every event: `seq` is the stream's next seq, `prev` the hash of the stream's last event
//! (64 zeros at seq 0). A stale chain is a conflict to re-sign and retry.

use super::fixture::*;
use crate::crypto::Digest32;
use crate::domain::{Rejection, RejectionKind, StreamHead};
use crate::id::StreamId;

#[test]
fn the_first_event_of_a_stream_has_seq_0_and_a_zero_prev() {
    // given an empty log
    let mut w = World::empty();
    assert_eq!(w.state.head(&StreamId::Directory), StreamHead::EMPTY);
    // when the registrar registers a party at seq 0, prev 0…0
    let env = w.envelope_with(
        &StreamId::Directory,
        0,
        Digest32::ZERO,
        &registrar(),
        &registered(&kommun(), "Norrköpings kommun"),
    );
    let hash = env.hash();
    // then it is accepted and the head moves on
    assert_eq!(w.submit(env), Ok(()));
    assert_eq!(
        w.state.head(&StreamId::Directory),
        StreamHead {
            next_seq: 1,
            prev: hash
        }
    );
    assert_eq!(w.state.len(), 1);
}

#[test]
fn a_seq_ahead_of_the_stream_is_refused() {
    let mut w = given_directory();
    let head = w.state.head(&StreamId::Directory);
    let env = w.envelope_with(
        &StreamId::Directory,
        head.next_seq + 1,
        head.prev,
        &registrar(),
        &registered(&ghost(), "Spöke"),
    );
    let rejection = w.submit(env).expect_err("seq from the future");
    assert_eq!(
        rejection,
        Rejection::WrongSeq {
            stream: StreamId::Directory,
            expected: head.next_seq,
            got: head.next_seq + 1,
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Conflict);
}

#[test]
fn a_seq_behind_the_stream_is_refused() {
    let mut w = given_directory();
    let head = w.state.head(&StreamId::Directory);
    let env = w.envelope_with(
        &StreamId::Directory,
        3,
        head.prev,
        &registrar(),
        &registered(&ghost(), "Spöke"),
    );
    assert_eq!(
        w.submit(env),
        Err(Rejection::WrongSeq {
            stream: StreamId::Directory,
            expected: head.next_seq,
            got: 3,
        })
    );
}

#[test]
fn a_wrong_prev_is_refused() {
    let mut w = given_directory();
    let head = w.state.head(&StreamId::Directory);
    let bogus = Digest32([7; 32]);
    let env = w.envelope_with(
        &StreamId::Directory,
        head.next_seq,
        bogus,
        &registrar(),
        &registered(&ghost(), "Spöke"),
    );
    let rejection = w.submit(env).expect_err("wrong prev");
    assert_eq!(
        rejection,
        Rejection::WrongPrev {
            stream: StreamId::Directory,
            expected: head.prev,
            got: bogus,
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Conflict);
}

#[test]
fn the_head_of_another_stream_is_a_wrong_prev() {
    // given the directory and the standard agreement
    let mut w = given();
    let dir = w.state.head(&StreamId::Directory);
    let agr = w.state.head(&agreement_stream());
    // when an agreement event chains onto the directory's last hash
    let env = w.envelope_with(
        &agreement_stream(),
        agr.next_seq,
        dir.prev,
        &anna(),
        &section("ny", "Ny", "Text."),
    );
    // then it is refused
    assert_eq!(
        w.submit(env),
        Err(Rejection::WrongPrev {
            stream: agreement_stream(),
            expected: agr.prev,
            got: dir.prev,
        })
    );
}

#[test]
fn seq_0_of_a_new_stream_needs_a_zero_prev() {
    let mut w = given_directory();
    let env = w.envelope_with(
        &agreement_stream(),
        0,
        Digest32([1; 32]),
        &anna(),
        &drafted("Samverkan", &[kommun()]),
    );
    assert_eq!(
        w.submit(env),
        Err(Rejection::WrongPrev {
            stream: agreement_stream(),
            expected: Digest32::ZERO,
            got: Digest32([1; 32]),
        })
    );
    assert!(w.state.agreement(&barn_och_unga()).is_none());
}

#[test]
fn a_new_stream_starts_at_seq_0() {
    let mut w = given_directory();
    let env = w.envelope_with(
        &agreement_stream(),
        1,
        Digest32::ZERO,
        &anna(),
        &drafted("Samverkan", &[kommun()]),
    );
    assert_eq!(
        w.submit(env),
        Err(Rejection::WrongSeq {
            stream: agreement_stream(),
            expected: 0,
            got: 1,
        })
    );
}

#[test]
fn a_stale_seq_after_another_append_is_a_conflict_and_re_signing_succeeds() {
    // given the standard agreement, and two signatories who both sign against the same head
    let mut w = given();
    let head = w.state.head(&agreement_stream());
    let first = w.envelope(&agreement_stream(), &anna(), &section("a", "A", "Text A."));
    let second = w.envelope(&agreement_stream(), &cia(), &section("b", "B", "Text B."));
    // when the first is appended
    assert_eq!(w.submit(first), Ok(()));
    // then the second is stale
    assert_eq!(
        w.submit(second),
        Err(Rejection::WrongSeq {
            stream: agreement_stream(),
            expected: head.next_seq + 1,
            got: head.next_seq,
        })
    );
    // and re-signed against the new head it is accepted
    assert_eq!(w.when(&cia(), section("b", "B", "Text B.")), Ok(()));
    assert_eq!(
        w.state.head(&agreement_stream()).next_seq,
        head.next_seq + 2
    );
}

#[test]
fn streams_are_chained_independently() {
    // given a directory of eleven events
    let mut w = given_directory();
    assert_eq!(w.state.head(&StreamId::Directory).next_seq, 11);
    // when two agreements are drafted
    assert_eq!(
        w.when_in(
            &stream_of(&aid("forsta")),
            &anna(),
            drafted("Första", &[kommun()])
        ),
        Ok(())
    );
    assert_eq!(
        w.when_in(
            &stream_of(&aid("andra")),
            &cia(),
            drafted("Andra", &[region()])
        ),
        Ok(())
    );
    // then each stream has its own seq, the log counts all
    assert_eq!(w.state.head(&stream_of(&aid("forsta"))).next_seq, 1);
    assert_eq!(w.state.head(&stream_of(&aid("andra"))).next_seq, 1);
    assert_eq!(w.state.head(&StreamId::Directory).next_seq, 11);
    assert_eq!(w.state.len(), 13);
}
