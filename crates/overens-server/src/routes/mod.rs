//! The routes, one module per area; each handler carries its OpenAPI description.

pub(crate) mod bundle;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod log;
pub(crate) mod query;
pub(crate) mod reads;
pub(crate) mod write;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::{ApiError, AppState};

/// With `--read-token`, every read needs `Authorization: Bearer <token>`. Compared in
/// constant time (`AppState::may_read`), so response times tell nothing of the token.
pub(crate) async fn require_read_token(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Bytes, not text: a token may hold any character the header can carry.
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    if !app.may_read(given) {
        return Err(ApiError::new(
            "unauthorized",
            "this server needs a bearer token for reads",
        ));
    }
    Ok(next.run(request).await)
}
