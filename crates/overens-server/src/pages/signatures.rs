//! `/agreements/{id}/signatures`: the signature ledger: who signed which version and
//! content hash, when (Swedish date and time, UTC on hover), live or on paper.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use overens_core::domain::SignatureMethod;
use overens_core::projection::{LedgerRow, OpenProposal, agreement_view, signature_ledger};

use super::format::Shown as _;
use super::{Chrome, PageError, Req, html};
use crate::AppState;

#[derive(Debug, Template)]
#[template(path = "signatures.html")]
struct SignaturesPage {
    chrome: Chrome,
    id: String,
    rows: Vec<LedgerRow>,
    open_proposal: Option<OpenProposal>,
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
    let view = agreement_view(directory, agreement);
    let t = req.t();
    let title = &view.summary.title;
    Ok(html(&SignaturesPage {
        chrome: req.chrome(
            format!("{} – {title}", t.ledger),
            Some(req.nav(agreement, title, "signatures")),
        ),
        rows: signature_ledger(directory, agreement),
        open_proposal: view.open_proposal,
        id,
    }))
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn the_ledger_shows_every_signature_with_date_time_and_method() {
        let f = fixture(None).await;
        let page = f
            .get("/agreements/norrkoping-barn-och-unga/signatures")
            .await;
        assert_eq!(page.status, 200);
        let row = page
            .body
            .split("<tr>")
            .find(|row| row.contains("Region Östergötland") && row.contains("2020-03-24"))
            .expect("Region Östergötland's signature of version 1");
        for text in [
            "title=\"UTC: 2020-03-24T12:40:13Z\">2020-03-24 13:40 CET",
            "digitalt",
            "href=\"/v1/log/proof/inclusion?index=46\"",
            "class=\"hash\"",
        ] {
            assert!(row.contains(text), "{text}: {row}");
        }
        assert_eq!(page.body.matches("proof/inclusion?index=").count(), 9);
        let paper = f.get("/agreements/norrtalje-bus/signatures?lang=en").await;
        assert!(
            paper
                .body
                .contains("on paper (evidence: Undertecknat original")
        );
    }
}
