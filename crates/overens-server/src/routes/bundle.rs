//! `GET /v1/agreements/{id}/bundle`: the audit bundle (design 8) of one agreement at the
//! latest signed checkpoint, for `overens verify` to check offline, trusting nobody.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use overens_core::{LogRecord, StreamId};
use overens_store::EventStore;

use super::reads::find;
use crate::problem::{self, Problem};
use crate::{ApiError, AppState};

/// The audit bundle of one agreement: the directory's and the agreement's log records, a
/// signed checkpoint, an inclusion proof for every record, and the server's own results.
/// Verify it with `overens verify BUNDLE --log-key … --registrar …` (docs/audit.md).
#[utoipa::path(
    get,
    path = "/v1/agreements/{id}/bundle",
    tag = "read",
    params(("id" = String, Path, description = "The agreement id")),
    responses(
        (status = 200, description = "The bundle (format overens-bundle/1, events/schema/bundle.schema.json)", body = Object, content_type = "application/json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 500, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("read_token" = []))
)]
pub(crate) async fn bundle(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = app.snapshot();
    let agreement = find(&snapshot.state, &id)?.id.clone();
    let key = app.pipeline().log_key().ok_or_else(|| {
        ApiError::not_found("this server signs no checkpoints (it has no log key)")
    })?;
    let checkpoint = snapshot
        .checkpoint
        .as_ref()
        .ok_or_else(|| ApiError::not_found("no signed checkpoint has been published yet"))?;
    let size = checkpoint.size;
    let store = app.pipeline().store();
    // Records committed after this snapshot are left out: the bundle describes exactly the
    // log of the checkpoint.
    let mut records: Vec<LogRecord> = Vec::new();
    for stream in [StreamId::Directory, StreamId::Agreement(agreement.clone())] {
        let mut seq = 0;
        loop {
            let batch = store
                .read_stream(&stream, seq, 4096)
                .await
                .map_err(problem::store)?;
            if batch.is_empty() {
                break;
            }
            seq += batch.len() as u64;
            for stored in batch.into_iter().filter(|r| r.index < size) {
                records.push(stored.to_log_record().map_err(problem::store)?);
            }
        }
    }
    records.sort_by_key(|r| r.index);
    let mut proofs = HashMap::new();
    for record in &records {
        let proof = store
            .inclusion_proof(record.index, size)
            .await
            .map_err(problem::store)?;
        proofs.insert(record.index, proof.hashes);
    }
    let bundle = overens_audit::build_bundle(
        &snapshot.state,
        &agreement,
        &records,
        &checkpoint.note_text,
        key,
        |index, _| proofs.remove(&index).ok_or("the store gave no proof"),
    )
    .map_err(|e| ApiError::new("internal", format!("building the bundle: {e}")))?;
    // A rotated log's bundle carries its key chain, for auditors who pinned an earlier key.
    let bundle = match app.key_chain() {
        Some(chain) => bundle
            .with_key_chain(chain)
            .map_err(|e| ApiError::new("internal", format!("building the bundle: {e}")))?,
        None => bundle,
    };
    let text = bundle
        .to_json()
        .map_err(|e| ApiError::new("internal", e.to_string()))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
