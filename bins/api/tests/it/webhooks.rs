//! Outgoing notification webhooks against wiremock: Standard Webhooks signatures checked by an
//! implementation written here (not the crate's signer), the retry schedule with an injected
//! clock, auto-disable with its notification, replay, the delivery log, the SSRF refusal, the
//! owner-only secret, and notification mail sent once.
//!
//! The notification URL names a public-looking host; the test client resolves it to the wiremock
//! listener on 127.0.0.1 and sends plain http — `SafeClient` builder calls that exist in code only
//! (no configuration reaches them). The SSRF test keeps the production address rule and proves the
//! listener is never called.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard_channels::webhooks::{RetryPolicy, WebhookDispatcher};
use switchboard_email_identities::ports::{EmailIdentityProvider, IdentityKind};
use switchboard_outbound::{Lookup, SafeClient};
use switchboard_providers::SandboxSes;
use switchboard_testkit::each_engine;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;
use crate::notifications::raise;

/// Resolves every name to loopback.
struct Loopback;

impl Lookup for Loopback {
    fn lookup(
        &self,
        _: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'static>> {
        Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
    }
}

const MAIL_FROM: &str = "notifications@support.switchboard.test";

/// A dispatcher whose client reaches the wiremock listener (`allow_loopback`) or keeps the
/// production rule that refuses it.
async fn dispatcher(
    app: &TestApp,
    allow_loopback: bool,
    policy: RetryPolicy,
) -> (WebhookDispatcher, SandboxSes) {
    let mut client =
        SafeClient::builder().lookup(Loopback).plain_http_for_tests().timeout(Duration::from_secs(5));
    if allow_loopback {
        client = client.allow_addresses(|ip| ip.is_loopback());
    }
    let ses = SandboxSes::new();
    ses.create_identity(MAIL_FROM, IdentityKind::Address).await.unwrap();
    ses.get_identity(MAIL_FROM).await.unwrap();
    let d = WebhookDispatcher::new(
        app.db.conn.clone(),
        client.build().unwrap(),
        switchboard_core::secret_box::Sealer::new(app.state.settings.encryption_key.clone()),
        Arc::new(ses.clone()),
        Some(MAIL_FROM.into()),
    )
    .with_policy(policy);
    (d, ses)
}

fn policy(delays: &[u64], disable_after: u32) -> RetryPolicy {
    RetryPolicy { delays: delays.iter().copied().map(Duration::from_secs).collect(), disable_after }
}

/// A workspace with an agent whose notification webhook points at `server`.
async fn setup(app: &TestApp, server: &MockServer) -> (Ws, String) {
    let ws = app.create_workspace("Acme").await;
    let agent = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let url = format!("https://hooks.customer.example:{}/switchboard", server.address().port());
    expect(
        app.patch(
            &format!("/v1/agents/{agent_id}/channels"),
            &ws.owner,
            json!({"notification_webhook_url": url}),
        )
        .await,
        200,
    )
    .await;
    (ws, agent_id)
}

/// Slightly ahead of the wall clock, so everything queued so far is due.
fn t0() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(1)
}

fn header(req: &wiremock::Request, name: &str) -> String {
    req.headers.get(name).unwrap().to_str().unwrap().to_owned()
}

/// The Standard Webhooks check, written from the specification: strip `whsec_`, base64-decode,
/// HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, compare with any `v1,` signature.
fn verify(secret: &str, req: &wiremock::Request) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let signed = format!(
        "{}.{}.{}",
        header(req, "webhook-id"),
        header(req, "webhook-timestamp"),
        std::str::from_utf8(&req.body).unwrap()
    );
    header(req, "webhook-signature").split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|sig| {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(signed.as_bytes());
        STANDARD.decode(sig).is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok())
    })
}

