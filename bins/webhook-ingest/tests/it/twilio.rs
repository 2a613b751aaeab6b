//! `POST /twilio/messages`, `/twilio/messages/status`, `/twilio/voice/status`: authentication
//! before storage, one event per MessageSid, and every routing and dropping rule.

use std::sync::Arc;

use secrecy::SecretString;
use switchboard_channels::Channel;
use switchboard_channels::conversations;
use switchboard_channels::opt_outs::is_opted_out;
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_testkit::each_engine;
use switchboard_webhook_auth::twilio::{request_url, signature};

use crate::harness::{
    self, World, count, expect_problem, fixtures, ledger_entries, spawn, spawn_with, twilio_params,
};

const CONTACT: &str = "+4915112345678";

fn sms(sid: &str, to: &str, body: &str) -> Vec<(String, String)> {
    twilio_params(
        fixtures::INBOUND_SMS,
        &[("MessageSid", sid), ("SmsMessageSid", sid), ("SmsSid", sid), ("To", to), ("Body", body)],
    )
}

async fn sms_used(db: &switchboard_testkit::TestDb, w: &World) -> i64 {
    count(
        db,
        &format!("SELECT COALESCE(SUM(sms_used), 0) FROM usage_counters WHERE number_id = '{}'", w.number),
    )
    .await
}

