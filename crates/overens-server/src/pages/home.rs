//! `/`: every agreement with its status, the version in force and since when.

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use overens_core::projection::{AgreementSummary, agreement_summary};

use super::{Chrome, PageError, Req, html};
use crate::AppState;

#[derive(Debug, Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    rows: Vec<AgreementSummary>,
}

pub(crate) async fn page(State(app): State<AppState>, uri: Uri) -> Result<Response, PageError> {
    let req = Req::new(&uri)?;
    let snapshot = app.snapshot();
    let directory = snapshot.state.directory();
    let rows = snapshot
        .state
        .agreements()
        .map(|a| agreement_summary(directory, a))
        .collect();
    Ok(html(&HomePage {
        chrome: req.chrome(req.t().agreements, None),
        rows,
    }))
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn lists_every_agreement_with_its_swedish_status_and_english_on_request() {
        let f = fixture(None).await;
        let page = f.get("/").await;
        assert_eq!(page.status, 200);
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(page.body.contains("<html lang=\"sv\">"));
        for text in [
            "Överenskommelse om samverkan – barn och unga",
            "omförhandling begärd",
            "Lokal BUS-överenskommelse, Norrtälje",
            ">gäller<",
            "<time datetime=\"2014-02-01\">",
            "href=\"/agreements/norrtalje-bus\"",
            "href=\"/?lang=en\"",
        ] {
            assert!(page.body.contains(text), "{text}: {}", page.body);
        }
        let english = f.get("/?lang=en").await;
        assert!(english.body.contains("<html lang=\"en\">"));
        assert!(english.body.contains("renegotiation requested"));
        assert!(english.body.contains(">in force<"));
        assert!(
            english
                .body
                .contains("href=\"/agreements/norrtalje-bus?lang=en\"")
        );
        // The toggle leads back to Swedish.
        assert!(english.body.contains("<a class=\"toggle\" href=\"/\""));
    }

    #[tokio::test]
    async fn a_bad_language_is_a_400_page() {
        let f = fixture(None).await;
        for uri in ["/?lang=de", "/?lang=en&lang=sv"] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 400, "{uri}");
            assert_eq!(page.content_type, "text/html; charset=utf-8");
            assert!(page.body.contains("”lang”"), "{}", page.body);
        }
    }
}
