//! Draft changes: title and preamble, parties, sections, forums and seats fold into the
//! working copy.

use super::fixture::*;
use crate::content::{Chair, Representative, Section};
use crate::domain::{Rejection, RejectionKind};

// --- TitleAndPreambleRevised ---------------------------------------------------------------

const DRAFTED_TITLE: &str = "Samverkan kring barn och unga";
const DRAFTED_PREAMBLE: &str = "Parterna är överens om att samverka kring barn och unga.";
const NEW_TITLE: &str = "Överenskommelse om samverkan kring barn och unga";
const NEW_PREAMBLE: &str = "Överenskommelsen gäller barn och unga 0–20 år i Norrköping.";

#[test]
fn title_and_preamble_are_replaced_and_the_rest_stays() {
    let mut w = given();
    let before = w.agreement().draft.clone();
    assert_eq!(
        w.when(&cia(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Ok(())
    );
    let draft = &w.agreement().draft;
    assert_eq!(draft.title, NEW_TITLE);
    assert_eq!(draft.preamble, NEW_PREAMBLE);
    assert_eq!(draft.parties, before.parties);
    assert_eq!(draft.sections, before.sections);
    assert_eq!(draft.forums, before.forums);
    assert_ne!(draft.hash(), before.hash());
    let entry = w.agreement().timeline.last().expect("timeline entry");
    assert_eq!(entry.event_type, "TitleAndPreambleRevised");
    assert_eq!(entry.by.party, Some(region()));
    assert!(entry.summary.contains(NEW_TITLE), "{}", entry.summary);
}

#[test]
fn the_title_alone_or_the_preamble_alone_may_change() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), title_and_preamble(NEW_TITLE, DRAFTED_PREAMBLE)),
        Ok(())
    );
    assert_eq!(
        w.when(&anna(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Ok(())
    );
    // back to the drafted text: a change from the draft as it now stands
    assert_eq!(
        w.when(&anna(), title_and_preamble(DRAFTED_TITLE, DRAFTED_PREAMBLE)),
        Ok(())
    );
    let draft = &w.agreement().draft;
    assert_eq!(
        (draft.title.as_str(), draft.preamble.as_str()),
        (DRAFTED_TITLE, DRAFTED_PREAMBLE)
    );
}

#[test]
fn revising_title_and_preamble_must_change_something() {
    let mut w = given();
    let before = w.agreement_json();
    assert_eq!(
        w.when(&anna(), title_and_preamble(DRAFTED_TITLE, DRAFTED_PREAMBLE)),
        Err(Rejection::NoChange {
            what: "revising the title and preamble".into()
        })
    );
    assert_eq!(w.agreement_json(), before);
    // nor after a change, repeating it
    w.given(&anna(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE));
    let before = w.agreement_json();
    assert_eq!(
        w.when(&cia(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Err(Rejection::NoChange {
            what: "revising the title and preamble".into()
        })
    );
    assert_eq!(w.agreement_json(), before);
}

#[test]
fn the_title_must_not_be_empty() {
    let mut w = given();
    let before = w.agreement_json();
    for blank in ["", " ", "\n\t"] {
        assert_eq!(
            w.when(&anna(), title_and_preamble(blank, NEW_PREAMBLE)),
            Err(Rejection::Empty { field: "title" }),
            "{blank:?}"
        );
    }
    assert_eq!(w.agreement_json(), before);
    assert_eq!(w.agreement().draft.title, DRAFTED_TITLE);
}

#[test]
fn the_preamble_may_be_emptied() {
    // as in AgreementDrafted, only the title must carry text
    let mut w = given();
    assert_eq!(
        w.when(&anna(), title_and_preamble(DRAFTED_TITLE, "")),
        Ok(())
    );
    assert_eq!(w.agreement().draft.preamble, "");
}

#[test]
fn title_and_preamble_are_revised_only_by_a_party_of_the_agreement() {
    let mut w = given();
    let before = w.agreement_json();
    // Länsstyrelsen is registered, but not a party
    let rejection = w
        .when(&eva(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE))
        .expect_err("not a party");
    assert_eq!(
        rejection,
        Rejection::NotAParty {
            party: lansstyrelsen(),
            agreement: barn_och_unga(),
        }
    );
    assert_eq!(rejection.kind(), RejectionKind::Forbidden);
    // a registrar records paper only
    assert_eq!(
        w.when(&registrar(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Err(Rejection::RegistrarMayNotSign {
            event: "TitleAndPreambleRevised"
        })
    );
    // a key nobody enrolled
    assert_eq!(
        w.when(&stranger(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Err(Rejection::UnknownSigner {
            key: stranger().public()
        })
    );
    assert_eq!(w.agreement_json(), before);
}

#[test]
fn title_and_preamble_are_not_revised_after_termination() {
    let mut w = given_in_force();
    w.given(&dan(), terminated(&polis(), "2022-12-31"));
    let before = w.agreement_json();
    assert_eq!(
        w.when(&anna(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Err(Rejection::Terminated(barn_och_unga()))
    );
    assert_eq!(w.agreement_json(), before);
}

#[test]
fn a_proposal_seals_the_old_title_and_preamble() {
    // given version 1 proposed with the drafted title and preamble
    let mut w = given_proposed();
    let v1_before = serde_json::to_value(w.agreement().version(1)).expect("json");
    let sealed = w.version_hash(1);
    // when the title and preamble change afterwards
    assert_eq!(
        w.when(&anna(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE)),
        Ok(())
    );
    // then version 1 keeps the old ones
    let v1 = w.agreement().version(1).expect("v1");
    assert_eq!(serde_json::to_value(v1).expect("json"), v1_before);
    assert_eq!(v1.content.title, DRAFTED_TITLE);
    assert_eq!(v1.content.preamble, DRAFTED_PREAMBLE);
    assert_eq!(v1.content.hash(), sealed);
    // and version 2 seals the new ones
    assert_ne!(w.draft_hash(), sealed);
    assert_eq!(w.propose(None), 2);
    let v2 = w.agreement().version(2).expect("v2");
    assert_eq!(v2.content.title, NEW_TITLE);
    assert_eq!(v2.content.preamble, NEW_PREAMBLE);
    assert_eq!(w.version_hash(1), sealed);
    // a stale signature of version 1 stays refused: the new text is version 2's
    assert_eq!(
        w.when(&cia(), signed(1, sealed, &region())),
        Err(Rejection::StaleProposal {
            version: 1,
            latest: 2
        })
    );
}

#[test]
fn the_diff_between_versions_shows_the_new_title_and_preamble() {
    let mut w = given_in_force();
    w.given(&anna(), title_and_preamble(NEW_TITLE, NEW_PREAMBLE));
    w.propose(None);
    let (v1, v2) = (
        &w.agreement().version(1).expect("v1").content,
        &w.agreement().version(2).expect("v2").content,
    );
    let diff = crate::projection::diff(1, v1, 2, v2);
    let title = diff.title.as_ref().expect("title changed");
    assert_eq!(
        (&title.field[..], &title.from, &title.to),
        (
            "title",
            &serde_json::json!(DRAFTED_TITLE),
            &serde_json::json!(NEW_TITLE)
        )
    );
    let preamble = diff.preamble.as_ref().expect("preamble changed");
    let inserted: String = preamble
        .iter()
        .filter(|r| r.op == "insert")
        .map(|r| r.text.as_str())
        .collect();
    assert!(inserted.contains("0–20"), "{preamble:?}");
    // nothing else changed
    assert!(diff.parties_added.is_empty() && diff.parties_removed.is_empty());
    assert!(diff.sections.is_empty() && diff.forums.is_empty());
    assert!(!diff.is_empty());
}

// --- PartyAdded ----------------------------------------------------------------------------

#[test]
fn a_registered_party_is_added() {
    let mut w = given();
    assert_eq!(w.when(&anna(), party_added(&tandvard())), Ok(()));
    assert_eq!(
        w.agreement().draft.parties,
        vec![kommun(), region(), polis(), tandvard()]
    );
}

#[test]
fn an_unregistered_party_is_not_added() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), party_added(&ghost())),
        Err(Rejection::UnknownParty(ghost()))
    );
}

#[test]
fn a_party_is_added_once() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), party_added(&region())),
        Err(Rejection::AlreadyAParty(region()))
    );
}

// --- PartyRemoved --------------------------------------------------------------------------

#[test]
fn a_party_without_seat_or_chair_is_removed() {
    let mut w = given();
    assert_eq!(w.when(&anna(), party_removed(&polis())), Ok(()));
    assert_eq!(w.agreement().draft.parties, vec![kommun(), region()]);
}

#[test]
fn a_party_removes_itself() {
    let mut w = given();
    assert_eq!(w.when(&dan(), party_removed(&polis())), Ok(()));
}

#[test]
fn only_a_party_of_the_draft_is_removed() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), party_removed(&tandvard())),
        Err(Rejection::NotInDraft(tandvard()))
    );
}

