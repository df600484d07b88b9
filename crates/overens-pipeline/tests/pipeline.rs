//! The pipeline on real SQLite files: import and export of the example log, appends through
//! the sequencer (accepted, durable, visible; every refusal changing nothing), idempotent
//! retries, and races (one seq, many streams, a revocation against its key's signature).

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use overens_core::domain::{RejectionKind, enrollment_message};
use overens_core::event::{
    AgreementDrafted, RevisionSigned, SectionRevised, SignatoryEnrolled, SignatoryRevoked,
};
use overens_core::replay::Defect;
use overens_core::{
    Digest32, Envelope, EnvelopeError, Event, LogRecord, Rejection, SecretKey, StreamId,
    replay_log_file,
};
use overens_pipeline::{AppendError, ImportError, ImportSummary, Pipeline, check_import, import};
use overens_store::{EventStore, SqliteStore};
use tokio::sync::Barrier;

const BARN_OCH_UNGA_PARTIES: [&str; 6] = [
    "norrkoping-utbildningskontoret",
    "norrkoping-socialkontoret",
    "norrkoping-vard-och-omsorgskontoret",
    "norrkoping-kultur-och-fritidskontoret",
    "region-ostergotland",
    "polisen-norrkoping",
];

fn five_minutes() -> Option<chrono::Duration> {
    Some(chrono::Duration::minutes(5))
}

fn signs(version: u32, content_hash: Digest32, party: &str) -> Event {
    Event::RevisionSigned(RevisionSigned {
        version,
        content_hash,
        party: pid(party),
    })
}

fn section(id: &str, text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: id.parse().expect("section slug"),
        heading: format!("Rubrik {id}"),
        text: text.into(),
    })
}

fn content_hash(pipeline: &Pipeline<SqliteStore>, version: u32) -> Digest32 {
    pipeline
        .snapshot()
        .state
        .agreement(&aid(BARN_OCH_UNGA))
        .and_then(|a| a.version(version))
        .map(|v| v.content_hash)
        .expect("the version exists")
}

fn head(pipeline: &Pipeline<SqliteStore>, stream: &StreamId) -> overens_core::domain::StreamHead {
    pipeline.snapshot().state.head(stream)
}

fn example_envelope(index: usize) -> Envelope {
    LogRecord::parse_line(&log_lines()[index])
        .expect("example line")
        .event
}

// --- import and export -----------------------------------------------------------------------

