//! AgreementTerminated: by a party for itself, not before the version in force; after it,
//! nothing more is recorded.

use super::fixture::*;
use crate::domain::{Rejection, RejectionKind};

#[test]
fn a_party_terminates_the_agreement() {
    let mut w = given_in_force();
    assert_eq!(w.when(&dan(), terminated(&polis(), "2022-12-31")), Ok(()));
    let t = w.agreement().termination.as_ref().expect("terminated");
    assert_eq!(t.party, polis());
    assert_eq!(t.effective_on, date("2022-12-31"));
    assert_eq!(t.by.key, dan().public());
}

#[test]
fn a_draft_is_terminated_on_any_date() {
    let mut w = given();
    assert_eq!(w.when(&anna(), terminated(&kommun(), "2010-01-01")), Ok(()));
}

#[test]
fn a_party_terminates_only_for_itself() {
    let mut w = given_in_force();
    let rejection = w
        .when(&dan(), terminated(&kommun(), "2022-12-31"))
        .expect_err("acting for another party");
    assert_eq!(
        rejection,
        Rejection::ActingForAnotherParty {
            signer_party: polis(),
            named: kommun(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
}

#[test]
fn a_termination_is_not_dated_before_the_version_in_force() {
    let mut w = given_in_force();
    assert_eq!(
        w.when(&dan(), terminated(&polis(), "2020-03-31")),
        Err(Rejection::TerminationBeforeInForce {
            effective_on: date("2020-03-31"),
            version: 1,
            from: date("2020-04-01"),
        })
    );
    // the in-force date itself is fine
    assert_eq!(w.when(&dan(), terminated(&polis(), "2020-04-01")), Ok(()));
}

#[test]
fn a_termination_is_not_dated_before_the_latest_version_in_force() {
    // given version 1 from 2020-04-01, superseded by version 2 from 2021-03-01
    let mut w = given_in_force();
    w.given(&anna(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(Some("2021-03-01"));
    w.at("2021-02-01T09:00:00Z").sign_all(2);
    assert_eq!(
        w.when(&cia(), terminated(&region(), "2021-02-28")),
        Err(Rejection::TerminationBeforeInForce {
            effective_on: date("2021-02-28"),
            version: 2,
            from: date("2021-03-01"),
        })
    );
}

#[test]
fn a_termination_needs_a_reason() {
    let mut w = given_in_force();
    let mut event = terminated(&polis(), "2022-12-31");
    if let crate::event::Event::AgreementTerminated(e) = &mut event {
        e.reason = " ".into();
    }
    assert_eq!(
        w.when(&dan(), event),
        Err(Rejection::Empty { field: "reason" })
    );
}

#[test]
fn after_termination_nothing_is_recorded() {
    // given version 1 in force, version 2 proposed and half signed, then terminated
    let mut w = given_in_force();
    w.given(&anna(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(None);
    let h2 = w.version_hash(2);
    w.given(&anna(), signed(2, h2, &kommun()));
    w.given(&dan(), terminated(&polis(), "2022-12-31"));
    let before = w.agreement_json();
    let terminated_error = Err(Rejection::Terminated(barn_och_unga()));
    let cases = [
        (anna(), drafted("Igen", &[kommun()])),
        (anna(), title_and_preamble("Ny titel", "Ny ingress.")),
        (anna(), party_added(&tandvard())),
        (anna(), party_removed(&polis())),
        (anna(), section("ny", "Ny", "Text.")),
        (anna(), section_removed("syfte")),
        (
            anna(),
            forum_established("styrgrupp", definition("Styrgrupp", None)),
        ),
        (
            anna(),
            forum_revised("barnsamverket", definition("Nytt namn", None)),
        ),
        (anna(), forum_dissolved("barnsamverket")),
        (dan(), seat("barnsamverket", "polis", &polis(), false)),
        (cia(), seat_removed("barnsamverket", "bup")),
        (anna(), proposed(3, h2, None)),
        (cia(), signed(2, h2, &region())),
        (registrar(), paper(2, h2, &region(), "2020-03-01")),
        (anna(), withdrawn(2)),
        (cia(), renegotiation(&region())),
        (cia(), terminated(&region(), "2023-01-01")),
        (dan(), terminated(&polis(), "2023-01-01")),
        // whoever signs
        (eva(), section("ny", "Ny", "Text.")),
        (stranger(), section("ny", "Ny", "Text.")),
    ];
    for (signer, event) in cases {
        let name = event.type_name();
        assert_eq!(w.when(&signer, event), terminated_error, "{name}");
    }
    assert_eq!(w.agreement_json(), before);
}

#[test]
fn a_party_only_in_the_draft_cannot_end_the_version_in_force() {
    let mut w = given_in_force();
    w.given(&anna(), party_added(&tandvard()));
    assert_eq!(
        w.when(&fia(), terminated(&tandvard(), "2022-12-31")),
        Err(Rejection::NotAPartyOfVersion {
            party: tandvard(),
            version: 1
        })
    );
}
