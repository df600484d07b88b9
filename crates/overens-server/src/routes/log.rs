//! The transparency log (design 2.2): the log's key, its latest signed checkpoint, inclusion
//! and consistency proofs (RFC 9162), and the log records themselves. Everything served is
//! bounded by the latest published checkpoint, so a proof always fits a checkpoint the
//! server signed.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use overens_core::{Digest32, PublicKey};
use overens_pipeline::Snapshot;
use overens_store::EventStore;
use serde::Serialize;

use super::events::NDJSON;
use super::query::{self, Params};
use crate::problem::{self, Problem};
use crate::{ApiError, AppState};

/// The content type of a signed checkpoint (a C2SP signed note).
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// The most records one `/v1/log/records` request returns.
pub(crate) const MAX_RECORDS: u64 = 10_000;

/// The verifier key of the log's checkpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LogKey {
    /// The log's name: the first line of every checkpoint, and the key name of its
    /// signature.
    pub origin: String,
    /// The verifier key as Go's sumdb/note and other C2SP signed-note tools read it:
    /// `<origin>+<key ID, 8 hex digits>+<base64 of 0x01 ‖ the 32-byte ed25519 key>`.
    #[schema(pattern = "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")]
    pub verifier_key: String,
    /// The log's ed25519 public key, raw.
    pub public_key: PublicKey,
    /// The key ID that starts each checkpoint signature: SHA-256(origin ‖ 0x0A ‖ 0x01 ‖
    /// key), first 4 bytes, as 8 hex digits.
    #[schema(pattern = "^[0-9a-f]{8}$")]
    pub key_id: String,
}

/// The log's keys: the first one, the current one, and every rotation between them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LogKeys {
    /// The log's name (every key's name).
    pub origin: String,
    /// The log's first key, where the chain starts (a verifier key, as in `LogKey`).
    #[schema(pattern = "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")]
    pub first_key: String,
    /// The key that signs checkpoints now: the one `/v1/log/key` serves.
    #[schema(pattern = "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")]
    pub current_key: String,
    /// The rotations, in order (empty while the first key is the current one).
    pub transitions: Vec<LogKeyTransition>,
}

/// One rotation of the log's key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LogKeyTransition {
    /// The tree size at the rotation: the old key signed the checkpoints up to this size,
    /// the new key signs those of this size and larger.
    pub from_size: u64,
    #[schema(pattern = "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")]
    pub old_key: String,
    #[schema(pattern = "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")]
    pub new_key: String,
    /// The transition as a C2SP signed note, signed by the old key and the new one:
    /// `overens/log-key/v1\n<origin>\nold <old key>\nnew <new key>\nfrom-size <size>\n`, a
    /// blank line, the signature lines. Verify it yourself: the other fields are read from it.
    pub note: String,
}

/// An inclusion proof: the record at `index` is leaf `index` of the tree of `size` records.
/// The same JSON as the audit bundle's proofs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InclusionProofBody {
    /// The record's index in the global log (0-based).
    pub index: u64,
    /// The tree size the proof is for; its root is in the checkpoint of that size.
    #[schema(minimum = 1)]
    pub size: u64,
    /// The audit path (RFC 9162 §2.1.3), leaf to root. Verify with the record's leaf hash
    /// SHA-256(0x00 ‖ its canonical line) as §2.1.3.2 says.
    pub hashes: Vec<Digest32>,
}

/// A consistency proof: the tree of `old_size` records is a prefix of the tree of
/// `new_size` records.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ConsistencyProofBody {
    pub old_size: u64,
    pub new_size: u64,
    /// The consistency path (RFC 9162 §2.1.4); empty when `old_size` is 0 or equals
    /// `new_size`. Verify as §2.1.4.2 says.
    pub hashes: Vec<Digest32>,
}

/// The size of the latest published checkpoint (without a log key: the published log).
fn published(snapshot: &Snapshot) -> u64 {
    snapshot
        .checkpoint
        .as_ref()
        .map_or(snapshot.len, |c| c.size)
}

/// A tree size no larger than the latest checkpoint.
fn within(name: &str, size: u64, snapshot: &Snapshot) -> Result<u64, ApiError> {
    let latest = published(snapshot);
    if size > latest {
        return Err(ApiError::new(
            "beyond-checkpoint",
            format!(
                "`{name}` = {size} is beyond the latest checkpoint, of size {latest}: no \
                 signed tree of that size exists yet"
            ),
        ));
    }
    Ok(size)
}

