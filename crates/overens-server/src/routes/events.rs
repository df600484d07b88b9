//! `…/events`: an agreement's raw signed envelopes, as NDJSON, for anyone who wants to
//! check the views against the signatures themselves.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use overens_core::{AgreementId, StreamId};
use overens_store::EventStore;

use super::query;
use super::reads::find;
use crate::problem::{self, Problem};
use crate::{ApiError, AppState};

/// How many records one store read returns.
const PAGE: usize = 1000;

pub(crate) const NDJSON: &str = "application/x-ndjson";

/// The agreement's signed envelopes in stream order, one canonical envelope (the exact
/// bytes that were signed) per line, up to the latest commit.
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/events",
    operation_id = "get_events",
    tag = "read",
    security((), ("read_token" = [])),
    params(("id" = AgreementId, Path, description = "The agreement id")),
    responses(
        (status = 200, description = "One envelope (format v1, canonical JSON, as signed) per line, in `seq` order", content_type = "application/x-ndjson", body = String),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 500, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn events(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = query::path(id)?;
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?;
    let stream = StreamId::Agreement(agreement.id.clone());
    // The snapshot's view of the stream: the store may already hold later commits.
    let end = snapshot.state.head(&stream).next_seq;
    let store = app.pipeline().store();
    let mut body = Vec::new();
    let mut next = 0;
    while next < end {
        let page = store
            .read_stream(&stream, next, PAGE)
            .await
            .map_err(problem::store)?;
        if page.is_empty() {
            return Err(ApiError::new(
                "internal",
                format!("the store holds {next} events of `{stream}`, the snapshot {end}"),
            ));
        }
        for record in page
            .iter()
            .filter(|r| r.index < snapshot.len && r.seq < end)
        {
            body.extend_from_slice(&record.envelope);
            body.push(b'\n');
        }
        next = page.last().map_or(end, |r| r.seq + 1);
    }
    let mut response = Body::from(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    Ok(response)
}
