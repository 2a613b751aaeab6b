//! # switchboard-migrations
//!
//! The one schema of Switchboard, for SQLite and PostgreSQL alike. Rules:
//! - migrations are self-contained (no entity imports) and never edited once landed — add a new one;
//! - every `up` has a `down` that undoes it exactly, so up → down → up is a clean round trip
//!   (checked on both engines by the tests in `tests/it`);
//! - no seed data here (that is `fixtures/`);
//! - ids are prefixed strings (`ws_…`), timestamps UTC, money integer (1/10 000 of a unit).

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_tenancy;
mod m20261125_000002_ledger;
mod m20261125_000003_numbers;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_tenancy::Migration),
            Box::new(m20261125_000002_ledger::Migration),
            Box::new(m20261125_000003_numbers::Migration),
        ]
    }
}
