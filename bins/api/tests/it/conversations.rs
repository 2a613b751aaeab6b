//! WhatsApp connections, conversations, replies and opt-outs (SPEC §11).

use chrono::{Duration, Utc};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use switchboard_channels::Channel;
use switchboard_channels::conversations::{self, InboundMessage};
use switchboard_core::{AgentId, NumberId, WorkspaceId};
use switchboard_testkit::each_engine;

use crate::harness::{
    ADMIN_TOKEN, TestApp, Ws, expect, expect_problem, fields, spawn_app, spawn_app_live_with,
};

const TOKEN: &str = "EAAGm0PX4ZCpsBAKZAsecretTOKENvalue9876";
const CONTACT: &str = "+4915112345678";

/// A workspace with credit, a live agent with WhatsApp on, and a number of that agent.
struct Setup {
    ws: Ws,
    agent: String,
    number_id: String,
    phone: String,
}

async fn setup(app: &TestApp, name: &str) -> Setup {
    let ws = app.create_workspace(name).await;
    let credit = app
        .request(Method::POST, &format!("/v1/workspaces/{}/credits", ws.id), Some(ADMIN_TOKEN))
        .json(&json!({"amount": "20.00", "reference": "topup"}))
        .send()
        .await
        .unwrap();
    expect(credit, 201).await;
    let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    let number =
        expect(app.post("/v1/numbers", &ws.owner, json!({"agent_id": agent, "area_code": "30"})).await, 201)
            .await;
    let phone = number["number"]["phone_number"].as_str().unwrap().to_owned();
    expect(
        app.patch(
            &format!("/v1/agents/{agent}/channels"),
            &ws.owner,
            json!({"whatsapp_number": phone, "whatsapp_enabled": true}),
        )
        .await,
        200,
    )
    .await;
    Setup { ws, agent, number_id: number["number"]["id"].as_str().unwrap().to_owned(), phone }
}

/// Appends an inbound message as webhook-ingest would; the conversation's id.
async fn inbound(
    app: &TestApp,
    s: &Setup,
    channel: Channel,
    business: &str,
    contact: &str,
    ago: Duration,
) -> String {
    let appended = conversations::append_inbound(
        &app.state.db,
        InboundMessage {
            workspace_id: s.ws.id.parse::<WorkspaceId>().unwrap(),
            channel,
            business_address: business.to_owned(),
            contact: contact.to_owned(),
            agent_id: Some(s.agent.parse::<AgentId>().unwrap()),
            number_id: s.number_id.parse::<NumberId>().ok(),
            body: "Hallo, habt ihr heute offen?".into(),
            media_urls: vec![],
            provider_message_id: format!("SM{}", ulid::Ulid::new()),
            received_at: Utc::now() - ago,
            whatsapp_connection_id: None,
        },
    )
    .await
    .unwrap();
    appended.conversation_id.to_string()
}

fn send_path(id: &str) -> String {
    format!("/v1/conversations/{id}/messages")
}

async fn raw_tokens(app: &TestApp) -> Vec<String> {
    let rows = app
        .state
        .db
        .query_all(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT access_token_sealed FROM whatsapp_connections WHERE access_token_sealed IS NOT NULL",
        ))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "access_token_sealed").unwrap()).collect()
}

#[tokio::test]
async fn meta_access_token_is_encrypted_at_rest_and_never_returned() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let res = app
            .post(
                "/v1/whatsapp/connections",
                &s.ws.owner,
                json!({"display_name": "Acme Support", "agent_id": s.agent, "provider": "meta",
                       "phone_number_id": "106540352242922", "business_account_id": "102290129340398",
                       "access_token": TOKEN}),
            )
            .await;
        let text = res.text().await.unwrap();
        assert!(!text.contains(TOKEN) && !text.contains("secretTOKEN"), "{text}");
        let created: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(created["access_token_last4"], "9876");
        assert_eq!(created["provider"], "meta");
        assert_eq!(created["active"], true);
        assert_eq!(created["can_initiate"], false);
        assert!(created["verification"].is_null() && created["deleted_at"].is_null());
        assert!(created.get("access_token").is_none());
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("wac_"));

        // Stored sealed: not the token, not containing it, and different for the same token.
        let stored = raw_tokens(&app).await;
        assert_eq!(stored.len(), 1);
        assert!(stored[0] != TOKEN && !stored[0].contains("secretTOKEN"));

        for path in [format!("/v1/whatsapp/connections/{id}"), "/v1/whatsapp/connections".to_owned()] {
            let body = app.get(&path, &s.ws.owner).await.text().await.unwrap();
            assert!(!body.contains("secretTOKEN"), "{path}: {body}");
        }

        // Verify against the sandbox's Cloud API: opened with the key, the number answers.
        let verified = expect(
            app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await,
            200,
        )
        .await;
        assert_eq!(verified["verification"]["status"], "verified", "{verified}");
        assert!(verified["verification"]["checked_at"].is_string());

        // A refused token is a failed verdict, not an error; new credentials clear the old verdict.
        let patched = expect(
            app.patch(
                &format!("/v1/whatsapp/connections/{id}"),
                &s.ws.owner,
                json!({"phone_number_id": "000000"}),
            )
            .await,
            200,
        )
        .await;
        assert!(patched["verification"].is_null());
        let failed = expect(
            app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await,
            200,
        )
        .await;
        assert_eq!(failed["verification"]["status"], "failed");
        let again = raw_tokens(&app).await;
        assert_eq!(again, stored, "a patch without a token keeps the sealed one");

        // A new token is sealed with a fresh nonce.
        let rotated = expect(
            app.patch(&format!("/v1/whatsapp/connections/{id}"), &s.ws.owner, json!({"access_token": TOKEN}))
                .await,
            200,
        )
        .await;
        assert_eq!(rotated["access_token_last4"], "9876");
        assert_ne!(raw_tokens(&app).await, stored);
    })
    .await;
}

