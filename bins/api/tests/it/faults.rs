//! The database going away and coming back (PostgreSQL only: SQLite is a file inside the
//! process). The app's pool goes through a [`DbProxy`] the test cuts and restores; the shared
//! server itself never stops. While it is gone every request that needs it answers a clear 503;
//! once it is back the same process serves again, with no restart.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_core::db::{DbOptions, connect};
use switchboard_testkit::{DbProxy, postgres_only};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;
use crate::live::{fixture, funded_live, nothing_bought, twilio, twilio_search};

/// Short, so the test is quick; production's is 5 s (`DbOptions::new`).
const ACQUIRE: Duration = Duration::from_secs(2);

async fn through(proxy: &DbProxy) -> sea_orm::DatabaseConnection {
    connect(&DbOptions { max_connections: 4, acquire_timeout: ACQUIRE, ..DbOptions::new(proxy.url()) })
        .await
        .unwrap()
}

/// A 503 `database_unavailable` that says to retry and names nothing internal, answered within
/// the pool's acquire timeout (plus slack for a loaded machine).
async fn unavailable(app: &TestApp, method: Method, path: &str, key: Option<&str>, body: Option<Value>) {
    let started = Instant::now();
    let mut rb = app.request(method, path, key);
    if let Some(body) = body {
        rb = rb.json(&body);
    }
    let res = rb.send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"), "{path}");
    let p = expect_problem(res, 503, "database_unavailable").await;
    assert!(took < ACQUIRE * 2 + Duration::from_secs(3), "{path} took {took:?}");
    assert_eq!(p["detail"], "the database is unavailable; retry shortly", "{path}: {p}");
    let text = p.to_string().to_lowercase();
    for internal in ["sqlx", "pool", "timed out", "127.0.0.1", "postgres", "connection", "refused"] {
        assert!(!text.contains(internal), "{path} leaks `{internal}`: {p}");
    }
}

#[tokio::test]
async fn while_the_database_is_gone_requests_answer_503_and_the_same_process_recovers() {
    let Some(db) = postgres_only("database_going_away").await else { return };
    let proxy = DbProxy::start(&db.url).await;
    let app = spawn_app_over(db, through(&proxy).await).await;
    let ws = app.create_workspace("Praxis").await;
    app.create_agent(&ws.owner, json!({"name": "Before"})).await;

    // First the server is down (connections refused), then the network to it (connections hang).
    for (fault, cut) in [("down", DbProxy::cut as fn(&DbProxy)), ("partitioned", DbProxy::partition)] {
        eprintln!("-- database {fault}");
        cut(&proxy);
        unavailable(&app, Method::GET, "/readyz", None, None).await;
        unavailable(&app, Method::GET, "/v1/agents", Some(&ws.owner), None).await;
        let during = json!({"name": format!("While {fault}")});
        unavailable(&app, Method::POST, "/v1/agents", Some(&ws.owner), Some(during)).await;
        // Liveness does not depend on the database: the orchestrator must not restart us.
        expect(app.request(Method::GET, "/healthz", None).send().await.unwrap(), 200).await;

        proxy.restore();
        let started = Instant::now();
        expect(app.request(Method::GET, "/readyz", None).send().await.unwrap(), 200).await;
        assert!(started.elapsed() < ACQUIRE, "recovered in {:?}", started.elapsed());
        app.create_agent(&ws.owner, json!({"name": format!("After {fault}")})).await;
    }

    // Nothing of the refused writes exists; everything acknowledged does, once.
    let list = expect(app.get("/v1/agents", &ws.owner).await, 200).await;
    let mut names: Vec<&str> =
        list["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["After down", "After partitioned", "Before"]);
}

/// Cuts the database the moment Twilio is asked to sell the number, then answers the sale.
struct CutOnPurchase(std::sync::Arc<DbProxy>);

impl wiremock::Respond for CutOnPurchase {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        self.0.cut();
        ResponseTemplate::new(201).set_body_json(fixture("twilio/incoming_phone_number_created.json"))
    }
}

#[tokio::test]
async fn the_database_going_away_after_the_purchase_leaves_no_number_rented_and_nothing_recorded() {
    let Some(db) = postgres_only("database_going_away_while_provisioning").await else { return };
    let proxy = std::sync::Arc::new(DbProxy::start(&db.url).await);
    let twilio_api = MockServer::start().await;
    let vapi_api = MockServer::start().await;
    twilio_search(&twilio_api).await;
    Mock::given(method("POST"))
        .and(path(twilio("/IncomingPhoneNumbers.json")))
        .respond_with(CutOnPurchase(proxy.clone()))
        .expect(1)
        .mount(&twilio_api)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/Channels/Senders"))
        .respond_with(
            ResponseTemplate::new(202).set_body_json(fixture("twilio/channels_sender_created.json")),
        )
        .mount(&twilio_api)
        .await;
    Mock::given(method("POST"))
        .and(path("/phone-number"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("vapi/phone_number_twilio.json")))
        .expect(1)
        .mount(&vapi_api)
        .await;
    // Recording failed, so both providers are undone.
    Mock::given(method("DELETE"))
        .and(path(twilio("/IncomingPhoneNumbers/PN0d2c8b5e4f7a41c2b9e3a6d1f0c7b845.json")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&twilio_api)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/phone-number/3f5a9c1e-7b2d-4e8f-a6c4-1d2e3f4a5b6c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("vapi/phone_number_twilio.json")))
        .expect(1)
        .mount(&vapi_api)
        .await;

    let conn = through(&proxy).await;
    let app = spawn_app_live_over(db, conn, &twilio_api.uri(), &vapi_api.uri(), Duration::from_secs(5)).await;
    let (ws, agent) = funded_live(&app).await;
    let res = app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "country": "US"})).await;
    let p = expect_problem(res, 503, "database_unavailable").await;
    assert_eq!(p["detail"], "the database is unavailable; retry shortly");
    twilio_api.verify().await;
    vapi_api.verify().await;

    proxy.restore();
    nothing_bought(&app, &ws).await;
}
