//! The HTML pages: the same projections as the API, server-rendered for people (Swedish by
//! default, `?lang=en` for English), with no JavaScript.

mod agreement;
mod assets;
mod auth;
mod diff;
mod format;
mod home;
mod signatures;
mod text;
mod timeline;
mod verify;
mod version;

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use overens_core::domain::{Directory, Version};
use overens_core::{Agreement, AgreementId, PartyId};

use crate::AppState;
use text::{Lang, Text, fill};

/// Every page route: they are not part of the API, and `/openapi.json` does not list them.
pub const PATHS: &[&str] = &[
    "/",
    "/agreements/{id}",
    "/agreements/{id}/versions/{n}",
    "/agreements/{id}/diff",
    "/agreements/{id}/signatures",
    "/agreements/{id}/timeline",
    assets::STYLE_PATH,
];

/// The pages, behind the same read token as the API's reads (the stylesheet is not a read).
pub(crate) fn router(app: AppState) -> Router {
    Router::new()
        .route(PATHS[0], get(home::page))
        .route(PATHS[1], get(agreement::page))
        .route(PATHS[2], get(version::page))
        .route(PATHS[3], get(diff::page))
        .route(PATHS[4], get(signatures::page))
        .route(PATHS[5], get(timeline::page))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::require_read_token,
        ))
        .route(assets::STYLE_PATH, get(assets::style))
        .with_state(app)
}

/// What every page shows around its content: language, title, menus, the language toggle.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub lang: &'static str,
    pub t: &'static Text,
    pub title: String,
    /// This page in the other language, the rest of the query kept.
    pub toggle_href: String,
    pub toggle_lang: &'static str,
    pub css: &'static str,
    /// What links append to keep the language: `?lang=en`, or nothing for Swedish.
    pub q: &'static str,
    pub nav: Option<Nav>,
}

/// The agreement's own menu, with the current tab.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    pub id: String,
    pub title: String,
    pub tab: &'static str,
}

/// A page request: its language, path and query parameters.
#[derive(Debug)]
pub(crate) struct Req {
    lang: Lang,
    path: String,
    pairs: Vec<(String, String)>,
}

impl Req {
    pub(crate) fn new(uri: &Uri) -> Result<Req, PageError> {
        let mut req = Req::swedish(uri);
        req.pairs = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|e| req.bad(fill(req.t().bad_query, &[("detail", &e.to_string())])))?;
        if let Some(code) = req.one("lang")? {
            req.lang = Lang::parse(code).ok_or_else(|| req.bad(req.t().bad_lang.to_owned()))?;
        }
        Ok(req)
    }

    /// The path alone, in Swedish: for an error page when the query cannot be read.
    pub(crate) fn swedish(uri: &Uri) -> Req {
        Req {
            lang: Lang::Sv,
            path: uri.path().to_owned(),
            pairs: Vec::new(),
        }
    }

    pub(crate) fn t(&self) -> &'static Text {
        self.lang.text()
    }

    /// The parameter `name`, if given (once; twice is an error). An empty value, as a form
    /// sends for an empty field, counts as not given.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, PageError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(self.bad(fill(self.t().twice, &[("name", name)])));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub(crate) fn chrome(&self, title: impl Into<String>, nav: Option<Nav>) -> Chrome {
        let other = self.lang.other();
        let kept: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain((other == Lang::En).then_some(("lang", "en")))
            .collect();
        let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
        Chrome {
            lang: self.lang.code(),
            t: self.t(),
            title: title.into(),
            toggle_href: if query.is_empty() {
                self.path.clone()
            } else {
                format!("{}?{query}", self.path)
            },
            toggle_lang: other.code(),
            css: assets::style_href(),
            q: match self.lang {
                Lang::Sv => "",
                Lang::En => "?lang=en",
            },
            nav,
        }
    }

    pub(crate) fn bad(&self, message: String) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            chrome: Box::new(self.chrome(self.t().bad_request, None)),
            message,
        }
    }

    pub(crate) fn not_found(&self, message: String) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            chrome: Box::new(self.chrome(self.t().not_found, None)),
            message,
        }
    }

    /// The agreement `id` of the path, or a 404 page.
    pub(crate) fn agreement<'s>(
        &self,
        state: &'s overens_core::State,
        id: &str,
    ) -> Result<&'s Agreement, PageError> {
        id.parse::<AgreementId>()
            .ok()
            .and_then(|id| state.agreement(&id))
            .ok_or_else(|| self.not_found(fill(self.t().no_agreement, &[("id", id)])))
    }

    /// Version `n` (as written in the path or query) of the agreement, or a 404 page.
    pub(crate) fn version<'a>(
        &self,
        agreement: &'a Agreement,
        n: &str,
    ) -> Result<&'a Version, PageError> {
        crate::routes::query::version_number(n)
            .and_then(|n| agreement.version(n))
            .ok_or_else(|| {
                self.not_found(fill(
                    self.t().no_version,
                    &[("id", agreement.id.as_str()), ("n", n)],
                ))
            })
    }

    /// The agreement's menu, `tab` marked current.
    pub(crate) fn nav(&self, agreement: &Agreement, title: &str, tab: &'static str) -> Nav {
        Nav {
            id: agreement.id.to_string(),
            title: title.to_owned(),
            tab,
        }
    }
}

/// A path that does not parse names nothing: the 404 page.
pub(crate) fn path<T>(
    req: &Req,
    path: Result<axum::extract::Path<T>, PathRejection>,
) -> Result<T, PageError> {
    path.map(|axum::extract::Path(p)| p)
        .map_err(|e| req.not_found(e.body_text()))
}

/// Party names from the directory, for seats, chairs and diffs.
#[derive(Debug)]
pub(crate) struct Names(BTreeMap<PartyId, String>);

impl Names {
    pub(crate) fn of(directory: &Directory) -> Names {
        Names(
            directory
                .parties()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
        )
    }

    /// The party's name, or its id if the directory does not know it.
    pub(crate) fn name(&self, party: &PartyId) -> String {
        self.0
            .get(party)
            .cloned()
            .unwrap_or_else(|| party.to_string())
    }
}

/// An error page: 400 (a bad query value), 401, or 404 (no such agreement or version).
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub(crate) struct PageError {
    status: StatusCode,
    // Boxed: a page's `Result` stays small on the happy path.
    chrome: Box<Chrome>,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = html(&self);
        *response.status_mut() = status;
        response
    }
}

/// The page as `text/html`, never cached (it shows the latest commit), scripts forbidden
/// by the content security policy as a second line behind the escaping.
pub(crate) fn html<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(body) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                     base-uri 'none'; frame-ancestors 'none'",
                ),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A unit test's fixture: the example log replayed into a pipeline, served by the router.
#[cfg(test)]
pub(crate) mod fixture;
