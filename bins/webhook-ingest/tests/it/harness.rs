//! `spawn`: the real ingest router on 127.0.0.1:0 over a test database, a workspace to route
//! to, and requests signed the way each provider signs them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Response;
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use switchboard_agents::AgentService;
use switchboard_core::{AgentId, Ctx, NumberId, WorkspaceId};
use switchboard_inbound::{EventKind, EventRecord, EventState, Provider, store};
use switchboard_runtime::{Binary, Settings};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::TestDb;
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_webhook_auth::CertificateError;
use switchboard_webhook_auth::sns::{CertificateSource, SnsVerifier, SubscriptionConfirmer};
use switchboard_webhook_ingest::{IngestState, Parts, app};
use url::Url;

pub const PUBLIC_BASE: &str = "https://hooks.example.com";
pub const TWILIO_TOKEN: &str = "ingest-test-twilio-token";
pub const VAPI_SECRET: &str = "ingest-test-vapi-secret";
pub const META_SECRET: &str = "ingest-test-meta-app-secret";
pub const META_VERIFY: &str = "ingest-test-meta-verify-token";
pub const SNS_TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:switchboard-ses-feedback";
pub const SNS_CERT_URL: &str =
    "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-6209c161c6221fdf56ec1eb5c821d112.pem";
pub const BODY_LIMIT: usize = 16 * 1024;

/// The fixtures of `fixtures/providers/` and the SNS ones of webhook-auth.
pub mod fixtures {
    pub const INBOUND_SMS: &str =
        include_str!("../../../../fixtures/providers/twilio/webhooks/inbound_sms.json");
    pub const INBOUND_WHATSAPP: &str =
        include_str!("../../../../fixtures/providers/twilio/webhooks/inbound_whatsapp.json");
    pub const STATUS_21610: &str =
        include_str!("../../../../fixtures/providers/twilio/webhooks/message_status_undelivered_21610.json");
    pub const STATUS_DELIVERED: &str =
        include_str!("../../../../fixtures/providers/twilio/webhooks/message_status_delivered.json");
    pub const CALL_COMPLETED: &str =
        include_str!("../../../../fixtures/providers/twilio/webhooks/call_status_completed.json");
    pub const ASSISTANT_REQUEST: &str =
        include_str!("../../../../fixtures/providers/vapi/server/assistant_request.json");
    pub const END_OF_CALL: &str =
        include_str!("../../../../fixtures/providers/vapi/server/end_of_call_report.json");
    pub const TRANSFER_REQUEST: &str =
        include_str!("../../../../fixtures/providers/vapi/server/transfer_destination_request.json");
    pub const STATUS_UPDATE: &str =
        include_str!("../../../../fixtures/providers/vapi/server/status_update.json");
    pub const META_TEXT: &str = include_str!("../../../../fixtures/providers/meta/webhook_text_message.json");
    pub const META_STATUSES: &str =
        include_str!("../../../../fixtures/providers/meta/webhook_status_read.json");
    pub const SNS_BOUNCE: &str =
        include_str!("../../../../crates/webhook-auth/tests/fixtures/ses-bounce-notification-v1.json");
    pub const SNS_COMPLAINT: &str =
        include_str!("../../../../crates/webhook-auth/tests/fixtures/ses-complaint-notification-v2.json");
    pub const SNS_SUBSCRIPTION: &str =
        include_str!("../../../../crates/webhook-auth/tests/fixtures/subscription-confirmation-v2.json");
    pub const SNS_CERT: &str =
        include_str!("../../../../crates/webhook-auth/tests/fixtures/signing-cert.pem");
}

/// Serves the committed SNS certificate for its URL.
pub struct FakeCertificates;

#[async_trait::async_trait]
impl CertificateSource for FakeCertificates {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, CertificateError> {
        if url.as_str() == SNS_CERT_URL {
            Ok(fixtures::SNS_CERT.as_bytes().to_vec())
        } else {
            Err(CertificateError::new("404 Not Found"))
        }
    }
}

