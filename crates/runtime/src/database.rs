//! Opening the configured database and bringing its schema up to date.

use sea_orm::{DatabaseConnection, DbErr};
use switchboard_core::db::{DbOptions, connect, redact_url};

use crate::settings::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("migrating {url} failed: {source}")]
    Migrate { url: String, source: DbErr },
}

/// When `database.migrate_on_start` is on, applies pending migrations (safe with several replicas,
/// see [`switchboard_migrations::apply`]); then opens the pool the binary serves from.
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
    Ok(db)
}
