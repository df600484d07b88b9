//! RevisionWithdrawn: only the latest proposal, before it is in force, once.

use super::fixture::*;
use crate::domain::Rejection;

#[test]
fn the_latest_proposal_is_withdrawn() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&anna(), signed(1, hash, &kommun()));
    assert_eq!(w.when(&cia(), withdrawn(1)), Ok(()));
    let v1 = w.agreement().version(1).expect("v1");
    let withdrawal = v1.withdrawn.as_ref().expect("withdrawn");
    assert_eq!(withdrawal.reason, "Fel i texten");
    assert_eq!(withdrawal.by.party, Some(region()));
    assert!(w.agreement().open_proposal().is_none());
}

#[test]
fn an_older_proposal_is_not_withdrawn() {
    let mut w = given_proposed();
    w.given(&anna(), section("ny", "Ny", "Text."));
    w.propose(None);
    assert_eq!(
        w.when(&anna(), withdrawn(1)),
        Err(Rejection::StaleProposal {
            version: 1,
            latest: 2
        })
    );
}

#[test]
fn a_version_in_force_is_not_withdrawn() {
    let mut w = given_in_force();
    assert_eq!(
        w.when(&anna(), withdrawn(1)),
        Err(Rejection::AlreadyInForce(1))
    );
}

#[test]
fn a_proposal_is_withdrawn_once() {
    let mut w = given_proposed();
    w.given(&anna(), withdrawn(1));
    assert_eq!(w.when(&cia(), withdrawn(1)), Err(Rejection::Withdrawn(1)));
}

#[test]
fn an_unknown_version_is_not_withdrawn() {
    let mut w = given_proposed();
    assert_eq!(
        w.when(&anna(), withdrawn(2)),
        Err(Rejection::UnknownVersion(2))
    );
    let mut w = given();
    assert_eq!(
        w.when(&anna(), withdrawn(1)),
        Err(Rejection::UnknownVersion(1))
    );
}

#[test]
fn a_withdrawal_needs_a_reason() {
    let mut w = given_proposed();
    let mut event = withdrawn(1);
    if let crate::event::Event::RevisionWithdrawn(e) = &mut event {
        e.reason = "  ".into();
    }
    assert_eq!(
        w.when(&anna(), event),
        Err(Rejection::Empty { field: "reason" })
    );
}

#[test]
fn after_a_withdrawal_the_next_version_is_proposed_and_signed() {
    let mut w = given_proposed();
    w.given(&anna(), withdrawn(1));
    w.given(&anna(), section("syfte", "Syfte och mål", "Rättad text."));
    assert_eq!(w.propose(None), 2);
    w.at("2020-04-01T08:00:00Z").sign_all(2);
    assert_eq!(w.in_force_from(2), Some(date("2020-04-01")));
    assert!(w.agreement().version(1).expect("v1").in_force.is_none());
}
