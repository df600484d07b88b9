//! The HTTP API of Överens: signed writes authenticated by their own signatures, and reads
//! of who agreed to what and when, served from immutable snapshots of the projections.

mod app;
mod guard;
mod openapi;
mod pages;
mod problem;
mod routes;

pub use app::{AppState, Limits};
pub use openapi::api;
/// The HTML pages' routes: served by the router from `api`, not in its OpenAPI document.
pub use pages::PATHS as PAGE_ROUTES;
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

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a signal that arrives as soon as the server says it listens
/// is never missed (the default action would kill the process, exit status unclean). Call
/// it inside the runtime, before announcing the server.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
