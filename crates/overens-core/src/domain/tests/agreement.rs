//! Drafting an agreement, and who may sign on an agreement stream.

use super::fixture::*;
use crate::domain::{Rejection, RejectionKind};

// --- AgreementDrafted ----------------------------------------------------------------------

#[test]
fn a_party_drafts_an_agreement_at_seq_0() {
    let mut w = given_directory();
    assert_eq!(
        w.when(
            &anna(),
            drafted("Samverkan kring barn och unga", &[kommun(), region()])
        ),
        Ok(())
    );
    let a = w.agreement();
    assert_eq!(a.id, barn_och_unga());
    assert_eq!(a.drafted.seq, 0);
    assert_eq!(a.draft.title, "Samverkan kring barn och unga");
    assert_eq!(a.draft.parties, vec![kommun(), region()]);
    assert!(a.draft.sections.is_empty() && a.draft.forums.is_empty());
    assert!(a.versions.is_empty() && a.requests.is_empty() && a.termination.is_none());
    assert_eq!(a.timeline.len(), 1);
    assert_eq!(a.timeline[0].event_type, "AgreementDrafted");
}

#[test]
fn a_stream_never_drafted_accepts_nothing_else_at_seq_0() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), section("syfte", "Syfte", "Text.")),
        Err(Rejection::NoSuchAgreement(barn_och_unga()))
    );
    assert_eq!(
        w.when(&anna(), party_added(&region())),
        Err(Rejection::NoSuchAgreement(barn_och_unga()))
    );
    assert_eq!(
        w.when(
            &registrar(),
            paper(1, crate::crypto::Digest32::ZERO, &kommun(), "2013-01-01")
        ),
        Err(Rejection::NoSuchAgreement(barn_och_unga()))
    );
    assert!(w.state.agreement(&barn_och_unga()).is_none());
}

#[test]
fn an_agreement_is_drafted_once() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), drafted("Igen", &[kommun()])),
        Err(Rejection::AlreadyDrafted(barn_och_unga()))
    );
    assert_eq!(w.agreement().draft.title, "Samverkan kring barn och unga");
}

#[test]
fn the_drafter_s_party_must_be_among_the_parties() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), drafted("Utan kommunen", &[region(), polis()])),
        Err(Rejection::DrafterNotAParty(kommun()))
    );
    // a signatory of a party outside the list cannot draft for others either
    assert_eq!(
        w.when(&eva(), drafted("Utan länsstyrelsen", &[kommun(), region()])),
        Err(Rejection::DrafterNotAParty(lansstyrelsen()))
    );
}

#[test]
fn the_parties_are_not_empty() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), drafted("Ingen", &[])),
        Err(Rejection::DrafterNotAParty(kommun()))
    );
}

#[test]
fn the_parties_are_distinct() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), drafted("Dubbel", &[kommun(), region(), kommun()])),
        Err(Rejection::DuplicateParty(kommun()))
    );
}

#[test]
fn the_parties_are_registered() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), drafted("Spöke", &[kommun(), ghost()])),
        Err(Rejection::UnknownParty(ghost()))
    );
}

#[test]
fn the_title_is_not_empty() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&anna(), drafted(" ", &[kommun()])),
        Err(Rejection::Empty { field: "title" })
    );
}

#[test]
fn a_registrar_does_not_draft() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&registrar(), drafted("Samverkan", &[kommun()])),
        Err(Rejection::RegistrarMayNotSign {
            event: "AgreementDrafted"
        })
    );
}

#[test]
fn an_unknown_key_does_not_draft() {
    let mut w = given_directory();
    assert_eq!(
        w.when(&stranger(), drafted("Samverkan", &[kommun()])),
        Err(Rejection::UnknownSigner {
            key: stranger().public()
        })
    );
}

// --- who signs on an agreement stream ------------------------------------------------------

#[test]
fn every_party_s_signatory_may_sign_draft_changes() {
    let mut w = given();
    assert_eq!(w.when(&anna(), section("a", "A", "Text.")), Ok(()));
    assert_eq!(w.when(&bo(), section("b", "B", "Text.")), Ok(()));
    assert_eq!(w.when(&cia(), section("c", "C", "Text.")), Ok(()));
    assert_eq!(w.when(&dan(), section("d", "D", "Text.")), Ok(()));
}

