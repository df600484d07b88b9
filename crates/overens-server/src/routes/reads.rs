//! Reads: agreements, their versions, who signed what, which version is in force, what
//! changed, and the directory; all from the snapshot of the latest commit, so a read never
//! waits behind an append.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use overens_core::domain::{Timeline, TimelineEntry, Version};
use overens_core::projection::{
    AgreementSummary, AgreementView, DirectoryView, InForce, LedgerRow, VersionDetail, VersionDiff,
    VersionSummary, agreement_summary, agreement_view, diff, directory_view, in_force,
    signature_ledger, version_detail, versions,
};
use overens_core::{Agreement, AgreementId};

use super::query::{self, Params};
use crate::problem::Problem;
use crate::{ApiError, AppState};

pub(crate) fn find<'s>(
    state: &'s overens_core::State,
    id: &str,
) -> Result<&'s Agreement, ApiError> {
    let parsed: AgreementId = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no agreement `{id}`")))?;
    state
        .agreement(&parsed)
        .ok_or_else(|| ApiError::not_found(format!("no agreement `{id}`")))
}

/// Version `text` of the agreement, or a 404 that says which versions there are.
fn numbered<'a>(agreement: &'a Agreement, text: &str) -> Result<&'a Version, ApiError> {
    query::version_number(text)
        .and_then(|n| agreement.version(n))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "agreement `{}` has no version `{text}`{}",
                agreement.id,
                agreement
                    .latest_proposal()
                    .map(|v| format!(" (versions 1 to {})", v.number))
                    .unwrap_or_else(|| " (nothing proposed yet)".into())
            ))
        })
}

/// Every agreement with its status, parties and the version in force.
#[utoipa::path(
    get,
    path = "/v1/agreements",
    operation_id = "list_agreements",
    tag = "read",
    security((), ("read_token" = [])),
    responses(
        (status = 200, description = "Every agreement, by id", body = Vec<AgreementSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(State(app): State<AppState>) -> Json<Vec<AgreementSummary>> {
    let snapshot = app.snapshot();
    let dir = snapshot.state.directory();
    Json(
        snapshot
            .state
            .agreements()
            .map(|a| agreement_summary(dir, a))
            .collect(),
    )
}

/// One agreement today: status, the content in force, the open proposal with who has and
/// has not signed it, open renegotiation requests.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}",
    operation_id = "get_agreement",
    tag = "read",
    security((), ("read_token" = [])),
    params(("id" = AgreementId, Path, description = "The agreement id")),
    responses(
        (status = 200, body = AgreementView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn one(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<AgreementView>, ApiError> {
    let id = query::path(id)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    Ok(Json(agreement_view(snapshot.state.directory(), agreement)))
}

/// Every version of the agreement, oldest first: its status, proposal, who signed and who
/// has not, and the period it was in force.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/versions",
    operation_id = "list_versions",
    tag = "read",
    security((), ("read_token" = [])),
    params(("id" = AgreementId, Path, description = "The agreement id")),
    responses(
        (status = 200, body = Vec<VersionSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn version_list(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<VersionSummary>>, ApiError> {
    let id = query::path(id)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    Ok(Json(versions(snapshot.state.directory(), agreement)))
}

/// One version whole: what the version list says of it, its full content and every
/// signature.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/versions/{n}",
    operation_id = "get_version",
    tag = "read",
    security((), ("read_token" = [])),
    params(
        ("id" = AgreementId, Path, description = "The agreement id"),
        ("n" = u32, Path, minimum = 1, description = "The version number (1 is the first proposal)"),
    ),
    responses(
        (status = 200, body = VersionDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement or version", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn version(
    State(app): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<VersionDetail>, ApiError> {
    let (id, n) = query::path(path)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    let version = numbered(agreement, &n)?;
    Ok(Json(version_detail(
        snapshot.state.directory(),
        agreement,
        version,
    )))
}

/// Which version was in force on a date, as the log knew it at an instant: bitemporal, so
/// history recorded later is not shown as known earlier. The same answer as
/// `overens in-force --json`.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/in-force",
    operation_id = "get_in_force",
    tag = "read",
    security((), ("read_token" = [])),
    params(
        ("id" = AgreementId, Path, description = "The agreement id"),
        ("on" = chrono::NaiveDate, Query, description = "The date asked about, YYYY-MM-DD"),
        ("as_of" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Count only what the log had recorded by this RFC 3339 instant (any offset; send `+` as `%2B`); default: the server's clock now"),
    ),
    responses(
        (status = 200, body = InForce),
        (status = 400, description = "`on` missing, or a parameter malformed (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn in_force_on(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<InForce>, ApiError> {
    let id = query::path(id)?;
    let params = Params::new(params)?;
    let on = query::date("on", params.required("on", "2021-01-01")?)?;
    let as_of = match params.optional("as_of")? {
        Some(text) => query::instant("as_of", text)?,
        // The clock is read here, at the edge: the core gets time only as a value.
        None => overens_store::sqlite::system_clock(),
    };
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    Ok(Json(in_force(agreement, on, as_of)))
}

/// Every signature of every version, in log order: who agreed to which content hash, when,
/// live or on paper.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/signatures",
    operation_id = "list_signatures",
    tag = "read",
    security((), ("read_token" = [])),
    params(("id" = AgreementId, Path, description = "The agreement id")),
    responses(
        (status = 200, body = Vec<LedgerRow>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn signatures(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<LedgerRow>>, ApiError> {
    let id = query::path(id)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    Ok(Json(signature_ledger(
        snapshot.state.directory(),
        agreement,
    )))
}

/// What changed from version `from` to version `to`: title, preamble (word diff), parties,
/// sections and forums with their representatives.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/diff",
    operation_id = "get_diff",
    tag = "read",
    security((), ("read_token" = [])),
    params(
        ("id" = AgreementId, Path, description = "The agreement id"),
        ("from" = u32, Query, minimum = 1, description = "The older version's number"),
        ("to" = u32, Query, minimum = 1, description = "The newer version's number"),
    ),
    responses(
        (status = 200, body = VersionDiff),
        (status = 400, description = "`from` or `to` missing or malformed (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement or version", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn version_diff(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<VersionDiff>, ApiError> {
    let id = query::path(id)?;
    let params = Params::new(params)?;
    let from = params.required("from", "1")?;
    let to = params.required("to", "2")?;
    query::version("from", from)?;
    query::version("to", to)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    let (old, new) = (numbered(agreement, from)?, numbered(agreement, to)?);
    Ok(Json(diff(
        old.number,
        &old.content,
        new.number,
        &new.content,
    )))
}

/// Every event of the agreement, in log order, as a readable line with who did it.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/timeline",
    operation_id = "get_timeline",
    tag = "read",
    security((), ("read_token" = [])),
    params(("id" = AgreementId, Path, description = "The agreement id")),
    responses(
        (status = 200, body = Vec<TimelineEntry>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn timeline(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Timeline>, ApiError> {
    let id = query::path(id)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    // A clone shares every entry but the newest few; it serialises as `[TimelineEntry]`.
    Ok(Json(agreement.timeline.clone()))
}

/// The directory: every party, every signatory with its key (and revocation, if any), and
/// the registrar keys the log trusts.
#[utoipa::path(
    get,
    path = "/v1/directory",
    operation_id = "get_directory",
    tag = "read",
    security((), ("read_token" = [])),
    responses(
        (status = 200, body = DirectoryView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn directory(State(app): State<AppState>) -> Json<DirectoryView> {
    Json(directory_view(app.snapshot().state.directory()))
}