async fn deliveries(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let list = expect(app.get(&format!("/v1/webhook-deliveries{query}"), key).await, 200).await;
    list["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_notification_is_posted_signed_the_standard_webhooks_way_and_logged() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/switchboard"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        let (ws, agent) = setup(&app, &server).await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        let (d, _) = dispatcher(&app, true, RetryPolicy::default()).await;
        let now = t0();
        let s = d.run_due(now, 100).await.unwrap();
        assert_eq!((s.attempted, s.succeeded), (1, 1));

        let secret =
            expect(app.get(&format!("/v1/agents/{agent}/webhook-secret"), &ws.owner).await, 200).await;
        let secret = secret["secret"].as_str().unwrap();
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 1);
        let req = &reqs[0];
        assert!(verify(secret, req), "the signature does not verify");
        assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", req), "any secret verifies");
        assert_eq!(header(req, "webhook-timestamp"), now.timestamp().to_string());
        assert_eq!(header(req, "content-type"), "application/json");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let inbox = expect(app.get("/v1/notifications", &ws.owner).await, 200).await;
        let n = &inbox["data"][0];
        assert_eq!(header(req, "webhook-id"), n["id"].as_str().unwrap());
        assert_eq!(body["type"], "conversation_escalated");
        assert_eq!(body["data"], *n);
        assert!(body["timestamp"].is_string());

        let log = deliveries(&app, &ws.owner, "").await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["status"], "succeeded");
        assert_eq!(log[0]["notification_id"], n["id"]);
        assert_eq!(log[0]["attempt_log"][0]["status_code"], 204);
        assert!(log[0]["attempt_log"][0]["latency_ms"].as_i64().unwrap() >= 0);
        assert!(log[0]["next_attempt_at"].is_null());
        let one = expect(
            app.get(&format!("/v1/webhook-deliveries/{}", log[0]["id"].as_str().unwrap()), &ws.owner).await,
            200,
        )
        .await;
        assert_eq!(one["id"], log[0]["id"]);

        assert_eq!(
            d.run_due(now + chrono::Duration::hours(2), 100).await.unwrap().attempted,
            0,
            "delivered once"
        );
    })
    .await;
}

#[tokio::test]
async fn timeouts_and_5xx_are_retried_on_the_backoff_schedule_with_the_same_webhook_id() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        let (d, _) = dispatcher(&app, true, RetryPolicy::default()).await;
        let now = t0();

        let s = d.run_due(now, 100).await.unwrap();
        assert_eq!((s.attempted, s.retrying), (1, 1));
        let log = deliveries(&app, &ws.owner, "?status=pending").await;
        assert_eq!(log.len(), 1);
        let due: DateTime<Utc> = log[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            due.timestamp(),
            (now + chrono::Duration::seconds(30)).timestamp(),
            "first retry after 30 s"
        );
        assert_eq!(log[0]["last_status_code"], 500);

        assert_eq!(
            d.run_due(now + chrono::Duration::seconds(29), 100).await.unwrap().attempted,
            0,
            "not due yet"
        );
        let s = d.run_due(now + chrono::Duration::seconds(30), 100).await.unwrap();
        assert_eq!((s.attempted, s.succeeded), (1, 1));

        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(header(&reqs[0], "webhook-id"), header(&reqs[1], "webhook-id"), "the id is stable");
        assert_ne!(header(&reqs[0], "webhook-timestamp"), header(&reqs[1], "webhook-timestamp"));
        let secret =
            expect(app.get(&format!("/v1/agents/{agent}/webhook-secret"), &ws.owner).await, 200).await;
        assert!(reqs.iter().all(|r| verify(secret["secret"].as_str().unwrap(), r)));

        let log = deliveries(&app, &ws.owner, "?status=succeeded").await;
        let codes: Vec<_> =
            log[0]["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
        assert_eq!(codes, [json!(500), json!(200)]);
        assert_eq!(log[0]["attempts"], 2);
    })
    .await;
}

