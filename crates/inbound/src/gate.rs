//! One writer at a time on SQLite, queued in the process rather than in SQLite.
//!
//! SQLite lets one transaction write at a time; a writer that finds the lock taken sleeps in the
//! busy handler (1, 2, 5, 10 … ms) before it looks again, so a short wait becomes a long one. The
//! event writer (whose commit every answer waits for) and the processing lanes therefore take
//! this gate first: they queue in order and the next one starts the moment the lock is free.
//! PostgreSQL writers do not need it (row locks), so there the gate is open.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio::sync::{Mutex, MutexGuard};

/// Shared by the writers of one process (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    /// Closed-by-turns on SQLite, always open on PostgreSQL.
    pub fn for_db(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => Self(Some(Arc::default())),
            _ => Self(None),
        }
    }

    /// Waits for this writer's turn; the turn lasts as long as the guard.
    pub async fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.0 {
            Some(turn) => Some(turn.lock().await),
            None => None,
        }
    }
}