#[tokio::test]
async fn requests_that_fail_authentication_are_refused_and_store_nothing() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let params = sms("SM00000000000000000000000000000001", &w.phone, "Hallo");
        let path = "/twilio/messages";
        let good = signature(
            &SecretString::from(harness::TWILIO_TOKEN),
            &request_url(harness::PUBLIC_BASE, path),
            &params,
        );

        // Missing, wrong, signed with another token, over another URL, over a tampered body.
        expect_problem(ingest.twilio_signed(path, &params, None).await, 401, "signature_missing").await;
        expect_problem(
            ingest.twilio_signed(path, &params, Some("bm9wZQ==")).await,
            401,
            "signature_mismatch",
        )
        .await;
        let other_token = signature(
            &SecretString::from("another-token"),
            &request_url(harness::PUBLIC_BASE, path),
            &params,
        );
        expect_problem(
            ingest.twilio_signed(path, &params, Some(&other_token)).await,
            401,
            "signature_mismatch",
        )
        .await;
        let other_url =
            signature(&SecretString::from(harness::TWILIO_TOKEN), &format!("{}{path}", ingest.base), &params);
        expect_problem(
            ingest.twilio_signed(path, &params, Some(&other_url)).await,
            401,
            "signature_mismatch",
        )
        .await;
        let other_path = signature(
            &SecretString::from(harness::TWILIO_TOKEN),
            &request_url(harness::PUBLIC_BASE, "/twilio/voice/status"),
            &params,
        );
        expect_problem(
            ingest.twilio_signed(path, &params, Some(&other_path)).await,
            401,
            "signature_mismatch",
        )
        .await;
        let mut tampered = params.clone();
        tampered.iter_mut().find(|(k, _)| k == "Body").unwrap().1 = "Hallo!".into();
        expect_problem(ingest.twilio_signed(path, &tampered, Some(&good)).await, 401, "signature_mismatch")
            .await;
        // A parameter Twilio did not sign, added on the way.
        let mut extra = params.clone();
        extra.push(("Injected".into(), "1".into()));
        expect_problem(ingest.twilio_signed(path, &extra, Some(&good)).await, 401, "signature_mismatch")
            .await;

        assert_eq!(ingest.event_count().await, 0, "a refused request stored an event");
        assert_eq!(sms_used(&ingest.db, &w).await, 0);

        // The same parameters in another order carry the same signature (Twilio sorts them).
        let mut reordered = params.clone();
        reordered.reverse();
        let res = ingest.twilio_signed(path, &reordered, Some(&good)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(ingest.event_count().await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_default_port_variant_of_the_public_url_is_accepted_too() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let params = sms("SM00000000000000000000000000000002", "+4930999999", "Hallo");
        let with_port = "https://hooks.example.com:443/twilio/messages";
        let sig = signature(&SecretString::from(harness::TWILIO_TOKEN), with_port, &params);
        assert_eq!(ingest.twilio_signed("/twilio/messages", &params, Some(&sig)).await.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn an_inbound_sms_is_counted_appended_and_answered_with_empty_twiml() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let sid = "SM7b1f3c9e2d4a5b6c7d8e9f0a1b2c3d4e";
        let res = ingest.twilio("/twilio/messages", &twilio_params(fixtures::INBOUND_SMS, &[])).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/xml");
        assert_eq!(
            res.text().await.unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
        );

        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!(event.state, EventState::Processed, "{event:?}");
        assert_eq!(event.workspace_id.as_ref(), Some(&w.ws));
        assert_eq!(sms_used(&ingest.db, &w).await, 1);

        let conversation = conversations::find(&ingest.db.conn, &w.ws, Channel::Sms, &w.phone, CONTACT)
            .await
            .unwrap()
            .expect("a conversation with the contact");
        assert_eq!(conversation.agent_id.as_ref(), Some(&w.agent));
        assert_eq!(conversation.number_id.as_ref(), Some(&w.number));
        let messages = conversations::messages(&ingest.db.conn, &w.ws, &conversation.id).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].body, "Hallo, ich habe eine Frage zu meiner Bestellung.");
        assert_eq!(messages[0].provider_message_id.as_deref(), Some(sid));

        // A second message from the same contact joins the same conversation.
        ingest
            .twilio("/twilio/messages", &sms("SM00000000000000000000000000000003", &w.phone, "Noch was"))
            .await;
        ingest.settled(Provider::Twilio, EventKind::Message, "SM00000000000000000000000000000003").await;
        let all = conversations::list(&ingest.db.conn, &w.ws).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(conversations::messages(&ingest.db.conn, &w.ws, &all[0].id).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_thousand_identical_deliveries_store_one_event_and_charge_once() {
    each_engine(|db| async move {
        // No free SMS, so the one admission is charged.
        let ingest = Arc::new(spawn_with(db, &[("APP__BILLING__FREE_SMS", "0")]).await);
        let w = harness::world(&ingest.db).await;
        let sid = "SM0123456789abcdef0123456789abcdef";
        let params = Arc::new(sms(sid, &w.phone, "Are you open on Saturday?"));
        let barrier = Arc::new(tokio::sync::Barrier::new(1000));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let (ingest, params, barrier) = (ingest.clone(), params.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    ingest.twilio("/twilio/messages", &params).await.status().as_u16()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200, "every delivery is acknowledged");
        }
        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!(event.state, EventState::Processed);
        assert_eq!(ingest.event_count().await, 1, "one stored event");
        assert_eq!(ledger_entries(&ingest.db, &format!("sms:{sid}")).await, 1, "one charge");
        assert_eq!(sms_used(&ingest.db, &w).await, 1, "counted once");
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversation_messages").await, 1, "appended once");
    })
    .await;
}

#[tokio::test]
async fn a_message_to_a_number_nobody_holds_is_stored_unroutable_and_answered_200() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        harness::world(&ingest.db).await;
        let sid = "SM00000000000000000000000000000004";
        let res = ingest.twilio("/twilio/messages", &sms(sid, "+4940123456", "Hallo")).await;
        assert_eq!(res.status(), 200);
        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!(event.state, EventState::Unroutable);
        assert_eq!(event.reason.as_deref(), Some("number_not_held"));
        assert_eq!(event.workspace_id, None);
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversations").await, 0);
    })
    .await;
}