#[test]
fn a_signatory_of_a_non_party_signs_nothing() {
    let mut w = given();
    let rejection = w
        .when(&eva(), section("syfte", "Syfte", "Annan text."))
        .expect_err("not a party");
    assert_eq!(
        rejection,
        Rejection::NotAParty {
            party: lansstyrelsen(),
            agreement: barn_och_unga(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    // not even adding its own party
    assert_eq!(
        w.when(&eva(), party_added(&lansstyrelsen())),
        Err(Rejection::NotAParty {
            party: lansstyrelsen(),
            agreement: barn_och_unga(),
        })
    );
}

#[test]
fn an_unknown_key_signs_nothing() {
    let mut w = given();
    assert_eq!(
        w.when(&stranger(), section("syfte", "Syfte", "Annan text.")),
        Err(Rejection::UnknownSigner {
            key: stranger().public()
        })
    );
}

#[test]
fn a_registrar_does_not_sign_draft_changes_or_party_acts() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    let cases = [
        (
            section("syfte", "Syfte", "Registrarens text."),
            "SectionRevised",
        ),
        (party_added(&tandvard()), "PartyAdded"),
        (
            seat("barnsamverket", "reg", &kommun(), false),
            "RepresentativeAdded",
        ),
        (proposed(2, w.draft_hash(), None), "RevisionProposed"),
        (signed(1, hash, &kommun()), "RevisionSigned"),
        (withdrawn(1), "RevisionWithdrawn"),
        (renegotiation(&kommun()), "RenegotiationRequested"),
        (terminated(&kommun(), "2030-01-01"), "AgreementTerminated"),
    ];
    for (event, name) in cases {
        let rejection = w.when(&registrar(), event).expect_err(name);
        assert_eq!(rejection, Rejection::RegistrarMayNotSign { event: name });
        assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    }
}

#[test]
fn only_a_registrar_records_paper() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    assert_eq!(
        w.when(&anna(), paper(1, hash, &kommun(), "2020-03-01")),
        Err(Rejection::NotARegistrar {
            event: "PaperSignatureRecorded",
            key: anna().public(),
        })
    );
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &kommun(), "2020-03-01")),
        Ok(())
    );
}

#[test]
fn a_party_added_to_the_draft_may_sign_from_then_on() {
    let mut w = given();
    assert_eq!(
        w.when(&fia(), section("tand", "Tandvård", "Text.")),
        Err(Rejection::NotAParty {
            party: tandvard(),
            agreement: barn_och_unga(),
        })
    );
    w.given(&anna(), party_added(&tandvard()));
    assert_eq!(w.when(&fia(), section("tand", "Tandvård", "Text.")), Ok(()));
}

#[test]
fn a_party_removed_from_the_draft_signs_while_in_the_latest_proposal() {
    // given version 1 proposed with the police, then the police removed from the draft
    let mut w = given_proposed();
    w.given(&anna(), party_removed(&polis()));
    assert!(!w.agreement().draft.has_party(&polis()));
    // then the police may still sign version 1
    let hash = w.version_hash(1);
    assert_eq!(w.when(&dan(), signed(1, hash, &polis())), Ok(()));
}

#[test]
fn a_party_removed_from_the_draft_signs_while_in_the_version_in_force() {
    // given version 1 in force, the police removed from the draft, version 2 proposed
    let mut w = given_in_force();
    w.given(&anna(), party_removed(&polis()));
    w.propose(None);
    // then the police may still ask to renegotiate version 1
    assert_eq!(w.when(&dan(), renegotiation(&polis())), Ok(()));
}

#[test]
fn a_party_removed_from_the_draft_before_any_proposal_signs_nothing() {
    let mut w = given();
    w.given(&anna(), party_removed(&polis()));
    assert_eq!(
        w.when(&dan(), section("polis", "Polisen", "Text.")),
        Err(Rejection::NotAParty {
            party: polis(),
            agreement: barn_och_unga(),
        })
    );
}