fn no_key() -> ApiError {
    ApiError::not_found("this server has no log key: it signs no checkpoints")
}

/// The verifier key of the log's checkpoints: who signs them, and under which name.
#[utoipa::path(
    get,
    path = "/v1/log/key",
    operation_id = "get_log_key",
    tag = "log",
    security((), ("read_token" = [])),
    responses(
        (status = 200, body = LogKey),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The server signs no checkpoints", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn key(State(app): State<AppState>) -> Result<Json<LogKey>, ApiError> {
    let key = app.pipeline().log_key().ok_or_else(no_key)?;
    Ok(Json(LogKey {
        origin: key.name().to_owned(),
        verifier_key: key.to_string(),
        public_key: *key.key(),
        key_id: format!("{:08x}", key.key_id()),
    }))
}

/// The chain of the log's keys: every rotation, each a note signed by the old key and the
/// new one. A verifier that pinned an earlier key follows it to the current key; audit
/// bundles carry the same notes as `key_chain`.
#[utoipa::path(
    get,
    path = "/v1/log/keys",
    operation_id = "get_log_keys",
    tag = "log",
    security((), ("read_token" = [])),
    responses(
        (status = 200, body = LogKeys),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The server signs no checkpoints", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn keys(State(app): State<AppState>) -> Result<Json<LogKeys>, ApiError> {
    let key = app.pipeline().log_key().ok_or_else(no_key)?;
    let single;
    let chain = match app.key_chain() {
        Some(chain) => chain,
        None => {
            single = overens_pipeline::KeyChain::new(key.clone());
            &single
        }
    };
    Ok(Json(LogKeys {
        origin: key.name().to_owned(),
        first_key: chain.pinned().to_string(),
        current_key: key.to_string(),
        transitions: chain
            .transitions()
            .iter()
            .map(|t| LogKeyTransition {
                from_size: t.from_size(),
                old_key: t.old_key().to_string(),
                new_key: t.new_key().to_string(),
                note: t.note().to_owned(),
            })
            .collect(),
    }))
}

/// The latest signed checkpoint: a C2SP `tlog-checkpoint` (origin, tree size, base64 root)
/// as a C2SP signed note, signed with the log's key. Keep it: a later consistency proof
/// from its size shows the log only grew.
#[utoipa::path(
    get,
    path = "/v1/log/checkpoint",
    operation_id = "get_checkpoint",
    tag = "log",
    security((), ("read_token" = [])),
    responses(
        (status = 200, description = "The signed note: `<origin>\\n<size>\\n<base64 root>\\n\\n— <origin> <base64 signature>\\n`", content_type = "text/plain; charset=utf-8", body = String),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The server signs no checkpoints", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn checkpoint(State(app): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = app.snapshot();
    let checkpoint = snapshot.checkpoint.ok_or_else(no_key)?;
    let mut response = checkpoint.note_text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT));
    Ok(response)
}

