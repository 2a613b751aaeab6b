//! `switchboard-webhook-ingest`: load configuration, open and migrate the database, serve until
//! SIGTERM/Ctrl-C.

use std::time::Duration;

use anyhow::Context;
use switchboard_runtime::{Binary, Settings};

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
    let db = switchboard_runtime::database::open(&settings.database).await?;
    let addr = settings.http.addr;
    let app = switchboard_webhook_ingest::app(
        db,
        settings.http.body_limit_bytes,
        Duration::from_secs(settings.http.request_timeout_secs),
    );
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, public_base_url = %settings.public_base_url, "switchboard-webhook-ingest listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(switchboard_runtime::shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("switchboard-webhook-ingest stopped cleanly");
    Ok(())
}
