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

/// SQLite's plan for the reads migration 012 indexes: the latest message of a conversation
/// comes straight from an index (no sort of the workspace's messages), and the wallet balance
/// is summed from an index alone. The SQL is what sea-orm builds for them.
#[tokio::test]
async fn the_latest_message_and_the_balance_are_read_from_indexes() {
    let db = switchboard_testkit::fresh(Engine::Sqlite).await;
    let plan = |sql: &'static str| {
        let conn = db.conn.clone();
        async move {
            let rows = conn
                .query_all(Statement::from_sql_and_values(
                    conn.get_database_backend(),
                    format!("EXPLAIN QUERY PLAN {sql}"),
                    ["ws_x".into(), "cv_x".into()],
                ))
                .await
                .unwrap();
            rows.iter().map(|r| r.try_get_by_index::<String>(3).unwrap()).collect::<Vec<_>>().join("; ")
        }
    };
    let latest = plan(
        "SELECT * FROM conversation_messages WHERE workspace_id = ? AND conversation_id = ? \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .await;
    assert!(latest.contains("ix_conversation_messages_conversation_time"), "{latest}");
    assert!(!latest.contains("TEMP B-TREE"), "{latest}");
    let balance = plan(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
         WHERE workspace_id = ? AND ? IS NOT NULL",
    )
    .await;
    assert!(balance.contains("COVERING INDEX ix_ledger_entries_workspace_amount"), "{balance}");
}
