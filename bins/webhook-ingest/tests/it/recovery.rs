//! Nothing acknowledged is lost: events stored but not processed (a crash after the answer) are
//! processed at the next start — also when the process is killed in the middle of a burst.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use switchboard_inbound::{EventKind, EventState, Provider, TwilioParams, store};
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_testkit::{TestDb, each_engine};
use switchboard_webhook_auth::twilio::{request_url, signature};
use switchboard_webhook_ingest::recover;

use crate::harness::{self, count, fixtures, form_body, spawn, twilio_params};

fn sms(sid: &str, to: &str) -> Vec<(String, String)> {
    twilio_params(
        fixtures::INBOUND_SMS,
        &[("MessageSid", sid), ("SmsMessageSid", sid), ("SmsSid", sid), ("To", to)],
    )
}

#[tokio::test]
async fn events_stored_but_not_processed_are_processed_at_start_up() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        // As a process leaves them when it dies between the acknowledgement and processing.
        let events: Vec<_> = (0..5)
            .map(|i| {
                let params = TwilioParams::from_pairs(&sms(&format!("SM{i:032}"), &w.phone));
                params.message_event(Utc::now() - chrono::Duration::minutes(5)).unwrap()
            })
            .collect();
        let inserted = store::insert_batch(&ingest.db.conn, &events).await.unwrap();
        assert!(inserted.iter().all(|new| *new));
        // One that arrives after the start is left to the queue that holds it.
        let late = TwilioParams::from_pairs(&sms("SM99999999999999999999999999999999", &w.phone))
            .message_event(Utc::now() + chrono::Duration::minutes(1))
            .unwrap();
        store::insert_batch(&ingest.db.conn, std::slice::from_ref(&late)).await.unwrap();

        let processed = recover(&ingest.state.inbound, Utc::now()).await.unwrap();
        assert_eq!(processed, 5);
        for i in 0..5 {
            let e = store::find(&ingest.db.conn, Provider::Twilio, EventKind::Message, &format!("SM{i:032}"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(e.state, EventState::Processed, "{e:?}");
        }
        let late = store::find(&ingest.db.conn, Provider::Twilio, EventKind::Message, &late.external_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(late.state, EventState::Received);
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversation_messages").await, 5);
        // Processing again changes nothing.
        assert_eq!(recover(&ingest.state.inbound, Utc::now()).await.unwrap(), 0);
        let summary =
            ingest.state.inbound.process_pending(Utc::now() + chrono::Duration::hours(1), 10).await.unwrap();
        assert_eq!((summary.seen, summary.processed), (1, 1));
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversation_messages").await, 6);
    })
    .await;
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_retried_then_left_failed() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        // A subscription whose confirmation GET fails every time.
        struct Failing;
        #[async_trait::async_trait]
        impl switchboard_webhook_auth::sns::SubscriptionConfirmer for Failing {
            async fn confirm(&self, _: &str) -> Result<(), switchboard_webhook_auth::CertificateError> {
                Err(switchboard_webhook_auth::CertificateError::new("503 Service Unavailable"))
            }
        }
        let settings = harness::settings(&ingest.db, &[]);
        let (state, _workers) = switchboard_webhook_ingest::IngestState::new(
            ingest.db.conn.clone(),
            &settings,
            switchboard_webhook_ingest::Parts {
                prices: switchboard_billing::PriceList::embedded().unwrap(),
                numbers: switchboard_providers::sandbox(switchboard_providers::Sandbox::embedded().unwrap()),
                certificates: Arc::new(harness::FakeCertificates),
                confirmer: Arc::new(Failing),
            },
        );
        let event = switchboard_inbound::NewEvent::new(
            Provider::Sns,
            EventKind::SnsSubscriptionConfirmation,
            "sub-1",
            r#"{"SubscribeURL": "https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription"}"#
                .into(),
            Utc::now() - chrono::Duration::minutes(5),
        );
        store::insert_batch(&ingest.db.conn, &[event]).await.unwrap();
        for attempt in 1..=5 {
            let s = state.inbound.process_pending(Utc::now(), 10).await.unwrap();
            let e =
                store::find(&ingest.db.conn, Provider::Sns, EventKind::SnsSubscriptionConfirmation, "sub-1")
                    .await
                    .unwrap()
                    .unwrap();
            assert_eq!(e.attempts, attempt);
            if attempt < 5 {
                assert_eq!((s.retried, e.state), (1, EventState::Received), "attempt {attempt}");
            } else {
                assert_eq!((s.failed, e.state), (1, EventState::Failed), "attempt {attempt}");
                assert_eq!(e.reason.as_deref(), Some("provider_unavailable"));
            }
        }
        assert_eq!(state.inbound.process_pending(Utc::now(), 10).await.unwrap().seen, 0, "failed is final");
    })
    .await;
}

