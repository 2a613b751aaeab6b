//! Bad input always gets a precise 4xx problem — never a 5xx.

use reqwest::Method;
use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn malformed_wrong_unknown_and_oversize_input_get_precise_4xx() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let key = ws.owner.as_str();
        let raw = |body: &'static str| {
            app.request(Method::POST, "/v1/agents", Some(key))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };

        let p = expect_problem(raw("{\"name\": \"x\",").await.unwrap(), 400, "malformed_json").await;
        assert!(p["detail"].as_str().unwrap().contains("line 1"), "{p}");
        expect_problem(raw("{\"name\": \"x\"} trailing").await.unwrap(), 400, "malformed_json").await;
        expect_problem(raw("").await.unwrap(), 400, "malformed_json").await;

        let p = expect_problem(raw("{\"name\": 42}").await.unwrap(), 422, "validation_failed").await;
        assert_eq!(fields(&p), ["name"]);
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("expected a string"), "{p}");

        let p = expect_problem(raw("[1, 2]").await.unwrap(), 422, "validation_failed").await;
        assert_eq!(fields(&p), ["body"]);

        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x", "status": "zombie"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["status"]);
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains("draft"),
            "lists the allowed values: {p}"
        );

        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x", "language": "xx"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["language"]);

        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x", "timezone": "Mars/Olympus"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["timezone"]);
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("IANA"), "{p}");

        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x", "colour": "red"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["colour"]);

        let p = expect_problem(app.post("/v1/agents", key, json!({})).await, 422, "validation_failed").await;
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("name"), "{p}");

        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x".repeat(121)})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["name"]);
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("120"));
        expect_problem(app.post("/v1/agents", key, json!({"name": "   "})).await, 422, "validation_failed")
            .await;
        expect_problem(
            app.post("/v1/agents", key, json!({"name": "two\nlines"})).await,
            422,
            "validation_failed",
        )
        .await;
        // 120 characters (not bytes) is fine.
        expect(app.post("/v1/agents", key, json!({"name": "ü".repeat(120)})).await, 201).await;

        let big = json!({"name": "x", "pad": "y".repeat(BODY_LIMIT)});
        expect_problem(app.post("/v1/agents", key, big).await, 413, "body_too_large").await;

        let no_type =
            app.request(Method::POST, "/v1/agents", Some(key)).body("{\"name\":\"x\"}").send().await.unwrap();
        expect_problem(no_type, 415, "unsupported_media_type").await;
        let form = app
            .request(Method::POST, "/v1/agents", Some(key))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=x")
            .send()
            .await
            .unwrap();
        expect_problem(form, 415, "unsupported_media_type").await;

        // Nothing but the one valid agent was created.
        let list = expect(app.get("/v1/agents", key).await, 200).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn bad_query_parameters_name_the_parameter() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=ten", "limit"),
            ("cursor=not-a-cursor", "cursor"),
            ("status=zombie", "status"),
            ("colour=red", "query"),
        ] {
            let p = expect_problem(
                app.get(&format!("/v1/agents?{query}"), &ws.owner).await,
                422,
                "validation_failed",
            )
            .await;
            let got = fields(&p);
            assert!(got == [field] || (field == "query" && got.len() == 1), "{query}: {p}");
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_methods_and_malformed_ids_are_clean_4xx() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        expect_problem(app.get("/v1/nothing-here", &ws.owner).await, 404, "route_not_found").await;
        expect_problem(app.get("/v1/agents/not-an-id", &ws.owner).await, 404, "not_found").await;
        expect_problem(
            app.get("/v1/agents/ws_01jd3kq7z8m2v5x9c4b6n0p1r8", &ws.owner).await,
            404,
            "not_found",
        )
        .await;
        let put = app.request(Method::PUT, "/v1/agents", Some(&ws.owner)).send().await.unwrap();
        expect_problem(put, 405, "method_not_allowed").await;
    })
    .await;
}

/// Found by schemathesis (`just fuzz-api`): a reply body with `\u0000` was a 500 on PostgreSQL
/// (text cannot hold NUL) and stored on SQLite. Now every engine answers 422 naming the field,
/// for bodies and query parameters alike, and nothing is stored.
#[tokio::test]
async fn a_nul_character_is_a_422_naming_the_field_on_every_engine() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let key = ws.owner.as_str();
        let credit = app
            .request(Method::POST, &format!("/v1/workspaces/{}/credits", ws.id), Some(ADMIN_TOKEN))
            .json(&json!({"amount": "20.00", "reference": "topup"}))
            .send()
            .await
            .unwrap();
        expect(credit, 201).await;
        let agent = app.create_agent(key, json!({"name": "Reception", "status": "live"})).await;
        let number = expect(
            app.post("/v1/numbers", key, json!({"agent_id": agent["id"], "area_code": "30"})).await,
            201,
        )
        .await;
        let started = app
            .post(
                "/v1/conversations",
                key,
                json!({"channel": "sms", "contact": "+4915112345678", "number_id": number["number"]["id"]}),
            )
            .await;
        let conversation = expect(started, 201).await;
        let send = format!("/v1/conversations/{}/messages", conversation["id"].as_str().unwrap());

        let p = expect_problem(
            app.post(&send, key, json!({"body": "hi\u{0}there"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["body"]);
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("NUL"), "{p}");
        let p = expect_problem(
            app.post("/v1/agents", key, json!({"name": "x", "timezone": "Europe/Berlin\u{0}"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["timezone"]);
        let p = expect_problem(app.get("/v1/opt-outs?contact=%2B49%00", key).await, 422, "validation_failed")
            .await;
        assert_eq!(fields(&p), ["contact"]);

        // The refused reply was not stored; a clean one still goes out.
        expect(app.post(&send, key, json!({"body": "hi there"})).await, 201).await;
    })
    .await;
}
