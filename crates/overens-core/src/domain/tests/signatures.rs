//! RevisionSigned and PaperSignatureRecorded, and entry into force.

use super::fixture::*;
use crate::crypto::Digest32;
use crate::domain::{Rejection, RejectionKind, SignatureMethod};
use crate::event::Event;

// --- a live signature ----------------------------------------------------------------------

#[test]
fn a_party_signs_the_latest_proposal_live() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-12T09:30:00Z");
    assert_eq!(w.when(&cia(), signed(1, hash, &region())), Ok(()));
    let v1 = w.agreement().version(1).expect("v1");
    assert_eq!(v1.signatures.len(), 1);
    let s = &v1.signatures[0];
    assert_eq!(s.party, region());
    assert_eq!(s.version, 1);
    assert_eq!(s.content_hash, hash);
    assert_eq!(s.signed_on, date("2020-03-12"));
    assert_eq!(s.method, SignatureMethod::Live);
    assert_eq!(s.by.key, cia().public());
    assert_eq!(s.by.party, Some(region()));
    // one of three: not in force yet
    assert!(v1.in_force.is_none());
    assert_eq!(v1.unsigned_parties(), vec![&kommun(), &polis()]);
}

#[test]
fn a_version_is_not_in_force_until_every_party_signed() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&anna(), signed(1, hash, &kommun()))
        .given(&cia(), signed(1, hash, &region()));
    assert_eq!(w.in_force_from(1), None);
    assert!(w.agreement().current().is_none());
    w.given(&dan(), signed(1, hash, &polis()));
    assert!(w.in_force_from(1).is_some());
    assert_eq!(w.agreement().current().map(|v| v.number), Some(1));
}

#[test]
fn a_live_signature_is_dated_in_stockholm() {
    // given version 1 signed by the kommun and the region in March
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-20T10:00:00Z")
        .given(&anna(), signed(1, hash, &kommun()))
        .given(&cia(), signed(1, hash, &region()));
    // when the police signs at 22:30 UTC on 31 March, 00:30 on 1 April in Sweden
    w.at("2020-03-31T22:30:00Z");
    assert_eq!(w.when(&dan(), signed(1, hash, &polis())), Ok(()));
    // then the signature is dated 1 April and the version is in force from 1 April
    let v1 = w.agreement().version(1).expect("v1");
    assert_eq!(v1.signatures[2].signed_on, date("2020-04-01"));
    assert_eq!(w.in_force_from(1), Some(date("2020-04-01")));
}

#[test]
fn a_winter_signature_late_in_the_evening_keeps_its_utc_date() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    // 22:30 UTC in January is 23:30 in Sweden (CET)
    w.at("2020-01-31T22:30:00Z");
    assert_eq!(w.when(&anna(), signed(1, hash, &kommun())), Ok(()));
    assert_eq!(
        w.agreement().version(1).expect("v1").signatures[0].signed_on,
        date("2020-01-31")
    );
}

#[test]
fn a_signatory_signs_only_for_its_own_party() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    let rejection = w
        .when(&anna(), signed(1, hash, &region()))
        .expect_err("acting for another party");
    assert_eq!(
        rejection,
        Rejection::ActingForAnotherParty {
            signer_party: kommun(),
            named: region(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    // not even for a party outside the agreement
    assert_eq!(
        w.when(&anna(), signed(1, hash, &lansstyrelsen())),
        Err(Rejection::ActingForAnotherParty {
            signer_party: kommun(),
            named: lansstyrelsen(),
        })
    );
}

#[test]
fn a_party_signs_a_version_once() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&anna(), signed(1, hash, &kommun()));
    // the same signatory again
    assert_eq!(
        w.when(&anna(), signed(1, hash, &kommun())),
        Err(Rejection::AlreadySigned {
            party: kommun(),
            version: 1
        })
    );
    // the party's other signatory
    assert_eq!(
        w.when(&bo(), signed(1, hash, &kommun())),
        Err(Rejection::AlreadySigned {
            party: kommun(),
            version: 1
        })
    );
    assert_eq!(w.agreement().version(1).expect("v1").signatures.len(), 1);
}

