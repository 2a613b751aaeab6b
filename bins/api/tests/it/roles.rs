//! The permission table of SPEC §2, enforced in the services and visible over HTTP.

use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn an_agent_key_reads_but_cannot_change_agents_or_manage_keys() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent_key = app.key(&ws, "agent").await;
        let existing = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
        let path = format!("/v1/agents/{}", existing["id"].as_str().unwrap());

        expect(app.get("/v1/agents", &agent_key).await, 200).await;
        expect(app.get(&path, &agent_key).await, 200).await;

        let p = expect_problem(
            app.post("/v1/agents", &agent_key, json!({"name": "Mine"})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("agents_write"), "{p}");
        expect_problem(app.patch(&path, &agent_key, json!({"name": "x"})).await, 403, "forbidden").await;
        expect_problem(app.delete(&path, &agent_key).await, 403, "forbidden").await;

        let p = expect_problem(
            app.post("/v1/api-keys", &agent_key, json!({"name": "x", "role": "owner"})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("api_keys_manage"), "{p}");
        expect_problem(app.get("/v1/api-keys", &agent_key).await, 403, "forbidden").await;

        let after = expect(app.get("/v1/agents", &ws.owner).await, 200).await;
        assert_eq!(after["data"].as_array().unwrap().len(), 1, "a refused create created something");
        assert_eq!(after["data"][0], existing);
    })
    .await;
}

#[tokio::test]
async fn an_admin_key_changes_agents_but_only_owners_manage_keys() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let admin = app.key(&ws, "admin").await;
        let agent = app.create_agent(&admin, json!({"name": "By admin"})).await;
        expect(
            app.patch(
                &format!("/v1/agents/{}", agent["id"].as_str().unwrap()),
                &admin,
                json!({"status": "live"}),
            )
            .await,
            200,
        )
        .await;
        let p = expect_problem(
            app.post("/v1/api-keys", &admin, json!({"name": "x", "role": "agent"})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("api_keys_manage"));
    })
    .await;
}

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthenticated() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let none = app.request(reqwest::Method::GET, "/v1/agents", None).send().await.unwrap();
        assert_eq!(none.headers().get("www-authenticate").unwrap(), "Bearer");
        expect_problem(none, 401, "unauthenticated").await;
        expect_problem(
            app.get("/v1/agents", "sk_notarealkeynotarealkeynotarealkey1234").await,
            401,
            "invalid_api_key",
        )
        .await;
        expect_problem(app.get("/v1/agents", "garbage").await, 401, "invalid_api_key").await;
    })
    .await;
}
