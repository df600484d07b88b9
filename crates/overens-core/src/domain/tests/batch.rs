//! `State::apply_batch`: a batch for one stream is applied whole or not at all, and a
//! clone taken before it is an unaffected snapshot.

use super::fixture::*;
use crate::domain::Rejection;
use crate::record::Recorded;

#[test]
fn a_batch_with_a_bad_event_changes_nothing() {
    let mut w = given();
    let stream = agreement_stream();
    let before = w.snapshot(&stream);
    let snapshot = w.state.clone();
    // Two chained events: a good section, then a seat for a party that is not in the draft.
    let first = w.envelope(
        &stream,
        &anna(),
        &section("ekonomi", "Ekonomi", "Delad kostnad."),
    );
    let first = first.verify().expect("valid");
    let second = w
        .envelope_with(
            &stream,
            first.seq() + 1,
            first.hash(),
            &anna(),
            &seat("barnsamverket", "x", &ghost(), false),
        )
        .verify()
        .expect("valid");
    let len = w.state.len();
    let result = w.state.apply_batch([
        Recorded {
            index: len,
            recorded_at: first.at(),
            event: &first,
        },
        Recorded {
            index: len + 1,
            recorded_at: second.at(),
            event: &second,
        },
    ]);
    assert_eq!(result, Err((1, Rejection::NotInDraft(ghost()))));
    assert_eq!(w.snapshot(&stream), before);

    // The same first event alone is accepted; the snapshot taken before is untouched.
    assert_eq!(
        w.state.apply_batch([Recorded {
            index: len,
            recorded_at: first.at(),
            event: &first
        }]),
        Ok(())
    );
    assert_eq!(w.state.len(), len + 1);
    assert_eq!(snapshot.len(), len);
    let draft_sections = |s: &crate::State| {
        s.agreement(&barn_och_unga())
            .expect("exists")
            .draft
            .sections
            .len()
    };
    assert_eq!(draft_sections(&w.state), draft_sections(&snapshot) + 1);
}
