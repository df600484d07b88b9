//! The router and its OpenAPI 3.1 document, built together from the handlers' own
//! annotations, so the document cannot drift from the routes.

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::Problem;
use crate::routes::{health, reads, require_read_token, write};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Överens API",
        version = "1",
        description = "An event-sourced, signed audit log of agreement revisions: signed writes from the parties' own keys, and reads of who agreed to what and when. Errors are RFC 9457 problem documents; their types are described in docs/api.md."
    ),
    components(schemas(Problem)),
    tags(
        (name = "write", description = "Signed appends"),
        (name = "read", description = "Projections of the log"),
        (name = "meta", description = "Health and this document")
    )
)]
struct ApiDoc;

/// The whole HTTP API: the router (with limits, timeouts and one log line per request) and
/// its OpenAPI document, which `/openapi.json` serves.
pub fn api(app: AppState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let limits = app.limits().clone();
    let reads = OpenApiRouter::new()
        .routes(routes!(reads::list))
        .routes(routes!(reads::one))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            require_read_token,
        ));
    let writes = OpenApiRouter::new()
        .routes(routes!(write::append_directory))
        .routes(routes!(write::append_agreement))
        .routes(routes!(write::head_directory))
        .routes(routes!(write::head_agreement));
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(reads)
        .merge(writes)
        .routes(routes!(health::healthz))
        .with_state(app)
        .split_for_parts();
    let document = openapi.clone();
    let router = router
        .route("/openapi.json", get(move || async move { Json(document) }))
        .layer(DefaultBodyLimit::max(limits.max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(TraceLayer::new_for_http());
    (router, openapi)
}
