//! `switchboard-webhook-ingest`: load configuration, open and migrate the database, process what
//! an earlier run stored but did not process, serve until SIGTERM/Ctrl-C, then drain.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use switchboard_runtime::{Binary, Settings};
use switchboard_webhook_auth::sns::{HttpCertificateSource, HttpSubscriptionConfirmer};
use switchboard_webhook_ingest::{IngestState, Parts, app, recover, sweep};

/// How often events still pending are looked for, and how old they must be to be taken (younger
/// ones are likely still in this process's queue).
const SWEEP_EVERY: Duration = Duration::from_secs(30);
const SWEEP_GRACE: Duration = Duration::from_secs(60);
/// How long queued events may take to finish processing after the server stopped.
const DRAIN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match Settings::load(Binary::WebhookIngest) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchboard-webhook-ingest cannot start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    switchboard_runtime::telemetry::init(&settings.log);
    match run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-webhook-ingest: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let started_at = Utc::now();
    let db = switchboard_runtime::database::open(&settings.database).await?;
    let parts = Parts {
        prices: switchboard_runtime::prices::price_list(&settings)?,
        numbers: switchboard_runtime::providers::providers_for(&settings)?,
        certificates: Arc::new(HttpCertificateSource::new(HttpCertificateSource::DEFAULT_TIMEOUT)?),
        confirmer: Arc::new(HttpSubscriptionConfirmer::new(HttpSubscriptionConfirmer::DEFAULT_TIMEOUT)?),
    };
    let (state, workers) = IngestState::new(db, &settings, parts);
    if settings.ses.sns_topic_arns.is_empty() {
        tracing::info!("no SNS topics configured (APP__SES__SNS_TOPIC_ARNS): SES feedback is refused");
    }

    // Events an earlier run acknowledged but did not process (a crash after the answer).
    let inbound = state.inbound.clone();
    tokio::spawn(async move {
        match recover(&inbound, started_at).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "processed events stored before this start"),
            Err(e) => {
                tracing::warn!(error = %e, "processing events stored before this start failed; the sweep retries")
            }
        }
    });
    let (stop_sweep, sweep_stopped) = tokio::sync::oneshot::channel::<()>();
    let sweeper = tokio::spawn(sweep(state.inbound.clone(), SWEEP_EVERY, SWEEP_GRACE, async move {
        let _ = sweep_stopped.await;
    }));

    let addr = settings.http.addr;
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, public_base_url = %settings.public_base_url, "switchboard-webhook-ingest listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(switchboard_runtime::shutdown_signal())
        .await
        .context("server error")?;
    let _ = stop_sweep.send(());
    let _ = sweeper.await;
    // Every handle of the queue is gone with the router; the workers finish what is queued.
    if tokio::time::timeout(DRAIN, workers.join()).await.is_err() {
        tracing::warn!("stopped before the queue was drained; the next start processes the rest");
    }
    tracing::info!("switchboard-webhook-ingest stopped cleanly");
    Ok(())
}
