//! Wallet, ledger and the admin's credits over HTTP.

use reqwest::Method;
use serde_json::json;
use switchboard_testkit::each_engine;

use crate::harness::*;

#[tokio::test]
async fn the_admin_credits_a_wallet_once_per_reference() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let path = format!("/v1/workspaces/{}/credits", ws.id);
        let credit =
            |body: serde_json::Value| app.request(Method::POST, &path, Some(ADMIN_TOKEN)).json(&body).send();

        let first =
            expect(credit(json!({"amount": "100.00", "reference": "inv-1"})).await.unwrap(), 201).await;
        assert_eq!(first["kind"], "credit");
        assert_eq!(first["amount"], json!({"amount": "100.00", "currency": "EUR"}));
        let again =
            expect(credit(json!({"amount": "100.00", "reference": "inv-1"})).await.unwrap(), 200).await;
        assert_eq!(again, first, "a repeated reference answers the first entry");
        expect_problem(
            credit(json!({"amount": "5.00", "reference": "inv-1"})).await.unwrap(),
            409,
            "reference_reused",
        )
        .await;

        let p = expect_problem(
            credit(json!({"amount": "0", "reference": "inv-2"})).await.unwrap(),
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["amount"]);
        let p = expect_problem(
            credit(json!({"amount": 100.5, "reference": "inv-2"})).await.unwrap(),
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["amount"], "a JSON number is not an exact amount");
        let p = expect_problem(
            credit(json!({"amount": "1.23456", "reference": "inv-2"})).await.unwrap(),
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["amount"]);

        let unknown = app
            .request(Method::POST, "/v1/workspaces/ws_01jd3kq7z8m2v5x9c4b6n0p1r8/credits", Some(ADMIN_TOKEN))
            .json(&json!({"amount": "1", "reference": "x"}))
            .send()
            .await
            .unwrap();
        expect_problem(unknown, 404, "not_found").await;
        let by_owner = app
            .request(Method::POST, &path, Some(&ws.owner))
            .json(&json!({"amount": "1", "reference": "x"}))
            .send()
            .await
            .unwrap();
        expect_problem(by_owner, 401, "invalid_admin_token").await;

        let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
        assert_eq!(wallet["balance"], json!({"amount": "100.00", "currency": "EUR"}));
        let ledger = expect(app.get("/v1/billing/ledger", &ws.owner).await, 200).await;
        assert_eq!(ledger["data"].as_array().unwrap().len(), 1);
        assert_eq!(ledger["data"][0]["id"], first["id"]);
    })
    .await;
}

#[tokio::test]
async fn billing_is_for_owners_and_admins_and_stays_in_its_workspace() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let a = app.create_workspace("A").await;
        let b = app.create_workspace("B").await;
        let path = format!("/v1/workspaces/{}/credits", a.id);
        app.request(Method::POST, &path, Some(ADMIN_TOKEN))
            .json(&json!({"amount": "10", "reference": "r"}))
            .send()
            .await
            .unwrap();

        let agent = app.key(&a, "agent").await;
        let p = expect_problem(app.get("/v1/billing/wallet", &agent).await, 403, "forbidden").await;
        assert!(p["detail"].as_str().unwrap().contains("billing_read"));
        expect_problem(app.get("/v1/billing/ledger", &agent).await, 403, "forbidden").await;
        let admin = app.key(&a, "admin").await;
        assert_eq!(
            expect(app.get("/v1/billing/wallet", &admin).await, 200).await["balance"]["amount"],
            "10.00"
        );

        assert_eq!(
            expect(app.get("/v1/billing/wallet", &b.owner).await, 200).await["balance"]["amount"],
            "0.00"
        );
        assert!(
            expect(app.get("/v1/billing/ledger", &b.owner).await, 200).await["data"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

/// The month's cost overview: a provisioned number's first rental, an SMS within the free tier,
/// and the rules on who may read it and how the period is written.
#[tokio::test]
async fn the_usage_report_shows_rentals_and_usage_of_the_month() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let credit = app
            .request(Method::POST, &format!("/v1/workspaces/{}/credits", ws.id), Some(ADMIN_TOKEN))
            .json(&json!({"amount": "20.00", "reference": "topup"}))
            .send()
            .await
            .unwrap();
        expect(credit, 201).await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
        let number = expect(
            app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent["id"], "area_code": "30"})).await,
            201,
        )
        .await;
        let phone =
            switchboard_core::E164::parse(number["number"]["phone_number"].as_str().unwrap()).unwrap();
        let (_, meter) = app.state.numbers.meter_by_phone(&phone).await.unwrap().unwrap();
        let sms = app.state.usage.admit_sms(&meter, "SM-report-1", chrono::Utc::now()).await.unwrap();
        assert!(matches!(sms, switchboard_billing::SmsDecision::Admitted(a) if a.free));

        let report = expect(app.get("/v1/billing/usage", &ws.owner).await, 200).await;
        assert_eq!(report["rentals"], json!({"count": 1, "amount": {"amount": "1.50", "currency": "EUR"}}));
        assert_eq!(report["sms"]["used"], 1);
        assert_eq!(report["sms"]["free"], 1);
        assert_eq!(report["sms"]["billable"], 0);
        assert_eq!(report["total"], json!({"amount": "1.50", "currency": "EUR"}));
        assert_eq!(report["free_tier"], json!({"minutes": 60, "sms": 100}));
        assert_eq!(report["numbers"][0]["number_id"], number["number"]["id"]);
        let period = report["period"].as_str().unwrap().to_owned();
        let same = expect(app.get(&format!("/v1/billing/usage?period={period}"), &ws.owner).await, 200).await;
        assert_eq!(same, report);
        let empty = expect(app.get("/v1/billing/usage?period=2020-01", &ws.owner).await, 200).await;
        assert_eq!(empty["total"]["amount"], "0.00");

        let p = expect_problem(
            app.get("/v1/billing/usage?period=2026-13", &ws.owner).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["period"]);
        let agent_key = app.key(&ws, "agent").await;
        expect_problem(app.get("/v1/billing/usage", &agent_key).await, 403, "forbidden").await;
    })
    .await;
}
