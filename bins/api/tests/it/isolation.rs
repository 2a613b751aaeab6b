//! A workspace never sees or touches another's resources: a foreign id answers 404 exactly like a
//! missing one, and nothing changes.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn every_agent_endpoint_answers_404_for_another_workspaces_agent() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let a = app.create_workspace("A").await;
        let b = app.create_workspace("B").await;
        let agent = app.create_agent(&a.owner, json!({"name": "A's agent", "status": "live"})).await;
        let path = format!("/v1/agents/{}", agent["id"].as_str().unwrap());
        let missing = "/v1/agents/agt_01jd3kq7z8m2v5x9c4b6n0p1r8";

        for p in [path.as_str(), missing] {
            let foreign_get = expect_problem(app.get(p, &b.owner).await, 404, "not_found").await;
            let foreign_patch =
                expect_problem(app.patch(p, &b.owner, json!({"name": "hijacked"})).await, 404, "not_found")
                    .await;
            let foreign_delete = expect_problem(app.delete(p, &b.owner).await, 404, "not_found").await;
            // Same answer as for an id that does not exist at all.
            assert_eq!(foreign_get["detail"], "agent not found");
            assert_eq!(foreign_patch["detail"], "agent not found");
            assert_eq!(foreign_delete["detail"], "agent not found");
        }

        let list_b = expect(app.get("/v1/agents", &b.owner).await, 200).await;
        assert!(list_b["data"].as_array().unwrap().is_empty(), "B lists A's agent");

        let unchanged = expect(app.get(&path, &a.owner).await, 200).await;
        assert_eq!(unchanged, agent, "A's agent changed through B");
    })
    .await;
}

#[tokio::test]
async fn api_keys_of_another_workspace_are_not_found() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let a = app.create_workspace("A").await;
        let b = app.create_workspace("B").await;
        let issued =
            expect(app.post("/v1/api-keys", &a.owner, json!({"name": "ci", "role": "admin"})).await, 201)
                .await;
        let path = format!("/v1/api-keys/{}", issued["id"].as_str().unwrap());
        expect_problem(app.get(&path, &b.owner).await, 404, "not_found").await;
        expect_problem(app.delete(&path, &b.owner).await, 404, "not_found").await;
        // Still valid for A.
        let key = issued["key"].as_str().unwrap();
        expect(app.get("/v1/agents", key).await, 200).await;
        let keys_b = expect(app.get("/v1/api-keys", &b.owner).await, 200).await;
        assert_eq!(keys_b["data"].as_array().unwrap().len(), 1, "B sees only its own owner key");
    })
    .await;
}
