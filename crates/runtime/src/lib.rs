//! # switchboard-runtime
//!
//! Start-up for the three binaries, so each `main` stays a few lines: load [`settings`], install
//! [`telemetry`], open and migrate the database ([`database`]), expose [`metrics`], and wait for a
//! [`shutdown_signal`]. Libraries never depend on this crate.

pub mod database;
pub mod metrics;
pub mod prices;
pub mod providers;
pub mod settings;
pub mod telemetry;

pub use settings::{Binary, ProviderMode, Settings, SettingsError};

/// Resolves on Ctrl-C or SIGTERM: the moment to stop accepting work and drain.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
}