#[test]
fn a_stale_proposal_is_not_signed() {
    let mut w = given_proposed();
    let h1 = w.version_hash(1);
    w.given(&anna(), signed(1, h1, &kommun()));
    w.given(&cia(), section("ny", "Ny", "Text."));
    w.propose(None);
    assert_eq!(
        w.when(&cia(), signed(1, h1, &region())),
        Err(Rejection::StaleProposal {
            version: 1,
            latest: 2
        })
    );
    // the newer one is
    let h2 = w.version_hash(2);
    assert_eq!(w.when(&cia(), signed(2, h2, &region())), Ok(()));
}

#[test]
fn a_withdrawn_proposal_is_not_signed() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&anna(), withdrawn(1));
    assert_eq!(
        w.when(&cia(), signed(1, hash, &region())),
        Err(Rejection::Withdrawn(1))
    );
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &region(), "2020-03-01")),
        Err(Rejection::Withdrawn(1))
    );
}

#[test]
fn an_unknown_version_is_not_signed() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    assert_eq!(
        w.when(&cia(), signed(2, hash, &region())),
        Err(Rejection::UnknownVersion(2))
    );
    assert_eq!(
        w.when(&cia(), signed(0, hash, &region())),
        Err(Rejection::UnknownVersion(0))
    );
    assert_eq!(
        w.when(&registrar(), paper(5, hash, &region(), "2020-03-01")),
        Err(Rejection::UnknownVersion(5))
    );
    // before any proposal
    let mut w = given();
    assert_eq!(
        w.when(&cia(), signed(1, hash, &region())),
        Err(Rejection::UnknownVersion(1))
    );
}

#[test]
fn a_signature_names_the_version_s_exact_hash() {
    let mut w = given_proposed();
    let bogus = Digest32([5; 32]);
    assert_eq!(
        w.when(&cia(), signed(1, bogus, &region())),
        Err(Rejection::ContentHashMismatch {
            expected: w.version_hash(1),
            got: bogus,
        })
    );
    // the draft's newer hash is not version 1's either
    w.given(&anna(), section("ny", "Ny", "Text."));
    let draft = w.draft_hash();
    assert_eq!(
        w.when(&cia(), signed(1, draft, &region())),
        Err(Rejection::ContentHashMismatch {
            expected: w.version_hash(1),
            got: draft,
        })
    );
    assert_eq!(
        w.when(&registrar(), paper(1, bogus, &region(), "2020-03-01")),
        Err(Rejection::ContentHashMismatch {
            expected: w.version_hash(1),
            got: bogus,
        })
    );
}

#[test]
fn only_a_party_of_the_version_signs_it() {
    // given version 1 proposed, then Folktandvården added to the draft
    let mut w = given_proposed();
    w.given(&anna(), party_added(&tandvard()));
    let hash = w.version_hash(1);
    // Fia may sign on the agreement, but version 1 is not hers to sign
    assert_eq!(
        w.when(&fia(), signed(1, hash, &tandvard())),
        Err(Rejection::NotAPartyOfVersion {
            party: tandvard(),
            version: 1
        })
    );
    // nor can the registrar record paper for a party outside the version
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &lansstyrelsen(), "2020-03-01")),
        Err(Rejection::NotAPartyOfVersion {
            party: lansstyrelsen(),
            version: 1
        })
    );
}

#[test]
fn a_version_in_force_is_not_signed_again() {
    let mut w = given_in_force();
    let hash = w.version_hash(1);
    assert_eq!(
        w.when(&bo(), signed(1, hash, &kommun())),
        Err(Rejection::AlreadyInForce(1))
    );
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &region(), "2020-04-01")),
        Err(Rejection::AlreadyInForce(1))
    );
}

// --- paper ---------------------------------------------------------------------------------

#[test]
fn a_registrar_records_a_paper_signature() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-10T09:00:00Z");
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &kommun(), "2020-03-02")),
        Ok(())
    );
    let s = &w.agreement().version(1).expect("v1").signatures[0];
    assert_eq!(s.party, kommun());
    assert_eq!(s.signed_on, date("2020-03-02"));
    assert_eq!(
        s.method,
        SignatureMethod::Paper {
            evidence: "Underskrivet original, diarienr KS 2013/0042".into()
        }
    );
    assert_eq!(s.by.key, registrar().public());
    assert_eq!(s.by.party, None);
}