#[tokio::test]
async fn retries_stop_after_the_last_delay_and_other_4xx_are_final_at_once() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(3)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        let (d, _) = dispatcher(&app, true, policy(&[30, 120], 10)).await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        let now = t0();
        let mut at = now;
        for (wait, status) in [(0, "pending"), (30, "pending"), (120, "failed")] {
            at += chrono::Duration::seconds(wait);
            assert_eq!(d.run_due(at, 100).await.unwrap().attempted, 1);
            assert_eq!(deliveries(&app, &ws.owner, "").await[0]["status"], status);
        }
        assert_eq!(
            d.run_due(at + chrono::Duration::days(3), 100).await.unwrap().attempted,
            0,
            "three attempts in all"
        );

        // The endpoint now answers 404: final after one attempt.
        raise(&app, &ws.id, Some(&agent), "cnv_2").await;
        let s = d.run_due(t0(), 100).await.unwrap();
        assert_eq!((s.attempted, s.failed, s.retrying), (1, 1, 0));
        let failed = deliveries(&app, &ws.owner, &format!("?status=failed&agent_id={agent}")).await;
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0]["last_status_code"], 404);
        assert_eq!(failed[0]["attempts"], 1);
        expect_problem(
            app.get("/v1/webhook-deliveries?status=lost", &ws.owner).await,
            422,
            "validation_failed",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn repeated_failure_disables_the_endpoint_with_a_notification_and_replay_enables_it() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(410)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        let (d, _) = dispatcher(&app, true, policy(&[], 3)).await;
        for key in ["cnv_1", "cnv_2", "cnv_3", "cnv_4"] {
            raise(&app, &ws.id, Some(&agent), key).await;
        }
        let s = d.run_due(t0(), 100).await.unwrap();
        assert_eq!(s.endpoints_disabled, 1);
        assert_eq!(s.attempted, 3, "nothing is sent once the endpoint is disabled");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);

        let inbox = expect(app.get("/v1/notifications", &ws.owner).await, 200).await;
        let disabled = &inbox["data"][0];
        assert_eq!(disabled["kind"], "webhook_endpoint_disabled");
        assert_eq!(disabled["agent_id"], agent.as_str());
        let log = deliveries(&app, &ws.owner, "").await;
        assert_eq!(log.len(), 4, "the disabled notification is not sent to the disabled endpoint");
        assert!(log.iter().all(|d| d["status"] == "failed"));
        let secret =
            expect(app.get(&format!("/v1/agents/{agent}/webhook-secret"), &ws.owner).await, 200).await;
        assert!(secret["disabled_at"].is_string());

        raise(&app, &ws.id, Some(&agent), "cnv_5").await;
        assert_eq!(
            deliveries(&app, &ws.owner, "").await.len(),
            4,
            "a disabled endpoint gets no new deliveries"
        );

        // Fixed: replaying (owner or admin, not agent) enables it and sends the same event again.
        server.reset().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let first = log.last().unwrap();
        let replay = format!("/v1/webhook-deliveries/{}/replay", first["id"].as_str().unwrap());
        let agent_key = app.key(&ws, "agent").await;
        expect_problem(app.post(&replay, &agent_key, json!({})).await, 403, "forbidden").await;
        let queued = expect(app.post(&replay, &ws.owner, json!({})).await, 200).await;
        assert_eq!(queued["status"], "pending");
        let s = d.run_due(t0(), 100).await.unwrap();
        assert_eq!((s.attempted, s.succeeded), (1, 1));
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(header(&reqs[0], "webhook-id"), first["notification_id"].as_str().unwrap());
        let after = expect(
            app.get(&format!("/v1/webhook-deliveries/{}", first["id"].as_str().unwrap()), &ws.owner).await,
            200,
        )
        .await;
        assert_eq!(after["status"], "succeeded");
        assert_eq!(after["attempts"], 2);
        let secret =
            expect(app.get(&format!("/v1/agents/{agent}/webhook-secret"), &ws.owner).await, 200).await;
        assert!(secret["disabled_at"].is_null(), "replay enables the endpoint");
        raise(&app, &ws.id, Some(&agent), "cnv_6").await;
        assert_eq!(deliveries(&app, &ws.owner, "").await.len(), 5, "new notifications are delivered again");
    })
    .await;
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_never_called() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        // The production address rule: loopback is refused at request time.
        let (d, _) = dispatcher(&app, false, RetryPolicy::default()).await;
        let s = d.run_due(t0(), 100).await.unwrap();
        assert_eq!((s.attempted, s.failed, s.retrying), (1, 1, 0), "a refusal is final");
        assert!(server.received_requests().await.unwrap().is_empty(), "the private address was called");
        let log = deliveries(&app, &ws.owner, "").await;
        assert_eq!(log[0]["status"], "failed");
        let error = log[0]["attempt_log"][0]["error"].as_str().unwrap();
        assert!(error.contains("not public"), "{error}");
        assert!(log[0]["attempt_log"][0]["status_code"].is_null());
    })
    .await;
}

