//! `POST /vapi/events`: the assistant-request decision per number and line, settlement shared
//! with Twilio's call status, transfer destinations.

use serde_json::{Value, json};
use switchboard_agents::AgentService;
use switchboard_core::{AgentId, Ctx, WorkspaceId};
use switchboard_forwarding::ForwardingService;
use switchboard_inbound::{EventKind, EventState, Provider};
use switchboard_phone_lines::PhoneLineService;
use switchboard_testkit::{TestDb, each_engine};

use crate::harness::{
    self, ASSISTANT_ID, VAPI_NUMBER_ID, count, edit_json, expect_problem, fixtures, ledger_entries, spawn,
    spawn_with, twilio_params,
};

const CALL_SID: &str = "CA5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a";
const CALL_ID: &str = "6f0c2a2e-5b1d-4c8e-9a7f-3e2d1c0b9a88";

fn services(db: &TestDb) -> (PhoneLineService, ForwardingService) {
    let agents =
        AgentService::new(db.conn.clone(), switchboard_tenancy::TenancyService::new(db.conn.clone()));
    (PhoneLineService::new(db.conn.clone(), agents.clone()), ForwardingService::new(db.conn.clone(), agents))
}

async fn line(db: &TestDb, ws: &WorkspaceId, agent: &AgentId, vapi_id: &str, number: &str, language: &str) {
    let (lines, _) = services(db);
    lines
        .create(
            &Ctx::system(ws.clone()),
            agent,
            serde_json::from_value(
                json!({"vapi_phone_number_id": vapi_id, "phone_number": number, "language": language}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
}

async fn target(db: &TestDb, ws: &WorkspaceId, agent: &AgentId, body: Value) {
    let (_, forwarding) = services(db);
    forwarding.create(&Ctx::system(ws.clone()), agent, serde_json::from_value(body).unwrap()).await.unwrap();
}

/// The assistant-request fixture for a call `call` on `number` (Vapi id `vapi_id`).
fn assistant_request(call: &str, call_sid: &str, number: &str, vapi_id: &str) -> Value {
    edit_json(
        fixtures::ASSISTANT_REQUEST,
        &[
            ("/message/call/id", json!(call)),
            ("/message/call/phoneCallProviderId", json!(call_sid)),
            ("/message/call/phoneNumberId", json!(vapi_id)),
            ("/message/phoneNumber/id", json!(vapi_id)),
            ("/message/phoneNumber/number", json!(number)),
        ],
    )
}

async fn answer(ingest: &harness::Ingest, body: &Value) -> Value {
    let res = ingest.vapi(body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_enabled_number_gets_its_assistant_line_language_open_targets_and_the_calls_maximum() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world_with(&ingest.db, |r| r.monthly_minutes_limit = Some(25)).await;
        line(&ingest.db, &w.ws, &w.agent, VAPI_NUMBER_ID, &w.phone, "fr").await;
        target(
            &ingest.db,
            &w.ws,
            &w.agent,
            json!({"name": "Herr Müller", "phone_number": "+4930111111", "forwarding_message": "Ich verbinde.",
                   "fallback_message": "Herr Müller ist gerade nicht erreichbar."}),
        )
        .await;
        // Closed every day: not a destination.
        target(
            &ingest.db,
            &w.ws,
            &w.agent,
            json!({"name": "Buchhaltung", "phone_number": "+4930222222",
                   "opening_hours": {"days": {"mon": [], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}}}),
        )
        .await;

        let body = answer(&ingest, &serde_json::from_str(fixtures::ASSISTANT_REQUEST).unwrap()).await;
        assert_eq!(body["assistantId"], ASSISTANT_ID, "{body}");
        let o = &body["assistantOverrides"];
        // 25 minutes left this month, under the 60-minute cap per call.
        assert_eq!(o["maxDurationSeconds"], 25 * 60, "{body}");
        assert_eq!(o["transcriber"]["language"], "fr");
        assert_eq!(o["transcriber"]["provider"], "deepgram");
        assert_eq!(o["variableValues"]["language"], "fr");
        let destinations = o["tools:append"][0]["destinations"].as_array().unwrap();
        assert_eq!(o["tools:append"][0]["type"], "transferCall");
        assert_eq!(destinations.len(), 1, "{body}");
        assert_eq!(destinations[0]["number"], "+4930111111");
        assert_eq!(destinations[0]["message"], "Ich verbinde.");

        let event = ingest.settled(Provider::Vapi, EventKind::AssistantRequest, CALL_ID).await;
        assert_eq!((event.state, event.workspace_id.as_ref()), (EventState::Processed, Some(&w.ws)));
        // The reservation is keyed by the Twilio CallSid.
        assert_eq!(
            count(&ingest.db, &format!("SELECT reserved FROM usage_records WHERE key = 'call:{CALL_SID}'")).await,
            25
        );

        // Vapi asking again for the same call gets the same answer and reserves nothing more.
        let again = answer(&ingest, &serde_json::from_str(fixtures::ASSISTANT_REQUEST).unwrap()).await;
        assert_eq!(again["assistantOverrides"]["maxDurationSeconds"], 25 * 60);
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM usage_records").await, 1);
        assert_eq!(ingest.events(Provider::Vapi).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn disabled_numbers_calls_off_and_reached_limits_refuse_the_call() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let cases: [(harness::Tweak, &str); 3] = [
            (|r| r.enabled = false, "number_disabled"),
            (|r| r.calls_enabled = false, "calls_disabled"),
            (|r| r.monthly_minutes_limit = Some(0), "limit_reached"),
        ];
        for (i, (tweak, reason)) in cases.into_iter().enumerate() {
            let phone = format!("+493090183{i}");
            let vapi_id = format!("vapi-number-{i:04}");
            let w = harness::world_with(&ingest.db, |r| {
                r.phone_number = phone.clone();
                r.vapi_phone_number_id = Some(vapi_id.clone());
                tweak(r);
            })
            .await;
            let call = format!("call-{i}");
            let body =
                answer(&ingest, &assistant_request(&call, &format!("CA{i:032}"), &phone, &vapi_id)).await;
            assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{reason}: {body}");
            assert!(body.get("assistantId").is_none(), "{reason}: {body}");
            let event = ingest.settled(Provider::Vapi, EventKind::AssistantRequest, &call).await;
            assert_eq!((event.state, event.reason.as_deref()), (EventState::Dropped, Some(reason)));
            assert_eq!(event.workspace_id.as_ref(), Some(&w.ws));
        }
        assert_eq!(count(&ingest.db, "SELECT COUNT(*) FROM usage_records").await, 0, "nothing reserved");

        // A number nobody holds and no line: not in service.
        let body =
            answer(&ingest, &assistant_request("call-x", "CA9", "+4940999999", "unknown-vapi-id")).await;
        assert!(body["error"].is_string());
        let event = ingest.settled(Provider::Vapi, EventKind::AssistantRequest, "call-x").await;
        assert_eq!(event.state, EventState::Unroutable);
    })
    .await;
}

#[tokio::test]
async fn a_limit_reached_by_reservations_refuses_the_next_call() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world_with(&ingest.db, |r| r.monthly_minutes_limit = Some(90)).await;
        let first = answer(&ingest, &assistant_request("call-a", "CAa", &w.phone, VAPI_NUMBER_ID)).await;
        assert_eq!(first["assistantOverrides"]["maxDurationSeconds"], 60 * 60, "capped per call");
        let second = answer(&ingest, &assistant_request("call-b", "CAb", &w.phone, VAPI_NUMBER_ID)).await;
        assert_eq!(second["assistantOverrides"]["maxDurationSeconds"], 30 * 60, "what the limit leaves");
        let third = answer(&ingest, &assistant_request("call-c", "CAc", &w.phone, VAPI_NUMBER_ID)).await;
        assert!(third["error"].is_string(), "{third}");
        let event = ingest.settled(Provider::Vapi, EventKind::AssistantRequest, "call-c").await;
        assert_eq!(event.reason.as_deref(), Some("limit_reached"));
    })
    .await;
}