/// Records the subscriptions it was asked to confirm.
#[derive(Default)]
pub struct FakeConfirmer {
    pub confirmed: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl SubscriptionConfirmer for FakeConfirmer {
    async fn confirm(&self, subscribe_url: &str) -> Result<(), CertificateError> {
        self.confirmed.lock().unwrap().push(subscribe_url.to_owned());
        Ok(())
    }
}

pub struct Ingest {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub state: IngestState,
    pub confirmer: Arc<FakeConfirmer>,
}

/// The settings of a test ingest, with `extra` keys on top.
pub fn settings(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP__DATABASE__URL".into(), db.url.clone()),
        ("APP__PUBLIC_BASE_URL".into(), PUBLIC_BASE.into()),
        ("APP__TWILIO__AUTH_TOKEN".into(), TWILIO_TOKEN.into()),
        ("APP__VAPI__SERVER_SECRET".into(), VAPI_SECRET.into()),
        ("APP__META__APP_SECRET".into(), META_SECRET.into()),
        ("APP__META__VERIFY_TOKEN".into(), META_VERIFY.into()),
        ("APP__SES__SNS_TOPIC_ARNS".into(), SNS_TOPIC.into()),
        ("APP__HTTP__BODY_LIMIT_BYTES".into(), BODY_LIMIT.to_string()),
    ]);
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Settings::load_from(Binary::WebhookIngest, &env, Path::new("/nonexistent")).expect("test settings")
}

pub async fn spawn(db: TestDb) -> Ingest {
    spawn_with(db, &[]).await
}

pub async fn spawn_with(db: TestDb, extra: &[(&str, &str)]) -> Ingest {
    let conn = db.conn.clone();
    spawn_over_with(db, conn, extra).await
}

/// The ingest serving from `conn` (e.g. a pool through a [`switchboard_testkit::DbProxy`])
/// instead of the test database's own pool; `db` stays the direct way to look at the rows.
pub async fn spawn_over(db: TestDb, conn: sea_orm::DatabaseConnection) -> Ingest {
    spawn_over_with(db, conn, &[]).await
}

