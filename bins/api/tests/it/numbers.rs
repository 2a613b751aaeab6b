//! Phone numbers end to end over HTTP, against the sandbox providers.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_core::E164;
use switchboard_numbers::NumberInventory;
use switchboard_testkit::each_engine;

use crate::harness::*;

/// A workspace with 100.00 EUR of credit and a live agent.
async fn funded(app: &TestApp) -> (Ws, String) {
    let ws = app.create_workspace("Acme").await;
    let res = app
        .request(Method::POST, &format!("/v1/workspaces/{}/credits", ws.id), Some(ADMIN_TOKEN))
        .json(&json!({"amount": "100.00", "reference": "topup"}))
        .send()
        .await
        .unwrap();
    expect(res, 201).await;
    let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
    (ws, agent["id"].as_str().unwrap().to_owned())
}

async fn provision(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.post("/v1/numbers", key, body).await
}

fn e164(v: &Value) -> E164 {
    E164::parse(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn search_lists_numbers_for_sale_with_their_price() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, _) = funded(&app).await;
        let found =
            expect(app.get("/v1/numbers/available?country=DE&type=local&area_code=30", &ws.owner).await, 200)
                .await;
        let data = found["data"].as_array().unwrap();
        assert!(!data.is_empty());
        for n in data {
            assert!(n["phone_number"].as_str().unwrap().starts_with("+4930"), "{n}");
            assert_eq!(n["monthly_price"], json!({"amount": "1.50", "currency": "EUR"}));
            assert_eq!(n["type"], "local");
            assert_eq!(n["country"], "DE");
        }
        let none = expect(app.get("/v1/numbers/available?country=LU", &ws.owner).await, 200).await;
        assert!(none["data"].as_array().unwrap().is_empty());
        let p = expect_problem(
            app.get("/v1/numbers/available?country=Germany", &ws.owner).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["country"]);
        let agent = app.key(&ws, "agent").await;
        let p = expect_problem(app.get("/v1/numbers/available", &agent).await, 403, "forbidden").await;
        assert!(p["detail"].as_str().unwrap().contains("numbers_create"));
    })
    .await;
}

#[tokio::test]
async fn provisioning_buys_wires_and_charges_the_first_month() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done =
            expect(provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "30"})).await, 201)
                .await;
        let number = &done["number"];
        assert!(number["id"].as_str().unwrap().starts_with("num_"));
        assert!(number["phone_number"].as_str().unwrap().starts_with("+4930"));
        assert_eq!(number["country"], "DE");
        assert_eq!(number["status"], "enabled", "a live agent's number is enabled at once");
        assert_eq!(number["agent_id"], agent.as_str());
        assert_eq!(number["calls_enabled"], true);
        assert_eq!(number["sms_enabled"], true);
        assert_eq!(number["monthly_price"], json!({"amount": "1.50", "currency": "EUR"}));
        assert_eq!(number["name"], number["friendly_name"], "the name defaults to the friendly format");
        assert!(number["next_rental_at"].is_string());
        assert!(done["notices"].is_array());

        let phone = e164(&number["phone_number"]);
        assert!(app.sandbox.is_held(&phone));
        assert!(app.sandbox.is_imported(&phone), "imported into Vapi");
        let sid = number["twilio_sid"].as_str().unwrap();
        let hooks = app.sandbox.webhooks_of(sid).unwrap();
        assert_eq!(hooks.sms_url, "http://127.0.0.1:8081/twilio/messages");
        assert_eq!(hooks.voice_status_url, "http://127.0.0.1:8081/twilio/voice/status");
        let vapi_id = number["vapi_phone_number_id"].as_str().unwrap();
        assert_eq!(app.sandbox.server_url_of(vapi_id).unwrap(), "http://127.0.0.1:8081/vapi/events");

        let ledger = expect(app.get("/v1/billing/ledger", &ws.owner).await, 200).await;
        let rentals: Vec<&Value> =
            ledger["data"].as_array().unwrap().iter().filter(|e| e["kind"] == "rental").collect();
        assert_eq!(rentals.len(), 1);
        assert_eq!(rentals[0]["amount"]["amount"], "-1.50");
        assert_eq!(rentals[0]["number_id"], number["id"]);
        let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
        assert_eq!(wallet["balance"]["amount"], "98.50");

        let read =
            expect(app.get(&format!("/v1/numbers/{}", number["id"].as_str().unwrap()), &ws.owner).await, 200)
                .await;
        assert_eq!(&read, number, "what provisioning answered is what is stored");

        // The agent's WhatsApp number is filled in, and a second number does not overwrite it.
        let agent_now = expect(app.get(&format!("/v1/agents/{agent}"), &ws.owner).await, 200).await;
        assert_eq!(agent_now["whatsapp_number"], number["phone_number"]);
        expect(provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "89"})).await, 201).await;
        let agent_after = expect(app.get(&format!("/v1/agents/{agent}"), &ws.owner).await, 200).await;
        assert_eq!(agent_after["whatsapp_number"], number["phone_number"]);
    })
    .await;
}