/// The inclusion proof of the record at `index` in the tree of `size` records.
#[utoipa::path(
    get,
    path = "/v1/log/proof/inclusion",
    operation_id = "get_inclusion_proof",
    tag = "log",
    security((), ("read_token" = [])),
    params(
        ("index" = u64, Query, description = "The record's index in the global log"),
        ("size" = Option<u64>, Query, minimum = 1, description = "The tree size, at most the latest checkpoint's; default: the latest checkpoint's"),
    ),
    responses(
        (status = 200, body = InclusionProofBody),
        (status = 400, description = "A parameter missing or malformed, or `index` not below `size` (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`size` is beyond the latest checkpoint (`beyond-checkpoint`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn inclusion(
    State(app): State<AppState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<InclusionProofBody>, ApiError> {
    let params = Params::new(params)?;
    let index = query::number("index", params.required("index", "0")?)?;
    let snapshot = app.snapshot();
    let size = match params.optional("size")? {
        Some(text) => within("size", query::number("size", text)?, &snapshot)?,
        None => published(&snapshot),
    };
    if index >= size {
        return Err(ApiError::invalid_query(format!(
            "`index` = {index} is not in a tree of size {size}"
        )));
    }
    let proof = app
        .pipeline()
        .store()
        .inclusion_proof(index, size)
        .await
        .map_err(problem::store)?;
    Ok(Json(InclusionProofBody {
        index: proof.index,
        size: proof.size,
        hashes: proof.hashes,
    }))
}

/// The consistency proof that the tree of `from` records is a prefix of the tree of `to`.
#[utoipa::path(
    get,
    path = "/v1/log/proof/consistency",
    operation_id = "get_consistency_proof",
    tag = "log",
    security((), ("read_token" = [])),
    params(
        ("from" = u64, Query, description = "The older tree size (of a checkpoint you hold)"),
        ("to" = Option<u64>, Query, description = "The newer tree size, at most the latest checkpoint's; default: the latest checkpoint's"),
    ),
    responses(
        (status = 200, body = ConsistencyProofBody),
        (status = 400, description = "A parameter missing or malformed, or `from` larger than `to` (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`from` or `to` is beyond the latest checkpoint (`beyond-checkpoint`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn consistency(
    State(app): State<AppState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ConsistencyProofBody>, ApiError> {
    let params = Params::new(params)?;
    let from = query::number("from", params.required("from", "1")?)?;
    let to = params
        .optional("to")?
        .map(|text| query::number("to", text))
        .transpose()?;
    let snapshot = app.snapshot();
    let to = match to {
        Some(to) => within("to", to, &snapshot)?,
        None => published(&snapshot),
    };
    within("from", from, &snapshot)?;
    if from > to {
        return Err(ApiError::invalid_query(format!(
            "`from` = {from} is larger than `to` = {to}: a log only grows"
        )));
    }
    let proof = app
        .pipeline()
        .store()
        .consistency_proof(from, to)
        .await
        .map_err(problem::store)?;
    Ok(Json(ConsistencyProofBody {
        old_size: proof.old_size,
        new_size: proof.new_size,
        hashes: proof.hashes,
    }))
}

/// The log records from index `from` up to (not including) `to`, one canonical JSON line
/// each (`{"event":…,"index":…,"recorded_at":…}`), exactly the bytes whose leaf hashes the
/// tree holds: SHA-256(0x00 ‖ line) is the record's leaf.
#[utoipa::path(
    get,
    path = "/v1/log/records",
    operation_id = "get_log_records",
    tag = "log",
    security((), ("read_token" = [])),
    params(
        ("from" = Option<u64>, Query, description = "The first index; default 0"),
        ("to" = Option<u64>, Query, description = "One past the last index, at most the latest checkpoint's size and at most 10000 after `from`; default: whichever of the two is smaller"),
    ),
    responses(
        (status = 200, description = "One log record (canonical JSON, as hashed into the tree) per line, in index order", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "A parameter malformed, `from` larger than `to`, or more than 10000 records asked for (`invalid-query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`from` or `to` is beyond the latest checkpoint (`beyond-checkpoint`)", body = Problem, content_type = "application/problem+json"),
        (status = 500, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn records(
    State(app): State<AppState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = Params::new(params)?;
    let from = params
        .optional("from")?
        .map(|text| query::number("from", text))
        .transpose()?
        .unwrap_or(0);
    let to = params
        .optional("to")?
        .map(|text| query::number("to", text))
        .transpose()?;
    let snapshot = app.snapshot();
    let from = within("from", from, &snapshot)?;
    let to = match to {
        Some(to) => within("to", to, &snapshot)?,
        None => published(&snapshot).min(from.saturating_add(MAX_RECORDS)),
    };
    if from > to {
        return Err(ApiError::invalid_query(format!(
            "`from` = {from} is larger than `to` = {to}"
        )));
    }
    if to - from > MAX_RECORDS {
        return Err(ApiError::invalid_query(format!(
            "{} records asked for; at most {MAX_RECORDS} per request (page with `from`)",
            to - from
        )));
    }
    let store = app.pipeline().store();
    let mut body = Vec::new();
    let mut next = from;
    while next < to {
        let page = store
            .read_log(next, (to - next) as usize)
            .await
            .map_err(problem::store)?;
        if page.first().map(|r| r.index) != Some(next) {
            return Err(ApiError::new(
                "internal",
                format!("the store has no record {next}, the checkpoint covers {to}"),
            ));
        }
        for record in page.iter().take_while(|r| r.index < to) {
            body.extend_from_slice(record.log_line().as_bytes());
            body.push(b'\n');
            next = record.index + 1;
        }
    }
    let mut response = Body::from(body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    Ok(response)
}
