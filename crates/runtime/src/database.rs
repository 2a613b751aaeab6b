//! Opening the configured database and bringing its schema up to date.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, TransactionTrait};
use switchboard_core::db::{DbOptions, connect, redact_url};
use switchboard_migrations::{Migrator, MigratorTrait};

use crate::settings::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("migrating {url} failed: {source}")]
    Migrate { url: String, source: DbErr },
}

/// Key of the PostgreSQL advisory lock that serialises migrations ("SWBDMIGR").
const MIGRATION_LOCK: i64 = 0x5357_4244_4D49_4752;

/// Connects and, when `database.migrate_on_start` is on, applies pending migrations.
pub async fn open(settings: &DatabaseSettings) -> Result<DatabaseConnection, DatabaseError> {
    let url = redact_url(settings.url());
    let options = DbOptions { max_connections: settings.max_connections, ..DbOptions::new(settings.url()) };
    let db = connect(&options).await.map_err(|source| DatabaseError::Connect { url: url.clone(), source })?;
    if settings.migrate_on_start {
        migrate(&db).await.map_err(|source| DatabaseError::Migrate { url: url.clone(), source })?;
    }
    tracing::info!(database = %url, "database ready");
    Ok(db)
}

/// Applies pending migrations; safe when several processes start at once.
///
/// PostgreSQL: all pending migrations run in one transaction holding an advisory lock, so
/// replicas queue and the later ones find nothing to do. SQLite (one host, no transactional
/// migrator): a start that loses the race re-checks and succeeds once the winner has finished.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [MIGRATION_LOCK.into()],
        ))
        .await?;
        let pending = Migrator::get_pending_migrations(&txn).await?.len();
        if pending > 0 {
            tracing::info!(pending, "applying migrations");
            Migrator::up(&txn, None).await?;
        }
        return txn.commit().await;
    }
    let mut attempt = 0;
    loop {
        let pending = Migrator::get_pending_migrations(db).await?.len();
        if pending == 0 {
            return Ok(());
        }
        tracing::info!(pending, "applying migrations");
        match Migrator::up(db, None).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "migration raced another start; re-checking");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
