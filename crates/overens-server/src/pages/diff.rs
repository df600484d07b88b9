//! `/agreements/{id}/diff?from=&to=`: what changed between two versions (parties, sections
//! word by word, forums and their representatives), with a form to pick the two.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use overens_core::projection::{ForumDiff, SectionDiff, VersionDiff, diff};
use serde_json::Value;

use super::text::fill;
use super::{Chrome, Names, PageError, Req, html};
use crate::AppState;
use crate::routes::query;

#[derive(Debug, Template)]
#[template(path = "diff.html")]
struct DiffPage {
    chrome: Chrome,
    id: String,
    /// Every version number, for the two menus.
    numbers: Vec<u32>,
    from: u32,
    to: u32,
    diff: Option<VersionDiff>,
    names: Names,
}

impl DiffPage {
    /// A changed field's value as text: a string as it is, a list of strings one per line,
    /// anything else (a cadence, a chair, a seat) as compact JSON.
    fn shown(&self, value: &Value) -> String {
        match value {
            Value::String(text) => text.clone(),
            Value::Null => "–".into(),
            Value::Array(items) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        }
    }
}

pub(crate) async fn page(
    State(app): State<AppState>,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let req = Req::new(&uri)?;
    let id = super::path(&req, id)?;
    let t = req.t();
    let number = |name: &str| -> Result<Option<(u32, String)>, PageError> {
        req.one(name)?
            .map(|text| {
                query::version_number(text)
                    .map(|n| (n, text.to_owned()))
                    .ok_or_else(|| req.bad(fill(t.bad_version, &[("name", name), ("value", text)])))
            })
            .transpose()
    };
    let (from, to) = (number("from")?, number("to")?);
    let snapshot = app.snapshot();
    let agreement = req.agreement(&snapshot.state, &id)?;
    let latest = agreement.latest_proposal().map_or(0, |v| v.number);
    // Without a choice: the latest version against the one before it.
    let from = match from {
        Some((_, text)) => req.version(agreement, &text)?.number,
        None => latest.saturating_sub(1).max(1),
    };
    let to = match to {
        Some((_, text)) => req.version(agreement, &text)?.number,
        None => latest.max(1),
    };
    let diff = match (agreement.version(from), agreement.version(to)) {
        (Some(old), Some(new)) if latest >= 2 => {
            Some(diff(old.number, &old.content, new.number, &new.content))
        }
        _ => None,
    };
    let directory = snapshot.state.directory();
    let title = overens_core::projection::agreement_summary(directory, agreement).title;
    Ok(html(&DiffPage {
        chrome: req.chrome(
            format!("{} – {title}", t.diff),
            Some(req.nav(agreement, &title, "diff")),
        ),
        id,
        numbers: (1..=latest).collect(),
        from,
        to,
        diff,
        names: Names::of(directory),
    }))
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn the_diff_marks_what_changed_between_two_versions() {
        let f = fixture(None).await;
        let page = f
            .get("/agreements/norrkoping-barn-och-unga/diff?from=1&to=2")
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("Ändringar från version 1 till version 2")
        );
        assert!(page.body.contains("<ins>"), "{}", page.body);
        assert!(page.body.contains("<option value=\"2\" selected>"));
        // Without a choice: the latest against the one before it, in the form too.
        let default = f.get("/agreements/norrtalje-bus/diff").await;
        assert!(
            default
                .body
                .contains("Ändringar från version 2 till version 3")
        );
        assert!(
            default.body.contains("Tillkomna representanter")
                || default.body.contains("Ändrat forum")
        );
    }

    #[tokio::test]
    async fn bad_or_unknown_versions() {
        let f = fixture(None).await;
        for uri in [
            "/agreements/norrtalje-bus/diff?from=x&to=2",
            "/agreements/norrtalje-bus/diff?from=1&to=-2",
            "/agreements/norrtalje-bus/diff?from=1&from=2",
        ] {
            assert_eq!(f.get(uri).await.status, 400, "{uri}");
        }
        for uri in [
            "/agreements/norrtalje-bus/diff?from=1&to=9",
            "/agreements/nope/diff?from=1&to=2",
        ] {
            assert_eq!(f.get(uri).await.status, 404, "{uri}");
        }
    }
}
