//! Every error the API answers with, mapped in this one place to one HTTP status and an
//! RFC 9457 `application/problem+json` body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use overens_core::EnvelopeError;
use overens_core::domain::{Rejection, RejectionKind};
use overens_pipeline::AppendError;
use overens_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};

/// Every problem type: (name, status, title). `type` is `/problems/<name>`; docs/api.md
/// describes each, and a test keeps that list and this one equal.
pub const PROBLEM_TYPES: &[(&str, u16, &str)] = &[
    (
        "malformed",
        400,
        "The request body is not what this route takes",
    ),
    (
        "invalid-event",
        400,
        "An envelope is not a well-formed event",
    ),
    ("invalid-batch", 400, "The batch cannot be appended as one"),
    (
        "stream-mismatch",
        400,
        "An envelope names another stream than the URL",
    ),
    (
        "invalid-query",
        400,
        "A query parameter is missing or malformed",
    ),
    ("bad-signature", 401, "A signature does not verify"),
    (
        "unauthorized",
        401,
        "Reads on this server need a bearer token",
    ),
    (
        "signer-not-allowed",
        403,
        "The signer may not sign this event",
    ),
    ("not-found", 404, "No such resource"),
    (
        "beyond-checkpoint",
        404,
        "The tree size is beyond the latest signed checkpoint",
    ),
    (
        "stale-head",
        409,
        "The event was signed against a head that has moved",
    ),
    (
        "id-reused",
        409,
        "The event id is already used by another event",
    ),
    (
        "method-not-allowed",
        405,
        "This route does not take that method",
    ),
    (
        "request-timeout",
        408,
        "The request took longer than this server allows",
    ),
    (
        "too-large",
        413,
        "The request is larger than this server accepts",
    ),
    (
        "unsupported-media-type",
        415,
        "The body must be application/json",
    ),
    (
        "rule-broken",
        422,
        "The event breaks a rule of the agreement domain",
    ),
    (
        "clock-skew",
        422,
        "The event's `at` is too far from the server's clock",
    ),
    (
        "limit-exceeded",
        422,
        "The request or the event crosses a limit of this server",
    ),
    (
        "too-many-requests",
        429,
        "The server is busy with as many requests as it takes at once",
    ),
    (
        "store-failed",
        503,
        "The store failed; the server must be restarted",
    ),
    ("internal", 500, "An internal error"),
];

#[derive(Debug)]
pub struct ApiError {
    kind: &'static str,
    detail: String,
    extra: Value,
}

impl ApiError {
    pub fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        debug_assert!(
            PROBLEM_TYPES.iter().any(|(k, ..)| *k == kind),
            "undocumented problem {kind}"
        );
        ApiError {
            kind,
            detail: detail.into(),
            extra: Value::Null,
        }
    }

    fn with(mut self, extra: Value) -> Self {
        self.extra = extra;
        self
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new("not-found", detail)
    }

    pub fn invalid_query(detail: impl Into<String>) -> Self {
        ApiError::new("invalid-query", detail)
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    fn status(&self) -> StatusCode {
        let code = PROBLEM_TYPES
            .iter()
            .find(|(k, ..)| *k == self.kind)
            .map_or(500, |(_, s, _)| *s);
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn title(&self) -> &'static str {
        PROBLEM_TYPES
            .iter()
            .find(|(k, ..)| *k == self.kind)
            .map_or("An internal error", |(_, _, t)| *t)
    }
}

/// The problem document (RFC 9457) as served.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/<name>`: see docs/api.md.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For `rule-broken`, `signer-not-allowed` and `stale-head`: the rule's stable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rule: Option<String>,
    /// For errors about one event of a batch: its position (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub position: Option<usize>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({
            "type": format!("/problems/{}", self.kind),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.detail,
        });
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, self.extra) {
            body.extend(extra);
        }
        if status.is_server_error() {
            tracing::error!(problem = self.kind, detail = %body["detail"], "request failed");
        }
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

fn rejection(position: usize, rejection: Rejection) -> ApiError {
    let kind = match rejection.kind() {
        RejectionKind::Conflict => "stale-head",
        RejectionKind::Forbidden => "signer-not-allowed",
        RejectionKind::Rule => "rule-broken",
    };
    ApiError::new(kind, rejection.to_string())
        .with(json!({ "rule": rejection.rule(), "position": position }))
}

fn envelope(position: usize, error: EnvelopeError) -> ApiError {
    let kind = if error.is_malformed() {
        "invalid-event"
    } else {
        "bad-signature"
    };
    ApiError::new(kind, format!("event {position} of the batch: {error}"))
        .with(json!({ "position": position }))
}

pub(crate) fn store(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(_) => ApiError::new("stale-head", error.to_string()),
        StoreError::IdReused(_) => ApiError::new("id-reused", error.to_string()),
        StoreError::InvalidBatch(_) => ApiError::new("invalid-batch", error.to_string()),
        StoreError::Failed => ApiError::new("store-failed", error.to_string()),
        StoreError::BeyondLog { .. } => ApiError::new("beyond-checkpoint", error.to_string()),
        StoreError::InvalidRange(_) => ApiError::invalid_query(error.to_string()),
        other => ApiError::new("internal", other.to_string()),
    }
}

impl From<AppendError> for ApiError {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::Envelope { position, error } => envelope(position, error),
            AppendError::Rejected {
                position,
                rejection: r,
            } => rejection(position, r),
            AppendError::ClockSkew { position, .. } => {
                ApiError::new("clock-skew", error.to_string()).with(json!({ "position": position }))
            }
            AppendError::InvalidBatch(_) => ApiError::new("invalid-batch", error.to_string()),
            AppendError::IdReused(_) => ApiError::new("id-reused", error.to_string()),
            AppendError::Limit { position, exceeded } => ApiError::new(
                "limit-exceeded",
                format!("event {position} of the batch: {exceeded}"),
            )
            .with(json!({ "position": position, "limit": exceeded.limit })),
            AppendError::Store(e) => store(e),
            AppendError::Halted(_) => ApiError::new("store-failed", error.to_string()),
        }
    }
}