#[tokio::test]
async fn connection_rules_roles_soft_delete_restore_and_twilio_verify() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let path = "/v1/whatsapp/connections";
        let sender = format!("whatsapp:{}", s.phone);

        let p = expect_problem(
            app.post(
                path,
                &s.ws.owner,
                json!({"display_name": " ", "provider": "twilio", "sender": s.phone}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["display_name", "sender", "agent_id"]);
        let p = expect_problem(
            app.post(path, &s.ws.owner, json!({"display_name": "M", "provider": "meta", "active": false}))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["phone_number_id", "access_token"]);
        expect_problem(
            app.post(path, &s.ws.owner, json!({"display_name": "X", "provider": "fax", "sender": sender}))
                .await,
            422,
            "validation_failed",
        )
        .await;

        let draft = app.create_agent(&s.ws.owner, json!({"name": "Draft"})).await;
        expect_problem(
            app.post(
                path,
                &s.ws.owner,
                json!({"display_name": "X", "provider": "twilio", "sender": sender, "agent_id": draft["id"]}),
            )
            .await,
            409,
            "agent_not_live",
        )
        .await;
        let quiet = app.create_agent(&s.ws.owner, json!({"name": "Quiet", "status": "live"})).await;
        expect_problem(
            app.post(
                path,
                &s.ws.owner,
                json!({"display_name": "X", "provider": "twilio", "sender": sender, "agent_id": quiet["id"]}),
            )
            .await,
            409,
            "whatsapp_not_enabled",
        )
        .await;
        // Inactive, it may wait for its agent.
        let parked = expect(
            app.post(
                path,
                &s.ws.owner,
                json!({"display_name": "Later", "provider": "twilio", "sender": sender,
                                               "agent_id": quiet["id"], "active": false}),
            )
            .await,
            201,
        )
        .await;
        assert_eq!(parked["active"], false);

        let agent_key = app.key(&s.ws, "agent").await;
        let body =
            json!({"display_name": "Main line", "provider": "twilio", "sender": sender, "agent_id": s.agent});
        expect_problem(app.post(path, &agent_key, body.clone()).await, 403, "forbidden").await;
        let conn = expect(app.post(path, &s.ws.owner, body).await, 201).await;
        let id = conn["id"].as_str().unwrap().to_owned();
        assert_eq!(conn["sender"], sender);
        assert!(conn["access_token_last4"].is_null());
        let listed = expect(app.get(path, &agent_key).await, 200).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 2);

        // Verify: a provisioned sender is registered in the sandbox; an offline one fails.
        let v = expect(app.post(&format!("{path}/{id}/verify"), &s.ws.owner, json!({})).await, 200).await;
        assert!(["verified", "pending"].contains(&v["verification"]["status"].as_str().unwrap()), "{v}");
        let offline = expect(
            app.post(
                path,
                &s.ws.owner,
                json!({"display_name": "Off", "provider": "twilio",
                                               "sender": "whatsapp:+14155550410", "active": false}),
            )
            .await,
            201,
        )
        .await;
        let off_id = offline["id"].as_str().unwrap();
        let v = expect(app.post(&format!("{path}/{off_id}/verify"), &s.ws.owner, json!({})).await, 200).await;
        assert_eq!(v["verification"]["status"], "failed");
        expect_problem(
            app.post(&format!("{path}/{off_id}/verify"), &agent_key, json!({})).await,
            403,
            "forbidden",
        )
        .await;

        // Soft delete, listed apart, restored inactive.
        expect_problem(app.delete(&format!("{path}/{id}"), &agent_key).await, 403, "forbidden").await;
        expect(app.delete(&format!("{path}/{id}"), &s.ws.owner).await, 204).await;
        let active = expect(app.get(path, &s.ws.owner).await, 200).await;
        assert!(active["data"].as_array().unwrap().iter().all(|c| c["id"] != id.as_str()));
        let deleted = expect(app.get(&format!("{path}?deleted=true"), &s.ws.owner).await, 200).await;
        assert_eq!(deleted["data"].as_array().unwrap().len(), 1);
        assert_eq!(deleted["data"][0]["id"], id.as_str());
        assert!(deleted["data"][0]["deleted_at"].is_string());
        expect_problem(
            app.patch(&format!("{path}/{id}"), &s.ws.owner, json!({"display_name": "x"})).await,
            409,
            "connection_deleted",
        )
        .await;
        let restored =
            expect(app.post(&format!("{path}/{id}/restore"), &s.ws.owner, json!({})).await, 200).await;
        assert_eq!(restored["active"], false);
        assert!(restored["deleted_at"].is_null());
        let on =
            expect(app.patch(&format!("{path}/{id}"), &s.ws.owner, json!({"active": true})).await, 200).await;
        assert_eq!(on["active"], true);

        // Another workspace sees none of it.
        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&format!("{path}/{id}"), &other.owner).await, 404, "not_found").await;
        expect_problem(
            app.post(&format!("{path}/{id}/verify"), &other.owner, json!({})).await,
            404,
            "not_found",
        )
        .await;
        expect_problem(app.delete(&format!("{path}/{id}"), &other.owner).await, 404, "not_found").await;
        expect_problem(app.get(&format!("{path}/wac_nonsense"), &s.ws.owner).await, 404, "not_found").await;
        assert_eq!(expect(app.get(path, &other.owner).await, 200).await["data"], json!([]));
    })
    .await;
}

