//! `GET/POST /meta/whatsapp`: the subscription challenge, signed deliveries stored once per
//! message and status, and their routing by `phone_number_id` to the workspace's connection.

use secrecy::SecretString;
use serde_json::json;
use switchboard_channels::whatsapp::{ConnectionPatch, WhatsappService};
use switchboard_core::{Ctx, WhatsappConnectionId};
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_testkit::each_engine;
use switchboard_webhook_auth::meta::signature_header;

use crate::harness::{self, count, edit_json, expect_problem, fixtures, spawn, world};

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

const PHONE_NUMBER_ID: &str = "106540352242922";

/// A Meta connection of `PHONE_NUMBER_ID` in the world's workspace, served by its agent.
async fn meta_connection(
    db: &switchboard_testkit::TestDb,
    w: &harness::World,
) -> (WhatsappService, WhatsappConnectionId) {
    let agents = switchboard_agents::AgentService::new(
        db.conn.clone(),
        switchboard_tenancy::TenancyService::new(db.conn.clone()),
    );
    let sealer = switchboard_core::secret_box::Sealer::new(std::sync::Arc::new(secrecy::SecretBox::new(
        Box::new([7u8; 32]),
    )));
    let messaging =
        switchboard_providers::sandbox_messaging(switchboard_providers::Sandbox::embedded().unwrap());
    let service = WhatsappService::new(db.conn.clone(), agents, sealer, messaging);
    let input = serde_json::from_value(json!({
        "display_name": "Support", "agent_id": w.agent, "provider": "meta",
        "phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-test-token-0000"
    }))
    .unwrap();
    let created = service.create(&Ctx::system(w.ws.clone()), input).await.unwrap();
    (service, created.id)
}

#[tokio::test]
async fn messages_reach_their_connections_conversation_and_statuses_move_messages_forward() {
    each_engine(|db| async move {
        let w = world(&db).await;
        let (connections, id) = meta_connection(&db, &w).await;
        let ingest = spawn(db).await;
        let db = &ingest.db;

        assert_eq!(ingest.meta(fixtures::META_TEXT, Some(&sign(fixtures::META_TEXT))).await.status(), 200);
        let wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=";
        let message = ingest.settled(Provider::Meta, EventKind::WhatsappMessage, wamid).await;
        assert_eq!((message.state, message.reason.as_deref()), (EventState::Processed, None));
        assert_eq!(message.workspace_id.as_ref(), Some(&w.ws));
        let conversation = format!(
            "SELECT COUNT(*) FROM conversations WHERE workspace_id = '{}' AND channel = 'whatsapp' \
             AND business_address = '{PHONE_NUMBER_ID}' AND contact = '+16505551234' \
             AND whatsapp_connection_id IS NOT NULL AND agent_id = '{}'",
            w.ws, w.agent
        );
        assert_eq!(count(db, &conversation).await, 1);
        let stored = format!(
            "SELECT COUNT(*) FROM conversation_messages WHERE provider_message_id = '{wamid}' \
             AND body = 'Does it come in another color?' AND direction = 'inbound'"
        );
        assert_eq!(count(db, &stored).await, 1);

        // A status names a message we know by its wamid: it moves forward; an unknown one is
        // processed and changes nothing.
        let read_wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3RDI5NEYzNzg0QUQ3RkE4NTYA";
        let known = edit_json(
            fixtures::META_TEXT,
            &[("/entry/0/changes/0/value/messages/0/id", json!(read_wamid))],
        )
        .to_string();
        assert_eq!(ingest.meta(&known, Some(&sign(&known))).await.status(), 200);
        ingest.settled(Provider::Meta, EventKind::WhatsappMessage, read_wamid).await;
        assert_eq!(
            ingest.meta(fixtures::META_STATUSES, Some(&sign(fixtures::META_STATUSES))).await.status(),
            200
        );
        let read = ingest.settled(Provider::Meta, EventKind::WhatsappStatus, &format!("{read_wamid}:read")).await;
        assert_eq!((read.state, read.workspace_id.as_ref()), (EventState::Processed, Some(&w.ws)));
        let status = format!(
            "SELECT COUNT(*) FROM conversation_messages WHERE provider_message_id = '{read_wamid}' AND status = 'read'"
        );
        assert_eq!(count(db, &status).await, 1);

        // STOP over WhatsApp opts the contact out of WhatsApp in this workspace.
        let stop = edit_json(
            fixtures::META_TEXT,
            &[
                ("/entry/0/changes/0/value/messages/0/id", json!("wamid.STOP1")),
                ("/entry/0/changes/0/value/messages/0/text/body", json!("STOP")),
            ],
        )
        .to_string();
        assert_eq!(ingest.meta(&stop, Some(&sign(&stop))).await.status(), 200);
        let stopped = ingest.settled(Provider::Meta, EventKind::WhatsappMessage, "wamid.STOP1").await;
        assert_eq!(stopped.reason.as_deref(), Some("opted_out"));
        let opted_out = format!(
            "SELECT COUNT(*) FROM opt_outs WHERE workspace_id = '{}' AND channel = 'whatsapp' AND contact = '+16505551234'",
            w.ws
        );
        assert_eq!(count(db, &opted_out).await, 1);

        // A connection switched off takes nothing into a conversation.
        let ctx = Ctx::system(w.ws.clone());
        connections.update(&ctx, &id, ConnectionPatch { active: Some(false), ..Default::default() }).await.unwrap();
        let late = edit_json(
            fixtures::META_TEXT,
            &[("/entry/0/changes/0/value/messages/0/id", json!("wamid.LATE1"))],
        )
        .to_string();
        assert_eq!(ingest.meta(&late, Some(&sign(&late))).await.status(), 200);
        let dropped = ingest.settled(Provider::Meta, EventKind::WhatsappMessage, "wamid.LATE1").await;
        assert_eq!((dropped.state, dropped.reason.as_deref()), (EventState::Dropped, Some("connection_inactive")));
        assert_eq!(count(db, "SELECT COUNT(*) FROM conversation_messages").await, 3, "message, known and STOP");
    })
    .await;
}
