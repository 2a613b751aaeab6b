//! Connecting to the two engines and classifying their errors.
//!
//! SQLite is the embedded default: a file (created with its folder), WAL journal, foreign keys on,
//! a busy timeout so concurrent writers wait instead of failing. PostgreSQL is production; an
//! optional `search_path` lets tests give each case a schema of its own.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr, SqlErr};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The two supported engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// SQLite's memory budget when none is configured: enough for a serving process's hot pages, and
/// reached within minutes, so a process's memory levels off instead of growing with the file.
pub const DEFAULT_SQLITE_MEMORY_MIB: u32 = 8;

/// SQLite's memory budget for the writers and batch jobs (webhook-ingest, billing-cron), whose
/// inserts and scans want the pages of large indexes kept.
pub const WRITER_SQLITE_MEMORY_MIB: u32 = 32;

/// How many WAL pages a committing SQLite writer checkpoints into the database file at once when
/// none is configured (SQLite's own default, about 4 MiB): the commit that triggers a checkpoint
/// copies them before it returns, so this bounds how long a request can wait behind one.
pub const DEFAULT_SQLITE_CHECKPOINT_PAGES: u32 = 1_000;

/// The checkpoint size of batch jobs (billing-cron): about 40 MiB, so index pages rewritten by
/// every batch are copied once per checkpoint, not once per batch (rentals of 100,000 numbers:
/// 4.6 s → 4.0 s). Also the fallback threshold of a process that checkpoints in the background
/// ([`checkpoint_wal`]), whose commits should seldom reach it.
pub const BULK_SQLITE_CHECKPOINT_PAGES: u32 = 10_000;

/// How to connect.
#[derive(Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite only: the most memory SQLite may keep for the whole process, in MiB — page caches
    /// of every connection together, prepared statements and schemas. Past it each connection
    /// recycles its own pages instead of growing (`PRAGMA soft_heap_limit`).
    pub sqlite_memory_mib: u32,
    /// SQLite only: WAL pages after which a commit checkpoints them (`PRAGMA wal_autocheckpoint`).
    pub sqlite_checkpoint_pages: u32,
    /// PostgreSQL only: the schema to use (tests).
    pub pg_schema: Option<String>,
}

impl std::fmt::Debug for DbOptions {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("sqlite_memory_mib", &self.sqlite_memory_mib)
            .field("sqlite_checkpoint_pages", &self.sqlite_checkpoint_pages)
            .field("pg_schema", &self.pg_schema)
            .finish()
    }
}

impl DbOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            sqlite_memory_mib: DEFAULT_SQLITE_MEMORY_MIB,
            sqlite_checkpoint_pages: DEFAULT_SQLITE_CHECKPOINT_PAGES,
            pg_schema: None,
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens a pool on the engine the URL names.
pub async fn connect(options: &DbOptions) -> Result<DatabaseConnection, DbErr> {
    let bad_url = |e: sqlx::Error| DbErr::Custom(format!("invalid database URL: {e}"));
    match Engine::of_url(&options.url) {
        Some(Engine::Sqlite) => {
            let opts = SqliteConnectOptions::from_str(&options.url)
                .map_err(bad_url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // SQLite's default page cache is 2 MiB per connection; batch jobs (rentals over a
                // million numbers) re-read index pages far beyond that. 32 MiB at most, per
                // connection, allocated only as used…
                .pragma("cache_size", "-32768")
                // …and all connections together within one budget: each pooled connection caches
                // its own copy of the pages it reads, so without it a process's memory grows
                // with the database, up to 32 MiB × connections. The limit is process-wide.
                .pragma("soft_heap_limit", (u64::from(options.sqlite_memory_mib) << 20).to_string())
                // A bigger checkpoint copies rewritten pages less often (batch jobs), a smaller
                // one stalls the commit that runs it for less (request paths).
                .pragma("wal_autocheckpoint", options.sqlite_checkpoint_pages.to_string());
            let file = opts.get_filename();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
                && file.to_str() != Some(":memory:")
            {
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbErr::Custom(format!("cannot create database folder {}: {e}", dir.display()))
                    })?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?;
            Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
        }
        Some(Engine::Postgres) => {
            let mut opts = PgConnectOptions::from_str(&options.url).map_err(bad_url)?;
            if let Some(schema) = &options.pg_schema {
                opts = opts.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?;
            Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
        }
        None => Err(DbErr::Custom(format!(
            "unsupported database URL `{}`: use sqlite://… or postgres://…",
            redact_url(&options.url)
        ))),
    }
}

/// A unique key refused the write: the caller lost a race or repeated itself.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A foreign key refused the write (a missing parent, or a RESTRICT on delete).
///
/// sea-orm classifies SQLite's code 787 and PostgreSQL's 23503; SQLite reports a violated
/// `ON DELETE RESTRICT` as extended code 1811, which it does not, so that case is checked here.
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    if matches!(err.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
        return true;
    }
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(e)))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(e))) => {
            e.code().as_deref() == Some("1811") && e.message().contains("FOREIGN KEY")
        }
        _ => false,
    }
}

/// The database could not be reached (as opposed to a bad statement): answer 503, retry later.
pub fn is_unavailable(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => matches!(
            e,
            sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        ),
        _ => matches!(err, DbErr::Conn(_)),
    }
}