async fn notification_kinds(app: &TestApp) -> Vec<String> {
    let rows = app
        .state
        .db
        .query_all(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT kind FROM notifications ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "kind").unwrap()).collect()
}

#[tokio::test]
async fn conversation_status_machine_escalation_roles_and_isolation() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let id = inbound(&app, &s, Channel::Sms, &s.phone, CONTACT, Duration::minutes(1)).await;
        let agent_key = app.key(&s.ws, "agent").await;
        let base = format!("/v1/conversations/{id}");

        let one = expect(app.get(&base, &agent_key).await, 200).await;
        assert_eq!(one["status"], "open");
        assert_eq!(one["channel"], "sms");
        assert_eq!(one["contact"], CONTACT);
        assert_eq!(one["ai_active"], true);
        assert!(one["sentiment"].is_null() && one["summary"].is_null());
        assert_eq!(one["messages"].as_array().unwrap().len(), 1);
        assert_eq!(one["last_message"]["direction"], "inbound");

        expect_problem(
            app.post(&format!("{base}/archive"), &agent_key, json!({})).await,
            409,
            "invalid_transition",
        )
        .await;
        expect_problem(
            app.post(&format!("{base}/reopen"), &agent_key, json!({})).await,
            409,
            "invalid_transition",
        )
        .await;
        let closed = expect(app.post(&format!("{base}/close"), &agent_key, json!({})).await, 200).await;
        assert_eq!(closed["status"], "closed");
        expect_problem(
            app.post(&format!("{base}/close"), &agent_key, json!({})).await,
            409,
            "invalid_transition",
        )
        .await;
        let archived = expect(app.post(&format!("{base}/archive"), &agent_key, json!({})).await, 200).await;
        assert_eq!(archived["status"], "archived");
        let listed = expect(app.get("/v1/conversations?status=archived", &s.ws.owner).await, 200).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert_eq!(listed["data"][0]["last_message"]["direction"], "inbound");
        let none = expect(app.get("/v1/conversations?status=open&channel=sms", &s.ws.owner).await, 200).await;
        assert_eq!(none["data"], json!([]));
        let reopened = expect(app.post(&format!("{base}/reopen"), &agent_key, json!({})).await, 200).await;
        assert_eq!(reopened["status"], "open");
        expect(app.post(&format!("{base}/close"), &agent_key, json!({})).await, 200).await;
        expect(app.post(&format!("{base}/reopen"), &agent_key, json!({})).await, 200).await;

        let off = expect(app.patch(&base, &agent_key, json!({"ai_active": false})).await, 200).await;
        assert_eq!(off["ai_active"], false);
        expect_problem(
            app.patch(&base, &agent_key, json!({"status": "closed"})).await,
            422,
            "validation_failed",
        )
        .await;
        let esc = expect(app.post(&format!("{base}/escalate"), &agent_key, json!({})).await, 200).await;
        assert_eq!(esc["escalated"], true);
        expect(app.post(&format!("{base}/escalate"), &agent_key, json!({})).await, 200).await;
        let kinds = notification_kinds(&app).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "conversation_closed").count(),
            2,
            "each close notifies: {kinds:?}"
        );
        assert_eq!(kinds.iter().filter(|k| *k == "conversation_escalated").count(), 1, "{kinds:?}");

        let by_agent =
            expect(app.get(&format!("/v1/conversations?agent_id={}", s.agent), &s.ws.owner).await, 200).await;
        assert_eq!(by_agent["data"].as_array().unwrap().len(), 1);
        expect_problem(
            app.get("/v1/conversations?status=pending", &s.ws.owner).await,
            422,
            "validation_failed",
        )
        .await;

        // Another workspace: 404 for everything.
        let other = app.create_workspace("Other").await;
        expect_problem(app.get(&base, &other.owner).await, 404, "not_found").await;
        for action in ["close", "reopen", "archive", "escalate"] {
            expect_problem(
                app.post(&format!("{base}/{action}"), &other.owner, json!({})).await,
                404,
                "not_found",
            )
            .await;
        }
        expect_problem(
            app.post(&send_path(&id), &other.owner, json!({"body": "hi"})).await,
            404,
            "not_found",
        )
        .await;
        expect_problem(app.delete(&base, &other.owner).await, 404, "not_found").await;
        assert_eq!(expect(app.get("/v1/conversations", &other.owner).await, 200).await["data"], json!([]));

        // Delete: owner and admin only.
        expect_problem(app.delete(&base, &agent_key).await, 403, "forbidden").await;
        let admin = app.key(&s.ws, "admin").await;
        expect(app.delete(&base, &admin).await, 204).await;
        expect_problem(app.get(&base, &s.ws.owner).await, 404, "not_found").await;
    })
    .await;
}