struct Server {
    child: Child,
    base: String,
}

fn start_binary(db: &TestDb, dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_switchboard-webhook-ingest"))
        .current_dir(dir)
        .env_clear()
        .env("APP__HTTP__ADDR", format!("127.0.0.1:{port}"))
        .env("APP__DATABASE__URL", &db.url)
        .env("APP__PUBLIC_BASE_URL", harness::PUBLIC_BASE)
        .env("APP__TWILIO__AUTH_TOKEN", harness::TWILIO_TOKEN)
        .env("APP__LOG__FILTER", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

async fn wait_ready(client: &reqwest::Client, server: &Server) {
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("{}/readyz", server.base)).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("webhook-ingest never became ready");
}

#[tokio::test]
async fn killing_the_process_during_a_burst_loses_no_acknowledged_event() {
    each_engine(|db| async move {
        let ws = harness::workspace(&db, "Burst").await;
        let phone = "+4930901899";
        insert_numbers(&db.conn, &[NumberRow::new(&ws, phone)]).await.unwrap();
        let dir = std::env::temp_dir().join(format!("sb-ingest-burst-{}", ulid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

        let mut server = start_binary(&db, &dir);
        wait_ready(&client, &server).await;
        let url = format!("{}/twilio/messages", server.base);
        let signed_url = request_url(harness::PUBLIC_BASE, "/twilio/messages");
        let token = SecretString::from(harness::TWILIO_TOKEN);
        let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let limit = Arc::new(tokio::sync::Semaphore::new(16));
        let mut tasks = Vec::new();
        for i in 0..600 {
            let sid = format!("SM{i:032x}");
            let params = sms(&sid, phone);
            let sig = signature(&token, &signed_url, &params);
            let (client, url, acked, limit) = (client.clone(), url.clone(), acked.clone(), limit.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                let res = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("X-Twilio-Signature", sig)
                    .body(form_body(&params))
                    .send()
                    .await;
                if let Ok(res) = res
                    && res.status() == 200
                {
                    acked.lock().unwrap().push(sid);
                }
            }));
        }
        // Kill it mid-burst: some requests are acknowledged, some in flight, some never sent.
        while acked.lock().unwrap().len() < 150 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() >= 150 && acked.len() < 600,
            "the kill came mid-burst ({} acknowledged)",
            acked.len()
        );

        // Restart: whatever was acknowledged is stored, and start-up processes what was pending.
        let mut server = start_binary(&db, &dir);
        wait_ready(&client, &server).await;
        let mut pending = acked.clone();
        for _ in 0..400 {
            let mut still = Vec::new();
            for sid in &pending {
                match store::find(&db.conn, Provider::Twilio, EventKind::Message, sid).await.unwrap() {
                    Some(e) if e.state == EventState::Processed => {}
                    Some(e) if e.state != EventState::Received => panic!("{sid} settled as {e:?}"),
                    Some(_) => still.push(sid.clone()),
                    None => panic!("{sid} was acknowledged but is not stored"),
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Events stored but not acknowledged (in flight at the kill) are processed by the
        // start-up recovery too; wait for those as well before stopping the process.
        for _ in 0..400 {
            if count(&db, "SELECT COUNT(*) FROM inbound_events WHERE state = 'received'").await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
        let exit = server.child.wait().unwrap();
        assert!(pending.is_empty(), "{} acknowledged events never processed", pending.len());
        assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
        // Every stored event is processed, counted once.
        let stored = count(&db, "SELECT COUNT(*) FROM inbound_events").await;
        let sms_used = count(&db, "SELECT COALESCE(SUM(sms_used), 0) FROM usage_counters").await;
        assert!(stored >= acked.len() as i64);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM inbound_events WHERE state <> 'processed'").await, 0);
        assert_eq!(sms_used, stored, "each stored message counted once");
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}

fn ulid_like() -> String {
    format!("{}-{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or(0))
}
