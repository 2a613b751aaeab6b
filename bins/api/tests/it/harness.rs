//! `spawn_app`: the real router on 127.0.0.1:0 over a test database, plus small request helpers.

use std::collections::HashMap;
use std::path::Path;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use switchboard_api::{AppState, app, serve};
use switchboard_runtime::{Binary, Settings};
use switchboard_testkit::TestDb;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const BODY_LIMIT: usize = 16 * 1024;

pub struct TestApp {
    pub base: String,
    /// The sandbox behind this app, to look at what the providers saw (unused in live mode).
    pub sandbox: switchboard_providers::Sandbox,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// The services behind the router, for what only webhooks or jobs would do.
    pub state: AppState,
}

/// A workspace made through the admin API, with its owner key.
pub struct Ws {
    pub id: String,
    pub owner: String,
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, &[("APP__AUTH__ADMIN_TOKEN", ADMIN_TOKEN)]).await
}

pub async fn spawn_app_with(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    let sandbox = switchboard_providers::Sandbox::embedded().unwrap();
    let providers =
        switchboard_api::ProviderSet::sandbox(sandbox.clone(), switchboard_providers::SandboxSes::new());
    let conn = db.conn.clone();
    start(db, conn, extra, Some(providers), sandbox).await
}

/// The sandbox app serving from `conn` (e.g. a pool through a [`switchboard_testkit::DbProxy`])
/// instead of the test database's own pool; `db` stays the direct way to look at the rows.
pub async fn spawn_app_over(db: TestDb, conn: sea_orm::DatabaseConnection) -> TestApp {
    let sandbox = switchboard_providers::Sandbox::embedded().unwrap();
    let providers =
        switchboard_api::ProviderSet::sandbox(sandbox.clone(), switchboard_providers::SandboxSes::new());
    start(db, conn, &[("APP__AUTH__ADMIN_TOKEN", ADMIN_TOKEN)], Some(providers), sandbox).await
}

/// The app in live mode: the real Twilio and Vapi clients, pointed at local fakes.
pub async fn spawn_app_live(db: TestDb, twilio_base: &str, vapi_base: &str) -> TestApp {
    spawn_app_live_with(db, twilio_base, vapi_base, &[]).await
}

/// [`spawn_app_live`] with more settings (e.g. `APP__META__GRAPH_BASE_URL`).
pub async fn spawn_app_live_with(
    db: TestDb,
    twilio_base: &str,
    vapi_base: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut env = vec![
        ("APP__AUTH__ADMIN_TOKEN", ADMIN_TOKEN),
        ("APP__PROVIDERS__MODE", "live"),
        ("APP__PUBLIC_BASE_URL", "https://hooks.example.com"),
        ("APP__SECRETS__ENCRYPTION_KEY", "c3dpdGNoYm9hcmQtbGl2ZS10ZXN0LWtleS0wMDAwMDE="),
        ("APP__TWILIO__BASE_URL", twilio_base),
        ("APP__TWILIO__MESSAGING_BASE_URL", twilio_base),
        ("APP__TWILIO__ACCOUNT_SID", LIVE_ACCOUNT_SID),
        ("APP__TWILIO__AUTH_TOKEN", "live-test-token"),
        ("APP__VAPI__BASE_URL", vapi_base),
        ("APP__VAPI__API_KEY", "vapi-live-test-key"),
        ("APP__VAPI__SERVER_SECRET", "vapi-live-test-secret"),
        ("APP__SES__REGION", "eu-central-1"),
    ];
    env.extend_from_slice(extra);
    // The providers exactly as the binary builds them from the settings.
    let conn = db.conn.clone();
    start(db, conn, &env, None, switchboard_providers::Sandbox::embedded().unwrap()).await
}

/// [`spawn_app_live`] with the Twilio and Vapi clients timing out after `timeout` (production:
/// 10 s), so a provider that never answers is quick to test.
pub async fn spawn_app_live_timing_out(
    db: TestDb,
    twilio_base: &str,
    vapi_base: &str,
    timeout: std::time::Duration,
) -> TestApp {
    let conn = db.conn.clone();
    spawn_app_live_over(db, conn, twilio_base, vapi_base, timeout).await
}

