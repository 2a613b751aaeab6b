use reqwest::Method;
use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn the_admin_creates_a_workspace_and_its_owner_key_works() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        assert!(ws.id.starts_with("ws_"));
        assert!(ws.owner.starts_with("sk_"));
        let me = expect(app.get("/v1/workspace", &ws.owner).await, 200).await;
        assert_eq!(me["id"], ws.id);
        assert_eq!(me["name"], "Acme");
        assert_eq!(me["timezone"], "Europe/Berlin");
    })
    .await;
}

#[tokio::test]
async fn workspace_creation_needs_the_admin_token() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let body = json!({"name": "Acme"});
        let none = app.request(Method::POST, "/v1/workspaces", None).json(&body).send().await.unwrap();
        expect_problem(none, 401, "invalid_admin_token").await;
        let wrong = app
            .request(Method::POST, "/v1/workspaces", Some("not-the-admin-token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_problem(wrong, 401, "invalid_admin_token").await;
        // An owner key of a workspace is not the admin token either.
        let ws = app.create_workspace("Acme").await;
        let owner =
            app.request(Method::POST, "/v1/workspaces", Some(&ws.owner)).json(&body).send().await.unwrap();
        expect_problem(owner, 401, "invalid_admin_token").await;
    })
    .await;
}

#[tokio::test]
async fn the_admin_api_is_off_without_a_configured_token() {
    each_engine(|db| async move {
        let app = spawn_app_with(db, &[]).await;
        let res = app
            .request(Method::POST, "/v1/workspaces", Some("anything-at-all-long"))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(res, 403, "admin_api_disabled").await;
        assert!(problem["detail"].as_str().unwrap().contains("APP__AUTH__ADMIN_TOKEN"));
    })
    .await;
}

#[tokio::test]
async fn the_demo_workspace_is_seeded_once_even_when_starts_race() {
    each_engine(|db| async move {
        let tenancy = switchboard_tenancy::TenancyService::new(db.conn.clone());
        let agents = switchboard_agents::AgentService::new(db.conn.clone(), tenancy.clone());
        let billing = switchboard_billing::BillingService::new(
            db.conn.clone(),
            std::sync::Arc::new(switchboard_billing::PriceList::embedded().unwrap()),
            switchboard_core::Currency::EUR,
        );
        let runs: Vec<_> = (0..5)
            .map(|_| {
                let (t, a, b) = (tenancy.clone(), agents.clone(), billing.clone());
                tokio::spawn(async move { switchboard_api::seed::seed_once(&t, &a, &b).await.unwrap() })
            })
            .collect();
        let mut seeded = Vec::new();
        for run in runs {
            if let Some(s) = run.await.unwrap() {
                seeded.push(s);
            }
        }
        assert_eq!(seeded.len(), 1, "the demo workspace must be seeded exactly once");
        assert!(
            switchboard_api::seed::seed_once(&tenancy, &agents, &billing).await.unwrap().is_none(),
            "a restart seeds again"
        );
        // The printed key really is the owner key of a workspace holding the fixture's agents.
        let app = spawn_app(db).await;
        let list = expect(app.get("/v1/agents", &seeded[0].owner_key.key).await, 200).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 3);
        assert_eq!(list["data"][0]["name"], "Reception");
        // The demo wallet is credited once, so a number can be provisioned at once.
        let wallet = expect(app.get("/v1/billing/wallet", &seeded[0].owner_key.key).await, 200).await;
        assert_eq!(wallet["balance"]["amount"], "50.00");
        let reception = list["data"][0]["id"].as_str().unwrap();
        let done = expect(
            app.post("/v1/numbers", &seeded[0].owner_key.key, serde_json::json!({"agent_id": reception}))
                .await,
            201,
        )
        .await;
        assert_eq!(done["number"]["status"], "enabled");
    })
    .await;
}