#[tokio::test]
async fn sms_replies_are_sent_from_the_number_metered_and_idempotent() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let id = inbound(&app, &s, Channel::Sms, &s.phone, CONTACT, Duration::minutes(5)).await;
        let agent_key = app.key(&s.ws, "agent").await;

        expect_problem(
            app.post(&send_path(&id), &agent_key, json!({"body": "  "})).await,
            422,
            "validation_failed",
        )
        .await;
        let send = |key: &'static str| {
            app.request(Method::POST, &send_path(&id), Some(&agent_key))
                .header("Idempotency-Key", key)
                .json(&json!({"body": "Ja, bis 18 Uhr.\nBis gleich!"}))
                .send()
        };
        let first = expect(send("reply-1").await.unwrap(), 201).await;
        let again = expect(send("reply-1").await.unwrap(), 201).await;
        assert_eq!(first, again);
        assert_eq!(first["direction"], "outbound");
        assert!(first["provider_message_id"].as_str().unwrap().starts_with("SM"));
        let sent = app.sandbox.sent_messages();
        assert_eq!(sent.len(), 1, "the repeat sent nothing");
        assert_eq!(sent[0].from, s.phone);
        assert_eq!(sent[0].to.as_str(), CONTACT);
        assert_eq!(sent[0].body, "Ja, bis 18 Uhr.\nBis gleich!");
        assert!(sent[0].status_callback.as_deref().unwrap().ends_with("/twilio/messages/status"));
        // The same key with another body is refused.
        let reused = app
            .request(Method::POST, &send_path(&id), Some(&agent_key))
            .header("Idempotency-Key", "reply-1")
            .json(&json!({"body": "something else"}))
            .send()
            .await
            .unwrap();
        expect_problem(reused, 409, "idempotency_key_reused").await;

        let conv = expect(app.get(&format!("/v1/conversations/{id}"), &agent_key).await, 200).await;
        let directions: Vec<&str> =
            conv["messages"].as_array().unwrap().iter().map(|m| m["direction"].as_str().unwrap()).collect();
        assert_eq!(directions, ["inbound", "outbound"]);
        assert_eq!(conv["last_message"]["id"], first["id"]);

        let usage = expect(app.get("/v1/billing/usage", &s.ws.owner).await, 200).await;
        assert_eq!(usage["sms"]["used"], 1, "the outbound SMS is counted once: {usage}");
    })
    .await;
}

