//! `/healthz`: the server is up and its pipeline accepts appends.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `halted` once the server stopped taking appends.
    #[schema(example = "ok")]
    status: &'static str,
    /// Records in the global log as of the latest commit (the last verified one when
    /// halted: reads go on answering from it).
    log_len: u64,
    /// Why appends stopped (a failed commit, or a record of the shared log that does not
    /// verify); only when halted.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Liveness and the log's length; 503 once the pipeline stopped taking appends, so that a
/// load balancer or an operator's check sees it.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "The server takes appends", body = Health),
        (status = 503, description = "The server stopped taking appends; reads still answer from the last verified log", body = Health),
    )
)]
pub(crate) async fn healthz(State(app): State<AppState>) -> (StatusCode, Json<Health>) {
    let snapshot = app.snapshot();
    let (code, status) = match snapshot.halted {
        None => (StatusCode::OK, "ok"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "halted"),
    };
    let health = Health {
        status,
        log_len: snapshot.len,
        reason: snapshot.halted,
    };
    (code, Json(health))
}
