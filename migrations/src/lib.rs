//! # switchboard-migrations
//!
//! The one schema of Switchboard, for SQLite and PostgreSQL alike. Rules:
//! - migrations are self-contained (no entity imports) and never edited once landed — add a new one;
//! - every `up` has a `down` that undoes it exactly, so up → down → up is a clean round trip
//!   (checked on both engines by the tests in `tests/it`);
//! - no seed data here (that is `fixtures/`);
//! - ids are prefixed strings (`ws_…`), timestamps UTC, money integer (1/10 000 of a unit).

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use switchboard_core::db::{DbOptions, connect};

mod m20261125_000001_tenancy;
mod m20261125_000002_ledger;
mod m20261125_000003_numbers;
mod m20261125_000004_agent_whatsapp_number;
mod m20261125_000005_lines_and_targets;
mod m20261125_000006_agent_channels;
mod m20261125_000007_email;
mod m20261125_000008_usage;
mod m20261125_000009_inbound;
mod m20261125_000010_whatsapp_connections;
mod m20261125_000011_webhook_deliveries;
mod m20261125_000012_read_indexes;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_tenancy::Migration),
            Box::new(m20261125_000002_ledger::Migration),
            Box::new(m20261125_000003_numbers::Migration),
            Box::new(m20261125_000004_agent_whatsapp_number::Migration),
            Box::new(m20261125_000005_lines_and_targets::Migration),
            Box::new(m20261125_000006_agent_channels::Migration),
            Box::new(m20261125_000007_email::Migration),
            Box::new(m20261125_000008_usage::Migration),
            Box::new(m20261125_000009_inbound::Migration),
            Box::new(m20261125_000010_whatsapp_connections::Migration),
            Box::new(m20261125_000011_webhook_deliveries::Migration),
            Box::new(m20261125_000012_read_indexes::Migration),
        ]
    }
}

/// Key of the PostgreSQL advisory lock that serialises migrations ("SWBDMIGR").
const MIGRATION_LOCK: i64 = 0x5357_4244_4D49_4752;

/// Applies pending migrations to the database at `url` over a connection of its own, closed
/// before returning — so every connection opened afterwards starts from the final schema.
/// (A SQLite connection that lived through the migration can prepare statements against the
/// schema it saw before, e.g. an `ON CONFLICT` on an index created meanwhile fails.)
pub async fn apply_to(url: &str) -> Result<(), DbErr> {
    let db = connect(&DbOptions { max_connections: 1, ..DbOptions::new(url) }).await?;
    let result = apply(&db).await;
    db.close().await?;
    result
}

/// Applies pending migrations; safe when several processes start at once.
///
/// PostgreSQL: all pending migrations run in one transaction holding an advisory lock, so
/// replicas queue and the later ones find nothing to do. SQLite (one host, no transactional
/// migrator): a start that loses the race re-checks and succeeds once the winner has finished.
pub async fn apply(db: &DatabaseConnection) -> Result<(), DbErr> {
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
