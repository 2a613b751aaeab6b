//! The database going away and coming back (PostgreSQL only: SQLite is a file inside the
//! process). The ingest's pool goes through a [`DbProxy`] the test cuts and restores; the shared
//! server itself never stops. A webhook that could not be stored must not be acknowledged, so the
//! provider delivers it again; once the database is back, that redelivery is stored and
//! processed once — by the same process, with no restart.

use std::time::Duration;

use switchboard_core::db::{DbOptions, connect};
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_testkit::{DbProxy, postgres_only};

use crate::harness::{self, count, expect_problem, fixtures, twilio_params};

const SID: &str = "SM7e1f0c3b9a2d4e5f8a6b1c0d9e8f7a6b";

#[tokio::test]
async fn an_sms_arriving_while_the_database_is_gone_is_refused_503_and_its_redelivery_processed_once() {
    let Some(db) = postgres_only("database_going_away").await else { return };
    let proxy = DbProxy::start(&db.url).await;
    // Production's acquire timeout is 5 s; 2 s keeps the test quick.
    let options = DbOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(2),
        ..DbOptions::new(proxy.url())
    };
    let ingest = harness::spawn_over(db, connect(&options).await.unwrap()).await;
    let w = harness::world(&ingest.db).await;
    let sms = twilio_params(
        fixtures::INBOUND_SMS,
        &[("MessageSid", SID), ("SmsMessageSid", SID), ("SmsSid", SID), ("To", &w.phone)],
    );

    for (fault, cut) in [("down", DbProxy::cut as fn(&DbProxy)), ("partitioned", DbProxy::partition)] {
        eprintln!("-- database {fault}");
        cut(&proxy);
        let ready = ingest.client.get(format!("{}/readyz", ingest.base)).send().await.unwrap();
        expect_problem(ready, 503, "database_unavailable").await;
        let res = ingest.twilio("/twilio/messages", &sms).await;
        assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
        let p = expect_problem(res, 503, "storage_unavailable").await;
        let text = p.to_string().to_lowercase();
        for internal in ["sqlx", "pool", "127.0.0.1", "postgres", "connection"] {
            assert!(!text.contains(internal), "leaks `{internal}`: {p}");
        }
        assert_eq!(ingest.event_count().await, 0, "nothing stored, so nothing acknowledged");
        proxy.restore();
    }

    // Twilio delivers again: stored, answered, processed — once, however often it repeats.
    for _ in 0..2 {
        let res = ingest.twilio("/twilio/messages", &sms).await;
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.text().await.unwrap().contains("<Response>"));
    }
    let event = ingest.settled(Provider::Twilio, EventKind::Message, SID).await;
    assert_eq!(event.state, EventState::Processed, "{event:?}");
    assert_eq!(ingest.event_count().await, 1);
    assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversation_messages").await, 1);
}
