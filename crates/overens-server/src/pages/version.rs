//! `/agreements/{id}/versions/{n}`: one version whole: its proposal, status, who signed and
//! who has not, its in-force period and its full content.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use overens_core::content::Chair;
use overens_core::domain::SignatureMethod;
use overens_core::projection::{VersionDetail, version_detail};

use super::format::Shown as _;
use super::{Chrome, Names, PageError, Req, html};
use crate::AppState;

#[derive(Debug, Template)]
#[template(path = "version.html")]
struct VersionPage {
    chrome: Chrome,
    id: String,
    detail: VersionDetail,
    names: Names,
}

pub(crate) async fn page(
    State(app): State<AppState>,
    uri: Uri,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let req = Req::new(&uri)?;
    let (id, n) = super::path(&req, path)?;
    let snapshot = app.snapshot();
    let agreement = req.agreement(&snapshot.state, &id)?;
    let version = req.version(agreement, &n)?;
    let directory = snapshot.state.directory();
    let detail = version_detail(directory, agreement, version);
    let t = req.t();
    let title = format!(
        "{} – {}",
        detail.content.title,
        t.with(t.version_n, "n", detail.summary.number)
    );
    Ok(html(&VersionPage {
        chrome: req.chrome(
            &title,
            Some(req.nav(agreement, &detail.content.title, "version")),
        ),
        id,
        names: Names::of(directory),
        detail,
    }))
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn one_version_whole_with_its_signatures() {
        let f = fixture(None).await;
        let page = f
            .get("/agreements/norrkoping-barn-och-unga/versions/1")
            .await;
        assert_eq!(page.status, 200);
        for text in [
            "Version 1",
            "<span class=\"status\">gäller</span>",
            "Region Östergötland",
            "<time datetime=\"2020-03-24\">2020-03-24</time>",
            "title=\"UTC: 2020-03-24T12:40:13Z\">2020-03-24 13:40 CET</time>",
            "Barnsamverket",
        ] {
            assert!(page.body.contains(text), "{text}");
        }
        let v2 = f
            .get("/agreements/norrkoping-barn-och-unga/versions/2?lang=en")
            .await;
        assert!(v2.body.contains("awaiting signatures"));
        assert!(v2.body.contains("Not signed"));
    }

    #[tokio::test]
    async fn unknown_versions_are_404_pages() {
        let f = fixture(None).await;
        for uri in [
            "/agreements/norrkoping-barn-och-unga/versions/9",
            "/agreements/norrkoping-barn-och-unga/versions/0",
            "/agreements/norrkoping-barn-och-unga/versions/01",
            "/agreements/norrkoping-barn-och-unga/versions/x",
            "/agreements/nope/versions/1",
        ] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 404, "{uri}");
            assert_eq!(page.content_type, "text/html; charset=utf-8");
            assert!(page.body.contains("Hittades inte"), "{uri}");
        }
    }
}
