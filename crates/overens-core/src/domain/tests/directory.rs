//! The `directory` stream: registrar-only registration and enrollment, proof of possession,
//! one enrollment per key, revocation by a registrar or the key itself.

use super::fixture::*;
use crate::crypto::{PublicKey, Signature};
use crate::domain::{Rejection, RejectionKind, enrollment_message};

// --- PartyRegistered -----------------------------------------------------------------------

#[test]
fn a_registrar_registers_a_party() {
    let mut w = World::empty();
    assert_eq!(
        w.when_dir(&registrar(), registered(&kommun(), "Norrköpings kommun")),
        Ok(())
    );
    let party = w.state.directory().party(&kommun()).expect("registered");
    assert_eq!(party.name, "Norrköpings kommun");
    assert_eq!(party.registered.index, 0);
    assert_eq!(party.registered.seq, 0);
}

#[test]
fn every_registrar_key_is_a_trust_anchor() {
    let mut w = World::empty();
    assert_eq!(
        w.when_dir(&registrar2(), registered(&kommun(), "Norrköpings kommun")),
        Ok(())
    );
}

#[test]
fn a_signatory_may_not_register_a_party() {
    let mut w = given_directory();
    let rejection = w
        .when_dir(&anna(), registered(&ghost(), "Spöke"))
        .expect_err("not a registrar");
    assert_eq!(
        rejection,
        Rejection::NotARegistrar {
            event: "PartyRegistered",
            key: anna().public(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
}

#[test]
fn an_unknown_key_may_not_register_a_party() {
    let mut w = World::empty();
    assert_eq!(
        w.when_dir(&stranger(), registered(&ghost(), "Spöke")),
        Err(Rejection::NotARegistrar {
            event: "PartyRegistered",
            key: stranger().public(),
        })
    );
}

#[test]
fn a_party_is_registered_once() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&registrar(), registered(&kommun(), "Norrköping igen")),
        Err(Rejection::PartyAlreadyRegistered(kommun()))
    );
    // the second registrar cannot either
    assert_eq!(
        w.when_dir(&registrar2(), registered(&kommun(), "Norrköping igen")),
        Err(Rejection::PartyAlreadyRegistered(kommun()))
    );
    assert_eq!(
        w.state
            .directory()
            .party(&kommun())
            .map(|p| p.name.as_str()),
        Some("Norrköpings kommun")
    );
}

#[test]
fn a_party_needs_a_name() {
    let mut w = World::empty();
    assert_eq!(
        w.when_dir(&registrar(), registered(&kommun(), "  ")),
        Err(Rejection::Empty { field: "name" })
    );
}

// --- SignatoryEnrolled ---------------------------------------------------------------------

#[test]
fn a_registrar_enrolls_a_signatory_with_proof_of_possession() {
    let mut w = World::empty();
    w.given_dir(&registrar(), registered(&kommun(), "Norrköpings kommun"));
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &anna(), "Anna Andersson", "kommundirektör")
        ),
        Ok(())
    );
    let s = w
        .state
        .directory()
        .signatory(&anna().public())
        .expect("enrolled");
    assert_eq!(s.party, kommun());
    assert_eq!(s.name, "Anna Andersson");
    assert_eq!(s.role, "kommundirektör");
    assert_eq!(s.enrolled.index, 1);
    assert!(s.revoked.is_none());
    assert!(
        w.state
            .directory()
            .active_signatory(&anna().public())
            .is_ok()
    );
}

#[test]
fn a_signatory_may_not_enroll_another() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(
            &anna(),
            enrolled(&kommun(), &stranger(), "Sven", "handläggare")
        ),
        Err(Rejection::NotARegistrar {
            event: "SignatoryEnrolled",
            key: anna().public(),
        })
    );
    assert!(
        w.state
            .directory()
            .signatory(&stranger().public())
            .is_none()
    );
}

#[test]
fn a_signatory_is_enrolled_for_a_registered_party() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&ghost(), &stranger(), "Sven", "handläggare")
        ),
        Err(Rejection::UnknownParty(ghost()))
    );
}

#[test]
fn a_proof_made_by_another_key_is_refused() {
    let mut w = given_directory();
    // the stranger's key, but the proof is made with Anna's key over the right message
    let message = enrollment_message(&kommun(), &stranger().public());
    let proof = anna().sign(&message);
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled_with_proof(&kommun(), stranger().public(), "Sven", "handläggare", proof)
        ),
        Err(Rejection::BadProofOfPossession)
    );
    assert!(
        w.state
            .directory()
            .signatory(&stranger().public())
            .is_none()
    );
}

