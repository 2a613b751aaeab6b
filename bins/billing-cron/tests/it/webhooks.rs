//! The `webhooks` job through the real binary: a notification raised before the run is attempted
//! with the production SSRF rule (a non-public destination is refused, logged, final) and mailed
//! once from the platform's sender through the sandbox SES; a second run does nothing again.

use std::process::{Command, Stdio};

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Statement};
use switchboard_agents::{AgentService, NewAgent};
use switchboard_channels::notifications::{self, NewNotification, NotificationKind};
use switchboard_core::Ctx;
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-billing-cron");

fn run(db: &TestDb, now: &str) -> String {
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("APP__LOG__FILTER", "warn")
        .args(["--now", now])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

async fn text(db: &TestDb, sql: &str) -> String {
    let row = db
        .conn
        .query_one(Statement::from_string(db.conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn a_run_refuses_a_private_webhook_and_mails_the_notification_once() {
    each_engine(|db| async move {
        let tenancy = TenancyService::new(db.conn.clone());
        let ws = tenancy
            .create_workspace(NewWorkspace { name: "Acme".into(), timezone: None })
            .await
            .unwrap()
            .0
            .id;
        let agent = AgentService::new(db.conn.clone(), tenancy)
            .create(
                &Ctx::system(ws.clone()),
                NewAgent { name: "Reception".into(), status: None, timezone: None, language: None },
            )
            .await
            .unwrap()
            .id;
        // Stored directly: the API would refuse this address when saved; the run must refuse it
        // again when calling (as it would a public name that now resolves to a private address).
        let now = chrono::Utc::now();
        let insert = Query::insert()
            .into_table(Alias::new("agent_channels"))
            .columns(
                [
                    "agent_id",
                    "workspace_id",
                    "whatsapp_enabled",
                    "notification_webhook_url",
                    "notification_email",
                    "created_at",
                    "updated_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                agent.to_string().into(),
                ws.to_string().into(),
                false.into(),
                "https://127.0.0.1/hook".into(),
                "ops@customer.example".into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        db.conn.execute(db.conn.get_database_backend().build(&insert)).await.unwrap();
        notifications::raise(
            &db.conn,
            NewNotification {
                workspace_id: ws.clone(),
                agent_id: Some(agent.clone()),
                kind: NotificationKind::ConversationClosed,
                dedupe_key: "closed:cnv_1".into(),
                subject: "Conversation closed".into(),
                body: "The conversation with +4915112345678 was closed.".into(),
            },
        )
        .await
        .unwrap();

        let at = (now + chrono::Duration::seconds(5)).to_rfc3339();
        let first = run(&db, &at);
        assert!(first.contains("webhooks: 1 attempts (0 delivered, 0 to retry, 1 failed)"), "{first}");
        assert!(first.contains("1 mails sent, 0 failed"), "{first}");
        assert_eq!(text(&db, "SELECT status FROM webhook_deliveries").await, "failed");
        let error = text(&db, "SELECT error FROM webhook_attempts").await;
        assert!(error.starts_with("refused"), "{error}");
        assert_eq!(text(&db, "SELECT status FROM notification_emails").await, "sent");

        let second = run(&db, &at);
        assert!(second.contains("webhooks: 0 attempts") && second.contains("0 mails sent"), "{second}");
    })
    .await;
}
