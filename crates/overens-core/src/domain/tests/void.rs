//! Void records: an agreement event decided before its signer's revocation but placed after
//! it in the global order (several writers on one log) keeps its place and does nothing.

use super::fixture::*;
use crate::domain::{Applied, Rejection, StreamHead};
use crate::envelope::Envelope;
use crate::id::StreamId;
use crate::record::Recorded;

impl World {
    /// Applies `envelope` as a record read from the log, at the next index.
    fn logged(&mut self, envelope: Envelope) -> Result<Applied, Rejection> {
        let verified = envelope.verify().expect("well-formed and signed");
        self.state.apply_logged(Recorded {
            index: self.state.len(),
            recorded_at: verified.at(),
            event: &verified,
        })
    }
}

/// Anna's section, decided (signed against the head) before the registrar revokes her key,
/// but placed after the revocation.
fn raced_section(w: &mut World) -> Envelope {
    let raced = w.envelope(
        &agreement_stream(),
        &anna(),
        &section("ny", "Ny", "Ny text."),
    );
    w.given_dir(&registrar(), revoked(anna().public(), "Slutat"));
    raced
}

#[test]
fn an_event_placed_after_its_signer_s_revocation_is_void() {
    let mut w = given();
    let raced = raced_section(&mut w);
    let hash = raced.hash();
    let (len, draft) = (w.state.len(), w.agreement().draft.clone());
    let timeline = w.agreement().timeline.len();

    let applied = w.logged(raced).expect("void, not refused");

    let Applied::Void(rejection) = applied else {
        panic!("expected a void record, got {applied:?}");
    };
    assert_eq!(rejection.rule(), "revoked-key");
    // It holds its place in the log and its stream's chain…
    assert_eq!(w.state.len(), len + 1);
    let head = w.state.head(&agreement_stream());
    assert_eq!(head.prev, hash);
    // …and changes nothing else.
    assert_eq!(w.agreement().draft, draft);
    assert_eq!(w.agreement().timeline.len(), timeline + 1);
    let last = w.agreement().timeline.iter().last().expect("an entry");
    assert!(
        last.summary.starts_with("void, no effect: key"),
        "{}",
        last.summary
    );
    assert_eq!(last.stamp.index, len);
    let voids = w.state.voids();
    assert_eq!(voids.len(), 1);
    assert_eq!(voids[0].stamp.index, len);
    assert_eq!(voids[0].rule, "revoked-key");
    assert_eq!(voids[0].event_type, "SectionRevised");
}

#[test]
fn a_new_append_by_a_revoked_key_is_still_refused_and_changes_nothing() {
    let mut w = given();
    let raced = raced_section(&mut w);
    let before = w.snapshot(&agreement_stream());
    let rejection = w.submit(raced).expect_err("apply stays strict");
    assert!(matches!(rejection, Rejection::RevokedKey { .. }));
    assert_eq!(w.snapshot(&agreement_stream()), before);
    assert!(w.state.voids().is_empty());
}

#[test]
fn the_stream_goes_on_from_a_void_record() {
    let mut w = given();
    let raced = raced_section(&mut w);
    w.logged(raced).expect("void");
    w.given(&bo(), section("efter", "Efter", "Text."));
    assert!(w.agreement().draft.section(&sid("efter")).is_some());
    assert!(w.agreement().draft.section(&sid("ny")).is_none());
}

#[test]
fn a_void_draft_leaves_no_agreement_but_moves_the_chain() {
    let mut w = given_directory();
    let other = aid("annan");
    let stream = stream_of(&other);
    let raced = w.envelope(&stream, &anna(), &drafted("Annan", &[kommun(), region()]));
    let hash = raced.hash();
    w.given_dir(&registrar(), revoked(anna().public(), "Slutat"));

    assert!(matches!(w.logged(raced), Ok(Applied::Void(_))));
    assert!(w.state.agreement(&other).is_none());
    assert_eq!(
        w.state.head(&stream),
        StreamHead {
            next_seq: 1,
            prev: hash
        }
    );
    // The stream is drafted again by an active signatory, chained on the void record.
    w.given_in(&stream, &bo(), drafted("Annan", &[kommun(), region()]));
    let agreement = w.state.agreement(&other).expect("drafted now");
    assert_eq!(agreement.timeline.len(), 1);
    assert_eq!(w.state.head(&stream).next_seq, 2);
}

#[test]
fn other_refusals_of_a_logged_record_are_not_void_and_change_nothing() {
    let mut w = given();
    let head = w.state.head(&agreement_stream());
    // A stale chain.
    let stale = w.envelope_with(
        &agreement_stream(),
        head.next_seq - 1,
        head.prev,
        &anna(),
        &section("x", "X", "x"),
    );
    // A broken rule by an active signatory.
    let unknown = w.envelope(&agreement_stream(), &anna(), &section_removed("finns-inte"));
    // A signer who was never enrolled.
    let stranger = w.envelope(&agreement_stream(), &stranger(), &section("x", "X", "x"));
    for (envelope, rule) in [
        (stale, "wrong-seq"),
        (unknown, "unknown-section"),
        (stranger, "unknown-signer"),
    ] {
        let before = w.snapshot(&agreement_stream());
        let rejection = w.logged(envelope).expect_err("refused");
        assert_eq!(rejection.rule(), rule);
        assert_eq!(w.snapshot(&agreement_stream()), before);
        assert!(w.state.voids().is_empty());
    }
}

#[test]
fn directory_records_are_never_void() {
    let mut w = given_directory();
    // Bo's key revokes itself, then a record in the directory signed by it is refused.
    w.given_dir(&bo(), revoked(bo().public(), "Slutat"));
    let again = w.envelope(&StreamId::Directory, &bo(), &revoked(bo().public(), "Igen"));
    let before = w.snapshot(&StreamId::Directory);
    assert!(w.logged(again).is_err());
    assert_eq!(w.snapshot(&StreamId::Directory), before);
}