#[test]
fn a_proof_over_another_party_is_refused() {
    let mut w = given_directory();
    // the key proves possession for the region, but is enrolled for the kommun
    let proof = stranger().sign(&enrollment_message(&region(), &stranger().public()));
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled_with_proof(&kommun(), stranger().public(), "Sven", "handläggare", proof)
        ),
        Err(Rejection::BadProofOfPossession)
    );
}

#[test]
fn a_proof_without_the_domain_prefix_is_refused() {
    let mut w = given_directory();
    let bare = format!("{}\n{}", kommun(), stranger().public());
    let proof = stranger().sign(bare.as_bytes());
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled_with_proof(&kommun(), stranger().public(), "Sven", "handläggare", proof)
        ),
        Err(Rejection::BadProofOfPossession)
    );
}

#[test]
fn the_proof_message_is_prefix_party_newline_key() {
    let key = stranger().public();
    let expected = format!("overens/enroll/v1\n{}\n{}", kommun(), key);
    assert_eq!(enrollment_message(&kommun(), &key), expected.as_bytes());
}

#[test]
fn a_key_is_enrolled_once() {
    let mut w = given_directory();
    // for the same party
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &anna(), "Anna A", "kommundirektör")
        ),
        Err(Rejection::KeyAlreadyEnrolled(anna().public()))
    );
    // nor for another party
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&region(), &anna(), "Anna A", "direktör")
        ),
        Err(Rejection::KeyAlreadyEnrolled(anna().public()))
    );
    assert_eq!(
        w.state
            .directory()
            .signatory(&anna().public())
            .map(|s| s.party.clone()),
        Some(kommun())
    );
}

#[test]
fn a_revoked_key_never_comes_back() {
    let mut w = given_directory();
    w.given_dir(&registrar(), revoked(bo().public(), "Slutat"));
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &bo(), "Bo Berg", "socialchef")
        ),
        Err(Rejection::KeyAlreadyEnrolled(bo().public()))
    );
    assert!(
        w.state
            .directory()
            .signatory(&bo().public())
            .expect("still listed")
            .revoked
            .is_some()
    );
}

#[test]
fn a_registrar_key_cannot_be_a_signatory() {
    let mut w = given_directory();
    // its own key
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &registrar(), "Reg", "registrator")
        ),
        Err(Rejection::RegistrarKeyAsSignatory(registrar().public()))
    );
    // nor the other registrar's
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &registrar2(), "Reg 2", "registrator")
        ),
        Err(Rejection::RegistrarKeyAsSignatory(registrar2().public()))
    );
}

#[test]
fn a_weak_key_cannot_be_a_signatory() {
    let mut w = given_directory();
    // the identity point: small order
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = PublicKey::from_bytes(&identity).expect("a point");
    assert!(weak.is_weak());
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled_with_proof(
                &kommun(),
                weak,
                "Svag",
                "handläggare",
                Signature::from_bytes(&[0; 64])
            )
        ),
        Err(Rejection::WeakKey(weak))
    );
}

#[test]
fn a_signatory_needs_a_name_and_a_role() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(
            &registrar(),
            enrolled(&kommun(), &stranger(), "", "handläggare")
        ),
        Err(Rejection::Empty { field: "name" })
    );
    assert_eq!(
        w.when_dir(&registrar(), enrolled(&kommun(), &stranger(), "Sven", " ")),
        Err(Rejection::Empty { field: "role" })
    );
}

// --- SignatoryRevoked ----------------------------------------------------------------------

#[test]
fn a_registrar_revokes_a_key() {
    let mut w = given_directory();
    let index = w.state.len();
    assert_eq!(
        w.when_dir(&registrar(), revoked(bo().public(), "Slutat")),
        Ok(())
    );
    let revocation = w
        .state
        .directory()
        .signatory(&bo().public())
        .and_then(|s| s.revoked.clone())
        .expect("revoked");
    assert_eq!(revocation.by, registrar().public());
    assert_eq!(revocation.reason, "Slutat");
    assert_eq!(revocation.stamp.index, index);
    assert_eq!(
        w.state
            .directory()
            .active_signatory(&bo().public())
            .map(|_| ()),
        Err(Rejection::RevokedKey {
            key: bo().public(),
            revoked_at: index,
        })
    );
}

#[test]
fn a_key_revokes_itself() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&bo(), revoked(bo().public(), "Nyckeln borttappad")),
        Ok(())
    );
    let revocation = w
        .state
        .directory()
        .signatory(&bo().public())
        .and_then(|s| s.revoked.clone())
        .expect("revoked");
    assert_eq!(revocation.by, bo().public());
}

