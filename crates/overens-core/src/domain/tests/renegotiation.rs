//! RenegotiationRequested: by a party of the version in force, for itself, one open request
//! per party; requests close when a newer version enters into force.

use super::fixture::*;
use crate::domain::{Rejection, RejectionKind};

#[test]
fn nothing_in_force_nothing_to_renegotiate() {
    // a draft
    let mut w = given();
    assert_eq!(
        w.when(&cia(), renegotiation(&region())),
        Err(Rejection::NothingInForce(barn_och_unga()))
    );
    // a proposal signed by some
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&cia(), signed(1, hash, &region()));
    assert_eq!(
        w.when(&cia(), renegotiation(&region())),
        Err(Rejection::NothingInForce(barn_och_unga()))
    );
}

#[test]
fn a_party_of_the_version_in_force_requests_renegotiation() {
    let mut w = given_in_force();
    assert_eq!(w.when(&cia(), renegotiation(&region())), Ok(()));
    let open: Vec<_> = w.agreement().open_requests().collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].party, region());
    assert_eq!(open[0].reason, "Ny lagstiftning");
    assert_eq!(open[0].closed_by_version, None);
}

#[test]
fn a_party_requests_only_for_itself() {
    let mut w = given_in_force();
    let rejection = w
        .when(&cia(), renegotiation(&kommun()))
        .expect_err("acting for another party");
    assert_eq!(
        rejection,
        Rejection::ActingForAnotherParty {
            signer_party: region(),
            named: kommun(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
}

#[test]
fn only_a_party_of_the_version_in_force_requests() {
    // given version 1 in force, then Folktandvården added to the draft
    let mut w = given_in_force();
    w.given(&anna(), party_added(&tandvard()));
    assert_eq!(
        w.when(&fia(), renegotiation(&tandvard())),
        Err(Rejection::NotAPartyOfVersion {
            party: tandvard(),
            version: 1
        })
    );
    // and a non-party does not sign at all
    assert_eq!(
        w.when(&eva(), renegotiation(&lansstyrelsen())),
        Err(Rejection::NotAParty {
            party: lansstyrelsen(),
            agreement: barn_och_unga(),
        })
    );
}

#[test]
fn one_open_request_per_party() {
    let mut w = given_in_force();
    w.given(&cia(), renegotiation(&region()));
    assert_eq!(
        w.when(&cia(), renegotiation(&region())),
        Err(Rejection::AlreadyRequested(region()))
    );
    // the party's other signatory neither
    w.given(&anna(), renegotiation(&kommun()));
    assert_eq!(
        w.when(&bo(), renegotiation(&kommun())),
        Err(Rejection::AlreadyRequested(kommun()))
    );
    // another party may
    assert_eq!(w.when(&dan(), renegotiation(&polis())), Ok(()));
    assert_eq!(w.agreement().open_requests().count(), 3);
}

#[test]
fn a_request_needs_a_reason() {
    let mut w = given_in_force();
    let mut event = renegotiation(&region());
    if let crate::event::Event::RenegotiationRequested(e) = &mut event {
        e.reason = String::new();
    }
    assert_eq!(
        w.when(&cia(), event),
        Err(Rejection::Empty { field: "reason" })
    );
}

#[test]
fn requests_stay_open_until_a_newer_version_enters_into_force() {
    // given version 1 in force and two open requests
    let mut w = given_in_force();
    w.given(&cia(), renegotiation(&region()))
        .given(&dan(), renegotiation(&polis()));
    // a new proposal and partial signatures leave them open
    w.given(&cia(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(None);
    let hash = w.version_hash(2);
    w.at("2020-09-01T08:00:00Z")
        .given(&anna(), signed(2, hash, &kommun()))
        .given(&cia(), signed(2, hash, &region()));
    assert_eq!(w.agreement().open_requests().count(), 2);
    // when the last party signs version 2
    w.given(&dan(), signed(2, hash, &polis()));
    // then both are closed by version 2
    let a = w.agreement();
    assert_eq!(a.open_requests().count(), 0);
    assert!(a.requests.iter().all(|r| r.closed_by_version == Some(2)));
    // and the region may ask again, about version 2
    assert_eq!(w.when(&cia(), renegotiation(&region())), Ok(()));
    assert_eq!(w.agreement().open_requests().count(), 1);
}