#[tokio::test]
async fn provision_falls_back_to_us_when_country_has_no_inventory() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done =
            expect(provision(&app, &ws.owner, json!({"agent_id": agent, "country": "LU"})).await, 201).await;
        assert_eq!(done["number"]["country"], "US");
        assert!(done["number"]["phone_number"].as_str().unwrap().starts_with("+1"));
        assert_eq!(done["number"]["monthly_price"]["amount"], "1.15", "charged at the US price");
        let fallback =
            done["notices"].as_array().unwrap().iter().find(|n| n["code"] == "country_fallback").unwrap();
        assert_eq!(fallback["message"], "No numbers available in LU — we provisioned a number in US instead");
    })
    .await;
}

#[tokio::test]
async fn provisioning_needs_a_covering_wallet_and_buys_nothing_without_it() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let ws = app.create_workspace("Broke").await;
        let agent = app.create_agent(&ws.owner, json!({"name": "Reception", "status": "live"})).await;
        let p = expect_problem(
            provision(&app, &ws.owner, json!({"agent_id": agent["id"]})).await,
            402,
            "insufficient_funds",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("1.50"), "{p}");
        let list = expect(app.get("/v1/numbers", &ws.owner).await, 200).await;
        assert!(list["data"].as_array().unwrap().is_empty());
        let offers =
            expect(app.get("/v1/numbers/available?country=DE&area_code=30", &ws.owner).await, 200).await;
        assert_eq!(offers["data"].as_array().unwrap().len(), 6, "nothing was bought");
    })
    .await;
}

#[tokio::test]
async fn a_failure_after_the_purchase_releases_the_purchased_number() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        // The sandbox refuses Vapi imports of DE area code 99 for good.
        let p = expect_problem(
            provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "99"})).await,
            502,
            "provider_rejected",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("vapi"), "{p}");
        assert_eq!(app.sandbox.released_sids().len(), 1, "the purchased number was released again");
        let list = expect(app.get("/v1/numbers", &ws.owner).await, 200).await;
        assert!(list["data"].as_array().unwrap().is_empty(), "no record of the failed number");
        let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
        assert_eq!(wallet["balance"]["amount"], "100.00", "nothing was charged");
        // A provider outage during the purchase buys nothing and says to retry.
        expect_problem(
            provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "98"})).await,
            503,
            "provider_unavailable",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn one_idempotency_key_buys_one_number_under_ten_concurrent_requests() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let body = json!({"agent_id": agent, "area_code": "89"});
        let requests: Vec<_> = (0..10)
            .map(|_| {
                app.request(Method::POST, "/v1/numbers", Some(&ws.owner))
                    .header("Idempotency-Key", "order-4711")
                    .json(&body)
                    .send()
            })
            .collect();
        let mut ids = Vec::new();
        for r in futures_join(requests).await {
            let done = expect(r.unwrap(), 201).await;
            ids.push(done["number"]["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every answer names the same number");
        let list = expect(app.get("/v1/numbers", &ws.owner).await, 200).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1, "one purchase");
        let wallet = expect(app.get("/v1/billing/wallet", &ws.owner).await, 200).await;
        assert_eq!(wallet["balance"]["amount"], "98.50", "one charge");

        let other = app
            .request(Method::POST, "/v1/numbers", Some(&ws.owner))
            .header("Idempotency-Key", "order-4711")
            .json(&json!({"agent_id": agent, "area_code": "30"}))
            .send()
            .await
            .unwrap();
        expect_problem(other, 409, "idempotency_key_reused").await;
    })
    .await;
}

async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    // Drive every request at once on this task.
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(o) => outputs[i] = Some(o),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn a_draft_agents_number_stays_disabled_with_a_notice() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, _) = funded(&app).await;
        let draft = app.create_agent(&ws.owner, json!({"name": "Later"})).await;
        let done = expect(provision(&app, &ws.owner, json!({"agent_id": draft["id"]})).await, 201).await;
        assert_eq!(done["number"]["status"], "disabled");
        assert!(done["notices"].as_array().unwrap().iter().any(|n| n["code"] == "agent_not_live"));
        let p = expect_problem(
            provision(&app, &ws.owner, json!({"agent_id": "agt_01jd3kq7z8m2v5x9c4b6n0p1r8"})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["agent_id"]);
    })
    .await;
}

