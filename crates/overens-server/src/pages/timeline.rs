//! `/agreements/{id}/timeline`: every event of the agreement as a readable line, with its
//! index in the global log and a link to its inclusion proof.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use overens_core::domain::TimelineEntry;

use super::format::Shown as _;
use super::{Chrome, Names, PageError, Req, html};
use crate::AppState;

#[derive(Debug, Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    entries: Vec<TimelineEntry>,
    names: Names,
}

pub(crate) async fn page(
    State(app): State<AppState>,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let req = Req::new(&uri)?;
    let id = super::path(&req, id)?;
    let snapshot = app.snapshot();
    let agreement = req.agreement(&snapshot.state, &id)?;
    let directory = snapshot.state.directory();
    let title = overens_core::projection::agreement_summary(directory, agreement).title;
    let t = req.t();
    Ok(html(&TimelinePage {
        chrome: req.chrome(
            format!("{} – {title}", t.timeline),
            Some(req.nav(agreement, &title, "timeline")),
        ),
        entries: agreement.timeline.to_vec(),
        names: Names::of(directory),
    }))
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn every_event_with_its_log_index_and_proof_link() {
        let f = fixture(None).await;
        let page = f.get("/agreements/norrtalje-bus/timeline").await;
        assert_eq!(page.status, 200);
        let snapshot = f.app.snapshot();
        let agreement = snapshot
            .state
            .agreement(&"norrtalje-bus".parse().expect("id"))
            .expect("the example agreement");
        assert!(agreement.timeline.len() > 5);
        for entry in agreement.timeline.iter() {
            let link = format!(
                "href=\"/v1/log/proof/inclusion?index={}\"",
                entry.stamp.index
            );
            assert!(page.body.contains(&link), "{link}");
        }
        assert_eq!(
            page.body.matches("proof/inclusion?index=").count(),
            agreement.timeline.len()
        );
        assert!(page.body.contains("Underskrift på papper registrerad"));
        let proof = f.get("/v1/log/proof/inclusion?index=59").await;
        assert_eq!(proof.status, 200, "the linked proof exists");
    }
}
