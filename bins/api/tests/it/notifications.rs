//! The notification inbox over HTTP: newest first, cursor pages, `?unread=true`, marking one or
//! all read with any role, and other workspaces' notifications answering 404.

use serde_json::{Value, json};
use switchboard_channels::notifications::{self, NewNotification, NotificationKind};
use switchboard_core::{AgentId, WorkspaceId};
use switchboard_testkit::each_engine;

use crate::harness::*;

pub async fn raise(app: &TestApp, ws: &str, agent: Option<&str>, key: &str) -> bool {
    notifications::raise(
        &app.db.conn,
        NewNotification {
            workspace_id: ws.parse::<WorkspaceId>().unwrap(),
            agent_id: agent.map(|a| a.parse::<AgentId>().unwrap()),
            kind: NotificationKind::ConversationEscalated,
            dedupe_key: key.into(),
            subject: format!("Escalated {key}"),
            body: format!("Conversation {key} needs a human"),
        },
    )
    .await
    .unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_inbox_pages_newest_first_and_any_role_marks_read() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent_key = app.key(&ws, "agent").await;
        for key in ["a", "b", "c"] {
            assert!(raise(&app, &ws.id, None, key).await);
        }
        assert!(!raise(&app, &ws.id, None, "a").await, "a dedupe key raises once");

        let first = expect(app.get("/v1/notifications?limit=2", &agent_key).await, 200).await;
        assert_eq!(ids(&first), ["Escalated c", "Escalated b"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest =
            expect(app.get(&format!("/v1/notifications?limit=2&cursor={cursor}"), &agent_key).await, 200)
                .await;
        assert_eq!(ids(&rest), ["Escalated a"]);
        assert!(rest["next_cursor"].is_null());
        let one = &first["data"][0];
        assert_eq!(one["kind"], "conversation_escalated");
        assert!(one["read_at"].is_null());
        assert!(one["id"].as_str().unwrap().starts_with("ntf_"));

        let id = one["id"].as_str().unwrap();
        let read =
            expect(app.post(&format!("/v1/notifications/{id}/read"), &agent_key, json!({})).await, 200).await;
        let read_at = read["read_at"].as_str().unwrap().to_owned();
        let again =
            expect(app.post(&format!("/v1/notifications/{id}/read"), &agent_key, json!({})).await, 200).await;
        assert_eq!(again["read_at"], read_at.as_str(), "the first read time stays");
        let got = expect(app.get(&format!("/v1/notifications/{id}"), &agent_key).await, 200).await;
        assert_eq!(got["read_at"], read_at.as_str());

        let unread = expect(app.get("/v1/notifications?unread=true", &agent_key).await, 200).await;
        assert_eq!(ids(&unread), ["Escalated b", "Escalated a"]);
        let all = expect(app.post("/v1/notifications/read-all", &agent_key, json!({})).await, 200).await;
        assert_eq!(all["updated"], 2);
        let unread = expect(app.get("/v1/notifications?unread=true", &ws.owner).await, 200).await;
        assert!(ids(&unread).is_empty());
        let everything = expect(app.get("/v1/notifications", &ws.owner).await, 200).await;
        assert_eq!(everything["data"].as_array().unwrap().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn another_workspaces_notifications_answer_404() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let a = app.create_workspace("A").await;
        let b = app.create_workspace("B").await;
        raise(&app, &a.id, None, "mine").await;
        let list = expect(app.get("/v1/notifications", &a.owner).await, 200).await;
        let id = list["data"][0]["id"].as_str().unwrap().to_owned();

        let theirs = expect(app.get("/v1/notifications", &b.owner).await, 200).await;
        assert!(theirs["data"].as_array().unwrap().is_empty());
        expect_problem(app.get(&format!("/v1/notifications/{id}"), &b.owner).await, 404, "not_found").await;
        expect_problem(
            app.post(&format!("/v1/notifications/{id}/read"), &b.owner, json!({})).await,
            404,
            "not_found",
        )
        .await;
        let none = expect(app.post("/v1/notifications/read-all", &b.owner, json!({})).await, 200).await;
        assert_eq!(none["updated"], 0);
        let still = expect(app.get(&format!("/v1/notifications/{id}"), &a.owner).await, 200).await;
        assert!(still["read_at"].is_null(), "B's read-all touched A's inbox");
        expect_problem(app.get("/v1/notifications/ntf_nonsense", &a.owner).await, 404, "not_found").await;
    })
    .await;
}