#[tokio::test]
async fn every_send_refusal_answers_its_own_code() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let agent_key = app.key(&s.ws, "agent").await;
        let reply = json!({"body": "Hallo!"});
        let number = format!("/v1/numbers/{}", s.number_id);

        // Our own opt-out list, then removing the opt-out allows sending again.
        let sms = inbound(&app, &s, Channel::Sms, &s.phone, CONTACT, Duration::minutes(1)).await;
        let opt = expect(
            app.post("/v1/opt-outs", &agent_key, json!({"channel": "sms", "contact": "+49 151 12345678"}))
                .await,
            201,
        )
        .await;
        assert_eq!(opt["contact"], CONTACT);
        assert_eq!(opt["source"], "manual");
        expect(
            app.post("/v1/opt-outs", &agent_key, json!({"channel": "sms", "contact": CONTACT})).await,
            200,
        )
        .await;
        expect_problem(
            app.post(&send_path(&sms), &agent_key, reply.clone()).await,
            409,
            "recipient_opted_out",
        )
        .await;
        let opt_id = opt["id"].as_str().unwrap();
        expect_problem(app.delete(&format!("/v1/opt-outs/{opt_id}"), &agent_key).await, 403, "forbidden")
            .await;
        expect(app.delete(&format!("/v1/opt-outs/{opt_id}"), &s.ws.owner).await, 204).await;
        expect(app.post(&send_path(&sms), &agent_key, reply.clone()).await, 201).await;

        // The provider's opt-out (Twilio 21610) is refused and recorded.
        let stopped = inbound(&app, &s, Channel::Sms, &s.phone, "+4915112340000", Duration::minutes(1)).await;
        let used = |r: serde_json::Value| r["sms"]["used"].as_i64().unwrap();
        let before = used(expect(app.get("/v1/billing/usage", &s.ws.owner).await, 200).await);
        expect_problem(
            app.post(&send_path(&stopped), &agent_key, reply.clone()).await,
            409,
            "recipient_opted_out",
        )
        .await;
        // Admitted before sending, taken back when the provider refused: not counted, not charged.
        let after = used(expect(app.get("/v1/billing/usage", &s.ws.owner).await, 200).await);
        assert_eq!(after, before, "a reply the provider refused is not counted");
        let list =
            expect(app.get("/v1/opt-outs?channel=sms&contact=%2B4915112340000", &agent_key).await, 200).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        assert_eq!(list["data"][0]["source"], "provider_refusal");

        // The number's switches and limit, through billing's admission.
        expect(app.patch(&number, &s.ws.owner, json!({"sms_enabled": false})).await, 200).await;
        expect_problem(app.post(&send_path(&sms), &agent_key, reply.clone()).await, 409, "sms_disabled")
            .await;
        expect(
            app.patch(&number, &s.ws.owner, json!({"sms_enabled": true, "monthly_sms_limit": 1})).await,
            200,
        )
        .await;
        expect_problem(app.post(&send_path(&sms), &agent_key, reply.clone()).await, 409, "limit_reached")
            .await;
        expect(
            app.patch(&number, &s.ws.owner, json!({"monthly_sms_limit": null, "status": "disabled"})).await,
            200,
        )
        .await;
        expect_problem(app.post(&send_path(&sms), &agent_key, reply.clone()).await, 409, "number_disabled")
            .await;
        expect(app.patch(&number, &s.ws.owner, json!({"status": "enabled"})).await, 200).await;

        // WhatsApp through the Twilio sender: the window, and the provider's closed window.
        let sender = format!("whatsapp:{}", s.phone);
        let twilio = expect(
            app.post(
                "/v1/whatsapp/connections",
                &s.ws.owner,
                json!({"display_name": "Main", "provider": "twilio", "sender": sender, "agent_id": s.agent}),
            )
            .await,
            201,
        )
        .await;
        let fresh = inbound(&app, &s, Channel::Whatsapp, &s.phone, CONTACT, Duration::hours(23)).await;
        let sent = expect(app.post(&send_path(&fresh), &agent_key, reply.clone()).await, 201).await;
        let last = app.sandbox.sent_messages().last().cloned().unwrap();
        assert_eq!(last.from, sender);
        assert_eq!(last.provider_message_id, sent["provider_message_id"].as_str().unwrap());
        let conv = expect(app.get(&format!("/v1/conversations/{fresh}"), &agent_key).await, 200).await;
        assert_eq!(conv["whatsapp_connection_id"], twilio["id"]);
        let stale =
            inbound(&app, &s, Channel::Whatsapp, &s.phone, "+4915112349999", Duration::hours(25)).await;
        expect_problem(
            app.post(&send_path(&stale), &agent_key, reply.clone()).await,
            409,
            "whatsapp_window_closed",
        )
        .await;
        let closed_at_provider =
            inbound(&app, &s, Channel::Whatsapp, &s.phone, "+14155550047", Duration::hours(1)).await;
        expect_problem(
            app.post(&send_path(&closed_at_provider), &agent_key, reply.clone()).await,
            409,
            "whatsapp_window_closed",
        )
        .await;

        // Nobody wrote first: only a connection that may initiate sends.
        let started = json!({"channel": "whatsapp", "contact": "+49 151 12341111",
                             "whatsapp_connection_id": twilio["id"]});
        let cold = expect(app.post("/v1/conversations", &agent_key, started.clone()).await, 201).await;
        assert_eq!(cold["contact"], "+4915112341111");
        assert_eq!(cold["business_address"], s.phone.as_str());
        assert_eq!(cold["agent_id"], s.agent.as_str());
        assert!(cold["last_inbound_at"].is_null() && cold["messages"] == json!([]));
        let same = expect(app.post("/v1/conversations", &agent_key, started).await, 200).await;
        assert_eq!(same["id"], cold["id"]);
        let cold_path = send_path(cold["id"].as_str().unwrap());
        expect_problem(app.post(&cold_path, &agent_key, reply.clone()).await, 409, "cannot_initiate").await;
        let tid = twilio["id"].as_str().unwrap();
        expect(
            app.patch(&format!("/v1/whatsapp/connections/{tid}"), &s.ws.owner, json!({"can_initiate": true}))
                .await,
            200,
        )
        .await;
        expect(app.post(&cold_path, &agent_key, reply.clone()).await, 201).await;

        // A deleted connection stops serving its conversations.
        expect(app.delete(&format!("/v1/whatsapp/connections/{tid}"), &s.ws.owner).await, 204).await;
        expect_problem(
            app.post(&send_path(&fresh), &agent_key, reply.clone()).await,
            409,
            "connection_inactive",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn whatsapp_replies_go_through_a_meta_connection_with_its_token() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let meta = expect(
            app.post(
                "/v1/whatsapp/connections",
                &s.ws.owner,
                json!({"display_name": "Meta line", "provider": "meta", "agent_id": s.agent,
                       "phone_number_id": "106540352242922", "access_token": TOKEN}),
            )
            .await,
            201,
        )
        .await;
        let id = inbound(&app, &s, Channel::Whatsapp, "106540352242922", CONTACT, Duration::minutes(3)).await;
        let sent =
            expect(app.post(&send_path(&id), &s.ws.owner, json!({"body": "Guten Tag"})).await, 201).await;
        assert!(sent["provider_message_id"].as_str().unwrap().starts_with("wamid."), "{sent}");
        let last = app.sandbox.sent_messages().last().cloned().unwrap();
        assert_eq!(last.provider, "meta");
        assert_eq!(last.from, "106540352242922");
        let conv = expect(app.get(&format!("/v1/conversations/{id}"), &s.ws.owner).await, 200).await;
        assert_eq!(conv["whatsapp_connection_id"], meta["id"]);

        // A token Meta refuses is a provider failure of the send, never echoed.
        let mid = meta["id"].as_str().unwrap();
        expect(
            app.patch(
                &format!("/v1/whatsapp/connections/{mid}"),
                &s.ws.owner,
                json!({"access_token": "invalid-but-long"}),
            )
            .await,
            200,
        )
        .await;
        let res = app.post(&send_path(&id), &s.ws.owner, json!({"body": "Noch da?"})).await;
        let text = res.text().await.unwrap();
        assert!(!text.contains("invalid-but-long") && !text.contains("secretTOKEN"), "{text}");
    })
    .await;
}

