//! Opening the configured database and bringing its schema up to date.

use sea_orm::DatabaseConnection;
use switchboard_core::db::{DbOptions, connect, redact_url};
use switchboard_migrations::{Migrator, MigratorTrait};

use crate::settings::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: sea_orm::DbErr },
    #[error("migrating {url} failed: {source}")]
    Migrate { url: String, source: sea_orm::DbErr },
}

/// Connects and, when `database.migrate_on_start` is on, applies pending migrations.
/// Concurrent starts are safe: migrations run in a transaction on PostgreSQL and the SQLite file
/// takes one writer at a time.
pub async fn open(settings: &DatabaseSettings) -> Result<DatabaseConnection, DatabaseError> {
    let url = redact_url(settings.url());
    let options = DbOptions {
        max_connections: settings.max_connections,
        ..DbOptions::new(settings.url())
    };
    let db = connect(&options)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: url.clone(),
            source,
        })?;
    if settings.migrate_on_start {
        let pending = Migrator::get_pending_migrations(&db)
            .await
            .map_err(|source| DatabaseError::Migrate {
                url: url.clone(),
                source,
            })?
            .len();
        if pending > 0 {
            tracing::info!(pending, database = %url, "applying migrations");
            Migrator::up(&db, None)
                .await
                .map_err(|source| DatabaseError::Migrate {
                    url: url.clone(),
                    source,
                })?;
        }
    }
    tracing::info!(database = %url, "database ready");
    Ok(db)
}