#[tokio::test]
async fn each_line_runs_in_its_own_language_and_a_number_without_a_line_in_none() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        // The held number without a line: the agent detects the language.
        let body = answer(&ingest, &assistant_request("call-1", "CA1", &w.phone, VAPI_NUMBER_ID)).await;
        assert_eq!(body["assistantId"], ASSISTANT_ID);
        assert!(body["assistantOverrides"].get("transcriber").is_none(), "{body}");

        // Lines on Vapi numbers this workspace brought (not held here): each in its language,
        // not metered, capped per call.
        for (i, language) in ["en", "tr", "pl"].into_iter().enumerate() {
            let vapi_id = format!("external-line-{i}");
            let number = format!("+4989100000{i}");
            line(&ingest.db, &w.ws, &w.agent, &vapi_id, &number, language).await;
            let call = format!("call-line-{i}");
            let body =
                answer(&ingest, &assistant_request(&call, &format!("CAL{i}"), &number, &vapi_id)).await;
            assert_eq!(body["assistantId"], ASSISTANT_ID, "{body}");
            assert_eq!(body["assistantOverrides"]["transcriber"]["language"], language);
            assert_eq!(body["assistantOverrides"]["maxDurationSeconds"], 60 * 60);
            assert_eq!(body["assistantOverrides"]["metadata"]["switchboardWorkspaceId"], w.ws.to_string());
        }
        assert_eq!(
            count(&ingest.db, "SELECT COUNT(*) FROM usage_records").await,
            1,
            "only the held number's call"
        );
    })
    .await;
}

