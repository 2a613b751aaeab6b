//! Start-up against a real database: replicas that start together all come up, and the schema is
//! applied once.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use switchboard_core::db::{DbOptions, connect};
use switchboard_migrations::{Migrator, MigratorTrait};
use switchboard_runtime::{Binary, Settings};

#[tokio::test]
async fn replicas_migrating_at_the_same_instant_all_succeed_and_apply_the_schema_once() {
    const REPLICAS: usize = 8;
    for engine in switchboard_testkit::engines() {
        let empty = switchboard_testkit::empty(engine).await;
        let mut pools = Vec::new();
        for _ in 0..REPLICAS {
            pools.push(
                connect(&DbOptions { max_connections: 2, ..DbOptions::new(empty.url.clone()) })
                    .await
                    .unwrap(),
            );
        }
        // Every replica is connected; release them together.
        let barrier = Arc::new(tokio::sync::Barrier::new(REPLICAS));
        let starts: Vec<_> = pools
            .into_iter()
            .map(|db| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let migrated = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                        switchboard_migrations::apply(&db).await
                    })
                    .await;
                    match migrated {
                        Ok(result) => result.map(|()| db).map_err(|e| e.to_string()),
                        Err(_) => Err("migration did not finish within 30 s".to_owned()),
                    }
                })
            })
            .collect();
        for start in starts {
            let db = start
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("a replica failed to migrate on {engine:?}: {e}"));
            assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
        }
        let applied = Migrator::get_applied_migrations(&empty.conn).await.unwrap();
        assert_eq!(applied.len(), Migrator::migrations().len(), "on {engine:?}");
    }
}

#[tokio::test]
async fn migrate_on_start_can_be_switched_off() {
    let empty = switchboard_testkit::empty(switchboard_core::db::Engine::Sqlite).await;
    let env: HashMap<String, String> = HashMap::from([
        ("APP__DATABASE__URL".into(), empty.url.clone()),
        ("APP__DATABASE__MIGRATE_ON_START".into(), "false".into()),
    ]);
    let settings = Settings::load_from(Binary::Api, &env, Path::new("/nonexistent")).unwrap();
    let db = switchboard_runtime::database::open(&settings.database).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), Migrator::migrations().len());
}

/// webhook-ingest's settings on SQLite: a background task copies the WAL into the database file
/// while the commits themselves never reach their checkpoint threshold; with the task switched
/// off, the same writes leave the file as it was.
#[tokio::test]
async fn the_checkpointer_copies_the_wal_into_the_file_that_commits_leave_alone() {
    use sea_orm::ConnectionTrait;
    for every_ms in ["10", "0"] {
        let empty = switchboard_testkit::empty(switchboard_core::db::Engine::Sqlite).await;
        let file = empty.url.trim_start_matches("sqlite://").trim_end_matches("?mode=rwc").to_owned();
        let env: HashMap<String, String> = HashMap::from([
            ("APP__DATABASE__URL".into(), empty.url.clone()),
            ("APP__DATABASE__SQLITE_CHECKPOINT_PAGES".into(), "1000000".into()),
            ("APP__DATABASE__SQLITE_CHECKPOINT_EVERY_MS".into(), every_ms.into()),
        ]);
        let settings = Settings::load_from(Binary::WebhookIngest, &env, Path::new("/nonexistent")).unwrap();
        let db = switchboard_runtime::database::open(&settings.database).await.unwrap();
        // Whatever the migrations left in the WAL, copied now: from here on only the task copies.
        switchboard_core::db::checkpoint_wal(&db).await.unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        db.execute_unprepared("CREATE TABLE blobs (b BLOB)").await.unwrap();
        for _ in 0..50 {
            db.execute_unprepared("INSERT INTO blobs VALUES (randomblob(40000))").await.unwrap();
        }
        // The task runs every 10 ms: half a second is plenty to see it, and to see it absent.
        let wait = if every_ms == "0" { 500 } else { 5_000 };
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(wait);
        let mut grown = 0;
        while std::time::Instant::now() < deadline {
            grown = std::fs::metadata(&file).unwrap().len().saturating_sub(before);
            if grown >= 2_000_000 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if every_ms == "0" {
            assert_eq!(grown, 0, "no checkpointer, commits below the threshold: the file stays as it was");
        } else {
            assert!(grown >= 2_000_000, "the checkpointer copied the 2 MB written: the file grew by {grown}");
        }
    }
}
