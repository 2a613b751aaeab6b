//! # switchboard-webhook-ingest
//!
//! The server the providers call (SPEC §10). A provider route does four things, in this order:
//!
//! 1. **authenticate** the raw request (`switchboard-webhook-auth`): Twilio's signature over
//!    `public_base_url` + path + query, Meta's HMAC over the raw body, Vapi's server secret, SNS
//!    signatures. A failure answers 401/403 (problem+json) and nothing is stored;
//! 2. **read** it into events (`switchboard_inbound::payload`); a body that is not the
//!    provider's format answers 400 and nothing is stored;
//! 3. **store** the events through the group-commit [`Persister`] — keyed by the provider's id,
//!    so a redelivery stores nothing — and only then
//! 4. **answer** (empty TwiML, `{}`, or what Vapi waits for) and queue new events for the
//!    in-process [`Processor`]. What was stored but not processed — a full queue, a failure, a
//!    crash after the answer — is processed by the sweep ([`sweep`]), at start-up ([`recover`])
//!    and by billing-cron.
//!
//! `assistant-request` and `transfer-destination-request` are the exception to 4: Vapi waits
//! for the decision, so it is made first and stored with the event, settled, before answering.

mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use switchboard_inbound::{InboundService, Persister, Processor, Wiring, Workers};
use switchboard_runtime::Settings;
use switchboard_web::health;
use switchboard_webhook_auth::sns::{CertificateSource, SnsVerifier, SubscriptionConfirmer};

/// Events handed to the processing workers at most; beyond, the sweep takes them.
const QUEUE: usize = 10_000;
/// Processing workers (each settles a batch of queued events at a time). PostgreSQL overlaps
/// the commits of concurrent transactions, so more workers process more — as many as the pool
/// allows beside the event writer and the probes. SQLite has one writer at a time: a second
/// worker's batches only collide with the first's (and the event writer's) on its lock.
pub fn processing_lanes(settings: &Settings) -> usize {
    match settings.database.engine() {
        switchboard_core::db::Engine::Postgres => {
            (settings.database.max_connections as usize).saturating_sub(2).max(4)
        }
        switchboard_core::db::Engine::Sqlite => 1,
    }
}
/// Pending events processed per batch by the start-up recovery and the sweep.
const PENDING_BATCH: u64 = 500;

/// Secrets and addresses the routes check requests against (`Debug` redacts the secrets).
#[derive(Debug)]
pub struct Credentials {
    pub public_base_url: String,
    pub twilio_auth_token: SecretString,
    pub vapi_server_secret: SecretString,
    /// Empty when not configured: every Meta request is then refused with 503.
    pub meta_app_secret: SecretString,
    pub meta_verify_token: SecretString,
}

impl Credentials {
    pub fn from_settings(settings: &Settings) -> Self {
        let or_empty = |s: &Option<SecretString>| s.clone().unwrap_or_else(|| SecretString::from(""));
        Self {
            public_base_url: settings.public_base_url.clone(),
            twilio_auth_token: settings.twilio.auth_token.clone(),
            vapi_server_secret: settings.vapi.server_secret.clone(),
            meta_app_secret: or_empty(&settings.meta.app_secret),
            meta_verify_token: or_empty(&settings.meta.verify_token),
        }
    }
}

/// What the ingest handlers reach.
#[derive(Clone)]
pub struct IngestState {
    pub db: DatabaseConnection,
    pub metrics: PrometheusHandle,
    pub inbound: InboundService,
    pub persister: Persister,
    pub processor: Processor,
    pub sns: SnsVerifier,
    pub credentials: Arc<Credentials>,
    pub body_limit: usize,
    pub timeout: Duration,
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

/// The parts of the state that come from outside the settings (tests pass fakes).
pub struct Parts {
    pub prices: switchboard_billing::PriceList,
    pub numbers: switchboard_numbers::NumberProviders,
    pub certificates: Arc<dyn CertificateSource>,
    pub confirmer: Arc<dyn SubscriptionConfirmer>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

impl IngestState {
    /// Wires the services and starts the writer and the processing workers (on the current
    /// runtime). The workers end once the state is dropped and the queue is drained.
    pub fn new(db: DatabaseConnection, settings: &Settings, parts: Parts) -> (Self, Workers) {
        let inbound = InboundService::wire(Wiring {
            db: db.clone(),
            prices: Arc::new(parts.prices),
            currency: settings.currency,
            usage: settings.usage,
            numbers: parts.numbers,
            public_base_url: settings.public_base_url.clone(),
            confirmer: parts.confirmer,
        });
        let (processor, workers) = Processor::spawn(inbound.clone(), processing_lanes(settings), QUEUE);
        let state = Self {
            persister: Persister::spawn(db.clone(), inbound.write_gate()),
            processor,
            sns: SnsVerifier::new(parts.certificates, settings.ses.sns_topic_arns.iter().cloned()),
            credentials: Arc::new(Credentials::from_settings(settings)),
            inbound,
            db,
            metrics: switchboard_runtime::metrics::prometheus(),
            body_limit: settings.http.body_limit_bytes,
            timeout: Duration::from_secs(settings.http.request_timeout_secs),
        };
        (state, workers)
    }
}

/// The ingest application.
pub fn app(state: IngestState) -> Router {
    let body_limit = state.body_limit;
    let timeout = state.timeout;
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/twilio/messages", post(routes::twilio_message))
        .route("/twilio/messages/status", post(routes::twilio_message_status))
        .route("/twilio/voice/status", post(routes::twilio_call_status))
        .route("/vapi/events", post(routes::vapi_event))
        .route("/meta/whatsapp", get(routes::meta_challenge).post(routes::meta_event))
        .route("/ses/notifications", post(routes::sns_message));
    switchboard_web::finish(router, body_limit, timeout).with_state(state)
}

/// Start-up recovery: processes every event stored before `started_at` and not yet processed
/// (a crash after the acknowledgement), batch by batch. Stops early when an attempt fails (the
/// sweep retries later) so a broken dependency does not burn every attempt at once.
pub async fn recover(inbound: &InboundService, started_at: DateTime<Utc>) -> switchboard_core::Result<u64> {
    let mut total = 0;
    loop {
        let s = inbound.process_pending(started_at, PENDING_BATCH).await?;
        total += s.seen;
        if s.seen < PENDING_BATCH || s.retried > 0 {
            return Ok(total);
        }
    }
}

/// Every `every`, processes events still pending `grace` after they arrived: those the queue
/// could not take and those whose processing failed. Runs until `shutdown` resolves.
pub async fn sweep(
    inbound: InboundService,
    every: Duration,
    grace: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(every) => {}
        }
        let before = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
        if let Err(e) = recover(&inbound, before).await {
            tracing::warn!(error = %e, "sweeping pending inbound events failed");
        }
    }
}