/// Everything logged on this thread, at every level (the app runs on the test's
/// current-thread runtime, so its request handling logs here too).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_access_token_never_appears_in_a_log_line() {
    let logs = Captured::default();
    // Events only, at every level: spans of this thread-local subscriber would be closed on the
    // SQLite worker threads, which log to the global one.
    use tracing_subscriber::layer::SubscriberExt as _;
    let subscriber = tracing_subscriber::registry().with(tracing_subscriber::Layer::with_filter(
        tracing_subscriber::fmt::layer().with_writer(logs.clone()).with_ansi(false),
        tracing_subscriber::filter::filter_fn(|meta| meta.is_event()),
    ));
    let _guard = tracing::subscriber::set_default(subscriber);
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let created = expect(
            app.post(
                "/v1/whatsapp/connections",
                &s.ws.owner,
                json!({"display_name": "Meta line", "provider": "meta", "agent_id": s.agent,
                       "phone_number_id": "106540352242922", "access_token": TOKEN}),
            )
            .await,
            201,
        )
        .await;
        let id = created["id"].as_str().unwrap();
        expect(app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await, 200)
            .await;
        let conv =
            inbound(&app, &s, Channel::Whatsapp, "106540352242922", CONTACT, Duration::minutes(1)).await;
        expect(app.post(&send_path(&conv), &s.ws.owner, json!({"body": "Hallo"})).await, 201).await;
        // A refused token on the way in is answered without echoing it.
        let p = expect_problem(
            app.post(
                "/v1/whatsapp/connections",
                &s.ws.owner,
                json!({"display_name": "Bad", "provider": "meta", "active": false,
                       "phone_number_id": "1", "access_token": "short secretTOKEN"}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert!(!p.to_string().contains("secretTOKEN"));
    })
    .await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("WhatsApp connection created"),
        "the capture works: {}",
        &text[..text.len().min(2000)]
    );
    assert!(!text.contains("secretTOKEN"), "the token was logged");
}