#[tokio::test]
async fn disabled_numbers_sms_off_and_reached_limits_drop_the_message_without_charging() {
    each_engine(|db| async move {
        let ingest = spawn_with(db, &[("APP__BILLING__FREE_SMS", "0")]).await;
        let cases: [(&str, harness::Tweak, &str); 3] = [
            ("disabled", |r| r.enabled = false, "number_disabled"),
            ("sms off", |r| r.sms_enabled = false, "sms_disabled"),
            ("limit 0", |r| r.monthly_sms_limit = Some(0), "limit_reached"),
        ];
        for (i, (what, tweak, reason)) in cases.into_iter().enumerate() {
            let phone = format!("+493090182{i}");
            let w = harness::world_with(&ingest.db, |r| {
                r.phone_number = phone.clone();
                r.vapi_phone_number_id = None;
                tweak(r);
            })
            .await;
            let sid = format!("SM0000000000000000000000000000010{i}");
            assert_eq!(ingest.twilio("/twilio/messages", &sms(&sid, &phone, "Hallo")).await.status(), 200);
            let event = ingest.settled(Provider::Twilio, EventKind::Message, &sid).await;
            assert_eq!(event.state, EventState::Dropped, "{what}");
            assert_eq!(event.reason.as_deref(), Some(reason), "{what}");
            assert_eq!(event.workspace_id.as_ref(), Some(&w.ws), "{what}");
            assert_eq!(ledger_entries(&ingest.db, &format!("sms:{sid}")).await, 0, "{what}: charged");
            assert_eq!(sms_used(&ingest.db, &w).await, 0, "{what}: counted");
        }
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM conversation_messages").await, 0, "passed on");

        // A limit of 1: the first message is admitted, the second dropped.
        let w = harness::world_with(&ingest.db, |r| {
            r.phone_number = "+4930901829".into();
            r.vapi_phone_number_id = None;
            r.monthly_sms_limit = Some(1);
        })
        .await;
        for (sid, state) in [
            ("SM00000000000000000000000000000201", EventState::Processed),
            ("SM00000000000000000000000000000202", EventState::Dropped),
        ] {
            ingest.twilio("/twilio/messages", &sms(sid, &w.phone, "Hallo")).await;
            assert_eq!(ingest.settled(Provider::Twilio, EventKind::Message, sid).await.state, state, "{sid}");
        }
        assert_eq!(sms_used(&ingest.db, &w).await, 1);
    })
    .await;
}

#[tokio::test]
async fn stop_and_start_keywords_update_the_opt_out_list() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let opted_out = || is_opted_out(&ingest.db.conn, &w.ws, Channel::Sms, CONTACT);

        for (i, (body, expected)) in [
            (" stop ", true),
            ("START", false),
            ("Unsubscribe", true),
            ("unstop", false),
            ("please stop calling", false),
            ("QUIT", true),
        ]
        .into_iter()
        .enumerate()
        {
            let sid = format!("SM000000000000000000000000000003{i:02}");
            ingest.twilio("/twilio/messages", &sms(&sid, &w.phone, body)).await;
            let event = ingest.settled(Provider::Twilio, EventKind::Message, &sid).await;
            assert_eq!(event.state, EventState::Processed, "{body:?}");
            assert_eq!(opted_out().await.unwrap(), expected, "after {body:?}");
        }
        // Opting out of SMS is not opting out of WhatsApp.
        assert!(!is_opted_out(&ingest.db.conn, &w.ws, Channel::Whatsapp, CONTACT).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn stop_opts_out_even_when_the_message_itself_is_dropped() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world_with(&ingest.db, |r| r.enabled = false).await;
        let sid = "SM00000000000000000000000000000401";
        ingest.twilio("/twilio/messages", &sms(sid, &w.phone, "STOP")).await;
        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!((event.state, event.reason.as_deref()), (EventState::Dropped, Some("number_disabled")));
        assert!(is_opted_out(&ingest.db.conn, &w.ws, Channel::Sms, CONTACT).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn whatsapp_through_twilio_routes_by_the_number_and_is_not_counted_as_sms() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let sid = "SMa4c2e8f0b1d3e5f7a9b0c2d4e6f8a0b2";
        ingest.twilio("/twilio/messages", &twilio_params(fixtures::INBOUND_WHATSAPP, &[])).await;
        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!(event.state, EventState::Processed, "{event:?}");
        assert_eq!(sms_used(&ingest.db, &w).await, 0);
        let c = conversations::find(&ingest.db.conn, &w.ws, Channel::Whatsapp, &w.phone, CONTACT)
            .await
            .unwrap()
            .expect("a WhatsApp conversation");
        let messages = conversations::messages(&ingest.db.conn, &w.ws, &c.id).await.unwrap();
        assert_eq!(messages[0].media_urls.len(), 1);

        // With WhatsApp switched off on the agent, the message is dropped.
        let w2 = harness::world_with(&ingest.db, |r| {
            r.phone_number = "+4930901821".into();
            r.vapi_phone_number_id = None;
        })
        .await;
        let agents = switchboard_agents::AgentService::new(
            ingest.db.conn.clone(),
            switchboard_tenancy::TenancyService::new(ingest.db.conn.clone()),
        );
        let email = switchboard_email_identities::EmailService::new(
            ingest.db.conn.clone(),
            agents.clone(),
            Arc::new(switchboard_providers::SandboxSes::new()),
            None,
        );
        switchboard_channels::ChannelService::new(ingest.db.conn.clone(), agents, email)
            .update(
                &switchboard_core::Ctx::system(w2.ws.clone()),
                &w2.agent,
                serde_json::from_value(serde_json::json!({"whatsapp_enabled": false})).unwrap(),
            )
            .await
            .unwrap();
        let sid = "SM00000000000000000000000000000501";
        let params =
            twilio_params(fixtures::INBOUND_WHATSAPP, &[("MessageSid", sid), ("To", "whatsapp:+4930901821")]);
        ingest.twilio("/twilio/messages", &params).await;
        let event = ingest.settled(Provider::Twilio, EventKind::Message, sid).await;
        assert_eq!((event.state, event.reason.as_deref()), (EventState::Dropped, Some("whatsapp_disabled")));
    })
    .await;
}

