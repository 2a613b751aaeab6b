//! `GET/POST /meta/whatsapp`: the subscription challenge, and signed deliveries stored once per
//! message and status (unroutable until WhatsApp connections exist).

use secrecy::SecretString;
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_testkit::each_engine;
use switchboard_webhook_auth::meta::signature_header;

use crate::harness::{self, expect_problem, fixtures, spawn};

fn sign(body: &str) -> String {
    signature_header(&SecretString::from(harness::META_SECRET), body.as_bytes())
}

#[tokio::test]
async fn the_subscription_challenge_is_echoed_only_for_our_verify_token() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let url = |token: &str, mode: &str| {
            format!(
                "{}/meta/whatsapp?hub.mode={mode}&hub.challenge=1158201444&hub.verify_token={token}",
                ingest.base
            )
        };
        let res = ingest.client.get(url(harness::META_VERIFY, "subscribe")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(res.text().await.unwrap(), "1158201444");
        let res = ingest.client.get(url("not-our-token", "subscribe")).send().await.unwrap();
        expect_problem(res, 403, "challenge_refused").await;
        let res = ingest.client.get(url(harness::META_VERIFY, "unsubscribe")).send().await.unwrap();
        expect_problem(res, 403, "challenge_refused").await;
        assert_eq!(ingest.event_count().await, 0);
    })
    .await;
}

#[tokio::test]
async fn signed_deliveries_are_stored_once_per_message_and_status() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        // Unsigned, wrongly signed, or signed over other bytes: refused, nothing stored.
        expect_problem(ingest.meta(fixtures::META_TEXT, None).await, 401, "signature_missing").await;
        let wrong = signature_header(&SecretString::from("another-secret"), fixtures::META_TEXT.as_bytes());
        expect_problem(ingest.meta(fixtures::META_TEXT, Some(&wrong)).await, 401, "signature_mismatch").await;
        let reserialised =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(fixtures::META_TEXT).unwrap())
                .unwrap();
        let sig = sign(fixtures::META_TEXT);
        expect_problem(ingest.meta(&reserialised, Some(&sig)).await, 401, "signature_mismatch").await;
        assert_eq!(ingest.event_count().await, 0);

        for _ in 0..2 {
            assert_eq!(
                ingest.meta(fixtures::META_TEXT, Some(&sign(fixtures::META_TEXT))).await.status(),
                200
            );
        }
        assert_eq!(
            ingest.meta(fixtures::META_STATUSES, Some(&sign(fixtures::META_STATUSES))).await.status(),
            200
        );
        let message = ingest
            .settled(
                Provider::Meta,
                EventKind::WhatsappMessage,
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            )
            .await;
        assert_eq!(
            (message.state, message.reason.as_deref()),
            (EventState::Unroutable, Some("no_whatsapp_connection"))
        );
        assert!(message.payload.contains("106540352242922"), "the phone_number_id to route by later is kept");
        let events = ingest.events(Provider::Meta).await;
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::WhatsappMessage, EventKind::WhatsappStatus, EventKind::WhatsappStatus]);

        let body = r#"{"object": "whatsapp_business_account", "entry": "nope"}"#;
        expect_problem(ingest.meta(body, Some(&sign(body))).await, 400, "malformed_payload").await;
        assert_eq!(ingest.event_count().await, 3);
    })
    .await;
}