async fn spawn_over_with(db: TestDb, conn: sea_orm::DatabaseConnection, extra: &[(&str, &str)]) -> Ingest {
    switchboard_runtime::telemetry::init(&switchboard_runtime::settings::LogSettings {
        format: switchboard_runtime::settings::LogFormat::Pretty,
        filter: "warn".into(),
    });
    let settings = settings(&db, extra);
    let confirmer = Arc::new(FakeConfirmer::default());
    let (mut state, _workers) = IngestState::new(
        conn,
        &settings,
        Parts {
            prices: switchboard_billing::PriceList::embedded().unwrap(),
            numbers: switchboard_providers::sandbox(switchboard_providers::Sandbox::embedded().unwrap()),
            certificates: Arc::new(FakeCertificates),
            confirmer: confirmer.clone(),
        },
    );
    // The SNS fixtures carry fixed timestamps; their age is not what these tests are about.
    state.sns = SnsVerifier::new(Arc::new(FakeCertificates), [SNS_TOPIC]).max_age(None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ingest { base, client: reqwest::Client::new(), db, state, confirmer }
}

/// Twilio's form parameters from a fixture, with some replaced.
pub fn twilio_params(fixture: &str, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let map: Map<String, Value> = serde_json::from_str(fixture).unwrap();
    let mut params: Vec<(String, String)> =
        map.into_iter().map(|(k, v)| (k, v.as_str().unwrap().to_owned())).collect();
    for (name, value) in overrides {
        match params.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = (*value).to_owned(),
            None => params.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    params
}

/// `value` with its string fields at `pointer` paths replaced (Vapi and Meta fixtures).
pub fn edit_json(fixture: &str, edits: &[(&str, Value)]) -> Value {
    let mut json: Value = serde_json::from_str(fixture).unwrap();
    for (pointer, value) in edits {
        *json.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in fixture")) = value.clone();
    }
    json
}

pub fn form_body(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish()
}

impl Ingest {
    /// POSTs `params` form-encoded to `path`, signed as Twilio signs (over the public URL).
    pub async fn twilio(&self, path: &str, params: &[(String, String)]) -> Response {
        let url = switchboard_webhook_auth::twilio::request_url(PUBLIC_BASE, path);
        let signature =
            switchboard_webhook_auth::twilio::signature(&SecretString::from(TWILIO_TOKEN), &url, params);
        self.twilio_signed(path, params, Some(&signature)).await
    }

    pub async fn twilio_signed(
        &self,
        path: &str,
        params: &[(String, String)],
        signature: Option<&str>,
    ) -> Response {
        let mut rb = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(params));
        if let Some(sig) = signature {
            rb = rb.header("X-Twilio-Signature", sig);
        }
        rb.send().await.unwrap()
    }

    pub async fn vapi(&self, body: &Value) -> Response {
        self.client
            .post(format!("{}/vapi/events", self.base))
            .header("X-Vapi-Secret", VAPI_SECRET)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn meta(&self, body: &str, signature: Option<&str>) -> Response {
        let mut rb = self
            .client
            .post(format!("{}/meta/whatsapp", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(sig) = signature {
            rb = rb.header("X-Hub-Signature-256", sig);
        }
        rb.send().await.unwrap()
    }

    pub async fn sns(&self, body: &str) -> Response {
        self.client
            .post(format!("{}/ses/notifications", self.base))
            .header("content-type", "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn events(&self, provider: Provider) -> Vec<EventRecord> {
        store::by_provider(&self.db.conn, provider).await.unwrap()
    }

    pub async fn event_count(&self) -> i64 {
        count(&self.db, "SELECT COUNT(*) FROM inbound_events").await
    }

    /// The event stored under a key, once processing has settled it.
    pub async fn settled(&self, provider: Provider, kind: EventKind, external_id: &str) -> EventRecord {
        for _ in 0..200 {
            if let Some(e) = store::find(&self.db.conn, provider, kind, external_id).await.unwrap()
                && e.state != EventState::Received
            {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("event {} {} {external_id} was never settled", provider.as_str(), kind.as_str());
    }
}

/// A single-number query result (cast, because PostgreSQL sums `bigint`s into `numeric`).
pub async fn count(db: &TestDb, sql: &str) -> i64 {
    let row = db
        .conn
        .query_one(Statement::from_string(
            db.conn.get_database_backend(),
            format!("SELECT CAST(({sql}) AS BIGINT)"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Ledger entries under an idempotency key.
pub async fn ledger_entries(db: &TestDb, key: &str) -> i64 {
    count(db, &format!("SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key = '{key}'")).await
}

/// A change to a number row before it is stored.
pub type Tweak = fn(&mut NumberRow);

/// A workspace with a live agent (with a Vapi assistant) serving one number.
pub struct World {
    pub ws: WorkspaceId,
    pub agent: AgentId,
    pub number: NumberId,
    pub phone: String,
}

pub const ASSISTANT_ID: &str = "29d47d31-52a7-4a58-9c3f-2b1e7a4c5d60";
pub const PHONE: &str = "+4930901820";
pub const VAPI_NUMBER_ID: &str = "b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

pub async fn workspace(db: &TestDb, name: &str) -> WorkspaceId {
    let tenancy = TenancyService::new(db.conn.clone());
    tenancy
        .create_workspace(NewWorkspace {
            name: name.into(),
            timezone: Some("Europe/Berlin".parse().unwrap()),
        })
        .await
        .unwrap()
        .0
        .id
}

pub async fn live_agent(db: &TestDb, ws: &WorkspaceId, channels: Value) -> AgentId {
    let tenancy = TenancyService::new(db.conn.clone());
    let agents = AgentService::new(db.conn.clone(), tenancy);
    let agent = agents
        .create(
            &Ctx::system(ws.clone()),
            serde_json::from_value(json!({"name": "Reception", "status": "live"})).unwrap(),
        )
        .await
        .unwrap();
    let email = switchboard_email_identities::EmailService::new(
        db.conn.clone(),
        agents.clone(),
        Arc::new(switchboard_providers::SandboxSes::new()),
        Some("support.switchboard.test".into()),
    );
    let channels_service = switchboard_channels::ChannelService::new(db.conn.clone(), agents, email);
    channels_service
        .update(&Ctx::system(ws.clone()), &agent.id, serde_json::from_value(channels).unwrap())
        .await
        .unwrap();
    agent.id
}

/// A world whose number is changed by `tweak` before it is stored.
pub async fn world_with(db: &TestDb, tweak: impl FnOnce(&mut NumberRow)) -> World {
    let ws = workspace(db, "Praxis Dr. Weber").await;
    let agent = live_agent(
        db,
        &ws,
        json!({"vapi_assistant_id": ASSISTANT_ID, "whatsapp_number": PHONE, "whatsapp_enabled": true}),
    )
    .await;
    let mut row = NumberRow::new(&ws, PHONE);
    row.agent_id = Some(agent.clone());
    row.vapi_phone_number_id = Some(VAPI_NUMBER_ID.into());
    tweak(&mut row);
    insert_numbers(&db.conn, std::slice::from_ref(&row)).await.unwrap();
    World { ws, agent, number: row.id, phone: row.phone_number }
}

pub async fn world(db: &TestDb) -> World {
    world_with(db, |_| {}).await
}

/// Asserts a problem+json answer with `status` and `code`.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let content_type =
        res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    body
}
