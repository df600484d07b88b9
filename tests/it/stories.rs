//! The example histories answer as the seed agreements say.

use overens_core::domain::SignatureMethod;
use overens_core::projection::{
    AgreementStatus, VersionStatus, agreement_summary, agreement_view, diff, in_force,
    signature_ledger, versions,
};
use overens_core::{AgreementId, Date, State, Timestamp, replay_log_file};

use overens_tests::examples;

fn state() -> State {
    replay_log_file(&examples::log_text(), examples::state()).expect("the example log is valid")
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn instant(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn id(s: &str) -> AgreementId {
    s.parse().expect("agreement id")
}

const NOW: &str = "2026-11-23T00:00:00Z";

#[test]
fn norrtalje_2013_is_the_may_2012_version_as_known_now_and_nothing_before_the_backfill() {
    let state = state();
    let bus = state.agreement(&id("norrtalje-bus")).expect("exists");
    let now = in_force(bus, date("2013-01-01"), instant(NOW));
    assert_eq!(now.version, Some(2));
    assert_eq!(now.in_force_from, Some(date("2012-05-01")));
    assert_eq!(now.in_force_until, Some(date("2014-02-01")));
    assert_eq!(
        now.content_hash,
        Some(bus.version(2).expect("v2").content_hash)
    );

    // Before the paper history was recorded (November 2026), nothing was known to be in force.
    let before = in_force(bus, date("2013-01-01"), instant("2026-01-01T00:00:00Z"));
    assert_eq!(
        (before.version, before.content_hash, before.in_force_from),
        (None, None, None)
    );
    // Between recording version 1 and version 2, 2013 was still version 1's time, as then known.
    let midway = in_force(bus, date("2013-01-01"), instant("2026-11-04T00:00:00Z"));
    assert_eq!(midway.version, Some(1));
    assert_eq!(midway.in_force_until, None);
}

#[test]
fn norrtalje_versions_follow_2009_2012_2014_on_paper() {
    let state = state();
    let bus = state.agreement(&id("norrtalje-bus")).expect("exists");
    let on = |d: &str| in_force(bus, date(d), instant(NOW)).version;
    assert_eq!(on("2009-12-17"), None);
    assert_eq!(on("2009-12-18"), Some(1));
    assert_eq!(on("2012-04-30"), Some(1));
    assert_eq!(on("2012-05-01"), Some(2));
    assert_eq!(on("2014-02-01"), Some(3));
    assert_eq!(on("2026-11-23"), Some(3));

    let history = versions(state.directory(), bus);
    let statuses: Vec<_> = history.iter().map(|v| v.status).collect();
    assert_eq!(
        statuses,
        [
            VersionStatus::Superseded,
            VersionStatus::Superseded,
            VersionStatus::InForce
        ]
    );
    let ledger = signature_ledger(state.directory(), bus);
    assert_eq!(ledger.len(), 12);
    assert!(
        ledger
            .iter()
            .all(|r| matches!(r.method, SignatureMethod::Paper { .. }))
    );
    assert!(
        ledger
            .iter()
            .any(|r| r.version == 1 && r.signed_on == date("2009-12-18"))
    );

    // Version 3 has the steering group, the working group and the rotating political follow-up.
    let v3 = &bus.version(3).expect("v3").content;
    for forum in [
        "bus-styrgrupp",
        "bus-arbetsgrupp",
        "lokalpolitisk-samverkan",
    ] {
        assert!(v3.forum(&forum.parse().expect("slug")).is_some(), "{forum}");
    }
    let changes = diff(2, &bus.version(2).expect("v2").content, 3, v3);
    assert!(!changes.is_empty());
    // The 2014 revision rewrote the preamble (TitleAndPreambleRevised) but kept the title.
    assert_eq!(changes.title, None);
    let preamble = changes.preamble.as_ref().expect("the preamble changed");
    assert!(
        preamble
            .iter()
            .any(|r| r.op == "insert" && r.text.contains("Gemensamma utgångspunkter")),
        "{preamble:?}"
    );
    // Versions 1 and 2 keep the preamble they were signed with.
    assert_eq!(
        bus.version(1).expect("v1").content.preamble,
        bus.version(2).expect("v2").content.preamble
    );
}

#[test]
fn norrkoping_in_force_since_march_2020_with_an_open_renegotiation_request() {
    let state = state();
    let dir = state.directory();
    let nkpg = state
        .agreement(&id("norrkoping-barn-och-unga"))
        .expect("exists");
    let summary = agreement_summary(dir, nkpg);
    assert_eq!(summary.status, AgreementStatus::RenegotiationRequested);
    assert_eq!(summary.version_in_force, Some(1));
    let from = summary.in_force_from.expect("in force");
    assert_eq!((from.format("%Y-%m").to_string()), "2020-03");

    let view = agreement_view(dir, nkpg);
    assert_eq!(view.open_requests.len(), 1);
    assert_eq!(view.open_requests[0].party.as_str(), "region-ostergotland");
    let proposal = view.open_proposal.expect("version 2 is open");
    assert_eq!(proposal.version, 2);
    assert!(!proposal.signed.is_empty() && !proposal.not_signed.is_empty());
    assert_eq!(proposal.signed.len() + proposal.not_signed.len(), 6);

    // Every party signed version 1 live in March 2020, Region Östergötland among them.
    let ledger = signature_ledger(dir, nkpg);
    let v1: Vec<_> = ledger.iter().filter(|r| r.version == 1).collect();
    assert_eq!(v1.len(), 6);
    assert!(v1.iter().all(|r| r.method == SignatureMethod::Live));
    assert!(
        v1.iter()
            .all(|r| r.signed_on.format("%Y-%m").to_string() == "2020-03")
    );
    assert!(v1.iter().any(|r| r.party_name == "Region Östergötland"));

    // Version 2 adds a representative and revises Barnsamverket.
    let v2 = diff(
        1,
        &nkpg.version(1).expect("v1").content,
        2,
        &nkpg.version(2).expect("v2").content,
    );
    let text = serde_json::to_string(&v2).expect("json");
    assert!(text.contains("representatives_added"), "{text}");
    assert!(
        text.contains("\"field\":\"meets\"") || text.contains("\"field\":\"tasks\""),
        "{text}"
    );

    // The adjunct member of Kultur- och fritidskontoret is marked as such.
    let v1_content = &nkpg.version(1).expect("v1").content;
    let forum = v1_content
        .forum(&"barnsamverket".parse().expect("slug"))
        .expect("forum");
    assert!(
        forum
            .representatives
            .iter()
            .any(|r| r.adjunct && r.party.as_str() == "norrkoping-kultur-och-fritidskontoret")
    );
}
