//! # switchboard-web
//!
//! The HTTP plumbing both servers (`api`, `webhook-ingest`) share, so they answer alike:
//! - [`error`]: every error as `application/problem+json` with a stable `code` and the request id;
//! - [`extract`]: strict [`Json`](extract::Json) and [`Query`](extract::Query) extractors that
//!   turn bad input into precise 4xx answers (never 5xx);
//! - [`middleware`]: request ids, a tracing span per request, a time limit, Prometheus metrics;
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`;
//! - [`finish`]: the fallbacks and layers every router gets, in the one right order.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use switchboard_core::ErrorKind;
use tower_http::catch_panic::CatchPanicLayer;

pub mod error;
pub mod extract;
pub mod health;
pub mod middleware;

pub use error::{ApiError, ApiResult, Problem};

/// Adds the 404/405 problem fallbacks, the body limit, panic capture and the request context.
/// The request context is outermost so even a panic's 500 carries the request id.
pub fn finish<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    body_limit: usize,
    timeout: Duration,
) -> Router<S> {
    router
        .fallback(|| async {
            ApiError::new(ErrorKind::NotFound, "route_not_found", "no such endpoint; see /docs")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorKind::MethodNotAllowed,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(ErrorKind::Internal, "internal", "panic in handler").into_response()
        }))
        .layer(axum::middleware::from_fn_with_state(
            middleware::RequestTimeout(timeout),
            middleware::request_context,
        ))
}