#[tokio::test]
async fn every_lifecycle_rule_holds() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, live) = funded(&app).await;
        let draft =
            app.create_agent(&ws.owner, json!({"name": "Draft"})).await["id"].as_str().unwrap().to_owned();
        let done =
            expect(provision(&app, &ws.owner, json!({"agent_id": draft, "area_code": "30"})).await, 201)
                .await;
        let path = format!("/v1/numbers/{}", done["number"]["id"].as_str().unwrap());

        // Enabling needs a live agent: the 409 lists what is missing.
        let p = expect_problem(
            app.patch(&path, &ws.owner, json!({"status": "enabled"})).await,
            409,
            "enable_prerequisites_unmet",
        )
        .await;
        assert_eq!(fields(&p), ["agent_id"]);
        let n = expect(
            app.patch(&path, &ws.owner, json!({"agent_id": live, "status": "enabled", "name": "Hotline"}))
                .await,
            200,
        )
        .await;
        assert_eq!((n["status"].as_str(), n["name"].as_str()), (Some("enabled"), Some("Hotline")));

        // The last enabled service cannot be switched off while enabled.
        expect(app.patch(&path, &ws.owner, json!({"calls_enabled": false})).await, 200).await;
        expect_problem(
            app.patch(&path, &ws.owner, json!({"sms_enabled": false})).await,
            409,
            "last_service_enabled",
        )
        .await;
        // Nor can the agent be taken away.
        let p = expect_problem(
            app.patch(&path, &ws.owner, json!({"agent_id": null})).await,
            409,
            "enable_prerequisites_unmet",
        )
        .await;
        assert_eq!(fields(&p), ["agent_id"]);

        // Limits: positive or null.
        let p = expect_problem(
            app.patch(&path, &ws.owner, json!({"monthly_minutes_limit": 0})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["monthly_minutes_limit"]);
        let n = expect(
            app.patch(&path, &ws.owner, json!({"monthly_minutes_limit": 300, "monthly_sms_limit": 50})).await,
            200,
        )
        .await;
        assert_eq!(
            (n["monthly_minutes_limit"].as_i64(), n["monthly_sms_limit"].as_i64()),
            (Some(300), Some(50))
        );
        let n = expect(app.patch(&path, &ws.owner, json!({"monthly_minutes_limit": null})).await, 200).await;
        assert!(n["monthly_minutes_limit"].is_null());
        assert_eq!(n["monthly_sms_limit"], 50, "fields not sent stay");

        // Disabled, without an agent, no service can be switched on.
        expect(app.patch(&path, &ws.owner, json!({"status": "disabled", "agent_id": null})).await, 200).await;
        expect_problem(
            app.patch(&path, &ws.owner, json!({"calls_enabled": true})).await,
            409,
            "agent_required",
        )
        .await;

        // A service the number lacks cannot be enabled (Frankfurt numbers: voice and fax, no SMS).
        let fax =
            expect(provision(&app, &ws.owner, json!({"agent_id": live, "area_code": "69"})).await, 201).await;
        let fax_path = format!("/v1/numbers/{}", fax["number"]["id"].as_str().unwrap());
        assert_eq!(fax["number"]["capabilities"]["sms"], false);
        let p = expect_problem(
            app.patch(&fax_path, &ws.owner, json!({"sms_enabled": true})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["sms_enabled"]);
        expect_problem(
            app.patch(&fax_path, &ws.owner, json!({"status": "released"})).await,
            422,
            "validation_failed",
        )
        .await;

        // An agent holding numbers cannot be deleted.
        expect_problem(app.delete(&format!("/v1/agents/{live}"), &ws.owner).await, 409, "agent_in_use").await;
    })
    .await;
}

