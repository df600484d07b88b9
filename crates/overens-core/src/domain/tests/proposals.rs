//! RevisionProposed: numbered in order, names the draft's exact hash, seals the draft.

use super::fixture::*;
use crate::crypto::Digest32;
use crate::domain::Rejection;

#[test]
fn the_draft_is_proposed_as_version_1() {
    let mut w = given();
    let draft = w.agreement().draft.clone();
    assert_eq!(
        w.when(&cia(), proposed(1, draft.hash(), Some("2020-05-01"))),
        Ok(())
    );
    let v1 = w.agreement().version(1).expect("proposed");
    assert_eq!(v1.number, 1);
    assert_eq!(v1.content, draft);
    assert_eq!(v1.content_hash, draft.hash());
    assert_eq!(v1.proposal.effective_from, Some(date("2020-05-01")));
    assert_eq!(v1.proposal.by.party, Some(region()));
    assert!(v1.signatures.is_empty() && v1.in_force.is_none() && v1.withdrawn.is_none());
    assert_eq!(w.agreement().open_proposal().map(|v| v.number), Some(1));
}

#[test]
fn the_content_hash_is_sha256_of_the_jcs_of_the_content() {
    let w = given();
    let draft = &w.agreement().draft;
    let canonical = crate::jcs::canonical(draft).expect("plain JSON");
    assert_eq!(draft.hash(), Digest32::of(&canonical));
}

#[test]
fn the_first_proposal_is_version_1() {
    let mut w = given();
    let hash = w.draft_hash();
    for wrong in [0, 2, 7] {
        assert_eq!(
            w.when(&anna(), proposed(wrong, hash, None)),
            Err(Rejection::WrongVersionNumber {
                expected: 1,
                got: wrong
            })
        );
    }
}

#[test]
fn the_next_proposal_counts_every_earlier_one() {
    let mut w = given_proposed();
    w.given(&anna(), section("ny", "Ny", "Ny text."));
    let hash = w.draft_hash();
    assert_eq!(
        w.when(&anna(), proposed(1, hash, None)),
        Err(Rejection::WrongVersionNumber {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        w.when(&anna(), proposed(3, hash, None)),
        Err(Rejection::WrongVersionNumber {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(w.when(&anna(), proposed(2, hash, None)), Ok(()));
}

#[test]
fn a_withdrawn_version_still_counts() {
    let mut w = given_proposed();
    w.given(&anna(), withdrawn(1));
    let hash = w.draft_hash();
    assert_eq!(
        w.when(&anna(), proposed(1, hash, None)),
        Err(Rejection::WrongVersionNumber {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(w.when(&anna(), proposed(2, hash, None)), Ok(()));
}

#[test]
fn the_content_hash_must_be_the_draft_s() {
    let mut w = given();
    let bogus = Digest32([9; 32]);
    assert_eq!(
        w.when(&anna(), proposed(1, bogus, None)),
        Err(Rejection::ContentHashMismatch {
            expected: w.draft_hash(),
            got: bogus,
        })
    );
}

#[test]
fn a_hash_of_an_older_draft_is_refused() {
    // given a hash taken before the last draft change
    let mut w = given();
    let old = w.draft_hash();
    w.given(
        &cia(),
        section("ekonomi", "Ekonomi", "Var och en bär sina kostnader."),
    );
    // when proposing with it
    assert_eq!(
        w.when(&anna(), proposed(1, old, None)),
        Err(Rejection::ContentHashMismatch {
            expected: w.draft_hash(),
            got: old,
        })
    );
    assert!(w.agreement().versions.is_empty());
}

#[test]
fn a_proposal_seals_the_draft() {
    // given version 1 proposed
    let mut w = given_proposed();
    let v1_before = serde_json::to_value(w.agreement().version(1)).expect("json");
    let sealed = w.version_hash(1);
    // when the draft changes in every way afterwards
    w.given(&anna(), section("vardegrund", "Värdegrund", "Ändrad."))
        .given(&anna(), section_removed("uppfoljning"))
        .given(&anna(), party_added(&tandvard()))
        .given(&anna(), party_removed(&polis()))
        .given(&anna(), seat_removed("barnsamverket", "bup"))
        .given(&fia(), seat("barnsamverket", "tand", &tandvard(), true))
        .given(
            &anna(),
            forum_established("styrgrupp", definition("Styrgrupp", None)),
        );
    // then version 1 is exactly what was proposed
    let v1 = w.agreement().version(1).expect("v1");
    assert_eq!(serde_json::to_value(v1).expect("json"), v1_before);
    assert_eq!(v1.content.hash(), sealed);
    assert_eq!(v1.content.parties, vec![kommun(), region(), polis()]);
    // and the draft has moved on to another hash, which version 2 seals
    assert_ne!(w.draft_hash(), sealed);
    let v2_hash = w.draft_hash();
    assert_eq!(w.when(&anna(), proposed(2, v2_hash, None)), Ok(()));
    assert_eq!(w.version_hash(2), v2_hash);
    assert_eq!(w.version_hash(1), sealed);
}

#[test]
fn a_newer_proposal_makes_the_older_stale() {
    let mut w = given_proposed();
    w.given(&anna(), section("ny", "Ny", "Text."));
    w.propose(None);
    assert_eq!(w.agreement().open_proposal().map(|v| v.number), Some(2));
    let h1 = w.version_hash(1);
    assert_eq!(
        w.when(&cia(), signed(1, h1, &region())),
        Err(Rejection::StaleProposal {
            version: 1,
            latest: 2
        })
    );
}