#[test]
fn another_signatory_of_the_same_party_may_not_revoke() {
    let mut w = given_directory();
    let rejection = w
        .when_dir(&anna(), revoked(bo().public(), "Jag bestämmer"))
        .expect_err("not allowed");
    assert_eq!(
        rejection,
        Rejection::NotAllowedToRevoke { key: bo().public() }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    assert!(w.state.directory().active_signatory(&bo().public()).is_ok());
}

#[test]
fn a_signatory_of_another_party_may_not_revoke() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&cia(), revoked(anna().public(), "Fientligt")),
        Err(Rejection::NotAllowedToRevoke {
            key: anna().public()
        })
    );
}

#[test]
fn an_unknown_key_may_not_revoke() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&stranger(), revoked(anna().public(), "Fientligt")),
        Err(Rejection::NotAllowedToRevoke {
            key: anna().public()
        })
    );
}

#[test]
fn a_key_never_enrolled_cannot_be_revoked() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&registrar(), revoked(stranger().public(), "Okänd")),
        Err(Rejection::NotEnrolled(stranger().public()))
    );
    // a registrar key is not enrolled either
    assert_eq!(
        w.when_dir(&registrar(), revoked(registrar2().public(), "Byte")),
        Err(Rejection::NotEnrolled(registrar2().public()))
    );
}

#[test]
fn a_key_is_revoked_once() {
    let mut w = given_directory();
    w.given_dir(&registrar(), revoked(bo().public(), "Slutat"));
    assert_eq!(
        w.when_dir(&registrar(), revoked(bo().public(), "Slutat igen")),
        Err(Rejection::AlreadyRevoked(bo().public()))
    );
    assert_eq!(
        w.when_dir(&registrar2(), revoked(bo().public(), "Slutat igen")),
        Err(Rejection::AlreadyRevoked(bo().public()))
    );
}

#[test]
fn a_revoked_key_cannot_revoke_itself_again() {
    let mut w = given_directory();
    let index = w.state.len();
    w.given_dir(&registrar(), revoked(bo().public(), "Slutat"));
    assert_eq!(
        w.when_dir(&bo(), revoked(bo().public(), "Själv")),
        Err(Rejection::RevokedKey {
            key: bo().public(),
            revoked_at: index,
        })
    );
}

#[test]
fn a_revoked_key_cannot_revoke_another() {
    let mut w = given_directory();
    w.given_dir(&registrar(), revoked(bo().public(), "Slutat"));
    assert_eq!(
        w.when_dir(&bo(), revoked(anna().public(), "Hämnd")),
        Err(Rejection::NotAllowedToRevoke {
            key: anna().public()
        })
    );
}

#[test]
fn a_revocation_needs_a_reason() {
    let mut w = given_directory();
    assert_eq!(
        w.when_dir(&registrar(), revoked(bo().public(), "")),
        Err(Rejection::Empty { field: "reason" })
    );
}

#[test]
fn a_revoked_key_signs_no_agreement_event_afterwards() {
    // given the standard draft, and Anna's key revoked by the registrar
    let mut w = given();
    let index = w.state.len();
    w.given_dir(&registrar(), revoked(anna().public(), "Slutat"));
    // when Anna revises a section
    let rejection = w
        .when(&anna(), section("syfte", "Syfte", "Ny text."))
        .expect_err("revoked");
    // then it is refused
    assert_eq!(
        rejection,
        Rejection::RevokedKey {
            key: anna().public(),
            revoked_at: index,
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    // and the kommun's other signatory still can
    assert_eq!(w.when(&bo(), section("syfte", "Syfte", "Ny text.")), Ok(()));
}

#[test]
fn a_revoked_key_drafts_no_agreement() {
    let mut w = given_directory();
    let index = w.state.len();
    w.given_dir(&anna(), revoked(anna().public(), "Nyckeln borttappad"));
    assert_eq!(
        w.when(&anna(), drafted("Samverkan", &[kommun(), region()])),
        Err(Rejection::RevokedKey {
            key: anna().public(),
            revoked_at: index,
        })
    );
    assert!(w.state.agreement(&barn_och_unga()).is_none());
}

#[test]
fn a_revoked_key_signs_no_revision_but_its_earlier_signature_stands() {
    // given version 1 signed by Anna for the kommun, then Anna's key revoked
    let mut w = given_proposed();
    let hash = w.version_hash(1);
    w.given(&anna(), signed(1, hash, &kommun()));
    let index = w.state.len();
    w.given_dir(&registrar(), revoked(anna().public(), "Slutat"));
    // when Anna signs anything at all
    assert_eq!(
        w.when(&anna(), withdrawn(1)),
        Err(Rejection::RevokedKey {
            key: anna().public(),
            revoked_at: index,
        })
    );
    // then the kommun's signature made before the revocation still counts
    w.given(&cia(), signed(1, hash, &region()))
        .given(&dan(), signed(1, hash, &polis()));
    assert!(w.in_force_from(1).is_some());
}
