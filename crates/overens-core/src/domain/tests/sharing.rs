//! Structural sharing: versions share their content with the draft they sealed and with
//! each other, a state cloned for a reader shares every agreement part, and an event then
//! copies only what it changes, leaving the reader's clone as it was.

use std::sync::Arc;

use super::fixture::*;

fn section_ptr(w: &World, version: Option<u32>, id: &str) -> *const crate::content::Section {
    let a = w.agreement();
    let content = match version {
        Some(n) => &a.version(n).expect("version").content,
        None => &a.draft,
    };
    let section = content
        .sections
        .iter()
        .find(|s| s.id.as_str() == id)
        .expect("section");
    Arc::as_ptr(section)
}

#[test]
fn a_proposal_shares_the_draft_it_seals() {
    let w = given_proposed();
    let a = w.agreement();
    assert!(Arc::ptr_eq(&a.versions[0].content, &a.draft));
}

#[test]
fn versions_share_the_sections_and_forums_no_draft_change_touched() {
    let mut w = given_proposed();
    w.given(&anna(), section("syfte", "Syfte och mål", "Ny lydelse."));
    let v2 = w.propose(None);
    assert_eq!(v2, 2);

    // The draft was copied (top level only) at the first change after v1.
    let a = w.agreement();
    assert!(!Arc::ptr_eq(&a.versions[0].content, &a.versions[1].content));
    assert!(Arc::ptr_eq(&a.versions[1].content, &a.draft));
    for id in ["vardegrund", "uppfoljning"] {
        assert_eq!(section_ptr(&w, Some(1), id), section_ptr(&w, Some(2), id));
    }
    assert_ne!(
        section_ptr(&w, Some(1), "syfte"),
        section_ptr(&w, Some(2), "syfte")
    );
    assert!(Arc::ptr_eq(
        &a.versions[0].content.forums[0],
        &a.versions[1].content.forums[0]
    ));
    // Version 1 still says what it said.
    let v1 = a.version(1).expect("v1");
    assert_eq!(
        v1.content.section(&sid("syfte")).map(|s| s.text.as_str()),
        Some("Att barn och unga ska må bra.")
    );
    assert_eq!(v1.content.hash(), v1.content_hash);
}

#[test]
fn a_seat_change_copies_only_its_forum_s_pointers_and_leaves_the_version() {
    let mut w = given_proposed();
    let before = w.agreement().version(1).expect("v1").content.forums[0].clone();
    w.given(&anna(), seat("barnsamverket", "skolchef", &kommun(), true));
    let a = w.agreement();
    let v1 = a.version(1).expect("v1");
    assert!(Arc::ptr_eq(&v1.content.forums[0], &before));
    let (old, new) = (&v1.content.forums[0], &a.draft.forums[0]);
    assert!(!Arc::ptr_eq(old, new));
    assert_eq!(old.representatives.len(), 2);
    assert_eq!(new.representatives.len(), 3);
    // The definition and the two seats that stayed are shared, not copied.
    assert!(Arc::ptr_eq(&old.definition, &new.definition));
    for (o, n) in old.representatives.iter().zip(&new.representatives) {
        assert!(Arc::ptr_eq(o, n));
    }
    assert_eq!(v1.content.hash(), v1.content_hash);
}

#[test]
fn a_reader_s_clone_keeps_its_view_while_events_share_what_they_do_not_change() {
    let mut w = given_in_force();
    w.given(&anna(), section("syfte", "Syfte och mål", "Ny lydelse."));
    w.propose(None);
    let reader = w.state.clone();
    let seen = serde_json::to_value(reader.agreement(&barn_och_unga()).expect("drafted"))
        .expect("agreement serialises");
    let timeline_len = w.agreement().timeline.len();

    // A signature changes version 2 only: version 1 and every content stay shared.
    let hash = w.version_hash(2);
    w.given(&anna(), signed(2, hash, &kommun()))
        .given(&anna(), section("ny", "Ny", "Ny text."));

    let old = reader.agreement(&barn_och_unga()).expect("drafted");
    let new = w.agreement();
    assert!(Arc::ptr_eq(&old.versions[0], &new.versions[0]));
    assert!(!Arc::ptr_eq(&old.versions[1], &new.versions[1]));
    assert!(Arc::ptr_eq(
        &old.versions[1].content,
        &new.versions[1].content
    ));
    assert_eq!(old.versions[1].signatures.len(), 0);
    assert_eq!(new.versions[1].signatures.len(), 1);
    assert_eq!(old.timeline.len(), timeline_len);
    assert_eq!(new.timeline.len(), timeline_len + 2);
    assert_eq!(
        serde_json::to_value(old).expect("agreement serialises"),
        seen,
        "the reader's clone changed"
    );

    // The entry into force supersedes version 1: that copies it, and the reader's clone
    // still shows it in force.
    let hash = w.version_hash(2);
    w.given(&cia(), signed(2, hash, &region()))
        .given(&dan(), signed(2, hash, &polis()));
    let new = w.agreement();
    assert!(new.versions[0].superseded.is_some());
    assert!(old.versions[0].superseded.is_none());
    assert_eq!(
        serde_json::to_value(old).expect("agreement serialises"),
        seen,
        "the reader's clone changed"
    );
}

#[test]
fn every_entry_by_one_signer_points_at_one_actor() {
    let w = given_proposed();
    let a = w.agreement();
    let by_anna: Vec<_> = a
        .timeline
        .iter()
        .filter(|e| e.by.key == anna().public())
        .collect();
    assert!(by_anna.len() > 3);
    for entry in &by_anna {
        assert!(Arc::ptr_eq(&entry.by, &by_anna[0].by));
    }
    assert!(Arc::ptr_eq(&a.versions[0].proposal.by, &by_anna[0].by));
}

#[test]
fn a_reader_s_clone_shares_every_agreement_an_event_does_not_touch() {
    let mut w = given();
    let other = aid("annan-overenskommelse");
    w.given_in(
        &stream_of(&other),
        &cia(),
        drafted("En annan överenskommelse", &[region(), kommun()]),
    );
    let reader = w.state.clone();
    w.given(&anna(), section("ny", "Ny", "Ny text."));

    let same = |id| {
        std::ptr::eq(
            reader.agreement(id).expect("drafted"),
            w.state.agreement(id).expect("drafted"),
        )
    };
    assert!(same(&other));
    assert!(!same(&barn_och_unga()));
    // Each stream's head moved only in the state that took the event.
    assert_eq!(
        reader.head(&stream_of(&other)),
        w.state.head(&stream_of(&other))
    );
    assert_eq!(
        reader.head(&agreement_stream()).next_seq + 1,
        w.state.head(&agreement_stream()).next_seq
    );
    assert_eq!(reader.len() + 1, w.state.len());
    let ids: Vec<_> = w.state.agreements().map(|a| a.id.to_string()).collect();
    assert_eq!(
        ids,
        ["annan-overenskommelse", "barn-och-unga"],
        "in id order"
    );
}
