//! Guards around every request: at most so many at once (beyond that, 429 at once rather
//! than a queue that slow clients could fill), and each within the request timeout (408).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::ApiError;

#[derive(Debug, Clone)]
pub(crate) struct Guard {
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    timeout: Duration,
}

impl Guard {
    pub(crate) fn new(max_concurrent: usize, timeout: Duration) -> Self {
        let max_concurrent = max_concurrent.max(1);
        Guard {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            timeout,
        }
    }
}

pub(crate) async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let Ok(_permit) = guard.permits.clone().try_acquire_owned() else {
        let mut response = ApiError::new(
            "too-many-requests",
            format!(
                "{} requests are being served; try again shortly",
                guard.max_concurrent
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    // A write cut off here may still be committed (the sequencer has it): the client
    // retries with the same envelope and gets the first answer, as after any lost reply.
    match tokio::time::timeout(guard.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            "request-timeout",
            format!(
                "the request took longer than {} s; a write may still have been recorded: \
                 retry it with the same envelope to learn its result",
                guard.timeout.as_secs_f64()
            ),
        )
        .into_response(),
    }
}