#[test]
fn a_paper_signature_needs_evidence() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    let mut event = paper(1, hash, &kommun(), "2020-03-01");
    if let Event::PaperSignatureRecorded(e) = &mut event {
        e.evidence = String::new();
    }
    assert_eq!(
        w.when(&registrar(), event),
        Err(Rejection::Empty { field: "evidence" })
    );
}

#[test]
fn live_and_paper_count_once_per_party() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    // live, then paper
    w.given(&anna(), signed(1, hash, &kommun()));
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &kommun(), "2020-03-01")),
        Err(Rejection::AlreadySigned {
            party: kommun(),
            version: 1
        })
    );
    // paper, then live
    w.given(&registrar(), paper(1, hash, &region(), "2020-03-01"));
    assert_eq!(
        w.when(&cia(), signed(1, hash, &region())),
        Err(Rejection::AlreadySigned {
            party: region(),
            version: 1
        })
    );
    // paper twice
    assert_eq!(
        w.when(&registrar2(), paper(1, hash, &region(), "2020-03-02")),
        Err(Rejection::AlreadySigned {
            party: region(),
            version: 1
        })
    );
}

#[test]
fn a_paper_signature_is_not_dated_after_its_recording() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    // recorded at 00:30 on 1 April in Sweden: 1 April is not in the future
    w.at("2020-03-31T22:30:00Z");
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &kommun(), "2020-04-01")),
        Ok(())
    );
    // 2 April is
    w.at("2020-03-31T22:45:00Z");
    let rejection = w
        .when(&registrar(), paper(1, hash, &region(), "2020-04-02"))
        .expect_err("signed in the future");
    assert_eq!(
        rejection,
        Rejection::SignedInFuture {
            signed_on: date("2020-04-02"),
            recorded_on: date("2020-04-01"),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Rule);
}

#[test]
fn paper_history_is_backfilled() {
    // given version 1, signed on paper in 2013, recorded in 2020
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-05T10:00:00Z")
        .given(&registrar(), paper(1, hash, &kommun(), "2013-05-02"))
        .given(&registrar(), paper(1, hash, &region(), "2013-06-01"));
    let index = w.state.len();
    // when the last paper signature is recorded
    assert_eq!(
        w.when(&registrar(), paper(1, hash, &polis(), "2013-05-20")),
        Ok(())
    );
    // then version 1 entered into force on the latest paper date, as recorded now
    let v1 = w.agreement().version(1).expect("v1");
    let in_force = v1.in_force.as_ref().expect("in force");
    assert_eq!(in_force.from, date("2013-06-01"));
    assert_eq!(in_force.recorded.index, index);
    assert_eq!(in_force.recorded.recorded_at, ts("2020-03-05T10:02:00Z"));
}

// --- entry into force ----------------------------------------------------------------------

#[test]
fn a_version_enters_into_force_on_its_last_signature_s_date() {
    let mut w = given();
    w.propose(Some("2020-01-01"));
    let hash = w.version_hash(1);
    w.at("2020-03-25T10:00:00Z")
        .given(&cia(), signed(1, hash, &region()));
    w.at("2020-03-27T10:00:00Z")
        .given(&dan(), signed(1, hash, &polis()));
    // the kommun signed on paper on 20 March, recorded on 2 April: the latest signature is
    // the police's, on 27 March
    w.at("2020-04-02T09:00:00Z")
        .given(&registrar(), paper(1, hash, &kommun(), "2020-03-20"));
    assert_eq!(w.in_force_from(1), Some(date("2020-03-27")));
}

#[test]
fn a_paper_signature_s_own_date_counts_not_its_recording() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-25T10:00:00Z")
        .given(&cia(), signed(1, hash, &region()))
        .given(&dan(), signed(1, hash, &polis()));
    w.at("2020-04-02T09:00:00Z")
        .given(&registrar(), paper(1, hash, &kommun(), "2020-03-30"));
    assert_eq!(w.in_force_from(1), Some(date("2020-03-30")));
}

#[test]
fn a_version_enters_into_force_on_a_later_effective_from() {
    let mut w = given();
    w.propose(Some("2020-07-01"));
    w.at("2020-04-01T08:00:00Z").sign_all(1);
    assert_eq!(w.in_force_from(1), Some(date("2020-07-01")));
}