#[tokio::test]
async fn a_signed_but_malformed_payload_is_400_and_stored_nowhere() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let mut params = sms("SM00000000000000000000000000000601", "+4930901820", "Hallo");
        params.retain(|(k, _)| !k.ends_with("Sid") || k == "AccountSid");
        expect_problem(ingest.twilio("/twilio/messages", &params).await, 400, "malformed_payload").await;
        let params = twilio_params(fixtures::CALL_COMPLETED, &[("CallStatus", "")]);
        expect_problem(ingest.twilio("/twilio/voice/status", &params).await, 400, "malformed_payload").await;
        assert_eq!(ingest.event_count().await, 0);
    })
    .await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let params =
            sms("SM00000000000000000000000000000701", "+4930901820", &"x".repeat(harness::BODY_LIMIT));
        expect_problem(ingest.twilio("/twilio/messages", &params).await, 413, "body_too_large").await;
        assert_eq!(ingest.event_count().await, 0);
    })
    .await;
}

#[tokio::test]
async fn error_21610_on_a_status_callback_opts_the_recipient_out() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let res = ingest.twilio("/twilio/messages/status", &twilio_params(fixtures::STATUS_21610, &[])).await;
        assert_eq!(res.status(), 200);
        let event = ingest
            .settled(
                Provider::Twilio,
                EventKind::MessageStatus,
                "SM0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b:undelivered",
            )
            .await;
        assert_eq!((event.state, event.reason.as_deref()), (EventState::Processed, Some("opted_out")));
        assert!(is_opted_out(&ingest.db.conn, &w.ws, Channel::Sms, CONTACT).await.unwrap());

        // Another status of the same message is another event; its redelivery is not.
        for _ in 0..2 {
            ingest.twilio("/twilio/messages/status", &twilio_params(fixtures::STATUS_DELIVERED, &[])).await;
        }
        let event = ingest
            .settled(
                Provider::Twilio,
                EventKind::MessageStatus,
                "SM0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b:delivered",
            )
            .await;
        assert_eq!(event.state, EventState::Processed);
        assert_eq!(ingest.event_count().await, 2);
    })
    .await;
}
