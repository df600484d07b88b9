//! The router and its OpenAPI 3.1 document, built together from the handlers' own
//! annotations, so the document cannot drift from the routes.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::{PROBLEM_TYPES, Problem};
use crate::routes::{bundle, events, health, log, reads, require_read_token, write};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Överens API",
        version = "1",
        description = "An event-sourced, signed audit log of agreement revisions: signed writes from the parties' own keys, and reads of who agreed to what and when. Errors are RFC 9457 problem documents; their types are described in docs/api.md."
    ),
    components(schemas(Problem)),
    modifiers(&ReadToken, &ProblemTypes),
    tags(
        (name = "write", description = "Signed appends"),
        (name = "read", description = "Projections of the log"),
        (name = "log", description = "The transparency log: the log's key, signed checkpoints, inclusion and consistency proofs (RFC 9162), the records"),
        (name = "meta", description = "Health and this document")
    )
)]
struct ApiDoc;

/// Reads may need a bearer token (`--read-token`); writes are authenticated by their
/// signatures.
struct ReadToken;

impl Modify for ReadToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "read_token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "Needed for reads only when the server was started with a read token.",
                        ))
                        .build(),
                ),
            );
    }
}

/// A problem's `type` is one of the documented ones.
struct ProblemTypes;

impl Modify for ProblemTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(RefOr::T(Schema::Object(problem))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("Problem"))
        else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(kind))) = problem.properties.get_mut("type") {
            kind.enum_values = Some(
                PROBLEM_TYPES
                    .iter()
                    .map(|(name, ..)| format!("/problems/{name}").into())
                    .collect(),
            );
        }
    }
}

/// Every response needs a description (OpenAPI 3.1); those the annotations leave out get the
/// status's reason phrase.
fn describe_responses(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
            &mut item.query,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("A response")
                        .to_owned();
                }
            }
        }
    }
}

/// The document as served, serialised once.
#[derive(Clone)]
struct Document(Bytes);

/// This document: every route with its parameters and the exact schema of each response.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "An OpenAPI 3.1 document", body = Object))
)]
async fn openapi_json(Extension(Document(text)): Extension<Document>) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The whole HTTP API: the router (with limits, timeouts and one log line per request) and
/// its OpenAPI document, which `/openapi.json` serves.
pub fn api(app: AppState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let limits = app.limits().clone();
    // The HTML pages (not part of the API, so not in the document).
    let pages = crate::pages::router(app.clone());
    // Every route is registered with `routes!`, which adds the handler to the router and
    // its annotation to the document in one step; a test checks that the two list the same
    // methods and paths.
    let reads = OpenApiRouter::new()
        .routes(routes!(reads::list))
        .routes(routes!(reads::one))
        .routes(routes!(reads::version_list))
        .routes(routes!(reads::version))
        .routes(routes!(reads::in_force_on))
        .routes(routes!(reads::signatures))
        .routes(routes!(reads::version_diff))
        .routes(routes!(reads::timeline))
        .routes(routes!(events::events))
        .routes(routes!(reads::directory))
        .routes(routes!(bundle::bundle))
        .routes(routes!(log::key))
        .routes(routes!(log::keys))
        .routes(routes!(log::checkpoint))
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .routes(routes!(log::records))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            require_read_token,
        ));
    let writes = OpenApiRouter::new()
        .routes(routes!(write::append_directory))
        .routes(routes!(write::append_agreement))
        .routes(routes!(write::head_directory))
        .routes(routes!(write::head_agreement));
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(reads)
        .merge(writes)
        .routes(routes!(health::healthz))
        .routes(routes!(openapi_json))
        .with_state(app)
        .split_for_parts();
    describe_responses(&mut openapi);
    let text = serde_json::to_vec(&openapi).unwrap_or_else(|_| b"{}".to_vec());
    let router = router
        .merge(pages)
        .layer(Extension(Document(text.into())))
        .layer(DefaultBodyLimit::max(limits.max_body))
        .layer(axum::middleware::from_fn_with_state(
            crate::guard::Guard::new(limits.max_concurrent, limits.request_timeout),
            crate::guard::guard,
        ))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(
            // One INFO line per request: method, path, status, latency.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );
    (router, openapi)
}

/// Unknown paths answer with a problem document too, not an empty body.
async fn unknown_route(uri: axum::http::Uri) -> crate::ApiError {
    crate::ApiError::not_found(format!("no route {}", uri.path()))
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> crate::ApiError {
    crate::ApiError::new(
        "method-not-allowed",
        format!("{} does not take {method}", uri.path()),
    )
}
