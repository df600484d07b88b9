//! Signed writes: `POST …/events` with one envelope or an array, and `GET …/head` (what the
//! next event must sign against). Authenticated by the signatures alone: the server holds
//! no party's key.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use overens_core::{AgreementId, Envelope, StreamId};
use serde::Serialize;
use serde_json::Value;

use crate::problem::Problem;
use crate::{ApiError, AppState};

/// The answer to an append.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AppendResult {
    pub stream: String,
    /// The global log index of each event, in order.
    pub indexes: Vec<u64>,
    /// When the log recorded them (the server's clock at commit).
    pub recorded_at: String,
    /// The log's length after the commit that holds them.
    pub log_len: u64,
    /// The size of a signed checkpoint that includes them (`GET /v1/log/checkpoint` serves
    /// it, or a later one): prove their inclusion in it with
    /// `/v1/log/proof/inclusion?index=…&size=…`. Absent only on a server without a log key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub checkpoint_size: Option<u64>,
    /// The same events were appended before: this is the first answer again.
    pub repeated: bool,
}

/// What the next event of a stream must sign against.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Head {
    pub stream: String,
    pub next_seq: u64,
    /// Hex SHA-256 of the stream's last event; 64 zeros for an empty stream.
    pub prev: String,
}

fn agreement_stream(id: &str) -> Result<StreamId, ApiError> {
    let id: AgreementId = id
        .parse()
        .map_err(|e| ApiError::not_found(format!("no agreement stream: {e}")))?;
    Ok(StreamId::Agreement(id))
}

/// Appends one signed envelope, or an array of envelopes for this stream atomically.
#[utoipa::path(
    post,
    path = "/v1/streams/directory/events",
    tag = "write",
    request_body(content = Value, content_type = "application/json", description = "One signed envelope (format v1) or an array of them"),
    responses(
        (status = 201, description = "Appended and durable", body = AppendResult),
        (status = 200, description = "The same events were appended before: the first answer", body = AppendResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn append_directory(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AppendResult>), ApiError> {
    append(app, StreamId::Directory, headers, body).await
}

/// Appends one signed envelope, or an array of envelopes for this agreement atomically.
#[utoipa::path(
    post,
    path = "/v1/streams/agreement/{agreement}/events",
    tag = "write",
    params(("agreement" = String, Path, description = "The agreement id (its stream is agreement/<id>)")),
    request_body(content = Value, content_type = "application/json", description = "One signed envelope (format v1) or an array of them"),
    responses(
        (status = 201, description = "Appended and durable", body = AppendResult),
        (status = 200, description = "The same events were appended before: the first answer", body = AppendResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn append_agreement(
    State(app): State<AppState>,
    Path(agreement): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AppendResult>), ApiError> {
    append(app, agreement_stream(&agreement)?, headers, body).await
}

async fn append(
    app: AppState,
    stream: StreamId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AppendResult>), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            "unsupported-media-type",
            "send the envelope as Content-Type: application/json",
        ));
    }
    let body = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => ApiError::new(
            "too-large",
            format!(
                "the body is larger than {} bytes, or could not be read",
                app.limits().max_body
            ),
        ),
        other => ApiError::new("malformed", other.body_text()),
    })?;
    // Checked before parsing, so a deep body costs one pass over its bytes and no
    // recursion (serde_json would refuse it at 128 levels anyway).
    let depth = json_depth(&body);
    if depth > app.limits().max_json_depth {
        return Err(ApiError::new(
            "limit-exceeded",
            format!(
                "the body nests {depth} levels deep; at most {}",
                app.limits().max_json_depth
            ),
        ));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new("malformed", format!("not JSON: {e}")))?;
    let values = match value {
        Value::Array(items) => items,
        single @ Value::Object(_) => vec![single],
        _ => {
            return Err(ApiError::new(
                "malformed",
                "expected an envelope object or an array of envelopes",
            ));
        }
    };
    if values.len() > app.limits().max_batch {
        return Err(ApiError::new(
            "too-large",
            format!(
                "{} events in one append; at most {}",
                values.len(),
                app.limits().max_batch
            ),
        ));
    }
    let mut envelopes = Vec::with_capacity(values.len());
    for (position, value) in values.into_iter().enumerate() {
        let envelope = Envelope::from_value(value).map_err(|e| {
            ApiError::new(
                "invalid-event",
                format!("event {position} of the batch: {e}"),
            )
        })?;
        if envelope.stream != stream {
            return Err(ApiError::new(
                "stream-mismatch",
                format!(
                    "event {position} is signed for stream `{}`, posted to `{stream}`",
                    envelope.stream
                ),
            ));
        }
        envelopes.push(envelope);
    }
    let appended = app.pipeline().append(envelopes).await?;
    // The pipeline publishes a group's snapshot, with its checkpoint, before it answers
    // the group's appends: the latest checkpoint includes these events.
    let checkpoint_size = app.snapshot().checkpoint.map(|c| c.size);
    let status = if appended.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(AppendResult {
            stream: stream.to_string(),
            indexes: appended.indexes,
            recorded_at: appended.recorded_at.to_string(),
            log_len: appended.log_len,
            checkpoint_size,
            repeated: appended.repeated,
        }),
    ))
}

fn head_of(app: &AppState, stream: StreamId) -> Json<Head> {
    let head = app.snapshot().state.head(&stream);
    Json(Head {
        stream: stream.to_string(),
        next_seq: head.next_seq,
        prev: head.prev.to_hex(),
    })
}

/// The `seq` and `prev` the next directory event must be signed with.
#[utoipa::path(get, path = "/v1/streams/directory/head", tag = "write", responses((status = 200, body = Head)))]
pub(crate) async fn head_directory(State(app): State<AppState>) -> Json<Head> {
    head_of(&app, StreamId::Directory)
}

/// The `seq` and `prev` the next event of this agreement must be signed with (seq 0 and
/// 64 zeros for an agreement not yet drafted).
#[utoipa::path(
    get,
    path = "/v1/streams/agreement/{agreement}/head",
    tag = "write",
    params(("agreement" = String, Path, description = "The agreement id")),
    responses((status = 200, body = Head), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub(crate) async fn head_agreement(
    State(app): State<AppState>,
    Path(agreement): Path<String>,
) -> Result<Json<Head>, ApiError> {
    Ok(head_of(&app, agreement_stream(&agreement)?))
}

/// The deepest nesting of arrays and objects in `body`, brackets inside strings not
/// counted. Exact for JSON; for anything else, a bound that parsing then refuses.
fn json_depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(json_depth(b"{}"), 1);
        assert_eq!(json_depth(br#"{"a":[1,{"b":[]}]}"#), 4);
        assert_eq!(json_depth(br#"{"a":"[[[{{{\"[["}"#), 1);
        assert_eq!(json_depth(br#"{"a":"\\","b":[[]]}"#), 3);
        assert_eq!(json_depth(b"12"), 0);
        assert_eq!(json_depth("[".repeat(100).as_bytes()), 100);
    }
}
