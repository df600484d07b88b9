//! Append limits: each bound refuses the append that would cross it, with the bound named,
//! and leaves the store and the projections as they were; up to the bound is accepted.

mod common;

use std::sync::Arc;

use common::*;
use overens_core::content::ForumDefinition;
use overens_core::event::{ForumEstablished, PartyAdded, RepresentativeAdded, SectionRevised};
use overens_core::{Event, StreamId};
use overens_pipeline::{AppendError, AppendLimits, Pipeline, PipelineOptions};
use overens_store::SqliteStore;

/// The example agreement's draft: how many parties, sections, forums and seats it has.
struct Sizes {
    parties: usize,
    sections: usize,
    forums: usize,
    barnsamverket_seats: usize,
}

fn sizes(pipeline: &Pipeline<SqliteStore>) -> Sizes {
    let snapshot = pipeline.snapshot();
    let draft = snapshot
        .state
        .agreement(&aid(BARN_OCH_UNGA))
        .expect("the example agreement")
        .draft()
        .clone();
    Sizes {
        parties: draft.parties.len(),
        sections: draft.sections.len(),
        forums: draft.forums.len(),
        barnsamverket_seats: draft
            .forums
            .iter()
            .find(|f| f.id.to_string() == "barnsamverket")
            .expect("the forum")
            .representatives
            .len(),
    }
}

/// The example log, served with `limits`.
async fn limited(
    limits: impl FnOnce(&Sizes) -> AppendLimits,
) -> (tempfile::TempDir, Pipeline<SqliteStore>) {
    let (tmp, data) = imported().await;
    let probe = start(&data, None).await;
    let limits = limits(&sizes(&probe));
    stop(probe).await;
    let (store, replayed) = open_ok(&data).await;
    let pipeline = Pipeline::start(
        Arc::new(store),
        replayed.state,
        replayed.ids,
        PipelineOptions {
            limits,
            ..pipeline_options(None)
        },
    );
    (tmp, pipeline)
}

fn agreement() -> StreamId {
    stream(BARN_OCH_UNGA)
}

fn kommun() -> overens_core::SecretKey {
    party_key("norrkoping-socialkontoret")
}

fn section(id: &str, text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: id.parse().expect("slug"),
        heading: "Rubrik".into(),
        text: text.into(),
    })
}

/// Appends `event`, which must be refused for crossing a limit, and checks nothing changed.
async fn refused_over_limit(pipeline: &Pipeline<SqliteStore>, event: Event) -> String {
    let before = (
        export_bytes(&**pipeline.store()).await,
        projection(&pipeline.snapshot().state),
    );
    let head = pipeline.snapshot().state.head(&agreement());
    let envelope = sign(&kommun(), &agreement(), head, &event);
    let error = pipeline
        .append(vec![envelope])
        .await
        .expect_err("over the limit");
    let AppendError::Limit { position, exceeded } = &error else {
        panic!("expected a limit, got {error:?}");
    };
    assert_eq!(*position, 0);
    let after = (
        export_bytes(&**pipeline.store()).await,
        projection(&pipeline.snapshot().state),
    );
    assert!(before == after, "a refused append changed the log");
    exceeded.to_string()
}

async fn accepted(pipeline: &Pipeline<SqliteStore>, event: Event) {
    let head = pipeline.snapshot().state.head(&agreement());
    let envelope = sign(&kommun(), &agreement(), head, &event);
    pipeline
        .append(vec![envelope])
        .await
        .expect("within the limits");
}

#[tokio::test]
async fn a_string_longer_than_the_limit_is_refused() {
    let (_tmp, pipeline) = limited(|_| AppendLimits {
        max_string_bytes: 100,
        ..AppendLimits::default()
    })
    .await;
    // 'ä' is two bytes: 50 of them is exactly the limit.
    accepted(&pipeline, section("syfte", &"ä".repeat(50))).await;
    let message = refused_over_limit(&pipeline, section("syfte", &"ä".repeat(51))).await;
    assert!(message.contains("limit of 100"), "{message}");
}

#[tokio::test]
async fn a_party_beyond_the_limit_is_refused() {
    let (_tmp, pipeline) = limited(|s| AppendLimits {
        max_parties: s.parties,
        ..AppendLimits::default()
    })
    .await;
    let message = refused_over_limit(
        &pipeline,
        Event::PartyAdded(PartyAdded {
            party: pid("norrtalje-socialnamnden"),
        }),
    )
    .await;
    assert!(message.contains("number of parties"), "{message}");
}

#[tokio::test]
async fn a_new_section_beyond_the_limit_is_refused_but_revising_one_is_not() {
    let (_tmp, pipeline) = limited(|s| AppendLimits {
        max_sections: s.sections,
        ..AppendLimits::default()
    })
    .await;
    let existing = pipeline
        .snapshot()
        .state
        .agreement(&aid(BARN_OCH_UNGA))
        .expect("agreement")
        .draft()
        .sections[0]
        .id
        .to_string();
    accepted(&pipeline, section(&existing, "Ny lydelse.")).await;
    let message = refused_over_limit(&pipeline, section("en-till", "Text.")).await;
    assert!(message.contains("number of sections"), "{message}");
}

#[tokio::test]
async fn a_forum_beyond_the_limit_is_refused() {
    let (_tmp, pipeline) = limited(|s| AppendLimits {
        max_forums: s.forums,
        ..AppendLimits::default()
    })
    .await;
    let message = refused_over_limit(
        &pipeline,
        Event::ForumEstablished(ForumEstablished {
            forum: "nytt-forum".parse().expect("slug"),
            definition: ForumDefinition {
                name: "Nytt forum".into(),
                purpose: "Samverkan".into(),
                tasks: vec!["Samordna".into()],
                meets: Vec::new(),
                chair: None,
            },
        }),
    )
    .await;
    assert!(message.contains("number of forums"), "{message}");
}

#[tokio::test]
async fn a_seat_beyond_the_limit_is_refused() {
    let (_tmp, pipeline) = limited(|s| AppendLimits {
        max_representatives: s.barnsamverket_seats,
        ..AppendLimits::default()
    })
    .await;
    let message = refused_over_limit(
        &pipeline,
        Event::RepresentativeAdded(RepresentativeAdded {
            forum: "barnsamverket".parse().expect("slug"),
            representative: "ny-ledamot".parse().expect("slug"),
            party: pid("norrkoping-socialkontoret"),
            role: "Handläggare".into(),
            name: None,
            adjunct: false,
        }),
    )
    .await;
    assert!(message.contains("seats in one forum"), "{message}");
}