#[tokio::test]
async fn release_needs_a_disabled_number_and_the_confirmation_and_keeps_the_record() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done =
            expect(provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "40"})).await, 201)
                .await;
        let number = &done["number"];
        let path = format!("/v1/numbers/{}", number["id"].as_str().unwrap());
        let phone = number["phone_number"].as_str().unwrap().to_owned();

        expect_problem(
            app.delete(&format!("{path}?confirm={}", phone.replace('+', "%2B")), &ws.owner).await,
            409,
            "number_enabled",
        )
        .await;
        expect(app.patch(&path, &ws.owner, json!({"status": "disabled"})).await, 200).await;
        let p = expect_problem(app.delete(&path, &ws.owner).await, 422, "validation_failed").await;
        assert_eq!(fields(&p), ["confirm"]);
        expect_problem(
            app.delete(&format!("{path}?confirm=%2B4930000000"), &ws.owner).await,
            422,
            "validation_failed",
        )
        .await;

        let released = expect(
            app.delete(&format!("{path}?confirm={}", phone.replace('+', "%2B")), &ws.owner).await,
            200,
        )
        .await;
        assert_eq!(released["status"], "released");
        assert!(released["released_at"].is_string());
        assert!(released["next_rental_at"].is_null(), "no further rental");
        assert_eq!(app.sandbox.released_sids(), vec![number["twilio_sid"].as_str().unwrap().to_owned()]);
        assert!(!app.sandbox.is_held(&E164::parse(&phone).unwrap()));
        assert_eq!(
            app.sandbox.removed_vapi_ids(),
            vec![number["vapi_phone_number_id"].as_str().unwrap().to_owned()]
        );

        // The record stays, as history.
        assert_eq!(expect(app.get(&path, &ws.owner).await, 200).await["status"], "released");
        let listed = expect(app.get("/v1/numbers?status=released", &ws.owner).await, 200).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        expect_problem(app.patch(&path, &ws.owner, json!({"name": "again"})).await, 409, "number_released")
            .await;
        expect_problem(
            app.delete(&format!("{path}?confirm={}", phone.replace('+', "%2B")), &ws.owner).await,
            409,
            "number_released",
        )
        .await;
        // The rental entry is still in the ledger.
        let ledger = expect(app.get("/v1/billing/ledger", &ws.owner).await, 200).await;
        assert!(ledger["data"].as_array().unwrap().iter().any(|e| e["kind"] == "rental"));
    })
    .await;
}

#[tokio::test]
async fn a_number_already_gone_at_the_provider_is_released_all_the_same() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done = expect(provision(&app, &ws.owner, json!({"agent_id": agent})).await, 201).await;
        let number = &done["number"];
        let path = format!("/v1/numbers/{}", number["id"].as_str().unwrap());
        expect(app.patch(&path, &ws.owner, json!({"status": "disabled"})).await, 200).await;
        // Someone released it in the Twilio console.
        app.sandbox.release(number["twilio_sid"].as_str().unwrap()).await.unwrap();
        let phone = number["phone_number"].as_str().unwrap().replace('+', "%2B");
        let released = expect(app.delete(&format!("{path}?confirm={phone}"), &ws.owner).await, 200).await;
        assert_eq!(released["status"], "released");
    })
    .await;
}

#[tokio::test]
async fn numbers_are_listed_filtered_and_searched_by_digits() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let a = expect(provision(&app, &ws.owner, json!({"agent_id": agent, "area_code": "30"})).await, 201)
            .await;
        let other = app.create_agent(&ws.owner, json!({"name": "Other", "status": "live"})).await;
        expect(provision(&app, &ws.owner, json!({"agent_id": other["id"], "area_code": "89"})).await, 201)
            .await;

        let all = expect(app.get("/v1/numbers?limit=1", &ws.owner).await, 200).await;
        assert_eq!(all["data"].as_array().unwrap().len(), 1);
        assert!(all["next_cursor"].is_string());
        let by_agent = expect(app.get(&format!("/v1/numbers?agent_id={agent}"), &ws.owner).await, 200).await;
        assert_eq!(by_agent["data"].as_array().unwrap().len(), 1);
        assert_eq!(by_agent["data"][0]["id"], a["number"]["id"]);
        let digits = &a["number"]["phone_number"].as_str().unwrap()[3..9];
        let found = expect(app.get(&format!("/v1/numbers?q={digits}"), &ws.owner).await, 200).await;
        assert_eq!(found["data"].as_array().unwrap().len(), 1);
        expect_problem(app.get("/v1/numbers?q=abc", &ws.owner).await, 422, "validation_failed").await;
        expect_problem(app.get("/v1/numbers?status=lost", &ws.owner).await, 422, "validation_failed").await;
    })
    .await;
}

