//! The HTTP API of Överens: signed writes authenticated by their own signatures, and reads
//! of who agreed to what and when, served from immutable snapshots of the projections.

mod app;
mod openapi;
mod problem;
mod routes;

pub use app::{AppState, Limits};
pub use openapi::api;
pub use problem::{ApiError, PROBLEM_TYPES, Problem};

use std::future::Future;

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight (graceful shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
