//! # switchboard-testkit
//!
//! A fresh database per test, on every engine this machine offers:
//! - **SQLite** always: a new WAL file under the system temp folder, removed when dropped.
//! - **PostgreSQL** when `TEST_DATABASE_URL` is set: a new schema `sbt_<unix>_<ulid>` on that
//!   server (schemas, unlike databases, can be created concurrently and cheaply); schemas left by
//!   runs older than two hours are dropped on the way. If the variable is set and the server cannot
//!   be reached the test fails — a configured engine is never silently skipped.
//!
//! Database tests call [`each_engine`] so one test body runs on SQLite and, when configured, on
//! PostgreSQL; a failure names the engine.

pub mod proxy;
pub mod rows;

pub use proxy::DbProxy;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use switchboard_core::db::{DbOptions, Engine, connect};

/// The environment variable that enables PostgreSQL tests.
pub const PG_ENV: &str = "TEST_DATABASE_URL";

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub engine: Engine,
    /// A URL another process (a spawned binary) can use to reach the same database.
    pub url: String,
    sqlite_file: Option<PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// The engines to run database tests on: SQLite, plus PostgreSQL when `TEST_DATABASE_URL` is set.
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if pg_url().is_some() {
        engines.push(Engine::Postgres);
    }
    engines
}

fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// A fresh, migrated PostgreSQL database when `TEST_DATABASE_URL` is set; `None` (and a line in
/// the output saying why) otherwise — for faults that exist only on a database server.
pub async fn postgres_only(test: &str) -> Option<TestDb> {
    if pg_url().is_none() {
        eprintln!("-- {test}: PostgreSQL only, and {PG_ENV} is not set");
        return None;
    }
    eprintln!("-- on postgres");
    Some(fresh(Engine::Postgres).await)
}

/// A fresh, migrated database on `engine`.
pub async fn fresh(engine: Engine) -> TestDb {
    let mut db = empty(engine).await;
    // Migrate over a connection of its own, then serve from connections opened afterwards —
    // exactly as the binaries start (see `switchboard_migrations::apply_to`).
    switchboard_migrations::apply_to(&db.url)
        .await
        .unwrap_or_else(|e| panic!("migrating a fresh {} test database failed: {e}", engine.name()));
    db.conn.clone().close().await.ok();
    // Tests queue thousands of tasks on purpose (concurrency invariants); on a loaded CI machine
    // the 5-second production acquire timeout would fail them for the wrong reason.
    db.conn = connect(&DbOptions {
        max_connections: 8,
        acquire_timeout: std::time::Duration::from_secs(120),
        ..DbOptions::new(db.url.clone())
    })
    .await
    .unwrap_or_else(|e| panic!("reconnecting to the {} test database failed: {e}", engine.name()));
    db
}

/// A fresh database on `engine` with no schema applied (for migration tests).
pub async fn empty(engine: Engine) -> TestDb {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join("switchboard-tests");
            std::fs::create_dir_all(&dir).expect("creating the temp folder for SQLite tests");
            let file = dir.join(format!("{}.db", ulid::Ulid::new()));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let conn = connect(&DbOptions::new(url.clone())).await.expect("opening a SQLite test database");
            TestDb { conn, engine, url, sqlite_file: Some(file) }
        }
        Engine::Postgres => {
            let base = pg_url().unwrap_or_else(|| panic!("{PG_ENV} is not set; PostgreSQL tests need it"));
            let admin = connect(&DbOptions { max_connections: 1, ..DbOptions::new(base.clone()) })
                .await
                .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
            drop_stale_schemas(&admin).await;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let schema = format!("sbt_{now}_{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
            exec(&admin, &format!("CREATE SCHEMA \"{schema}\"")).await;
            admin.close().await.ok();
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            let conn = connect(&DbOptions { max_connections: 8, ..DbOptions::new(url.clone()) })
                .await
                .expect("connecting to the PostgreSQL test schema");
            TestDb { conn, engine, url, sqlite_file: None }
        }
    }
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

/// Best effort, once per process: drop test schemas more than two hours old.
async fn drop_stale_schemas(admin: &DatabaseConnection) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let rows = admin
        .query_all(Statement::from_string(
            admin.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sbt\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let created = name.split('_').nth(1).and_then(|t| t.parse::<u64>().ok()).unwrap_or(now);
        if now.saturating_sub(created) > 2 * 3600 {
            let _ = admin
                .execute(Statement::from_string(
                    admin.get_database_backend(),
                    format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
                ))
                .await;
        }
    }
}

/// Runs `test` once per available engine, each time on a fresh migrated database.
pub async fn each_engine<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    for engine in engines() {
        eprintln!("-- on {}", engine.name());
        test(fresh(engine).await).await;
    }
}
