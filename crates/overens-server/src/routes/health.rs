//! `/healthz`: the server is up and its pipeline accepts appends.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    status: &'static str,
    /// Records in the global log as of the latest commit.
    log_len: u64,
}

/// Liveness and the log's length.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health)))]
pub(crate) async fn healthz(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        log_len: app.snapshot().len,
    })
}