#[test]
fn the_last_party_is_not_removed() {
    let mut w = given_directory();
    w.given(&anna(), drafted("Ensam", &[kommun()]));
    assert_eq!(
        w.when(&anna(), party_removed(&kommun())),
        Err(Rejection::LastParty(kommun()))
    );
    assert_eq!(w.agreement().draft.parties, vec![kommun()]);
}

#[test]
fn a_party_holding_a_seat_is_not_removed() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), party_removed(&region())),
        Err(Rejection::PartyHoldsSeat {
            party: region(),
            forum: fid("barnsamverket"),
            representative: rid("bup"),
        })
    );
    // once its seat is gone, it is
    w.given(&anna(), seat_removed("barnsamverket", "bup"));
    assert_eq!(w.when(&anna(), party_removed(&region())), Ok(()));
}

#[test]
fn a_party_named_by_a_chair_is_not_removed() {
    // given the kommun's seat gone, but the kommun still chairs Barnsamverket
    let mut w = given();
    w.given(&anna(), seat_removed("barnsamverket", "rektor"));
    assert_eq!(
        w.when(&cia(), party_removed(&kommun())),
        Err(Rejection::PartyChairs {
            party: kommun(),
            forum: fid("barnsamverket"),
        })
    );
}

#[test]
fn a_party_named_in_a_rotating_chair_is_not_removed() {
    let mut w = given();
    w.given(
        &anna(),
        forum_established(
            "styrgrupp",
            definition(
                "Styrgrupp",
                Some(chair_rotating(&[
                    (2021, &[kommun()]),
                    (2022, &[region(), polis()]),
                ])),
            ),
        ),
    );
    assert_eq!(
        w.when(&anna(), party_removed(&polis())),
        Err(Rejection::PartyChairs {
            party: polis(),
            forum: fid("styrgrupp"),
        })
    );
}