#[tokio::test]
async fn an_agent_without_an_assistant_or_not_live_refuses_the_call() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let ws = harness::workspace(&ingest.db, "No assistant").await;
        let agent = harness::live_agent(&ingest.db, &ws, json!({})).await;
        line(&ingest.db, &ws, &agent, "line-without-assistant", "+4989200000", "de").await;
        let body =
            answer(&ingest, &assistant_request("call-n", "CAn", "+4989200000", "line-without-assistant"))
                .await;
        assert!(body["error"].is_string());
        let event = ingest.settled(Provider::Vapi, EventKind::AssistantRequest, "call-n").await;
        assert_eq!(event.reason.as_deref(), Some("no_assistant"));
    })
    .await;
}

#[tokio::test]
async fn the_end_of_call_report_and_twilios_call_status_settle_the_call_once() {
    each_engine(|db| async move {
        let ingest = spawn_with(db, &[("APP__BILLING__FREE_MINUTES", "0")]).await;
        let w = harness::world(&ingest.db).await;
        answer(&ingest, &serde_json::from_str(fixtures::ASSISTANT_REQUEST).unwrap()).await;

        // 10:03:21.907 → 10:05:52.114 is 150.2 s: three minutes.
        for _ in 0..2 {
            let res = ingest.vapi(&serde_json::from_str(fixtures::END_OF_CALL).unwrap()).await;
            assert_eq!(res.status(), 200);
            assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
        }
        let event = ingest.settled(Provider::Vapi, EventKind::EndOfCallReport, CALL_ID).await;
        assert_eq!((event.state, event.workspace_id.as_ref()), (EventState::Processed, Some(&w.ws)));
        let minutes = format!(
            "SELECT COALESCE(SUM(minutes_used), 0) FROM usage_counters WHERE number_id = '{}'",
            w.number
        );
        assert_eq!(count(&ingest.db, &minutes).await, 3);
        assert_eq!(
            count(
                &ingest.db,
                &format!(
                    "SELECT COALESCE(SUM(minutes_reserved), 0) FROM usage_counters WHERE number_id = '{}'",
                    w.number
                )
            )
            .await,
            0,
            "the reservation is released"
        );

        // Twilio's status for the same call (151 s) finds it settled.
        let res = ingest.twilio("/twilio/voice/status", &twilio_params(fixtures::CALL_COMPLETED, &[])).await;
        assert_eq!(res.status(), 200);
        let event =
            ingest.settled(Provider::Twilio, EventKind::CallStatus, &format!("{CALL_SID}:completed")).await;
        assert_eq!((event.state, event.reason.as_deref()), (EventState::Processed, Some("already_settled")));
        assert_eq!(count(&ingest.db, &minutes).await, 3);
        assert_eq!(ledger_entries(&ingest.db, &format!("call:{CALL_SID}")).await, 1, "charged once");
    })
    .await;
}