#[tokio::test]
async fn reconfiguring_points_the_webhooks_at_the_public_base_again() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done = expect(provision(&app, &ws.owner, json!({"agent_id": agent})).await, 201).await;
        let id = done["number"]["id"].as_str().unwrap();
        let again = expect(
            app.post(&format!("/v1/numbers/{id}/reconfigure-webhooks"), &ws.owner, json!({})).await,
            200,
        )
        .await;
        assert_eq!(again, done["number"], "nothing else changes");
        let sid = done["number"]["twilio_sid"].as_str().unwrap();
        assert_eq!(app.sandbox.webhooks_of(sid).unwrap().sms_url, "http://127.0.0.1:8081/twilio/messages");
    })
    .await;
}

#[tokio::test]
async fn another_workspace_cannot_see_change_or_release_a_number_and_agents_cannot_buy() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done = expect(provision(&app, &ws.owner, json!({"agent_id": agent})).await, 201).await;
        let id = done["number"]["id"].as_str().unwrap();
        let path = format!("/v1/numbers/{id}");
        let phone = done["number"]["phone_number"].as_str().unwrap().replace('+', "%2B");

        let (other, _) = funded(&app).await;
        expect_problem(app.get(&path, &other.owner).await, 404, "not_found").await;
        expect_problem(app.patch(&path, &other.owner, json!({"name": "mine"})).await, 404, "not_found").await;
        expect_problem(app.delete(&format!("{path}?confirm={phone}"), &other.owner).await, 404, "not_found")
            .await;
        expect_problem(
            app.post(&format!("{path}/reconfigure-webhooks"), &other.owner, json!({})).await,
            404,
            "not_found",
        )
        .await;
        assert!(
            expect(app.get("/v1/numbers", &other.owner).await, 200).await["data"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // Nor assign it to their agent through its id.
        let p = expect_problem(
            provision(&app, &other.owner, json!({"agent_id": agent})).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&p), ["agent_id"]);

        let agent_key = app.key(&ws, "agent").await;
        let p =
            expect_problem(provision(&app, &agent_key, json!({"agent_id": agent})).await, 403, "forbidden")
                .await;
        assert!(p["detail"].as_str().unwrap().contains("numbers_create"));
        expect(app.patch(&path, &ws.owner, json!({"status": "disabled"})).await, 200).await;
        let p = expect_problem(
            app.delete(&format!("{path}?confirm={phone}"), &agent_key).await,
            403,
            "forbidden",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("numbers_release"));
        expect_problem(app.patch(&path, &agent_key, json!({"name": "x"})).await, 403, "forbidden").await;
        assert_eq!(expect(app.get(&path, &agent_key).await, 200).await["id"], id, "agents may read");
    })
    .await;
}

#[tokio::test]
async fn reconfiguring_after_a_move_points_the_providers_at_the_new_public_base() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let (ws, agent) = funded(&app).await;
        let done = expect(provision(&app, &ws.owner, json!({"agent_id": agent})).await, 201).await;
        let sid = done["number"]["twilio_sid"].as_str().unwrap();
        let vapi_id = done["number"]["vapi_phone_number_id"].as_str().unwrap();
        assert_eq!(app.sandbox.webhooks_of(sid).unwrap().sms_url, "http://127.0.0.1:8081/twilio/messages");

        // The deployment moved: the same numbers, served behind a new public base URL.
        let tenancy = switchboard_tenancy::TenancyService::new(app.db.conn.clone());
        let agents = switchboard_agents::AgentService::new(app.db.conn.clone(), tenancy.clone());
        let billing = switchboard_billing::BillingService::new(
            app.db.conn.clone(),
            std::sync::Arc::new(switchboard_billing::PriceList::embedded().unwrap()),
            switchboard_core::Currency::EUR,
        );
        let moved = switchboard_numbers::NumberService::new(
            app.db.conn.clone(),
            tenancy.clone(),
            agents,
            billing,
            switchboard_providers::sandbox(app.sandbox.clone()),
            "https://hooks.new.example.com",
        );
        let ctx = tenancy.authenticate(&ws.owner).await.unwrap().unwrap();
        let id: switchboard_core::NumberId = done["number"]["id"].as_str().unwrap().parse().unwrap();
        moved.reconfigure_webhooks(&ctx, &id).await.unwrap();
        let hooks = app.sandbox.webhooks_of(sid).unwrap();
        assert_eq!(hooks.sms_url, "https://hooks.new.example.com/twilio/messages");
        assert_eq!(hooks.voice_status_url, "https://hooks.new.example.com/twilio/voice/status");
        assert_eq!(app.sandbox.server_url_of(vapi_id).unwrap(), "https://hooks.new.example.com/vapi/events");
    })
    .await;
}