// --- SectionRevised / SectionRemoved -------------------------------------------------------

#[test]
fn a_new_section_is_added_at_the_end() {
    let mut w = given();
    assert_eq!(
        w.when(
            &cia(),
            section("ekonomi", "Ekonomi", "Parterna bär sina kostnader.")
        ),
        Ok(())
    );
    let sections = &w.agreement().draft.sections;
    assert_eq!(sections.len(), 4);
    assert_eq!(
        *sections[3],
        Section {
            id: sid("ekonomi"),
            heading: "Ekonomi".into(),
            text: "Parterna bär sina kostnader.".into(),
        }
    );
}

#[test]
fn a_section_is_replaced_in_place() {
    let mut w = given();
    // a new text
    assert_eq!(
        w.when(
            &anna(),
            section("vardegrund", "Värdegrund", "Barnets bästa alltid.")
        ),
        Ok(())
    );
    // a new heading only
    assert_eq!(
        w.when(
            &anna(),
            section("vardegrund", "Gemensam värdegrund", "Barnets bästa alltid.")
        ),
        Ok(())
    );
    let sections = &w.agreement().draft.sections;
    assert_eq!(sections.len(), 3);
    assert_eq!(sections[1].id, sid("vardegrund"));
    assert_eq!(sections[1].heading, "Gemensam värdegrund");
    assert_eq!(sections[1].text, "Barnets bästa alltid.");
}

#[test]
fn revising_a_section_must_change_something() {
    let mut w = given();
    assert_eq!(
        w.when(
            &anna(),
            section("vardegrund", "Värdegrund", "Barnets bästa först.")
        ),
        Err(Rejection::NoChange {
            what: "revising section `vardegrund`".into()
        })
    );
}

#[test]
fn a_section_has_a_heading_and_a_text() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), section("vardegrund", "Värdegrund", "")),
        Err(Rejection::Empty { field: "text" })
    );
    assert_eq!(
        w.when(&anna(), section("ny", " ", "Text.")),
        Err(Rejection::Empty { field: "heading" })
    );
}

#[test]
fn a_section_is_removed() {
    let mut w = given();
    assert_eq!(w.when(&anna(), section_removed("vardegrund")), Ok(()));
    let ids: Vec<_> = w
        .agreement()
        .draft
        .sections
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(ids, vec![sid("syfte"), sid("uppfoljning")]);
}

#[test]
fn an_unknown_section_is_not_removed() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), section_removed("finns-inte")),
        Err(Rejection::UnknownSection(sid("finns-inte")))
    );
    // nor one removed already
    w.given(&anna(), section_removed("syfte"));
    assert_eq!(
        w.when(&anna(), section_removed("syfte")),
        Err(Rejection::UnknownSection(sid("syfte")))
    );
}

