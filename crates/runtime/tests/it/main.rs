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
