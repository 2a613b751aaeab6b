//! Operational endpoints and the generated API description.

use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn health_readiness_metrics_and_request_ids() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let get = |p: &'static str| app.request(reqwest::Method::GET, p, None).send();
        assert_eq!(expect(get("/healthz").await.unwrap(), 200).await["status"], "ok");
        assert_eq!(expect(get("/readyz").await.unwrap(), 200).await["status"], "ready");

        let echoed = app
            .request(reqwest::Method::GET, "/healthz", None)
            .header("x-request-id", "trace-abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
        let made = get("/healthz").await.unwrap();
        assert!(made.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
        let hostile = app
            .request(reqwest::Method::GET, "/healthz", None)
            .header("x-request-id", "<script>")
            .send()
            .await
            .unwrap();
        assert!(
            hostile.headers()["x-request-id"].to_str().unwrap().starts_with("req_"),
            "unsafe ids are replaced"
        );

        let metrics = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(metrics.contains("http_requests_total"), "{metrics}");
        assert!(metrics.contains("path=\"/healthz\""), "{metrics}");
    })
    .await;
}

#[tokio::test]
async fn readiness_fails_with_503_when_the_database_is_gone() {
    let db = switchboard_testkit::fresh(switchboard_core::db::Engine::Sqlite).await;
    let conn = db.conn.clone();
    let app = spawn_app(db).await;
    conn.close().await.unwrap();
    let res = app.request(reqwest::Method::GET, "/readyz", None).send().await.unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    expect_problem(res, 503, "database_unavailable").await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_docs_render_it() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let doc =
            expect(app.request(reqwest::Method::GET, "/openapi.json", None).send().await.unwrap(), 200).await;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        for (path, method) in [
            ("/v1/workspaces", "post"),
            ("/v1/workspace", "get"),
            ("/v1/api-keys", "get"),
            ("/v1/api-keys", "post"),
            ("/v1/api-keys/{id}", "delete"),
            ("/v1/agents", "get"),
            ("/v1/agents", "post"),
            ("/v1/agents/{id}", "get"),
            ("/v1/agents/{id}", "patch"),
            ("/v1/agents/{id}", "delete"),
            ("/v1/workspaces/{id}/credits", "post"),
            ("/v1/billing/wallet", "get"),
            ("/v1/billing/ledger", "get"),
            ("/v1/numbers/available", "get"),
            ("/v1/numbers", "get"),
            ("/v1/numbers", "post"),
            ("/v1/numbers/{id}", "get"),
            ("/v1/numbers/{id}", "patch"),
            ("/v1/numbers/{id}", "delete"),
            ("/v1/numbers/{id}/reconfigure-webhooks", "post"),
            ("/v1/agents/{id}/phone-lines", "post"),
            ("/v1/agents/{id}/phone-lines/{line_id}", "patch"),
            ("/v1/agents/{id}/forwarding-targets", "post"),
            ("/v1/agents/{id}/forwarding-targets/available", "get"),
            ("/v1/agents/{id}/forwarding-targets/resolve", "post"),
            ("/v1/agents/{id}/channels", "get"),
            ("/v1/agents/{id}/channels", "patch"),
            ("/v1/agents/{id}/email", "get"),
            ("/v1/agents/{id}/email/verify", "post"),
            ("/healthz", "get"),
            ("/readyz", "get"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} is not documented");
        }
        for schema in
            ["Agent", "NewAgent", "AgentPatch", "Problem", "FieldError", "IssuedApiKey", "CreatedWorkspace"]
        {
            assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
        }
        assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
        let docs = app.request(reqwest::Method::GET, "/docs", None).send().await.unwrap();
        assert_eq!(docs.status(), 200);
        assert!(docs.text().await.unwrap().to_lowercase().contains("<html"));
    })
    .await;
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = switchboard_api::openapi_document().to_pretty_json().unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim() == generated.trim(),
        "docs/openapi.json is out of date with the code: run `just openapi` (or \
         `cargo run -p switchboard-api -- openapi > docs/openapi.json`)"
    );
}

/// Found by schemathesis (`just fuzz-api`): statuses the API answers that the document did not
/// list — 401 on every authenticated operation, 400/413/415 on every JSON body, 404 for every
/// path id, 422 for query parameters, and 409 `agent_in_use` when deleting an agent.
#[test]
fn every_status_the_shared_plumbing_answers_is_documented() {
    let doc = serde_json::to_value(switchboard_api::openapi_document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let has = |status: &str| op["responses"][status].is_object();
            let at =
                |place: &str| op["parameters"].as_array().into_iter().flatten().any(|p| p["in"] == place);
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(has("401"), secured, "{method} {path}: 401 iff authenticated");
            if op["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{method} {path}: JSON body without {status}");
                }
            }
            if at("path") {
                assert!(has("404"), "{method} {path}: path id without 404");
            }
            if at("query") {
                assert!(has("422"), "{method} {path}: query parameters without 422");
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} operations");
    let resolved = &doc["components"]["responses"]["Unauthenticated"]["content"]["application/problem+json"];
    assert_eq!(resolved["schema"]["$ref"], "#/components/schemas/Problem");
    assert!(doc["paths"]["/v1/agents/{id}"]["delete"]["responses"]["409"].is_object());
}
