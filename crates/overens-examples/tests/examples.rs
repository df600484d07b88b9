//! The committed example files are exactly what `history.toml` generates, and broken
//! sources fail with precise messages instead of panicking.

use overens_core::{AgreementId, Date, State};
use overens_examples::{
    Difference, Error, Problem, SOURCE_FILE, default_dir, generate, generate_with_state,
};

fn source() -> String {
    std::fs::read_to_string(default_dir().join(SOURCE_FILE)).expect("history.toml is readable")
}

#[test]
fn committed_log_is_reproducible() {
    let generated = generate(&source()).expect("history.toml generates");
    let dir = default_dir();
    let committed = std::fs::read_to_string(dir.join("log.jsonl")).expect("log.jsonl exists");
    assert!(
        committed == generated.log,
        "events/examples/log.jsonl differs from what history.toml generates; \
         run `cargo run -p overens-examples`"
    );
    for (name, content) in &generated.keys {
        let path = dir.join("keys").join(name);
        let found =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&found, content, "{} differs", path.display());
    }
    let differences: Vec<Difference> = generated.check(&dir).expect("readable");
    assert!(differences.is_empty(), "{differences:?}");
}

#[test]
fn generation_is_deterministic_and_counts_streams() {
    let text = source();
    let a = generate(&text).expect("generates");
    let b = generate(&text).expect("generates");
    assert_eq!(a, b);
    let total: usize = a.streams.iter().map(|s| s.events).sum();
    assert_eq!(total, a.log.lines().count());
    let names: Vec<String> = a.streams.iter().map(|s| s.stream.to_string()).collect();
    assert_eq!(
        names,
        [
            "directory",
            "agreement/norrkoping-barn-och-unga",
            "agreement/norrtalje-bus"
        ]
    );
}

/// The source with one entry's `type` (or `signer`) replaced, found by a unique snippet.
fn broken(snippet: &str, replacement: &str) -> String {
    let text = source();
    assert_eq!(
        text.matches(snippet).count(),
        1,
        "snippet `{snippet}` is unique"
    );
    text.replacen(snippet, replacement, 1)
}

#[test]
fn an_unknown_type_is_reported_with_its_position() {
    let text = broken(
        "type = \"RenegotiationRequested\"",
        "type = \"RenegotiationDemanded\"",
    );
    match generate(&text) {
        Err(Error::Entry {
            position,
            line,
            problem,
            ..
        }) => {
            assert!(
                matches!(&*problem, Problem::UnknownType(kind) if kind == "RenegotiationDemanded"),
                "{problem}"
            );
            assert!(position > 0 && line > 0);
        }
        other => panic!("expected an unknown type, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_name_is_reported() {
    let text = broken(
        "signer = \"region-ostergotland-1\"\ntype = \"RenegotiationRequested\"",
        "signer = \"region-ostergotland-2\"\ntype = \"RenegotiationRequested\"",
    );
    let err = generate(&text).expect_err("unknown key");
    assert!(matches!(
        &err,
        Error::Entry { problem, .. }
            if matches!(&**problem, Problem::UnknownKey(name) if name == "region-ostergotland-2")
    ));
    assert!(err.to_string().contains("RenegotiationRequested"), "{err}");
}

#[test]
fn a_broken_rule_fails_generation_with_the_rejection() {
    // A second renegotiation request by the same party while the first is open.
    let text = source();
    let start = text
        .find("type = \"RenegotiationRequested\"")
        .and_then(|i| text[..i].rfind("[[event]]"))
        .expect("a request");
    let end = text[start + 1..]
        .find("[[event]]")
        .map_or(text.len(), |i| start + 1 + i);
    let request = &text[start..end];
    let text = format!("{}{request}{}", &text[..end], &text[end..]);
    let err = generate(&text).expect_err("refused");
    assert!(
        matches!(&err, Error::Entry { problem, .. } if matches!(**problem, Problem::Rejected(_))),
        "{err}"
    );
    assert!(err.to_string().contains("already-requested"), "{err}");
}

#[test]
fn syntax_errors_do_not_panic() {
    for bad in [
        "",
        "registrars = [\"registrar\"]\n[[event]]\n",
        "[[event]\n",
    ] {
        assert!(generate(bad).is_err(), "{bad:?}");
    }
}

fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

fn agreement<'a>(state: &'a State, id: &str) -> &'a overens_core::Agreement {
    let id: AgreementId = id.parse().expect("slug");
    state.agreement(&id).expect("drafted")
}

#[test]
fn norrkoping_v1_is_in_force_and_v2_awaits_three_parties() {
    let (_, state) = generate_with_state(&source()).expect("generates");
    let a = agreement(&state, "norrkoping-barn-och-unga");
    let current = a.current().expect("a version in force");
    assert_eq!(current.number, 1);
    assert_eq!(
        current.in_force.as_ref().map(|f| f.from),
        Some(date("2020-03-24"))
    );
    assert_eq!(current.content.parties.len(), 6);
    let forum = &current.content.forums[0];
    assert_eq!(forum.id.as_str(), "barnsamverket");
    assert_eq!(forum.definition.tasks.len(), 6);
    assert_eq!(forum.representatives.len(), 11);
    let adjunct: Vec<&str> = forum
        .representatives
        .iter()
        .filter(|r| r.adjunct)
        .map(|r| r.party.as_str())
        .collect();
    assert_eq!(adjunct, ["norrkoping-kultur-och-fritidskontoret"]);

    let open = a.open_proposal().expect("version 2 is open");
    assert_eq!(open.number, 2);
    assert_eq!(open.signatures.len(), 3);
    assert_eq!(open.unsigned_parties().len(), 3);
    let requests: Vec<&str> = a.open_requests().map(|r| r.party.as_str()).collect();
    assert_eq!(requests, ["region-ostergotland"]);
}

#[test]
fn norrtalje_has_three_paper_versions_in_force_in_turn() {
    let (_, state) = generate_with_state(&source()).expect("generates");
    let a = agreement(&state, "norrtalje-bus");
    let from: Vec<Option<Date>> = (1..=3)
        .map(|n| {
            a.version(n)
                .and_then(|v| v.in_force.as_ref())
                .map(|f| f.from)
        })
        .collect();
    assert_eq!(
        from,
        [
            Some(date("2009-12-18")),
            Some(date("2012-05-01")),
            Some(date("2014-02-01"))
        ]
    );
    assert_eq!(a.current().map(|v| v.number), Some(3));
    for n in 1..=2 {
        let v = a.version(n).expect("proposed");
        assert!(v.superseded.is_some(), "version {n} is superseded");
    }
    let v3 = a.version(3).expect("proposed");
    let forums: Vec<&str> = v3.content.forums.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        forums,
        [
            "bus-styrgrupp",
            "bus-arbetsgrupp",
            "lokalpolitisk-samverkan"
        ]
    );
    let sections: Vec<&str> = v3.content.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        sections,
        [
            "syfte",
            "overgripande-punkter",
            "uppdrag",
            "samordningsfunktion"
        ]
    );
    assert!(
        v3.signatures
            .iter()
            .all(|s| s.signed_on == date("2014-02-01"))
    );
}