#[tokio::test]
async fn twilios_call_status_alone_settles_a_call_and_a_failed_call_releases_its_reservation() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        let res = ingest
            .twilio(
                "/twilio/voice/status",
                &twilio_params(fixtures::CALL_COMPLETED, &[("CallSid", "CA1111")]),
            )
            .await;
        assert_eq!(res.status(), 200);
        ingest.settled(Provider::Twilio, EventKind::CallStatus, "CA1111:completed").await;
        let used = format!(
            "SELECT COALESCE(SUM(minutes_used), 0) FROM usage_counters WHERE number_id = '{}'",
            w.number
        );
        assert_eq!(count(&ingest.db, &used).await, 3);

        answer(&ingest, &assistant_request("call-busy", "CA2222", &w.phone, VAPI_NUMBER_ID)).await;
        let params =
            twilio_params(fixtures::CALL_COMPLETED, &[("CallSid", "CA2222"), ("CallStatus", "no-answer")]);
        ingest.twilio("/twilio/voice/status", &params).await;
        ingest.settled(Provider::Twilio, EventKind::CallStatus, "CA2222:no-answer").await;
        let reserved = format!(
            "SELECT COALESCE(SUM(minutes_reserved), 0) FROM usage_counters WHERE number_id = '{}'",
            w.number
        );
        assert_eq!(count(&ingest.db, &reserved).await, 0);
        assert_eq!(count(&ingest.db, &used).await, 3);
    })
    .await;
}

#[tokio::test]
async fn a_transfer_request_gets_the_open_target_or_the_closed_ones_fallback() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let w = harness::world(&ingest.db).await;
        target(
            &ingest.db,
            &w.ws,
            &w.agent,
            json!({"name": "Stefan Müller", "aliases": ["Herr Müller"], "phone_number": "+4930111111", "mode": "blind"}),
        )
        .await;
        target(
            &ingest.db,
            &w.ws,
            &w.agent,
            json!({"name": "Anna Schmidt", "phone_number": "+4930333333",
                   "fallback_message": "Frau Schmidt ist heute nicht im Haus.",
                   "opening_hours": {"days": {"mon": [], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}}}),
        )
        .await;

        let body = answer(&ingest, &serde_json::from_str(fixtures::TRANSFER_REQUEST).unwrap()).await;
        assert_eq!(body["destination"]["type"], "number", "{body}");
        assert_eq!(body["destination"]["number"], "+4930111111");
        assert_eq!(body["destination"]["transferPlan"]["mode"], "blind-transfer");

        let closed = edit_json(
            fixtures::TRANSFER_REQUEST,
            &[
                ("/message/timestamp", json!(1793613999000_i64)),
                ("/message/artifact/messages/1/toolCalls/0/function/arguments", json!("{\"name\":\"Frau Schmidt\"}")),
            ],
        );
        let body = answer(&ingest, &closed).await;
        assert_eq!(body["error"], "Frau Schmidt ist heute nicht im Haus.", "{body}");
        assert!(body.get("destination").is_none());

        let events = ingest.events(Provider::Vapi).await;
        let reasons: Vec<_> = events.iter().map(|e| e.reason.clone().unwrap_or_default()).collect();
        assert_eq!(reasons, ["transferred", "target_closed"]);
    })
    .await;
}

#[tokio::test]
async fn vapi_requests_need_the_server_secret_and_other_messages_are_acknowledged_unstored() {
    each_engine(|db| async move {
        let ingest = spawn(db).await;
        let url = format!("{}/vapi/events", ingest.base);
        let body: Value = serde_json::from_str(fixtures::END_OF_CALL).unwrap();
        let res = ingest.client.post(&url).json(&body).send().await.unwrap();
        expect_problem(res, 401, "signature_missing").await;
        let res = ingest.client.post(&url).header("X-Vapi-Secret", "guess").json(&body).send().await.unwrap();
        expect_problem(res, 401, "signature_mismatch").await;
        assert_eq!(ingest.event_count().await, 0);
        let res =
            ingest.client.post(&url).bearer_auth(harness::VAPI_SECRET).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 200, "Bearer is accepted too");

        let res = ingest.vapi(&serde_json::from_str(fixtures::STATUS_UPDATE).unwrap()).await;
        assert_eq!(res.status(), 200);
        let res = ingest
            .vapi(&json!({"message": {"type": "speech-update", "status": "started", "role": "user"}}))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(ingest.events(Provider::Vapi).await.len(), 1, "only the report is stored");

        let res = ingest.vapi(&json!({"type": "end-of-call-report"})).await;
        expect_problem(res, 400, "malformed_payload").await;
        let res = ingest.vapi(&json!({"message": {"type": "end-of-call-report"}})).await;
        expect_problem(res, 400, "malformed_payload").await;
    })
    .await;
}
