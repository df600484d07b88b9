//! `/agreements/{id}`: the agreement today (content in force, open proposal, requests), its
//! versions, the "which version was in force on …, as known at …" picker, and the verify panel.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use overens_core::content::Chair;
use overens_core::projection::{
    AgreementView, InForce, VersionSummary, agreement_view, in_force, versions,
};
use overens_core::{Content, Timestamp};

use super::format::{Shown as _, When, end_of_swedish_day};
use super::text::fill;
use super::verify::{VerifyPanel, panel};
use super::{Chrome, Names, PageError, Req, html};
use crate::AppState;
use crate::routes::query;

#[derive(Debug, Template)]
#[template(path = "agreement.html")]
struct AgreementPage {
    chrome: Chrome,
    view: AgreementView,
    versions: Vec<VersionSummary>,
    names: Names,
    picker: Picker,
    verify: VerifyPanel,
}

impl AgreementPage {
    /// The content to show whole: the version in force, or else the draft.
    fn shown(&self) -> (&Content, bool) {
        match &self.view.content_in_force {
            Some(content) => (content, true),
            None => (&self.view.draft, false),
        }
    }
}

/// The date picker's fields as given, and its answer.
#[derive(Debug, Default)]
struct Picker {
    on: String,
    as_of: String,
    answer: Option<Answer>,
}

#[derive(Debug)]
struct Answer {
    result: InForce,
    sentence: String,
    until: Option<String>,
    as_of: When,
}

pub(crate) async fn page(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let req = Req::new(&uri)?;
    let id = super::path(&req, id)?;
    // The query is checked before the agreement is looked up, as the API does.
    let picker = picker(&req)?;
    let snapshot = app.snapshot();
    let agreement = req.agreement(&snapshot.state, &id)?;
    let directory = snapshot.state.directory();
    let view = agreement_view(directory, agreement);
    let picker = match picker {
        Some((on, as_of, fields)) => {
            let result = in_force(agreement, on, as_of);
            Picker {
                answer: Some(answer(&req, result)),
                ..fields
            }
        }
        None => Picker::default(),
    };
    let title = view.summary.title.clone();
    Ok(html(&AgreementPage {
        chrome: req.chrome(&title, Some(req.nav(agreement, &title, "overview"))),
        versions: versions(directory, agreement),
        names: Names::of(directory),
        verify: panel(&app, &snapshot, agreement, &headers),
        picker,
        view,
    }))
}

/// `on` (a date) and `as_of` (a date: as known at the end of that Swedish day; or an RFC
/// 3339 instant), if the picker was used.
fn picker(req: &Req) -> Result<Option<(overens_core::Date, Timestamp, Picker)>, PageError> {
    let t = req.t();
    let Some(on_text) = req.one("on")? else {
        // `as_of` alone answers nothing, but a malformed one is still an error.
        if let Some(text) = req.one("as_of")? {
            as_of(req, text)?;
        }
        return Ok(None);
    };
    let on = query::date("on", on_text)
        .map_err(|_| req.bad(fill(t.bad_date, &[("name", "on"), ("value", on_text)])))?;
    let (as_of, as_of_text) = match req.one("as_of")? {
        Some(text) => (as_of(req, text)?, text.to_owned()),
        // The clock is read here, at the edge, as the API's in-force route does.
        None => (overens_store::sqlite::system_clock(), String::new()),
    };
    let fields = Picker {
        on: on_text.to_owned(),
        as_of: as_of_text,
        answer: None,
    };
    Ok(Some((on, as_of, fields)))
}

fn as_of(req: &Req, text: &str) -> Result<Timestamp, PageError> {
    let bad = || {
        req.bad(fill(
            req.t().bad_as_of,
            &[("name", "as_of"), ("value", text)],
        ))
    };
    if text.len() == 10 {
        let day = query::date("as_of", text).map_err(|_| bad())?;
        end_of_swedish_day(day).ok_or_else(bad)
    } else {
        query::instant("as_of", text).map_err(|_| bad())
    }
}

fn answer(req: &Req, result: InForce) -> Answer {
    let t = req.t();
    let on = result.on.to_string();
    let sentence = match (result.version, result.in_force_from) {
        (Some(n), Some(from)) => fill(
            t.picker_answer,
            &[
                ("on", &on),
                ("n", &n.to_string()),
                ("from", &from.to_string()),
            ],
        ),
        _ => fill(t.picker_none, &[("on", &on)]),
    };
    let until = result.version.map(|_| match result.in_force_until {
        Some(until) => fill(t.picker_until, &[("until", &until.to_string())]),
        None => t.picker_open_ended.to_owned(),
    });
    Answer {
        as_of: When::precise(&result.as_of),
        sentence,
        until,
        result,
    }
}

#[cfg(test)]
mod tests {
    use overens_core::event::{AgreementDrafted, SectionRevised};
    use overens_core::{Event, projection};

    use crate::pages::fixture::{fixture, key};

    const NORRKOPING: &str = "/agreements/norrkoping-barn-och-unga";

