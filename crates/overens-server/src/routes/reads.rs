//! Reads: agreements, their versions, who signed what, which version is in force; all from
//! the snapshot of the latest commit.

use axum::Json;
use axum::extract::{Path, State};
use overens_core::projection::{agreement_summary, agreement_view};
use overens_core::{Agreement, AgreementId};
use serde_json::Value;

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

fn to_json<T: serde::Serialize>(value: &T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| ApiError::new("internal", e.to_string()))
}

/// Every agreement with its status, parties and the version in force.
#[utoipa::path(get, path = "/v1/agreements", tag = "read", responses((status = 200, body = Value)))]
pub(crate) async fn list(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let snapshot = app.snapshot();
    let dir = snapshot.state.directory();
    let all: Vec<_> = snapshot
        .state
        .agreements()
        .map(|a| agreement_summary(dir, a))
        .collect();
    to_json(&all)
}

/// One agreement today: status, the content in force, the open proposal with who has and
/// has not signed it, open renegotiation requests.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}",
    tag = "read",
    params(("id" = String, Path, description = "The agreement id")),
    responses((status = 200, body = Value), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub(crate) async fn one(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    to_json(&agreement_view(snapshot.state.directory(), agreement))
}