/// The `n`th (1-based) bind placeholder in `backend`'s syntax, for the few statements written as
/// SQL rather than built (a `VALUES` list joined to an `UPDATE`).
pub fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// A `VALUES` list of `rows` — `(?, ?), (?, ?)` on SQLite, `($3, $4), ($5, $6)` on PostgreSQL —
/// whose values are appended to `values` (the statement's bind values so far) in order.
pub fn values_list<R>(backend: DatabaseBackend, values: &mut Vec<sea_orm::Value>, rows: R) -> String
where
    R: IntoIterator,
    R::Item: IntoIterator<Item = sea_orm::Value>,
{
    let rows: Vec<String> = rows
        .into_iter()
        .map(|row| {
            let slots: Vec<String> = row
                .into_iter()
                .map(|value| {
                    values.push(value);
                    placeholder(backend, values.len())
                })
                .collect();
            format!("({})", slots.join(", "))
        })
        .collect();
    rows.join(", ")
}

/// What one `PRAGMA wal_checkpoint(PASSIVE)` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// Another checkpoint was running, so this one did nothing.
    pub busy: bool,
    /// Pages in the WAL file.
    pub wal_pages: i64,
    /// Of those, pages copied into the database file (now or before).
    pub checkpointed_pages: i64,
}

/// Copies what the WAL holds into the database file without waiting for anyone: writers keep
/// appending to the WAL meanwhile and readers keep reading, so unlike the checkpoint a commit
/// runs (`wal_autocheckpoint`) nobody waits for it. `None` on PostgreSQL.
pub async fn checkpoint_wal(db: &DatabaseConnection) -> Result<Option<WalCheckpoint>, DbErr> {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let sql = "PRAGMA wal_checkpoint(PASSIVE)";
    let row = db
        .query_one(sea_orm::Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("{sql} answered no row")))?;
    Ok(Some(WalCheckpoint {
        busy: row.try_get_by_index::<i64>(0)? != 0,
        wal_pages: row.try_get_by_index(1)?,
        checkpointed_pages: row.try_get_by_index(2)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_list_numbers_its_slots_after_the_values_before_it() {
        let rows = [["a".into(), 1i64.into()], ["b".into(), 2i64.into()]];
        let mut values: Vec<sea_orm::Value> = vec![true.into()];
        let list = values_list(DatabaseBackend::Postgres, &mut values, rows.clone());
        assert_eq!(list, "($2, $3), ($4, $5)");
        assert_eq!(values.len(), 5);
        assert_eq!(values[3], sea_orm::Value::from("b"));
        let mut values = Vec::new();
        assert_eq!(values_list(DatabaseBackend::Sqlite, &mut values, rows), "(?, ?), (?, ?)");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db?mode=rwc"), "sqlite://data/x.db?mode=rwc");
    }

    /// SQLite's memory limit is process-wide: every connection sets it, so the tests here that
    /// connect take turns, and the one reading it back sees its own value.
    static SQLITE_PROCESS_WIDE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// A SQLite pool on `file` in a new temp folder, opened with `options` of its URL, and this
    /// test's turn (hold it while the pool is in use).
    async fn temp_sqlite(
        file: &str,
        options: impl FnOnce(String) -> DbOptions,
    ) -> (tokio::sync::MutexGuard<'static, ()>, std::path::PathBuf, DatabaseConnection) {
        let turn = SQLITE_PROCESS_WIDE.lock().await;
        let dir = std::env::temp_dir().join(format!("sb-core-{}", ulid::Ulid::new()));
        let url = format!("sqlite://{}/{file}?mode=rwc", dir.display());
        let db = connect(&options(url)).await.unwrap();
        (turn, dir, db)
    }

    /// One test for both, for the same reason.
    #[tokio::test]
    async fn sqlite_file_in_a_new_folder_is_created_in_wal_mode_with_the_memory_cap_and_checkpoint_size() {
        use sea_orm::ConnectionTrait;
        let (_turn, dir, db) = temp_sqlite("nested/x.db", |url| DbOptions {
            sqlite_memory_mib: 24,
            sqlite_checkpoint_pages: 250,
            ..DbOptions::new(url)
        })
        .await;
        let pragma = |name: &str| {
            let sql = format!("PRAGMA {name}");
            let db = db.clone();
            async move {
                let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql);
                db.query_one(stmt).await.unwrap().unwrap()
            }
        };
        let mode: String = pragma("journal_mode").await.try_get_by_index(0).unwrap();
        assert_eq!(mode, "wal");
        let limit: i64 = pragma("soft_heap_limit").await.try_get_by_index(0).unwrap();
        assert_eq!(limit, 24 << 20);
        let checkpoint: i64 = pragma("wal_autocheckpoint").await.try_get_by_index(0).unwrap();
        assert_eq!(checkpoint, 250);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_passive_checkpoint_copies_the_wal_while_the_commits_leave_it_alone() {
        use sea_orm::ConnectionTrait;
        // Commits never checkpoint (a threshold no test reaches): only the call below does.
        let (_turn, dir, db) = temp_sqlite("c.db", |url| DbOptions {
            sqlite_checkpoint_pages: 1_000_000,
            ..DbOptions::new(url)
        })
        .await;
        let run = |sql: &'static str| {
            let db = db.clone();
            async move { db.execute_unprepared(sql).await.unwrap() }
        };
        run("CREATE TABLE t (v TEXT)").await;
        for _ in 0..20 {
            run("INSERT INTO t SELECT hex(randomblob(500)) FROM (SELECT 1 UNION ALL SELECT 2)").await;
        }
        let done = checkpoint_wal(&db).await.unwrap().expect("SQLite checkpoints");
        assert!(!done.busy);
        assert!(done.wal_pages > 20, "each commit appended pages: {done:?}");
        assert_eq!(done.checkpointed_pages, done.wal_pages, "everything was copied: {done:?}");
        let again = checkpoint_wal(&db).await.unwrap().unwrap();
        assert_eq!(again.checkpointed_pages, again.wal_pages);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn engine_from_url() {
        assert_eq!(Engine::of_url("sqlite://data/x.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("postgresql://h/db"), Some(Engine::Postgres));
        assert_eq!(Engine::of_url("mysql://h/db"), None);
    }
}