#[test]
fn a_newer_version_supersedes_the_one_in_force_on_its_entry_date() {
    // given version 1 in force from 2020-04-01
    let mut w = given_in_force();
    // when version 2 is proposed from 2021-03-01 and signed by all in February
    w.given(&anna(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(Some("2021-03-01"));
    w.at("2021-02-01T09:00:00Z").sign_all(2);
    // then version 2 is in force from 1 March and version 1 superseded on that date
    assert_eq!(w.in_force_from(2), Some(date("2021-03-01")));
    let a = w.agreement();
    let superseded = a
        .version(1)
        .and_then(|v| v.superseded.as_ref())
        .expect("superseded");
    assert_eq!(superseded.on, date("2021-03-01"));
    assert_eq!(superseded.by_version, 2);
    assert_eq!(a.current().map(|v| v.number), Some(2));
    assert!(a.version(2).and_then(|v| v.superseded.as_ref()).is_none());
    // version 1 keeps its own entry into force
    assert_eq!(w.in_force_from(1), Some(date("2020-04-01")));
}

#[test]
fn a_backdated_paper_signature_may_not_enter_before_the_version_in_force() {
    // given version 1 in force from 2020-04-01 and version 2 proposed
    let mut w = given_in_force();
    w.given(&anna(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(None);
    let hash = w.version_hash(2);
    // two of three paper signatures dated 2019 are accepted: they do not complete it
    w.at("2020-05-04T09:00:00Z")
        .given(&registrar(), paper(2, hash, &kommun(), "2019-05-01"))
        .given(&registrar(), paper(2, hash, &region(), "2019-05-02"));
    // when the last one would bring version 2 into force in 2019
    assert_eq!(
        w.when(&registrar(), paper(2, hash, &polis(), "2019-05-03")),
        Err(Rejection::EntersBeforeCurrent {
            version: 2,
            from: date("2019-05-03"),
            current: 1,
            current_from: date("2020-04-01"),
        })
    );
    // then nothing moved; a signature dated after 2020-04-01 completes it
    assert_eq!(w.in_force_from(2), None);
    assert_eq!(w.when(&dan(), signed(2, hash, &polis())), Ok(()));
    assert_eq!(w.in_force_from(2), Some(date("2020-05-04")));
}

#[test]
fn a_live_signature_may_not_enter_before_a_version_in_force_from_a_later_date() {
    // given version 1 in force from 2021-01-01 (effective_from), version 2 proposed in 2020
    let mut w = given();
    w.propose(Some("2021-01-01"));
    w.at("2020-04-01T08:00:00Z").sign_all(1);
    assert_eq!(w.in_force_from(1), Some(date("2021-01-01")));
    w.given(&anna(), section("ekonomi", "Ekonomi", "Delad kostnad."));
    w.propose(None);
    let hash = w.version_hash(2);
    w.at("2020-05-04T09:00:00Z")
        .given(&anna(), signed(2, hash, &kommun()))
        .given(&cia(), signed(2, hash, &region()));
    // when the police signs last, in 2020
    assert_eq!(
        w.when(&dan(), signed(2, hash, &polis())),
        Err(Rejection::EntersBeforeCurrent {
            version: 2,
            from: date("2020-05-04"),
            current: 1,
            current_from: date("2021-01-01"),
        })
    );
    // on the very day version 1 entered into force, it may
    w.at("2021-01-01T08:00:00Z");
    assert_eq!(w.when(&dan(), signed(2, hash, &polis())), Ok(()));
    assert_eq!(w.in_force_from(2), Some(date("2021-01-01")));
    let superseded = w
        .agreement()
        .version(1)
        .and_then(|v| v.superseded.clone())
        .expect("superseded");
    assert_eq!(superseded.on, date("2021-01-01"));
}

#[test]
fn mixed_live_and_paper_signatures_bring_a_version_into_force() {
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.at("2020-03-10T09:00:00Z")
        .given(&registrar(), paper(1, hash, &kommun(), "2020-03-09"))
        .given(&cia(), signed(1, hash, &region()));
    w.at("2020-03-11T09:00:00Z")
        .given(&dan(), signed(1, hash, &polis()));
    let v1 = w.agreement().version(1).expect("v1");
    let methods: Vec<_> = v1
        .signatures
        .iter()
        .map(|s| matches!(s.method, SignatureMethod::Live))
        .collect();
    assert_eq!(methods, vec![false, true, true]);
    assert_eq!(w.in_force_from(1), Some(date("2020-03-11")));
}