// --- ForumEstablished / ForumRevised / ForumDissolved --------------------------------------

#[test]
fn a_forum_is_established_without_seats() {
    let mut w = given();
    let def = definition(
        "Styrgrupp",
        Some(chair_rotating(&[(2021, &[kommun()]), (2022, &[region()])])),
    );
    assert_eq!(
        w.when(&dan(), forum_established("styrgrupp", def.clone())),
        Ok(())
    );
    let forum = w
        .agreement()
        .draft
        .forum(&fid("styrgrupp"))
        .expect("established");
    assert_eq!(*forum.definition, def);
    assert!(forum.representatives.is_empty());
}

#[test]
fn a_forum_without_a_chair_is_established() {
    let mut w = given();
    assert_eq!(
        w.when(
            &dan(),
            forum_established("natverk", definition("Nätverk", None))
        ),
        Ok(())
    );
}

#[test]
fn a_forum_id_is_used_once() {
    let mut w = given();
    assert_eq!(
        w.when(
            &anna(),
            forum_established("barnsamverket", definition("Annat", None))
        ),
        Err(Rejection::ForumExists(fid("barnsamverket")))
    );
}

#[test]
fn a_chair_names_only_parties_of_the_draft() {
    let mut w = given();
    assert_eq!(
        w.when(
            &anna(),
            forum_established(
                "styrgrupp",
                definition("Styrgrupp", Some(chair_role(&lansstyrelsen())))
            )
        ),
        Err(Rejection::NotInDraft(lansstyrelsen()))
    );
    assert_eq!(
        w.when(
            &anna(),
            forum_established(
                "styrgrupp",
                definition(
                    "Styrgrupp",
                    Some(chair_rotating(&[(2021, &[kommun()]), (2022, &[ghost()])]))
                )
            )
        ),
        Err(Rejection::NotInDraft(ghost()))
    );
    // a chair by role alone names no party
    let by_role = Chair::Role {
        role: "ordförande".into(),
        party: None,
    };
    assert_eq!(
        w.when(
            &anna(),
            forum_established("styrgrupp", definition("Styrgrupp", Some(by_role)))
        ),
        Ok(())
    );
}

#[test]
fn a_forum_has_a_name() {
    let mut w = given();
    assert_eq!(
        w.when(
            &anna(),
            forum_established("styrgrupp", definition("", None))
        ),
        Err(Rejection::Empty { field: "name" })
    );
}

#[test]
fn a_revised_forum_gets_the_whole_new_definition_and_keeps_its_seats() {
    let mut w = given();
    let seats_before = w
        .agreement()
        .draft
        .forum(&fid("barnsamverket"))
        .expect("forum")
        .representatives
        .clone();
    let mut def = barnsamverket();
    def.tasks = vec!["Följa upp".into(), "Rapportera till nämnderna".into()];
    def.meets[0].times = 6;
    def.chair = Some(chair_rotating(&[(2021, &[kommun()]), (2022, &[region()])]));
    assert_eq!(
        w.when(&cia(), forum_revised("barnsamverket", def.clone())),
        Ok(())
    );
    let forum = w
        .agreement()
        .draft
        .forum(&fid("barnsamverket"))
        .expect("forum");
    assert_eq!(*forum.definition, def);
    assert_eq!(forum.representatives, seats_before);
    assert_eq!(forum.representatives.len(), 2);
}

#[test]
fn an_unknown_forum_is_not_revised() {
    let mut w = given();
    assert_eq!(
        w.when(
            &anna(),
            forum_revised("styrgrupp", definition("Styrgrupp", None))
        ),
        Err(Rejection::UnknownForum(fid("styrgrupp")))
    );
}

#[test]
fn revising_a_forum_must_change_something() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), forum_revised("barnsamverket", barnsamverket())),
        Err(Rejection::NoChange {
            what: "revising forum `barnsamverket`".into()
        })
    );
}

#[test]
fn a_revised_chair_names_only_parties_of_the_draft() {
    let mut w = given();
    let mut def = barnsamverket();
    def.chair = Some(chair_role(&tandvard()));
    assert_eq!(
        w.when(&anna(), forum_revised("barnsamverket", def)),
        Err(Rejection::NotInDraft(tandvard()))
    );
}