#[tokio::test]
async fn import_then_export_gives_the_file_back_and_replay_agrees_with_the_file() {
    let (_tmp, data) = data_dir();
    let (store, _) = open_ok(&data).await;
    let text = log_text();
    let expected = replay_log_file(&text, empty_state()).expect("the example log replays");
    assert_eq!(expected.len(), EXAMPLE_LEN);

    let (state, summary) = import(&store, empty_state(), &[("log.jsonl".into(), text.clone())])
        .await
        .expect("imports");
    assert_eq!(
        summary,
        ImportSummary {
            already_present: 0,
            imported: EXAMPLE_LEN
        }
    );
    assert_eq!(projection(&state), projection(&expected));
    assert_eq!(store.len().await.expect("len"), EXAMPLE_LEN);
    assert_eq!(export_bytes(&store).await, text.as_bytes());

    // One stream's export is that stream's lines of the file, in order.
    let mut out = Vec::new();
    let written = overens_pipeline::export(&store, Some(&stream("norrtalje-bus")), &mut out)
        .await
        .expect("export");
    let bus: String = text
        .lines()
        .filter(|l| l.contains(r#""stream":"agreement/norrtalje-bus""#))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(written, 43);
    assert_eq!(out, bus.as_bytes());

    // Closed and reopened: the replay of the store is the replay of the file.
    close(Arc::new(store)).await;
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN);
    assert_eq!(replayed.ids.len() as u64, EXAMPLE_LEN);
    assert_eq!(projection(&replayed.state), projection(&expected));

    // The same file again changes nothing.
    let (state, summary) = import(&store, empty_state(), &[("log.jsonl".into(), text.clone())])
        .await
        .expect("imports again");
    assert_eq!(
        summary,
        ImportSummary {
            already_present: EXAMPLE_LEN,
            imported: 0
        }
    );
    assert_eq!(projection(&state), projection(&expected));
    assert_eq!(export_bytes(&store).await, text.as_bytes());
}

#[tokio::test]
async fn an_import_that_diverges_from_the_store_or_skips_ahead_is_refused_and_changes_nothing() {
    let (_tmp, data) = imported().await;
    let (store, _) = open_ok(&data).await;
    let before = export_bytes(&store).await;
    let lines = log_lines();

    // Index 5 with other bytes (its recorded time a second later).
    let mut diverging = lines.clone();
    diverging[5] = diverging[5].replace("2020-02-10T08:20:41Z", "2020-02-10T08:20:42Z");
    assert_ne!(diverging[5], lines[5]);
    LogRecord::parse_line(&diverging[5]).expect("still a canonical record");
    // The last index with another event altogether (index 96 carrying index 95's event).
    let mut other_event = lines.clone();
    other_event[96] = lines[95].replace(r#""index":95"#, r#""index":96"#);
    // A file that starts beyond the stored log.
    let ahead = vec![lines[96].replace(r#""index":96"#, r#""index":98"#)];
    // The whole log, then a record that skips index 97.
    let mut gap = lines.clone();
    gap.push(lines[96].replace(r#""index":96"#, r#""index":99"#));

    let cases: Vec<(&str, Vec<String>)> = vec![
        ("diverging", diverging),
        ("other event", other_event),
        ("ahead", ahead),
        ("gap", gap),
    ];
    for (name, lines) in cases {
        let error = import(&store, empty_state(), &[(name.into(), file_of(&lines))])
            .await
            .expect_err(name);
        match (name, &error) {
            ("diverging", ImportError::Diverges { line, index, .. }) => {
                assert_eq!((*line, *index), (6, 5));
            }
            ("other event", ImportError::Diverges { line, index, .. }) => {
                assert_eq!((*line, *index), (97, 96));
            }
            (
                "ahead",
                ImportError::Gap {
                    line, index, len, ..
                },
            ) => assert_eq!((*line, *index, *len), (1, 98, 97)),
            (
                "gap",
                ImportError::Gap {
                    line, index, len, ..
                },
            ) => assert_eq!((*line, *index, *len), (98, 99, 97)),
            // Within a file, an index that does not follow the one before is a bad record.
            ("gap", ImportError::Log { error, .. }) => {
                assert_eq!((error.line, error.index), (Some(98), Some(99)), "{error}");
                assert_eq!(
                    *error.defect,
                    Defect::Index {
                        expected: 97,
                        got: 99
                    }
                );
            }
            _ => panic!("{name}: unexpected {error:?}"),
        }
        assert!(error.to_string().starts_with(name), "{error}");
        assert!(error.to_string().contains("line "), "{error}");
        assert_eq!(store.len().await.expect("len"), EXAMPLE_LEN, "{name}");
        assert_eq!(export_bytes(&store).await, before, "{name}");
    }
    close(Arc::new(store)).await;
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN);
    assert_eq!(export_bytes(&store).await, before);
}

/// The example log with its 50th line (index 49) made bad in three ways.
fn bad_50th_lines() -> Vec<(&'static str, Vec<String>)> {
    let lines = log_lines();
    let mut forged = lines.clone();
    assert!(forged[49].contains("Barnsamverkets"));
    forged[49] = forged[49].replacen("Barnsamverkets", "Barnsamverkats", 1);
    let mut missing = lines.clone();
    missing.remove(49);
    let mut not_canonical = lines.clone();
    not_canonical[49] = not_canonical[49].replacen(r#""index":49"#, r#""index": 49"#, 1);
    vec![
        ("forged", forged),
        ("missing", missing),
        ("not canonical", not_canonical),
    ]
}

/// The refusal names line 50 and what is wrong with it.
fn assert_line_50(name: &str, error: &ImportError) {
    match (name, error) {
        ("missing", ImportError::Gap { line, index, .. }) => {
            assert_eq!((*line, *index), (50, 50), "{error}");
        }
        (_, ImportError::Log { error, .. }) => {
            assert_eq!(error.line, Some(50), "{name}: {error}");
            match (name, &*error.defect) {
                ("forged", Defect::Envelope(EnvelopeError::BadSignature)) => {
                    assert_eq!(error.index, Some(49));
                }
                ("missing", Defect::Index { expected, got }) => {
                    assert_eq!((*expected, *got), (49, 50));
                }
                ("not canonical", Defect::Record(_)) => {}
                _ => panic!("{name}: unexpected {error}"),
            }
        }
        _ => panic!("{name}: unexpected {error:?}"),
    }
}

#[tokio::test]
async fn an_import_with_a_bad_50th_record_imports_nothing() {
    for (name, lines) in bad_50th_lines() {
        let (_tmp, data) = data_dir();
        let (store, _) = open_ok(&data).await;
        let error = import(&store, empty_state(), &[(name.into(), file_of(&lines))])
            .await
            .expect_err(name);
        assert_line_50(name, &error);
        assert_eq!(store.len().await.expect("len"), 0, "{name}");
        assert!(export_bytes(&store).await.is_empty(), "{name}");
        close(Arc::new(store)).await;
        let (_, replayed) = open_ok(&data).await;
        assert_eq!(replayed.records, 0, "{name}");
    }
}

#[tokio::test]
async fn an_import_with_a_bad_50th_record_adds_nothing_to_a_stored_prefix() {
    let (_tmp, data) = data_dir();
    let (store, _) = open_ok(&data).await;
    let lines = log_lines();
    let (_, summary) = import(
        &store,
        empty_state(),
        &[("head".into(), file_of(&lines[..30]))],
    )
    .await
    .expect("the first 30 records import");
    assert_eq!(summary.imported, 30);
    let before = export_bytes(&store).await;
    for (name, lines) in bad_50th_lines() {
        let error = import(&store, empty_state(), &[(name.into(), file_of(&lines))])
            .await
            .expect_err(name);
        assert_line_50(name, &error);
        assert_eq!(store.len().await.expect("len"), 30, "{name}");
        assert_eq!(export_bytes(&store).await, before, "{name}");
    }
    let (_, summary) = import(&store, empty_state(), &[("log".into(), log_text())])
        .await
        .expect("the good file continues the stored prefix");
    assert_eq!(
        summary,
        ImportSummary {
            already_present: 30,
            imported: 67
        }
    );
    assert_eq!(export_bytes(&store).await, log_text().as_bytes());
}

/// An import checked before its store exists: the same verdicts as `import` (the 50th line
/// named, nothing to restore), the whole log restored into an empty store, and a store that
/// no longer ends where the check found it refuses the restore and stays as it was.
#[tokio::test]
async fn an_import_checked_before_the_store_exists() {
    for (name, lines) in bad_50th_lines() {
        let error = check_import(empty_state(), &[(name.into(), file_of(&lines))])
            .await
            .expect_err(name);
        assert_line_50(name, &error);
    }
    let checked = check_import(empty_state(), &[("log".into(), log_text())])
        .await
        .expect("the example log checks");
    let (_tmp, data) = data_dir();
    let (store, _) = open_ok(&data).await;
    let (state, summary) = checked.restore_into(&store).await.expect("restored");
    assert_eq!(
        summary,
        ImportSummary {
            already_present: 0,
            imported: EXAMPLE_LEN
        }
    );
    assert_eq!(state.len(), EXAMPLE_LEN);
    assert_eq!(export_bytes(&store).await, log_text().as_bytes());

    let again = check_import(empty_state(), &[("log".into(), log_text())])
        .await
        .expect("checks again");
    let error = again
        .restore_into(&store)
        .await
        .expect_err("the store is no longer empty");
    assert!(error.to_string().contains("continue"), "{error}");
    assert_eq!(export_bytes(&store).await, log_text().as_bytes());
}

// --- appends ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_live_signature_is_accepted_durable_and_visible() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let before = pipeline.snapshot();
    assert_eq!(before.len, EXAMPLE_LEN);
    let hash = content_hash(&pipeline, 2);
    let party = "norrkoping-vard-och-omsorgskontoret";
    let envelope = sign(
        &party_key(party),
        &stream,
        head(&pipeline, &stream),
        &signs(2, hash, party),
    );

    let appended = pipeline
        .append(vec![envelope.clone()])
        .await
        .expect("accepted");
    assert_eq!(appended.indexes, vec![EXAMPLE_LEN]);
    assert_eq!(appended.recorded_at, now());
    assert_eq!(appended.log_len, EXAMPLE_LEN + 1);
    assert!(!appended.repeated);

    // Visible in the next snapshot: the ledger shows the new signature.
    let after = pipeline.snapshot();
    assert_eq!(after.len, EXAMPLE_LEN + 1);
    assert_eq!(after.state.head(&stream), common::after(&envelope));
    let agreement = after
        .state
        .agreement(&aid(BARN_OCH_UNGA))
        .expect("agreement");
    let v2 = agreement.version(2).expect("version 2");
    assert!(v2.signatures.iter().any(|s| s.party == pid(party)));
    assert_eq!(v2.unsigned_parties().len(), 2);
    assert!(v2.in_force.is_none());
    let live = projection(&after.state);
    assert_ne!(live, projection(&before.state));

    // Stored: the export is the example log and one more line, which replays to the same.
    let exported = export_bytes(&**pipeline.store()).await;
    let text = String::from_utf8(exported).expect("utf-8");
    assert!(text.starts_with(&log_text()));
    let last = text.lines().last().expect("a last line");
    let record = LogRecord::parse_line(last).expect("canonical");
    assert_eq!(record.index, EXAMPLE_LEN);
    assert_eq!(record.recorded_at, now());
    assert_eq!(record.event, envelope);
    let from_file = replay_log_file(&text, empty_state()).expect("replays");
    assert_eq!(projection(&from_file), live);

    // Durable: reopened and replayed from disk, it is there.
    stop(pipeline).await;
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN + 1);
    assert!(replayed.ids.contains(&envelope.id));
    assert_eq!(projection(&replayed.state), live);
    assert_eq!(
        store
            .find(envelope.id)
            .await
            .expect("find")
            .map(|r| r.index),
        Some(EXAMPLE_LEN)
    );
}

#[tokio::test]
async fn the_last_signatures_bring_version_2_into_force() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let hash = content_hash(&pipeline, 2);
    for party in [
        "norrkoping-vard-och-omsorgskontoret",
        "norrkoping-kultur-och-fritidskontoret",
        "polisen-norrkoping",
    ] {
        let envelope = sign(
            &party_key(party),
            &stream,
            head(&pipeline, &stream),
            &signs(2, hash, party),
        );
        pipeline.append(vec![envelope]).await.expect(party);
    }
    let snapshot = pipeline.snapshot();
    let agreement = snapshot
        .state
        .agreement(&aid(BARN_OCH_UNGA))
        .expect("agreement");
    assert_eq!(agreement.current().map(|v| v.number), Some(2));
    assert!(
        agreement
            .version(1)
            .and_then(|v| v.superseded.as_ref())
            .is_some()
    );
    let live = projection(&snapshot.state);
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(projection(&replayed.state), live);
}

/// Sends `envelopes` and expects a refusal that changes neither the store nor the snapshot.
async fn refused(pipeline: &Pipeline<SqliteStore>, envelopes: Vec<Envelope>) -> AppendError {
    let stored = export_bytes(&**pipeline.store()).await;
    let before = pipeline.snapshot();
    let seen = projection(&before.state);
    let error = pipeline
        .append(envelopes)
        .await
        .expect_err("the append is refused");
    assert_eq!(export_bytes(&**pipeline.store()).await, stored, "{error}");
    assert_eq!(pipeline.store().len().await.expect("len"), before.len);
    let after = pipeline.snapshot();
    assert_eq!(after.len, before.len, "{error}");
    assert_eq!(projection(&after.state), seen, "{error}");
    error
}

fn rejected(error: &AppendError) -> (usize, &Rejection) {
    match error {
        AppendError::Rejected {
            position,
            rejection,
        } => (*position, rejection),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn every_refusal_leaves_store_and_snapshot_unchanged() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let h = head(&pipeline, &stream);
    let v1 = content_hash(&pipeline, 1);
    let v2 = content_hash(&pipeline, 2);
    let kultur = "norrkoping-kultur-och-fritidskontoret";
    let social = "norrkoping-socialkontoret";
    let vard = "norrkoping-vard-och-omsorgskontoret";
    let polis = "polisen-norrkoping";

    // A party acts only for itself.
    let error = refused(
        &pipeline,
        vec![sign(&party_key(kultur), &stream, h, &signs(2, v2, polis))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::ActingForAnotherParty {
                signer_party: pid(kultur),
                named: pid(polis)
            }
        )
    );
    assert_eq!(rejected(&error).1.kind(), RejectionKind::Forbidden);

    // Signed already (socialkontoret signed version 2 at index 52).
    let error = refused(
        &pipeline,
        vec![sign(&party_key(social), &stream, h, &signs(2, v2, social))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::AlreadySigned {
                party: pid(social),
                version: 2
            }
        )
    );
    assert_eq!(rejected(&error).1.kind(), RejectionKind::Rule);

    // Version 1 is no longer the latest proposal.
    let error = refused(
        &pipeline,
        vec![sign(&party_key(vard), &stream, h, &signs(1, v1, vard))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::StaleProposal {
                version: 1,
                latest: 2
            }
        )
    );

    // A content hash that is not version 2's.
    let error = refused(
        &pipeline,
        vec![sign(&party_key(vard), &stream, h, &signs(2, v1, vard))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::ContentHashMismatch {
                expected: v2,
                got: v1
            }
        )
    );

    // Stale chain: an old seq, or the right seq with another prev (conflicts: re-sign).
    let stale = overens_core::domain::StreamHead {
        next_seq: h.next_seq - 1,
        prev: h.prev,
    };
    let error = refused(
        &pipeline,
        vec![sign(&party_key(vard), &stream, stale, &signs(2, v2, vard))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::WrongSeq {
                stream: stream.clone(),
                expected: h.next_seq,
                got: h.next_seq - 1
            }
        )
    );
    assert_eq!(rejected(&error).1.kind(), RejectionKind::Conflict);
    let forked = overens_core::domain::StreamHead {
        next_seq: h.next_seq,
        prev: Digest32::of(b"another history"),
    };
    let error = refused(
        &pipeline,
        vec![sign(&party_key(vard), &stream, forked, &signs(2, v2, vard))],
    )
    .await;
    assert!(matches!(rejected(&error).1, Rejection::WrongPrev { .. }));
    assert_eq!(rejected(&error).1.kind(), RejectionKind::Conflict);

    // A key nobody enrolled; a registrar signing an agreement event.
    let stranger = SecretKey::from_seed(&[0x77; 32]);
    let error = refused(
        &pipeline,
        vec![sign(&stranger, &stream, h, &section("ny", "text"))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::UnknownSigner {
                key: stranger.public()
            }
        )
    );
    let error = refused(
        &pipeline,
        vec![sign(&key("registrar"), &stream, h, &section("ny", "text"))],
    )
    .await;
    assert_eq!(
        rejected(&error),
        (
            0,
            &Rejection::RegistrarMayNotSign {
                event: "SectionRevised"
            }
        )
    );

    // A bad signature: the payload changed after signing.
    let mut forged = sign(&party_key(vard), &stream, h, &signs(2, v2, vard));
    forged.payload.insert("party".into(), polis.into());
    let error = refused(&pipeline, vec![forged]).await;
    assert_eq!(
        error,
        AppendError::Envelope {
            position: 0,
            error: EnvelopeError::BadSignature
        }
    );

    // `at` ten minutes off the server's clock, either way, with five allowed.
    for minutes in [10, -10] {
        let at = minutes_from_now(minutes);
        let error = refused(
            &pipeline,
            vec![sign_at(
                &party_key(vard),
                &stream,
                h,
                at,
                &signs(2, v2, vard),
            )],
        )
        .await;
        assert_eq!(
            error,
            AppendError::ClockSkew {
                position: 0,
                at,
                now: now(),
                max_seconds: 300
            }
        );
    }

    // An empty batch; a batch for two streams.
    let error = refused(&pipeline, Vec::new()).await;
    assert!(matches!(error, AppendError::InvalidBatch(_)), "{error}");
    let bus = common::stream("norrtalje-bus");
    let mixed = vec![
        sign(&party_key(vard), &stream, h, &section("ny", "text")),
        sign(
            &key("kson-1"),
            &bus,
            head(&pipeline, &bus),
            &section("ny", "text"),
        ),
    ];
    let error = refused(&pipeline, mixed).await;
    assert_eq!(
        error,
        AppendError::InvalidBatch("a batch appends to one stream only".into())
    );

    // A batch whose second event is refused: nothing of it is appended.
    let batch = sign_batch(
        &party_key(kultur),
        &stream,
        h,
        &[section("ny", "text"), signs(2, v2, polis)],
    );
    let error = refused(&pipeline, batch).await;
    assert_eq!(
        rejected(&error),
        (
            1,
            &Rejection::ActingForAnotherParty {
                signer_party: pid(kultur),
                named: pid(polis)
            }
        )
    );
    // A batch that does not chain: its second event repeats the first one's seq.
    let first = sign(&party_key(vard), &stream, h, &section("ny", "text"));
    let second = sign(&party_key(vard), &stream, h, &section("annan", "text"));
    let error = refused(&pipeline, vec![first, second]).await;
    assert!(
        matches!(rejected(&error), (1, Rejection::WrongSeq { .. })),
        "{error}"
    );

    // An id the log holds already, on other bytes.
    let taken = example_envelope(0).id;
    let reused = sign_with_id(
        taken,
        &party_key(vard),
        &stream,
        h,
        now(),
        &section("ny", "text"),
    );
    let error = refused(&pipeline, vec![reused]).await;
    assert_eq!(error, AppendError::IdReused(taken));
    // The same id twice in one batch.
    let first = sign(&party_key(vard), &stream, h, &section("ny", "text"));
    let twin = sign_with_id(
        first.id,
        &party_key(vard),
        &stream,
        after(&first),
        now(),
        &section("annan", "text"),
    );
    let error = refused(&pipeline, vec![first, twin]).await;
    assert!(matches!(error, AppendError::InvalidBatch(_)), "{error}");

    // After all that, the pipeline still takes a valid event, at the head it had.
    let envelope = sign(&party_key(vard), &stream, h, &signs(2, v2, vard));
    let appended = pipeline.append(vec![envelope]).await.expect("accepted");
    assert_eq!(appended.indexes, vec![EXAMPLE_LEN]);
    let live = projection(&pipeline.snapshot().state);
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN + 1);
    assert_eq!(projection(&replayed.state), live);
}

#[tokio::test]
async fn at_within_the_allowed_skew_is_accepted_and_any_at_without_a_limit() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let vard = party_key("norrkoping-vard-och-omsorgskontoret");
    for (i, minutes) in [4, -4, 5, -5].into_iter().enumerate() {
        let envelope = sign_at(
            &vard,
            &stream,
            head(&pipeline, &stream),
            minutes_from_now(minutes),
            &section(&format!("skew-{i}"), "text"),
        );
        pipeline.append(vec![envelope]).await.expect("within skew");
    }
    stop(pipeline).await;
    let pipeline = start(&data, None).await;
    let envelope = sign_at(
        &vard,
        &stream,
        head(&pipeline, &stream),
        minutes_from_now(-60 * 24 * 365),
        &section("utan-grans", "text"),
    );
    pipeline
        .append(vec![envelope])
        .await
        .expect("no skew limit");
    assert_eq!(pipeline.snapshot().len, EXAMPLE_LEN + 5);
    stop(pipeline).await;
}

#[tokio::test]
async fn the_same_envelope_again_is_answered_as_a_repeat_and_adds_nothing() {
    let (_tmp, data) = imported().await;
    // No skew limit: the example records sent again below were signed years ago.
    let pipeline = start(&data, None).await;
    let stream = stream(BARN_OCH_UNGA);
    let batch = sign_batch(
        &party_key("region-ostergotland"),
        &stream,
        head(&pipeline, &stream),
        &[section("a", "text"), section("b", "text")],
    );
    let first = pipeline.append(batch.clone()).await.expect("accepted");
    assert_eq!(first.indexes, vec![EXAMPLE_LEN, EXAMPLE_LEN + 1]);
    assert!(!first.repeated);
    let stored = export_bytes(&**pipeline.store()).await;
    let seen = projection(&pipeline.snapshot().state);

    let again = pipeline.append(batch.clone()).await.expect("a repeat");
    assert!(again.repeated);
    assert_eq!(again.indexes, first.indexes);
    assert_eq!(again.recorded_at, first.recorded_at);
    assert_eq!(again.log_len, first.log_len);
    assert_eq!(export_bytes(&**pipeline.store()).await, stored);
    assert_eq!(projection(&pipeline.snapshot().state), seen);

    // A record of the imported example log, sent again: its original place and time.
    let example = example_envelope(41);
    let again = pipeline.append(vec![example]).await.expect("a repeat");
    assert!(again.repeated);
    assert_eq!(again.indexes, vec![41]);
    assert_eq!(again.recorded_at, ts("2020-03-05T10:02:37Z"));

    // One event of the batch again: a repeat too, at its own index.
    let again = pipeline
        .append(vec![batch[1].clone()])
        .await
        .expect("a repeat");
    assert!(again.repeated);
    assert_eq!(again.indexes, vec![EXAMPLE_LEN + 1]);
    // The batch's events in another order, or a known event with a new one: not a retry.
    let error = refused(&pipeline, vec![batch[1].clone(), batch[0].clone()]).await;
    assert!(matches!(error, AppendError::InvalidBatch(_)), "{error:?}");
    let new = sign(
        &party_key("region-ostergotland"),
        &stream,
        after(&batch[1]),
        &section("c", "text"),
    );
    let error = refused(&pipeline, vec![batch[0].clone(), new]).await;
    assert_eq!(error, AppendError::IdReused(batch[0].id));
    assert_eq!(export_bytes(&**pipeline.store()).await, stored);
    stop(pipeline).await;
}

/// A retry may come long after the first attempt (a lost reply, a client that was down):
/// with the server's skew limit on, an event already in the log still gets its first answer.
#[tokio::test]
async fn a_late_retry_is_answered_as_a_repeat_despite_the_skew_limit() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    // Signed in 2020, years before the test clock: as new, it would be refused for skew.
    let again = pipeline
        .append(vec![example_envelope(41)])
        .await
        .expect("a repeat");
    assert!(again.repeated);
    assert_eq!(again.indexes, vec![41]);
    assert_eq!(again.recorded_at, ts("2020-03-05T10:02:37Z"));
    stop(pipeline).await;
}

/// Both appends go into one commit group: the test runtime has one thread, so both are
/// queued before the sequencer runs.
#[tokio::test(flavor = "current_thread")]
async fn a_repeat_within_one_commit_group_is_a_repeat_and_a_reused_id_is_refused() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let key = party_key("polisen-norrkoping");
    let envelope = sign(
        &key,
        &stream,
        head(&pipeline, &stream),
        &section("a", "text"),
    );
    let (a, b) = tokio::join!(
        pipeline.append(vec![envelope.clone()]),
        pipeline.append(vec![envelope.clone()])
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert!(!a.repeated);
    assert!(b.repeated, "{b:?}");
    assert_eq!(a.indexes, vec![EXAMPLE_LEN]);
    assert_eq!(b.indexes, a.indexes);
    assert_eq!(b.recorded_at, a.recorded_at);
    assert_eq!(pipeline.snapshot().len, EXAMPLE_LEN + 1);

    // The same id on other bytes, chained right after the first: refused, and the
    // pipeline goes on.
    let first = sign(
        &key,
        &stream,
        head(&pipeline, &stream),
        &section("b", "text"),
    );
    let reuse = sign_with_id(
        first.id,
        &key,
        &stream,
        after(&first),
        now(),
        &section("c", "text"),
    );
    let (a, b) = tokio::join!(
        pipeline.append(vec![first.clone()]),
        pipeline.append(vec![reuse])
    );
    assert_eq!(a.expect("first").indexes, vec![EXAMPLE_LEN + 1]);
    assert_eq!(b, Err(AppendError::IdReused(first.id)));
    let next = sign(
        &key,
        &stream,
        head(&pipeline, &stream),
        &section("d", "text"),
    );
    let appended = pipeline.append(vec![next]).await.expect("still serving");
    assert_eq!(appended.indexes, vec![EXAMPLE_LEN + 2]);
    let live = projection(&pipeline.snapshot().state);
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(projection(&replayed.state), live);
}

// --- races -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_appends_at_one_seq_accept_exactly_one() {
    const TASKS: usize = 32;
    const ROUNDS: usize = 20;
    let (_tmp, data) = imported().await;
    let pipeline = Arc::new(start(&data, five_minutes()).await);
    let stream = stream(BARN_OCH_UNGA);
    let keys: Vec<SecretKey> = BARN_OCH_UNGA_PARTIES.iter().map(|p| party_key(p)).collect();
    for round in 0..ROUNDS {
        let h = head(&pipeline, &stream);
        let barrier = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let envelope = sign(
                    &keys[i % keys.len()],
                    &stream,
                    h,
                    &section(
                        &format!("r{round}-t{i}"),
                        &format!("round {round}, task {i}"),
                    ),
                );
                let (pipeline, barrier) = (pipeline.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    pipeline.append(vec![envelope]).await
                })
            })
            .collect();
        let mut accepted = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                Ok(appended) => accepted.push(appended),
                Err(AppendError::Rejected {
                    position: 0,
                    rejection,
                }) => assert_eq!(rejection.kind(), RejectionKind::Conflict, "{rejection}"),
                Err(other) => panic!("round {round}: {other}"),
            }
        }
        assert_eq!(accepted.len(), 1, "round {round}: {accepted:?}");
        assert_eq!(accepted[0].indexes, vec![EXAMPLE_LEN + round as u64]);
        assert_eq!(head(&pipeline, &stream).next_seq, h.next_seq + 1);
    }
    let snapshot = pipeline.snapshot();
    assert_eq!(snapshot.len, EXAMPLE_LEN + ROUNDS as u64);
    let live = projection(&snapshot.state);
    let pipeline = Arc::try_unwrap(pipeline).expect("the tasks are done");
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN + ROUNDS as u64);
    assert_eq!(projection(&replayed.state), live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_to_many_streams_at_once_all_succeed() {
    const AGREEMENTS: usize = 24;
    let (_tmp, data) = imported().await;
    let pipeline = Arc::new(start(&data, five_minutes()).await);
    let barrier = Arc::new(Barrier::new(AGREEMENTS));
    let tasks: Vec<_> = (0..AGREEMENTS)
        .map(|i| {
            let (pipeline, barrier) = (pipeline.clone(), barrier.clone());
            tokio::spawn(async move {
                let drafter = BARN_OCH_UNGA_PARTIES[i % BARN_OCH_UNGA_PARTIES.len()];
                let other = BARN_OCH_UNGA_PARTIES[(i + 1) % BARN_OCH_UNGA_PARTIES.len()];
                let key = party_key(drafter);
                let stream = stream(&format!("ny-overenskommelse-{i}"));
                let drafted = Event::AgreementDrafted(AgreementDrafted {
                    title: format!("Ny överenskommelse {i}"),
                    parties: vec![pid(drafter), pid(other)],
                    preamble: "Parterna samverkar.".into(),
                });
                let draft = sign(
                    &key,
                    &stream,
                    overens_core::domain::StreamHead::EMPTY,
                    &drafted,
                );
                barrier.wait().await;
                let mut indexes = pipeline.append(vec![draft.clone()]).await?.indexes;
                // Two more events, one at a time and then as a batch of two.
                let one = sign(&key, &stream, after(&draft), &section("syfte", "Syftet."));
                indexes.extend(pipeline.append(vec![one.clone()]).await?.indexes);
                let two = sign_batch(
                    &key,
                    &stream,
                    after(&one),
                    &[section("mal", "Målen."), section("uppfoljning", "Årligen.")],
                );
                indexes.extend(pipeline.append(two).await?.indexes);
                Ok::<_, AppendError>((stream, indexes))
            })
        })
        .collect();
    let mut all_indexes = Vec::new();
    for task in tasks {
        let (stream, indexes) = task.await.expect("task").expect("every append succeeds");
        assert_eq!(indexes.len(), 4);
        assert!(indexes.windows(2).all(|w| w[0] < w[1]), "{indexes:?}");
        assert_eq!(indexes[3], indexes[2] + 1, "a batch is consecutive");
        assert_eq!(pipeline.snapshot().state.head(&stream).next_seq, 4);
        all_indexes.extend(indexes);
    }
    all_indexes.sort_unstable();
    let expected: Vec<u64> = (EXAMPLE_LEN..EXAMPLE_LEN + 4 * AGREEMENTS as u64).collect();
    assert_eq!(all_indexes, expected);

    let snapshot = pipeline.snapshot();
    assert_eq!(snapshot.state.agreements().count(), 2 + AGREEMENTS);
    let live = projection(&snapshot.state);
    let text = String::from_utf8(export_bytes(&**pipeline.store()).await).expect("utf-8");
    let from_file = replay_log_file(&text, empty_state()).expect("the exported log replays");
    assert_eq!(projection(&from_file), live);
    let pipeline = Arc::try_unwrap(pipeline).expect("the tasks are done");
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(projection(&replayed.state), live);
}

fn enrolled(party: &str, key: &SecretKey, n: usize) -> Event {
    let party = pid(party);
    Event::SignatoryEnrolled(SignatoryEnrolled {
        proof: key.sign(&enrollment_message(&party, &key.public())),
        party,
        key: key.public(),
        name: format!("Testperson {n}"),
        role: "Ersättare".into(),
    })
}

fn revoked(key: &SecretKey) -> Event {
    Event::SignatoryRevoked(SignatoryRevoked {
        key: key.public(),
        reason: "Slutat".into(),
    })
}

/// Races a revocation of `key` (by the registrar) against `event` signed by `key`; returns
/// whether the signature won. Either order is fine; the loser's answer must fit it.
async fn race_revocation(
    pipeline: &Arc<Pipeline<SqliteStore>>,
    key: &SecretKey,
    event: &Event,
    signature_spawned_first: bool,
) -> bool {
    let agreement = stream(BARN_OCH_UNGA);
    let signed = sign(key, &agreement, head(pipeline, &agreement), event);
    let revocation = sign(
        &common::key("registrar"),
        &StreamId::Directory,
        head(pipeline, &StreamId::Directory),
        &revoked(key),
    );
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |envelope: Envelope| {
        let (pipeline, barrier) = (pipeline.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            pipeline.append(vec![envelope]).await
        })
    };
    let (signing, revoking) = if signature_spawned_first {
        let signing = spawn(signed);
        (signing, spawn(revocation))
    } else {
        let revoking = spawn(revocation);
        (spawn(signed), revoking)
    };
    let revoked_at = revoking
        .await
        .expect("task")
        .expect("the revocation is always accepted")
        .indexes[0];
    match signing.await.expect("task") {
        Ok(appended) => {
            assert!(appended.indexes[0] < revoked_at);
            true
        }
        Err(error) => {
            assert_eq!(
                rejected(&error),
                (
                    0,
                    &Rejection::RevokedKey {
                        key: key.public(),
                        revoked_at
                    }
                )
            );
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_racing_a_signature_by_its_key_is_decided_in_log_order() {
    const ROUNDS: usize = 12;
    let (_tmp, data) = imported().await;
    let pipeline = Arc::new(start(&data, five_minutes()).await);
    let mut outcomes = HashMap::new();

    // The example signatory of Vård- och omsorgskontoret signs version 2 as it is revoked.
    let vard = "norrkoping-vard-och-omsorgskontoret";
    let hash = content_hash(&pipeline, 2);
    let won = race_revocation(&pipeline, &party_key(vard), &signs(2, hash, vard), true).await;
    *outcomes.entry(won).or_insert(0) += 1;

    // Fresh signatories, enrolled and then raced against their revocation.
    for round in 0..ROUNDS {
        let party = BARN_OCH_UNGA_PARTIES[round % BARN_OCH_UNGA_PARTIES.len()];
        let key = SecretKey::from_seed(&Digest32::of(format!("race key {round}").as_bytes()).0);
        let enrollment = sign(
            &common::key("registrar"),
            &StreamId::Directory,
            head(&pipeline, &StreamId::Directory),
            &enrolled(party, &key, round),
        );
        pipeline.append(vec![enrollment]).await.expect("enrolled");
        let event = section(
            &format!("race-{round}"),
            "Skrivet medan nyckeln återkallas.",
        );
        let won = race_revocation(&pipeline, &key, &event, round % 2 == 0).await;
        *outcomes.entry(won).or_insert(0) += 1;
    }
    eprintln!("signature first: {outcomes:?}");

    // The log never holds an event signed by a key after that key's revocation.
    let snapshot = pipeline.snapshot();
    let revoked_at: HashMap<_, _> = snapshot
        .state
        .directory()
        .signatories()
        .filter_map(|s| s.revoked.as_ref().map(|r| (s.key, r.stamp.index)))
        .collect();
    assert_eq!(revoked_at.len(), ROUNDS + 1);
    let text = String::from_utf8(export_bytes(&**pipeline.store()).await).expect("utf-8");
    for line in text.lines() {
        let record = LogRecord::parse_line(line).expect("canonical");
        if let Some(at) = revoked_at.get(&record.event.signer) {
            assert!(
                record.index < *at,
                "index {} signed after revocation",
                record.index
            );
        }
    }
    let from_file = replay_log_file(&text, empty_state()).expect("the exported log replays");
    let live = projection(&snapshot.state);
    assert_eq!(projection(&from_file), live);

    let pipeline = Arc::try_unwrap(pipeline).expect("the tasks are done");
    stop(pipeline).await;
    let (_, replayed) = open_ok(&data).await;
    assert_eq!(projection(&replayed.state), live);
}

#[tokio::test]
async fn a_commit_that_fails_publishes_nothing_and_stops_the_pipeline() {
    let (_tmp, data) = imported().await;
    let pipeline = start(&data, five_minutes()).await;
    let stream = stream(BARN_OCH_UNGA);
    let before = pipeline.snapshot();
    let seen = projection(&before.state);
    // Someone writes index 97 behind the pipeline's back, so its next commit cannot land.
    let conn = rusqlite::Connection::open(data.store_path()).expect("open the file");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute(
        "INSERT INTO events (idx, stream, seq, id, recorded_at, hash, leaf, envelope)
         SELECT 97, stream, seq + 1000, randomblob(16), recorded_at, hash, leaf, envelope
         FROM events WHERE idx = 96",
        [],
    )
    .expect("insert behind the store's back");
    drop(conn);

    let vard = party_key("norrkoping-vard-och-omsorgskontoret");
    let envelope = sign(
        &vard,
        &stream,
        before.state.head(&stream),
        &section("a", "text"),
    );
    let error = pipeline
        .append(vec![envelope])
        .await
        .expect_err("the commit fails");
    assert!(matches!(error, AppendError::Store(_)), "{error}");
    assert_eq!(pipeline.snapshot().len, before.len);
    assert_eq!(projection(&pipeline.snapshot().state), seen);
    // Readers (and the health check) learn why appends stopped.
    let reason = pipeline.snapshot().halted.expect("halted");
    assert_eq!(
        reason,
        match &error {
            AppendError::Store(e) => e.to_string(),
            other => panic!("{other}"),
        }
    );

    // It serves no more appends: its state may no longer be what the disk holds.
    let envelope = sign(
        &vard,
        &stream,
        before.state.head(&stream),
        &section("b", "text"),
    );
    let error = pipeline.append(vec![envelope]).await.expect_err("stopped");
    assert_eq!(error, AppendError::Halted(reason), "{error}");
    assert_eq!(projection(&pipeline.snapshot().state), seen);
    stop(pipeline).await;

    // A restart replays what is on disk, and refuses the foreign row.
    let error = open(&data).await.expect_err("refused");
    assert!(error.to_string().contains("index 97"), "{error}");
}