/// Live mode: a live agent with WhatsApp on (its number typed in; nothing provisioned).
async fn live_setup(app: &TestApp) -> Setup {
    let ws = app.create_workspace("Live").await;
    let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    let phone = "+4930901820".to_owned();
    expect(
        app.patch(
            &format!("/v1/agents/{agent}/channels"),
            &ws.owner,
            json!({"whatsapp_number": phone, "whatsapp_enabled": true}),
        )
        .await,
        200,
    )
    .await;
    Setup { ws, agent, number_id: String::new(), phone }
}

#[tokio::test]
async fn meta_connections_verify_and_send_against_the_real_cloud_api_with_the_decrypted_token() {
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    each_engine(|db| async move {
        let meta = MockServer::start().await;
        let unused = MockServer::start().await;
        let bearer = format!("Bearer {TOKEN}");
        Mock::given(method("GET"))
            .and(path("/v23.0/106540352242922"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "verified_name": "Acme GmbH", "display_phone_number": "+49 30 901820",
                "quality_rating": "GREEN", "id": "106540352242922"})))
            .mount(&meta)
            .await;
        Mock::given(method("POST"))
            .and(path("/v23.0/106540352242922/messages"))
            .and(header("authorization", bearer.as_str()))
            .and(body_string_contains("4915112340047"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
                "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
                "fbtrace_id": "AbCdEf"}})))
            .mount(&meta)
            .await;
        Mock::given(method("POST"))
            .and(path("/v23.0/106540352242922/messages"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": CONTACT, "wa_id": "4915112345678"}],
                "messages": [{"id": "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQ5RkE2QjQ0MkE2QzQ5RkQ3MQA="}]})))
            .mount(&meta)
            .await;
        let app = spawn_app_live_with(db, &unused.uri(), &unused.uri(), &[("APP__META__GRAPH_BASE_URL", &meta.uri())])
            .await;
        let s = live_setup(&app).await;
        let created = expect(
            app.post("/v1/whatsapp/connections", &s.ws.owner,
                json!({"display_name": "Acme", "provider": "meta", "agent_id": s.agent,
                       "phone_number_id": "106540352242922", "access_token": TOKEN}))
                .await,
            201,
        )
        .await;
        let id = created["id"].as_str().unwrap();
        let v = expect(app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await, 200)
            .await;
        assert_eq!(v["verification"]["status"], "verified", "{v}");
        assert!(v["verification"]["message"].as_str().unwrap().contains("Acme GmbH"));

        let conv = inbound(&app, &s, Channel::Whatsapp, "106540352242922", CONTACT, Duration::minutes(2)).await;
        let sent = expect(app.post(&send_path(&conv), &s.ws.owner, json!({"body": "Guten Tag"})).await, 201).await;
        assert!(sent["provider_message_id"].as_str().unwrap().starts_with("wamid.HBg"));
        let closed = inbound(&app, &s, Channel::Whatsapp, "106540352242922", "+4915112340047", Duration::hours(2)).await;
        let res = app.post(&send_path(&closed), &s.ws.owner, json!({"body": "Hallo?"})).await;
        let p = expect_problem(res, 409, "whatsapp_window_closed").await;
        assert!(!p.to_string().contains("secretTOKEN"));

        // Every request carried the decrypted token as the bearer, nothing else did.
        let requests = meta.received_requests().await.unwrap();
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().all(|r| r.headers.get("authorization").unwrap() == bearer.as_str()));
        assert!(requests.iter().all(|r| !String::from_utf8_lossy(&r.body).contains("secretTOKEN")));
        assert!(unused.received_requests().await.unwrap().is_empty());

        // A token Meta refuses (190) is a failed verdict.
        Mock::given(method("GET"))
            .and(path("/v23.0/106540352242923"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
                "message": "Error validating access token: Session has expired", "type": "OAuthException",
                "code": 190, "fbtrace_id": "X"}})))
            .mount(&meta)
            .await;
        expect(app.patch(&format!("/v1/whatsapp/connections/{id}"), &s.ws.owner, json!({"phone_number_id": "106540352242923"})).await, 200)
            .await;
        let v = expect(app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await, 200)
            .await;
        assert_eq!(v["verification"]["status"], "failed", "{v}");
    })
    .await;
}

