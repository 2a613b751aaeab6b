//! Opening the configured database and bringing its schema up to date.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use switchboard_core::db::{DbOptions, checkpoint_wal, connect, redact_url};

use crate::settings::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("migrating {url} failed: {source}")]
    Migrate { url: String, source: DbErr },
}

/// When `database.migrate_on_start` is on, applies pending migrations (safe with several replicas,
/// see [`switchboard_migrations::apply`]); then opens the pool the binary serves from, and on
/// SQLite starts its checkpointer when `database.sqlite_checkpoint_every_ms` asks for one. Call
/// it inside the runtime the binary serves on.
pub async fn open(settings: &DatabaseSettings) -> Result<DatabaseConnection, DatabaseError> {
    let url = redact_url(settings.url());
    if settings.migrate_on_start {
        switchboard_migrations::apply_to(settings.url())
            .await
            .map_err(|source| DatabaseError::Migrate { url: url.clone(), source })?;
    }
    let options = DbOptions {
        max_connections: settings.max_connections,
        sqlite_memory_mib: settings.sqlite_memory_mib,
        sqlite_checkpoint_pages: settings.sqlite_checkpoint_pages,
        ..DbOptions::new(settings.url())
    };
    let db = connect(&options).await.map_err(|source| DatabaseError::Connect { url: url.clone(), source })?;
    tracing::info!(database = %url, "database ready");
    if settings.sqlite_checkpoint_every_ms > 0 && db.get_database_backend() == DatabaseBackend::Sqlite {
        spawn_checkpointer(db.clone(), Duration::from_millis(settings.sqlite_checkpoint_every_ms.into()));
    }
    Ok(db)
}

/// Checkpoints a SQLite database's WAL every `every` on a task (and so a connection and thread)
/// of its own, for as long as the runtime runs. Without it, the commit that crosses
/// `wal_autocheckpoint` copies the WAL into the file before it returns, and on SQLite every
/// writer — so every request waiting for a commit — queues behind it. This one is passive: it
/// never waits for, nor holds up, readers and writers. Commits still checkpoint if it falls
/// behind (`database.sqlite_checkpoint_pages`). The gauge `sqlite_wal_pages` shows how far the
/// WAL grows between two passes.
pub fn spawn_checkpointer(db: DatabaseConnection, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0u64;
        loop {
            ticks.tick().await;
            match checkpoint_wal(&db).await {
                Ok(Some(done)) => {
                    failures = 0;
                    metrics::gauge!("sqlite_wal_pages").set(done.wal_pages as f64);
                }
                Ok(None) => return,
                Err(e) => {
                    failures += 1;
                    metrics::counter!("sqlite_checkpoint_failures_total").increment(1);
                    // The first failure of a run, then every thousandth: each pass retries.
                    if failures % 1000 == 1 {
                        tracing::warn!(error = %e, failures, "checkpointing the SQLite WAL failed; commits checkpoint meanwhile");
                    }
                }
            }
        }
    })
}