/// [`spawn_app_live_timing_out`] serving from `conn` (see [`spawn_app_over`]).
pub async fn spawn_app_live_over(
    db: TestDb,
    conn: sea_orm::DatabaseConnection,
    twilio_base: &str,
    vapi_base: &str,
    timeout: std::time::Duration,
) -> TestApp {
    use secrecy::SecretString;
    let numbers = switchboard_providers::live(
        switchboard_providers::TwilioConfig {
            base_url: twilio_base.into(),
            messaging_base_url: twilio_base.into(),
            account_sid: LIVE_ACCOUNT_SID.into(),
            auth_token: SecretString::from("live-test-token"),
            timeout,
        },
        switchboard_providers::VapiConfig {
            base_url: vapi_base.into(),
            api_key: SecretString::from("vapi-live-test-key"),
            twilio_account_sid: LIVE_ACCOUNT_SID.into(),
            twilio_auth_token: SecretString::from("live-test-token"),
            server_secret: SecretString::from("vapi-live-test-secret"),
            timeout,
        },
    )
    .unwrap();
    let sandbox = switchboard_providers::Sandbox::embedded().unwrap();
    let mut providers =
        switchboard_api::ProviderSet::sandbox(sandbox.clone(), switchboard_providers::SandboxSes::new());
    providers.numbers = numbers;
    let env =
        [("APP__AUTH__ADMIN_TOKEN", ADMIN_TOKEN), ("APP__PUBLIC_BASE_URL", "https://hooks.example.com")];
    start(db, conn, &env, Some(providers), sandbox).await
}

pub const LIVE_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";

async fn start(
    db: TestDb,
    conn: sea_orm::DatabaseConnection,
    extra: &[(&str, &str)],
    providers: Option<switchboard_api::ProviderSet>,
    sandbox: switchboard_providers::Sandbox,
) -> TestApp {
    // Server-side errors show up in the output of a failing test.
    switchboard_runtime::telemetry::init(&switchboard_runtime::settings::LogSettings {
        format: switchboard_runtime::settings::LogFormat::Pretty,
        filter: "warn".into(),
    });
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP__DATABASE__URL".into(), db.url.clone()),
        ("APP__HTTP__BODY_LIMIT_BYTES".into(), BODY_LIMIT.to_string()),
    ]);
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let settings = Settings::load_from(Binary::Api, &env, Path::new("/nonexistent")).expect("test settings");
    let providers = match providers {
        Some(p) => p,
        None => switchboard_api::provider_set_for(&settings).unwrap(),
    };
    let state = AppState::new(conn, settings, switchboard_billing::PriceList::embedded().unwrap(), providers);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app(state.clone()), std::future::pending()));
    TestApp { base, sandbox, client: reqwest::Client::new(), db, state }
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match key {
            Some(k) => rb.bearer_auth(k),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.request(Method::GET, path, Some(key)).send().await.unwrap()
    }

    pub async fn send_json(&self, method: Method, path: &str, key: &str, body: Value) -> Response {
        self.request(method, path, Some(key)).json(&body).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Response {
        self.send_json(Method::POST, path, key, body).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Response {
        self.send_json(Method::PATCH, path, key, body).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Response {
        self.request(Method::DELETE, path, Some(key)).send().await.unwrap()
    }

    pub async fn create_workspace(&self, name: &str) -> Ws {
        let res = self
            .request(Method::POST, "/v1/workspaces", Some(ADMIN_TOKEN))
            .json(&json!({"name": name, "timezone": "Europe/Berlin"}))
            .send()
            .await
            .unwrap();
        let body = expect(res, 201).await;
        assert_eq!(body["api_key"]["role"], "owner");
        Ws {
            id: body["workspace"]["id"].as_str().unwrap().to_owned(),
            owner: body["api_key"]["key"].as_str().unwrap().to_owned(),
        }
    }

    /// Issues a key of `role` in `ws` with the owner key.
    pub async fn key(&self, ws: &Ws, role: &str) -> String {
        let body = expect(
            self.post("/v1/api-keys", &ws.owner, json!({"name": format!("{role} key"), "role": role})).await,
            201,
        )
        .await;
        body["key"].as_str().unwrap().to_owned()
    }

    pub async fn create_agent(&self, key: &str, body: Value) -> Value {
        expect(self.post("/v1/agents", key, body).await, 201).await
    }
}

/// Asserts the status and returns the JSON body (null for an empty body).
pub async fn expect(res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// Asserts a problem+json answer with `status` and `code`, and returns it.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Value {
    let content_type =
        res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let request_id = res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = expect(res, status).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("urn:switchboard:problem:{code}"));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    assert_eq!(body["request_id"].as_str(), request_id.as_deref(), "request id in body and header differ");
    body
}

/// The field names of a 422's `errors`.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}
