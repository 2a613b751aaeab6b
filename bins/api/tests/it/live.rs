//! Live mode end to end: provisioning through the real Twilio and Vapi clients, against wiremock
//! servers answering with the providers' recorded shapes (fixtures/providers).

use serde_json::{Value, json};
use switchboard_testkit::each_engine;
use wiremock::matchers::{body_string_contains, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;

pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/../../fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub(crate) fn twilio(p: &str) -> String {
    format!("/2010-04-01/Accounts/{LIVE_ACCOUNT_SID}{p}")
}

pub(crate) async fn funded_live(app: &TestApp) -> (Ws, String) {
    let ws = app.create_workspace("Live").await;
    let res = app
        .request(reqwest::Method::POST, &format!("/v1/workspaces/{}/credits", ws.id), Some(ADMIN_TOKEN))
        .json(&json!({"amount": "50.00", "reference": "live"}))
        .send()
        .await
        .unwrap();
    expect(res, 201).await;
    let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
    (ws, agent["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn provisioning_speaks_the_real_twilio_and_vapi_apis() {
    each_engine(|db| async move {
        let twilio_api = MockServer::start().await;
        let vapi_api = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(twilio("/AvailablePhoneNumbers/US/Local.json")))
            .and(header_exists("authorization"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("twilio/available_phone_numbers_us_local.json")),
            )
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST"))
            .and(path(twilio("/IncomingPhoneNumbers.json")))
            .and(body_string_contains("PhoneNumber=%2B14155550142"))
            .and(body_string_contains("SmsUrl=https%3A%2F%2Fhooks.example.com%2Ftwilio%2Fmessages"))
            .and(body_string_contains(
                "StatusCallback=https%3A%2F%2Fhooks.example.com%2Ftwilio%2Fvoice%2Fstatus",
            ))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(fixture("twilio/incoming_phone_number_created.json")),
            )
            .expect(1)
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/Channels/Senders"))
            .and(body_string_contains("whatsapp:+14155550142"))
            .respond_with(
                ResponseTemplate::new(202).set_body_json(fixture("twilio/channels_sender_created.json")),
            )
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST"))
            .and(path("/phone-number"))
            .and(body_string_contains("\"smsEnabled\":false"))
            .and(body_string_contains("https://hooks.example.com/vapi/events"))
            .respond_with(ResponseTemplate::new(201).set_body_json(fixture("vapi/phone_number_twilio.json")))
            .expect(1)
            .mount(&vapi_api)
            .await;

        let app = spawn_app_live(db, &twilio_api.uri(), &vapi_api.uri()).await;
        let (ws, agent) = funded_live(&app).await;
        let done = expect(
            app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "country": "US"})).await,
            201,
        )
        .await;
        let number = &done["number"];
        assert_eq!(number["phone_number"], "+14155550142");
        assert_eq!(number["twilio_sid"], "PN0d2c8b5e4f7a41c2b9e3a6d1f0c7b845");
        assert_eq!(number["vapi_phone_number_id"], "3f5a9c1e-7b2d-4e8f-a6c4-1d2e3f4a5b6c");
        assert_eq!(number["capabilities"]["sms"], true, "capability keys are read case-insensitively");
        assert_eq!(number["whatsapp_status"], "pending", "a CREATING sender is pending");
        assert_eq!(number["status"], "enabled");
        twilio_api.verify().await;
        vapi_api.verify().await;
    })
    .await;
}

