//! The schema round trip on every engine: up → down → up leaves a working schema, and down
//! removes everything up created.

#![allow(clippy::unwrap_used)]

use sea_orm::{ConnectionTrait, Statement};
use switchboard_core::db::Engine;
use switchboard_migrations::{Migrator, MigratorTrait};

async fn table_names(db: &sea_orm::DatabaseConnection, engine: Engine) -> Vec<String> {
    let sql = match engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
        }
    };
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn up_down_up_round_trips_on_every_engine() {
    for engine in switchboard_testkit::engines() {
        let db = switchboard_testkit::empty(engine).await;
        Migrator::up(&db.conn, None).await.unwrap();
        let after_up = table_names(&db.conn, engine).await;
        for table in [
            "workspaces",
            "api_keys",
            "agents",
            "system_flags",
            "ledger_entries",
            "numbers",
            "idempotency_keys",
            "inbound_events",
            "conversations",
            "conversation_messages",
            "opt_outs",
        ] {
            assert!(after_up.contains(&table.to_owned()), "{table} missing on {engine:?}: {after_up:?}");
        }
        assert!(Migrator::get_pending_migrations(&db.conn).await.unwrap().is_empty());

        Migrator::down(&db.conn, None).await.unwrap();
        let after_down = table_names(&db.conn, engine).await;
        assert_eq!(after_down, vec!["seaql_migrations".to_owned()], "down left tables on {engine:?}");

        Migrator::up(&db.conn, None).await.unwrap();
        assert_eq!(table_names(&db.conn, engine).await, after_up, "second up differs on {engine:?}");
    }
}

#[tokio::test]
async fn applying_twice_is_a_no_op() {
    for engine in switchboard_testkit::engines() {
        let db = switchboard_testkit::fresh(engine).await;
        Migrator::up(&db.conn, None).await.unwrap();
        assert_eq!(
            Migrator::get_applied_migrations(&db.conn).await.unwrap().len(),
            Migrator::migrations().len()
        );
    }
}
