//! # switchboard-webhook-ingest
//!
//! The server the providers call (SPEC §10). Every request will be authenticated before anything
//! is stored and every accepted event stored durably, keyed by the provider's id, before it is
//! acknowledged. This version serves the operational endpoints (`/healthz`, `/readyz`,
//! `/metrics`); the provider routes are added with the numbers, billing and messaging features.

use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use switchboard_web::health;

/// What the ingest handlers reach.
#[derive(Clone)]
pub struct IngestState {
    pub db: DatabaseConnection,
    pub metrics: PrometheusHandle,
}

impl std::fmt::Debug for IngestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestState").finish_non_exhaustive()
    }
}

impl FromRef<IngestState> for DatabaseConnection {
    fn from_ref(s: &IngestState) -> Self {
        s.db.clone()
    }
}

impl FromRef<IngestState> for PrometheusHandle {
    fn from_ref(s: &IngestState) -> Self {
        s.metrics.clone()
    }
}

/// The ingest application.
pub fn app(db: DatabaseConnection, body_limit: usize, timeout: Duration) -> Router {
    let state = IngestState { db, metrics: switchboard_runtime::metrics::prometheus() };
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
    switchboard_web::finish(router, body_limit, timeout).with_state(state)
}