    #[tokio::test]
    async fn shows_the_agreement_today_from_the_same_projection_as_the_api() {
        let f = fixture(None).await;
        let page = f.get(NORRKOPING).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let snapshot = f.app.snapshot();
        let agreement = snapshot
            .state
            .agreement(&"norrkoping-barn-och-unga".parse().expect("id"))
            .expect("the example agreement");
        let view = projection::agreement_view(snapshot.state.directory(), agreement);
        let proposal = view
            .open_proposal
            .expect("version 2 is open in the examples");
        let not_signed = &page.body[page.body.find("class=\"not-signed\"").expect("list")..];
        assert!(!proposal.not_signed.is_empty());
        for party in &proposal.not_signed {
            assert!(
                not_signed.contains(&format!("<li>{}</li>", party.name)),
                "{}",
                party.name
            );
        }
        for text in [
            "Version 2 väntar på underskrifter",
            "Har inte skrivit under",
            "Barnsamverket",
            "adjungerad",
            "Begärda omförhandlingar",
            "id=\"verify\"",
            "/v1/agreements/norrkoping-barn-och-unga/bundle",
            "overens verify norrkoping-barn-och-unga.bundle.json",
            "--log-key &#39;overens.test/pages+",
            "<label for=\"on\">",
            "<input type=\"date\" id=\"on\" name=\"on\"",
        ] {
            assert!(page.body.contains(text), "{text}");
        }
        let hash = proposal.content_hash.to_hex();
        assert!(page.body.contains(&format!("title=\"{hash}\"")));
    }

    #[tokio::test]
    async fn the_date_picker_answers_bitemporally() {
        let f = fixture(None).await;
        let page = f.get("/agreements/norrtalje-bus?on=2013-01-01").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("Den 2013-01-01 gällde version 2, från 2012-05-01."),
            "{}",
            page.body
        );
        assert!(page.body.contains("dagen före 2014-02-01"));
        // Before the paper history was recorded, nothing was known to be in force.
        let earlier = f
            .get("/agreements/norrtalje-bus?on=2013-01-01&as_of=2026-01-01")
            .await;
        assert!(
            earlier
                .body
                .contains("Ingen version gällde den 2013-01-01.")
        );
        assert!(earlier.body.contains("2026-01-01 23:59:59 CET"));
        assert!(
            earlier
                .body
                .contains("title=\"UTC: 2026-01-01T22:59:59.999999Z\"")
        );
        let instant = f
            .get("/agreements/norrtalje-bus?on=2013-01-01&as_of=2026-01-01T00:00:00Z&lang=en")
            .await;
        assert!(
            instant
                .body
                .contains("No version was in force on 2013-01-01.")
        );
        // An empty `as_of`, as the form sends it, means now.
        let now = f
            .get("/agreements/norrtalje-bus?on=2013-01-01&as_of=")
            .await;
        assert!(now.body.contains("gällde version 2"));
    }

    #[tokio::test]
    async fn bad_dates_are_400_pages_and_unknown_agreements_404_pages() {
        let f = fixture(None).await;
        for (uri, says) in [
            ("/agreements/norrtalje-bus?on=2013-1-1", "”on”: ”2013-1-1”"),
            ("/agreements/norrtalje-bus?on=2013-02-30", "”2013-02-30”"),
            (
                "/agreements/norrtalje-bus?on=2013-01-01&as_of=igår",
                "”as_of”: ”igår”",
            ),
            ("/agreements/norrtalje-bus?as_of=2026-13-01", "”as_of”"),
            (
                "/agreements/norrtalje-bus?on=2013-01-01&on=2014-01-01",
                "mer än en gång",
            ),
        ] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 400, "{uri}");
            assert_eq!(page.content_type, "text/html; charset=utf-8", "{uri}");
            assert!(page.body.contains(says), "{uri}: {}", page.body);
        }
        for uri in [
            "/agreements/nope",
            "/agreements/NOPE?lang=en",
            "/agreements/%FF",
        ] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 404, "{uri}");
            assert_eq!(page.content_type, "text/html; charset=utf-8", "{uri}");
        }
        let english = f.get("/agreements/nope?lang=en").await;
        assert!(
            english
                .body
                .contains("There is no agreement with id “nope”.")
        );
    }

    #[tokio::test]
    async fn party_text_with_markup_and_script_is_shown_as_text() {
        let f = fixture(None).await;
        let social = key("norrkoping-socialkontoret-1");
        let stream = "agreement/injektion";
        f.append(
            stream,
            &social,
            &Event::AgreementDrafted(AgreementDrafted {
                title: "Avtal <i>kursivt</i> & \"citat\"".into(),
                parties: vec![
                    "norrkoping-socialkontoret".parse().expect("party"),
                    "norrkoping-utbildningskontoret".parse().expect("party"),
                ],
                preamble: "Inledning <img src=x onerror=alert(2)>".into(),
            }),
        )
        .await;
        f.append(
            stream,
            &social,
            &Event::SectionRevised(SectionRevised {
                section: "syfte".parse().expect("section"),
                heading: "Syfte </h4><h1>rubrik</h1>".into(),
                text: "<script>alert(1)</script> och <b>fetstil</b>".into(),
            }),
        )
        .await;
        for uri in [
            "/agreements/injektion",
            "/",
            "/agreements/injektion/timeline",
        ] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 200, "{uri}");
            for raw in ["<script", "<b>", "<i>", "<img", "<h1>rubrik"] {
                assert!(!page.body.contains(raw), "{uri} holds {raw}: {}", page.body);
            }
            assert!(
                page.body
                    .contains("Avtal &#60;i&#62;kursivt&#60;/i&#62; &#38; &#34;citat&#34;"),
                "{uri}: {}",
                page.body
            );
        }
        let page = f.get("/agreements/injektion").await;
        assert!(
            page.body.contains(
                "&#60;script&#62;alert(1)&#60;/script&#62; och &#60;b&#62;fetstil&#60;/b&#62;"
            ),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("Syfte &#60;/h4&#62;&#60;h1&#62;rubrik&#60;/h1&#62;")
        );
        let policy = page
            .headers
            .get("content-security-policy")
            .expect("a policy");
        assert!(
            policy
                .to_str()
                .expect("text")
                .contains("default-src 'none'")
        );
    }
}