#[tokio::test]
async fn twilio_connections_verify_against_the_real_senders_api() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    each_engine(|db| async move {
        let twilio = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2/Channels/Senders"))
            .and(query_param("Channel", "whatsapp"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "senders": [
                    {"sid": "XE11111111111111111111111111111111", "sender_id": "whatsapp:+4930901820",
                     "status": "ONLINE", "properties": {"quality_rating": "HIGH", "messaging_limit": "1K"}},
                    {"sid": "XE22222222222222222222222222222222", "sender_id": "whatsapp:+4930901821",
                     "status": "OFFLINE", "offline_reasons": [{"code": "63112", "message": "account disabled"}]}
                ],
                "meta": {"next_page_url": null}})))
            .mount(&twilio)
            .await;
        let app = spawn_app_live_with(db, &twilio.uri(), &twilio.uri(), &[]).await;
        let s = live_setup(&app).await;
        let mut verdicts = vec![];
        for sender in ["whatsapp:+4930901820", "whatsapp:+4930901821", "whatsapp:+4930901822"] {
            let c = expect(
                app.post("/v1/whatsapp/connections", &s.ws.owner,
                    json!({"display_name": "Twilio", "provider": "twilio", "sender": sender, "agent_id": s.agent}))
                    .await,
                201,
            )
            .await;
            let id = c["id"].as_str().unwrap();
            let v = expect(app.post(&format!("/v1/whatsapp/connections/{id}/verify"), &s.ws.owner, json!({})).await, 200)
                .await;
            verdicts.push(v["verification"]["status"].as_str().unwrap().to_owned());
        }
        assert_eq!(verdicts, ["verified", "failed", "failed"]);
    })
    .await;
}

/// Concurrent replies: one Idempotency-Key sends once however many retries race; a number's
/// SMS limit admits exactly that many replies, because admission is counted before sending.
#[tokio::test]
async fn concurrent_replies_send_once_per_key_and_never_past_the_limit() {
    each_engine(|db| async move {
        let app = std::sync::Arc::new(spawn_app(db).await);
        let s = setup(&app, "Acme").await;
        let id = inbound(&app, &s, Channel::Sms, &s.phone, CONTACT, Duration::minutes(1)).await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (app, barrier, path, key) =
                    (app.clone(), barrier.clone(), send_path(&id), s.ws.owner.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let res = app
                        .request(Method::POST, &path, Some(&key))
                        .header("Idempotency-Key", "same-retry")
                        .json(&json!({"body": "Nur einmal"}))
                        .send()
                        .await
                        .unwrap();
                    expect(res, 201).await["id"].as_str().unwrap().to_owned()
                })
            })
            .collect();
        let mut ids = vec![];
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every retry answers the first reply");
        assert_eq!(app.sandbox.sent_messages().len(), 1);

        // One SMS of the month is used; a limit of 4 leaves room for exactly 3 more.
        expect(
            app.patch(&format!("/v1/numbers/{}", s.number_id), &s.ws.owner, json!({"monthly_sms_limit": 4}))
                .await,
            200,
        )
        .await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (app, barrier, path, key) =
                    (app.clone(), barrier.clone(), send_path(&id), s.ws.owner.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let res = app.post(&path, &key, json!({"body": format!("Antwort {i}")})).await;
                    res.status().as_u16()
                })
            })
            .collect();
        let mut statuses = vec![];
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
        assert_eq!(app.sandbox.sent_messages().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn the_business_starts_conversations_from_its_numbers_and_connections() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let s = setup(&app, "Acme").await;
        let sms = expect(
            app.post("/v1/conversations", &s.ws.owner, json!({"channel": "sms", "contact": CONTACT, "number_id": s.number_id}))
                .await,
            201,
        )
        .await;
        assert_eq!(sms["business_address"], s.phone.as_str());
        assert_eq!(sms["number_id"], s.number_id.as_str());
        // SMS has no window: the first message goes out.
        let id = sms["id"].as_str().unwrap();
        expect(app.post(&send_path(id), &s.ws.owner, json!({"body": "Ihr Termin ist morgen."})).await, 201).await;
        // The contact's answer lands in the same conversation.
        let answered = inbound(&app, &s, Channel::Sms, &s.phone, CONTACT, Duration::seconds(0)).await;
        assert_eq!(answered, id);

        let p = expect_problem(
            app.post("/v1/conversations", &s.ws.owner, json!({"channel": "sms", "contact": "12"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["contact"]);
        let p = expect_problem(
            app.post("/v1/conversations", &s.ws.owner, json!({"channel": "whatsapp", "contact": CONTACT})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["whatsapp_connection_id"]);
        let other = app.create_workspace("Other").await;
        let p = expect_problem(
            app.post("/v1/conversations", &other.owner, json!({"channel": "sms", "contact": CONTACT, "number_id": s.number_id}))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["number_id"], "a foreign number is not usable");
        let inactive = expect(
            app.post("/v1/whatsapp/connections", &s.ws.owner,
                json!({"display_name": "Off", "provider": "twilio", "sender": format!("whatsapp:{}", s.phone), "active": false}))
                .await,
            201,
        )
        .await;
        expect_problem(
            app.post("/v1/conversations", &s.ws.owner,
                json!({"channel": "whatsapp", "contact": CONTACT, "whatsapp_connection_id": inactive["id"]}))
                .await,
            409,
            "connection_inactive",
        )
        .await;
    })
    .await;
}