#[tokio::test]
async fn a_refused_vapi_import_releases_the_twilio_number_again() {
    each_engine(|db| async move {
        let twilio_api = MockServer::start().await;
        let vapi_api = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(twilio("/AvailablePhoneNumbers/US/Local.json")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("twilio/available_phone_numbers_us_local.json")),
            )
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST"))
            .and(path(twilio("/IncomingPhoneNumbers.json")))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(fixture("twilio/incoming_phone_number_created.json")),
            )
            .mount(&twilio_api)
            .await;
        Mock::given(method("DELETE"))
            .and(path(twilio("/IncomingPhoneNumbers/PN0d2c8b5e4f7a41c2b9e3a6d1f0c7b845.json")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST"))
            .and(path("/phone-number"))
            .respond_with(ResponseTemplate::new(400).set_body_json(fixture("vapi/error_400.json")))
            .mount(&vapi_api)
            .await;

        let app = spawn_app_live(db, &twilio_api.uri(), &vapi_api.uri()).await;
        let (ws, agent) = funded_live(&app).await;
        expect_problem(
            app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "country": "US"})).await,
            502,
            "provider_rejected",
        )
        .await;
        twilio_api.verify().await;
        let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
        assert_eq!(wallet["balance"]["amount"], "50.00", "nothing charged");
        assert!(
            expect(app.get("/v1/numbers", &ws.owner).await, 200).await["data"].as_array().unwrap().is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_twilio_outage_during_search_is_a_clear_503() {
    each_engine(|db| async move {
        let twilio_api = MockServer::start().await;
        let vapi_api = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
            .mount(&twilio_api)
            .await;
        let app = spawn_app_live(db, &twilio_api.uri(), &vapi_api.uri()).await;
        let (ws, _) = funded_live(&app).await;
        let p = expect_problem(
            app.get("/v1/numbers/available?country=US", &ws.owner).await,
            503,
            "provider_unavailable",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("twilio"));
        assert!(!p["detail"].as_str().unwrap().contains("live-test-token"), "no secret in errors");
    })
    .await;
}

/// A single number from the test database (cast: PostgreSQL counts in `bigint`).
pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = &app.db.conn;
    let sql = format!("SELECT CAST(({sql}) AS BIGINT)");
    let row =
        conn.query_one(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Twilio's search answering the recorded US numbers.
pub(crate) async fn twilio_search(twilio_api: &MockServer) {
    Mock::given(method("GET"))
        .and(path(twilio("/AvailablePhoneNumbers/US/Local.json")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("twilio/available_phone_numbers_us_local.json")),
        )
        .mount(twilio_api)
        .await;
}

/// Nothing charged, no number recorded — neither through the API nor in the tables.
pub(crate) async fn nothing_bought(app: &TestApp, ws: &Ws) {
    let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
    assert_eq!(wallet["balance"]["amount"], "50.00", "nothing charged");
    let ledger = expect(app.get("/v1/billing/ledger", &ws.owner).await, 200).await;
    let kinds: Vec<&str> =
        ledger["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["credit"], "no rental entry: {ledger}");
    assert!(
        expect(app.get("/v1/numbers", &ws.owner).await, 200).await["data"].as_array().unwrap().is_empty()
    );
    assert_eq!(count(app, "SELECT COUNT(*) FROM numbers").await, 0, "no number row");
    assert_eq!(count(app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'rental'").await, 0);
}

#[tokio::test]
async fn a_vapi_import_timing_out_after_the_purchase_releases_the_twilio_number_again() {
    each_engine(|db| async move {
        let twilio_api = MockServer::start().await;
        let vapi_api = MockServer::start().await;
        twilio_search(&twilio_api).await;
        Mock::given(method("POST"))
            .and(path(twilio("/IncomingPhoneNumbers.json")))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(fixture("twilio/incoming_phone_number_created.json")),
            )
            .expect(1)
            .mount(&twilio_api)
            .await;
        Mock::given(method("DELETE"))
            .and(path(twilio("/IncomingPhoneNumbers/PN0d2c8b5e4f7a41c2b9e3a6d1f0c7b845.json")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&twilio_api)
            .await;
        // Vapi never answers in time: the import is tried, retried once (a timeout is transient),
        // then given up.
        Mock::given(method("POST"))
            .and(path("/phone-number"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(fixture("vapi/phone_number_twilio.json"))
                    .set_delay(std::time::Duration::from_secs(5)),
            )
            .expect(2)
            .mount(&vapi_api)
            .await;

        let timeout = std::time::Duration::from_millis(500);
        let app = spawn_app_live_timing_out(db, &twilio_api.uri(), &vapi_api.uri(), timeout).await;
        let (ws, agent) = funded_live(&app).await;
        let p = expect_problem(
            app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "country": "US"})).await,
            503,
            "provider_unavailable",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("vapi"), "{p}");
        assert!(!p.to_string().contains("vapi-live-test-key"), "no secret in errors");
        twilio_api.verify().await;
        vapi_api.verify().await;
        nothing_bought(&app, &ws).await;
    })
    .await;
}

#[tokio::test]
async fn a_twilio_purchase_answering_500_buys_nothing_charges_nothing_and_says_retry() {
    each_engine(|db| async move {
        let twilio_api = MockServer::start().await;
        let vapi_api = MockServer::start().await;
        twilio_search(&twilio_api).await;
        Mock::given(method("POST"))
            .and(path(twilio("/IncomingPhoneNumbers.json")))
            .respond_with(ResponseTemplate::new(500).set_body_json(fixture("twilio/error_20500.json")))
            .expect(1)
            .mount(&twilio_api)
            .await;
        // Nothing was bought, so nothing is imported or released.
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .expect(0)
            .mount(&twilio_api)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(0).mount(&vapi_api).await;

        let app = spawn_app_live(db, &twilio_api.uri(), &vapi_api.uri()).await;
        let (ws, agent) = funded_live(&app).await;
        let p = expect_problem(
            app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "country": "US"})).await,
            503,
            "provider_unavailable",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("twilio"), "{p}");
        assert!(!p.to_string().contains("live-test-token"), "no secret in errors");
        twilio_api.verify().await;
        vapi_api.verify().await;
        nothing_bought(&app, &ws).await;
    })
    .await;
}