#[test]
fn a_dissolved_forum_takes_its_seats_with_it() {
    let mut w = given();
    assert_eq!(w.when(&anna(), forum_dissolved("barnsamverket")), Ok(()));
    assert!(w.agreement().draft.forums.is_empty());
    // the region held a seat there and may now be removed
    assert_eq!(w.when(&anna(), party_removed(&region())), Ok(()));
    // and the forum id is free again
    assert_eq!(
        w.when(
            &anna(),
            forum_established("barnsamverket", definition("Nytt", None))
        ),
        Ok(())
    );
}

#[test]
fn an_unknown_forum_is_not_dissolved() {
    let mut w = given();
    assert_eq!(
        w.when(&anna(), forum_dissolved("styrgrupp")),
        Err(Rejection::UnknownForum(fid("styrgrupp")))
    );
}

// --- RepresentativeAdded / RepresentativeRemoved -------------------------------------------

#[test]
fn a_seat_is_added_for_a_party_of_the_draft() {
    let mut w = given();
    assert_eq!(
        w.when(&dan(), seat("barnsamverket", "polis", &polis(), false)),
        Ok(())
    );
    let forum = w
        .agreement()
        .draft
        .forum(&fid("barnsamverket"))
        .expect("forum");
    assert_eq!(
        forum.representatives.last().map(|r| &**r),
        Some(&Representative {
            id: rid("polis"),
            party: polis(),
            role: "verksamhetschef".into(),
            name: None,
            adjunct: false,
        })
    );
}

#[test]
fn an_adjunct_seat_is_added() {
    let mut w = given();
    assert_eq!(
        w.when(&dan(), seat("barnsamverket", "polis", &polis(), true)),
        Ok(())
    );
    let forum = w
        .agreement()
        .draft
        .forum(&fid("barnsamverket"))
        .expect("forum");
    assert!(
        forum
            .representatives
            .iter()
            .any(|r| r.id == rid("polis") && r.adjunct)
    );
}

#[test]
fn a_seat_for_a_party_outside_the_draft_is_refused() {
    let mut w = given();
    // registered, but not a party of the draft
    assert_eq!(
        w.when(
            &anna(),
            seat("barnsamverket", "lst", &lansstyrelsen(), true)
        ),
        Err(Rejection::NotInDraft(lansstyrelsen()))
    );
    // not registered at all
    assert_eq!(
        w.when(&anna(), seat("barnsamverket", "spoke", &ghost(), false)),
        Err(Rejection::NotInDraft(ghost()))
    );
}

#[test]
fn a_seat_id_is_used_once_per_forum() {
    let mut w = given();
    assert_eq!(
        w.when(&dan(), seat("barnsamverket", "bup", &polis(), false)),
        Err(Rejection::SeatExists {
            forum: fid("barnsamverket"),
            representative: rid("bup"),
        })
    );
    // the same seat id in another forum is fine
    w.given(
        &anna(),
        forum_established("styrgrupp", definition("Styrgrupp", None)),
    );
    assert_eq!(
        w.when(&cia(), seat("styrgrupp", "bup", &region(), false)),
        Ok(())
    );
}

#[test]
fn a_seat_needs_a_forum() {
    let mut w = given();
    assert_eq!(
        w.when(&dan(), seat("styrgrupp", "polis", &polis(), false)),
        Err(Rejection::UnknownForum(fid("styrgrupp")))
    );
}

#[test]
fn a_seat_has_a_role() {
    let mut w = given();
    let mut event = seat("barnsamverket", "polis", &polis(), false);
    if let crate::event::Event::RepresentativeAdded(e) = &mut event {
        e.role = " ".into();
    }
    assert_eq!(
        w.when(&dan(), event),
        Err(Rejection::Empty { field: "role" })
    );
}

#[test]
fn a_seat_is_removed() {
    let mut w = given();
    assert_eq!(w.when(&cia(), seat_removed("barnsamverket", "bup")), Ok(()));
    let forum = w
        .agreement()
        .draft
        .forum(&fid("barnsamverket"))
        .expect("forum");
    assert_eq!(forum.representatives.len(), 1);
    assert_eq!(forum.representatives[0].id, rid("rektor"));
}

#[test]
fn an_unknown_seat_is_not_removed() {
    let mut w = given();
    assert_eq!(
        w.when(&cia(), seat_removed("barnsamverket", "polis")),
        Err(Rejection::UnknownSeat {
            forum: fid("barnsamverket"),
            representative: rid("polis"),
        })
    );
    assert_eq!(
        w.when(&cia(), seat_removed("styrgrupp", "bup")),
        Err(Rejection::UnknownForum(fid("styrgrupp")))
    );
}