#[tokio::test]
async fn only_owners_read_and_rotate_the_secret_and_other_workspaces_see_nothing() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        let path = format!("/v1/agents/{agent}/webhook-secret");
        let first = expect(app.get(&path, &ws.owner).await, 200).await;
        let secret = first["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
        assert_eq!(expect(app.get(&path, &ws.owner).await, 200).await["secret"], secret.as_str(), "stable");
        for role in ["admin", "agent"] {
            let key = app.key(&ws, role).await;
            let p = expect_problem(app.get(&path, &key).await, 403, "forbidden").await;
            assert!(p["detail"].as_str().unwrap().contains("webhook_secret_read"), "{p}");
            expect_problem(app.post(&format!("{path}/rotate"), &key, json!({})).await, 403, "forbidden")
                .await;
            // …but they read the delivery log.
            expect(app.get("/v1/webhook-deliveries", &key).await, 200).await;
        }
        // Stored encrypted: the column holds neither the secret nor its key bytes.
        let stored = app
            .db
            .conn
            .query_one(Statement::from_string(
                app.db.conn.get_database_backend(),
                "SELECT secret FROM webhook_endpoints".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        assert!(!stored.contains(&secret[6..]) && !stored.contains("whsec_"), "{stored}");
        let rotated = expect(app.post(&format!("{path}/rotate"), &ws.owner, json!({})).await, 200).await;
        let new_secret = rotated["secret"].as_str().unwrap();
        assert_ne!(new_secret, secret);

        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        let (d, _) = dispatcher(&app, true, RetryPolicy::default()).await;
        d.run_due(t0(), 100).await.unwrap();
        let reqs = server.received_requests().await.unwrap();
        assert!(verify(new_secret, &reqs[0]) && !verify(&secret, &reqs[0]), "signed with the rotated secret");

        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&path, &other.owner).await, 404, "not_found").await;
        assert!(deliveries(&app, &other.owner, "").await.is_empty());
        let id = deliveries(&app, &ws.owner, "").await[0]["id"].as_str().unwrap().to_owned();
        expect_problem(
            app.get(&format!("/v1/webhook-deliveries/{id}"), &other.owner).await,
            404,
            "not_found",
        )
        .await;
        expect_problem(
            app.post(&format!("/v1/webhook-deliveries/{id}/replay"), &other.owner, json!({})).await,
            404,
            "not_found",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_notification_is_mailed_once_to_the_notification_email() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Acme").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception"})).await;
        let agent = agent["id"].as_str().unwrap().to_owned();
        expect(
            app.patch(
                &format!("/v1/agents/{agent}/channels"),
                &ws.owner,
                json!({"notification_email": "ops@customer.example"}),
            )
            .await,
            200,
        )
        .await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        raise(&app, &ws.id, None, "wallet").await;
        let (d, ses) = dispatcher(&app, true, RetryPolicy::default()).await;
        let s = d.run_due(t0(), 100).await.unwrap();
        assert_eq!((s.attempted, s.mails_sent), (0, 1), "no webhook set, one mail");
        d.run_due(t0(), 100).await.unwrap();
        let sent = ses.sent();
        assert_eq!(sent.len(), 1, "mailed once");
        assert_eq!(sent[0].email.to, ["ops@customer.example"]);
        assert_eq!(sent[0].email.from, MAIL_FROM);
        assert_eq!(sent[0].email.subject, "Escalated cnv_1");
        assert_eq!(sent[0].email.text, "Conversation cnv_1 needs a human");
    })
    .await;
}

#[tokio::test]
async fn two_runs_at_once_make_each_attempt_once() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(20)))
            .mount(&server)
            .await;
        let (ws, agent) = setup(&app, &server).await;
        for i in 0..6 {
            raise(&app, &ws.id, Some(&agent), &format!("cnv_{i}")).await;
        }
        let (a, _) = dispatcher(&app, true, RetryPolicy::default()).await;
        let (b, _) = dispatcher(&app, true, RetryPolicy::default()).await;
        let now = t0();
        let (x, y) = tokio::join!(a.run_due(now, 100), b.run_due(now, 100));
        assert_eq!(x.unwrap().attempted + y.unwrap().attempted, 6);
        assert_eq!(server.received_requests().await.unwrap().len(), 6, "an attempt was made twice");
        let log = deliveries(&app, &ws.owner, "?status=succeeded").await;
        assert_eq!(log.len(), 6);
        assert!(log.iter().all(|d| d["attempts"] == 1));
    })
    .await;
}

#[tokio::test]
async fn a_timeout_and_a_429_are_retried_not_final() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let (ws, agent) = setup(&app, &server).await;
        raise(&app, &ws.id, Some(&agent), "cnv_1").await;
        let client = SafeClient::builder()
            .lookup(Loopback)
            .plain_http_for_tests()
            .allow_addresses(|ip| ip.is_loopback())
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let d = WebhookDispatcher::new(
            app.db.conn.clone(),
            client,
            switchboard_core::secret_box::Sealer::new(app.state.settings.encryption_key.clone()),
            Arc::new(SandboxSes::new()),
            None,
        );
        let now = t0();
        assert_eq!(d.run_due(now, 100).await.unwrap().retrying, 1, "a timeout is retried");
        let at = now + chrono::Duration::seconds(30);
        assert_eq!(d.run_due(at, 100).await.unwrap().retrying, 1, "429 is retried");
        let at = at + chrono::Duration::seconds(120);
        assert_eq!(d.run_due(at, 100).await.unwrap().succeeded, 1, "then delivered after 30 s and 2 min");
        let log = deliveries(&app, &ws.owner, "").await;
        let attempts = log[0]["attempt_log"].as_array().unwrap();
        assert!(attempts[0]["status_code"].is_null());
        assert!(attempts[0]["error"].as_str().unwrap().contains("timed out"), "{}", attempts[0]);
        assert_eq!(attempts[1]["status_code"], 429);
        assert_eq!(attempts[2]["status_code"], 200);
    })
    .await;
}
