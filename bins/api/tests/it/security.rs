//! Issue 9 (security), driven by `docs/openapi.json` so that a new operation cannot escape:
//!
//! - every operation with a path parameter, called by another workspace's owner with workspace A's
//!   real ids, answers 404 `not_found` exactly as a missing id does, and nothing of A changes;
//! - every operation, called without a key, with a bad key, and with an owner, admin and agent key,
//!   is allowed or refused as the permission table of SPEC §2 (written out below) says;
//! - no secret (API keys after their creation answer, webhook secrets outside the owner's secret
//!   endpoints, the Meta access token, the admin token, key hashes, sealed columns) ever appears in a
//!   later response body or in a log line.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use switchboard_testkit::each_engine;

use crate::harness::*;

const META_TOKEN: &str = "EAAGsecurityWALKmetaTOKEN0123456789abcdefXYZ";
const CONTACT: &str = "+4915112345678";
/// A well-formed id body that no resource has (the prefix is taken from a real id).
const MISSING_ULID: &str = "01jd3kq7z8m2v5x9c4b6n0p1r8";

// ---------------------------------------------------------------------------------------------
// The operations of the committed OpenAPI document (ops.rs proves it matches the code).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    None,
    ApiKey,
    AdminToken,
}

#[derive(Debug, Clone)]
struct Op {
    method: Method,
    template: String,
    security: Security,
    has_body: bool,
}

impl Op {
    fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn params(&self) -> Vec<&str> {
        self.template.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
    }
}

fn operations() -> Vec<Op> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                "parameters" | "summary" | "description" | "servers" => continue,
                other => panic!("{other} {template}: a method the walk does not know"),
            };
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .map(|a| a.iter().flat_map(|s| s.as_object().unwrap().keys()).map(String::as_str).collect())
                .unwrap_or_default();
            let security = match schemes.as_slice() {
                [] => Security::None,
                ["api_key"] => Security::ApiKey,
                ["admin_token"] => Security::AdminToken,
                other => panic!("{method} {template}: security {other:?} unknown to the walk"),
            };
            ops.push(Op {
                method,
                template: template.clone(),
                security,
                has_body: op.get("requestBody").is_some(),
            });
        }
    }
    assert!(ops.len() > 60, "the document lists {} operations", ops.len());
    ops
}

// ---------------------------------------------------------------------------------------------
// Ids: what each path parameter names, and workspace A's real resources.

type Ids = BTreeMap<&'static str, String>;

/// The resource a path parameter names, from the collection segment before it. `None` makes the
/// walk fail: a new endpoint needs its resource created in `world` and named here.
fn kind_of(collection: &str, param: &str) -> Option<&'static str> {
    Some(match (collection, param) {
        ("workspaces", "id") => "workspace",
        ("numbers", "id") => "number",
        ("agents", "id") => "agent",
        ("phone-lines", "line_id") => "phone_line",
        ("forwarding-targets", "target_id") => "forwarding_target",
        ("api-keys", "id") => "api_key",
        ("connections", "id") => "whatsapp_connection",
        ("conversations", "id") => "conversation",
        ("opt-outs", "id") => "opt_out",
        ("notifications", "id") => "notification",
        ("webhook-deliveries", "id") => "webhook_delivery",
        _ => return None,
    })
}

/// The path of `template` with each parameter replaced by `pick(kind)`; an error names a parameter
/// the walk does not know.
fn try_fill(template: &str, mut pick: impl FnMut(&'static str) -> String) -> Result<String, String> {
    let segments: Vec<&str> = template.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            None => out.push((*segment).to_owned()),
            Some(param) => {
                let kind = i.checked_sub(1).and_then(|p| kind_of(segments[p], param)).ok_or_else(|| {
                    format!(
                        "{template}: the security walk does not know what `{{{param}}}` names; \
                         create one in `world` and add it to `kind_of`"
                    )
                })?;
                out.push(pick(kind));
            }
        }
    }
    Ok(out.join("/"))
}

fn fill(template: &str, pick: impl FnMut(&'static str) -> String) -> String {
    try_fill(template, pick).unwrap_or_else(|e| panic!("{e}"))
}

fn id_of<'a>(ids: &'a Ids, kind: &str, template: &str) -> &'a str {
    ids.get(kind).unwrap_or_else(|| panic!("{template}: no {kind} was created for the walk"))
}

fn missing_id(real: &str) -> String {
    let (prefix, _) = real.rsplit_once('_').unwrap();
    format!("{prefix}_{MISSING_ULID}")
}

/// A well-formed body for each operation that takes one (references use `ids`). An operation with
/// a request body and no entry here fails the walk.
fn body(op: &Op, ids: &Ids) -> Option<Value> {
    let id = |kind: &str| ids.get(kind).cloned().unwrap_or_default();
    let body = match (op.method.as_str(), op.template.as_str()) {
        ("POST", "/v1/workspaces") => json!({"name": "Walked", "timezone": "Europe/Berlin"}),
        ("POST", "/v1/workspaces/{id}/credits") => json!({"amount": "1.00", "reference": "walk"}),
        ("POST", "/v1/numbers") => json!({"agent_id": id("agent"), "area_code": "30"}),
        ("PATCH", "/v1/numbers/{id}") => json!({"name": "Walked"}),
        ("POST", "/v1/agents/{id}/phone-lines") => {
            json!({"vapi_phone_number_id": "vapi_phone_walk_01", "phone_number": "+49 30 7654321"})
        }
        ("PATCH", "/v1/agents/{id}/phone-lines/{line_id}") => json!({"label": "Walked"}),
        ("PATCH", "/v1/agents/{id}/channels") => json!({"notification_email": "walked@example.com"}),
        ("POST", "/v1/agents/{id}/email/verify") => json!({"scope": "address"}),
        ("POST", "/v1/agents/{id}/forwarding-targets/resolve") => json!({"query": "Sales"}),
        ("POST", "/v1/agents/{id}/forwarding-targets") => {
            json!({"name": "Walk", "phone_number": "+49301234569"})
        }
        ("PATCH", "/v1/agents/{id}/forwarding-targets/{target_id}") => json!({"description": "walked"}),
        ("POST", "/v1/api-keys") => json!({"name": "walk", "role": "agent"}),
        ("POST", "/v1/agents") => json!({"name": "Walk"}),
        ("PATCH", "/v1/agents/{id}") => json!({"name": "Walked"}),
        ("POST", "/v1/whatsapp/connections") => json!({"display_name": "Walk", "provider": "twilio",
            "active": false, "sender": "whatsapp:+4930901820"}),
        ("PATCH", "/v1/whatsapp/connections/{id}") => json!({"display_name": "Walked"}),
        ("POST", "/v1/conversations") => {
            json!({"channel": "sms", "contact": "+4915112340000", "number_id": id("number")})
        }
        ("PATCH", "/v1/conversations/{id}") => json!({"ai_active": false}),
        ("POST", "/v1/conversations/{id}/messages") => json!({"body": "Walked"}),
        ("POST", "/v1/opt-outs") => json!({"channel": "sms", "contact": "+4915112349999"}),
        _ if op.has_body => {
            panic!("{}: takes a body the security walk does not know; add it to `body`", op.key())
        }
        _ => return None,
    };
    assert!(op.has_body, "{}: the document lists no request body, the walk sends one", op.key());
    Some(body)
}

// ---------------------------------------------------------------------------------------------
// Every response of a test, for the secret check.

#[derive(Debug, Clone)]
struct Reply {
    /// `METHOD template` of the operation, or the raw path outside the walk.
    label: String,
    /// The role of the key that called (`owner`, `admin`, `agent`, `admin_token`, `none`, …).
    who: String,
    status: u16,
    content_type: String,
    text: String,
    body: Value,
}

#[derive(Debug, Default)]
struct Recorder {
    replies: RefCell<Vec<Reply>>,
}

impl Recorder {
    async fn call(
        &self,
        app: &TestApp,
        label: &str,
        method: Method,
        path: &str,
        key: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> usize {
        let mut rb = app.request(method.clone(), path, key.map(|(_, k)| k));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let content_type =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut replies = self.replies.borrow_mut();
        replies.push(Reply {
            label: label.to_owned(),
            who: key.map_or("none", |(who, _)| who).to_owned(),
            status,
            content_type,
            text,
            body,
        });
        replies.len() - 1
    }

    fn get(&self, i: usize) -> Reply {
        self.replies.borrow()[i].clone()
    }

    /// A call outside the walk that must answer `status`; its JSON body.
    async fn expect(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        key: (&str, &str),
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let i = self.call(app, &format!("{method} {path}"), method.clone(), path, Some(key), body).await;
        let r = self.get(i);
        assert_eq!(r.status, status, "{method} {path} as {}: {}", r.who, r.text);
        r.body.clone()
    }
}

fn assert_not_found(r: &Reply, context: &str) {
    assert_eq!(r.status, 404, "{context}: {} answered {} {}", r.label, r.status, r.text);
    assert_eq!(r.content_type, "application/problem+json", "{context}: {}", r.label);
    assert_eq!(r.body["code"], "not_found", "{context}: {} {}", r.label, r.text);
}

// ---------------------------------------------------------------------------------------------
// The world: workspace A with one of everything, workspace B with an agent.

struct World {
    a: Ws,
    b: Ws,
    a_admin: String,
    a_agent: String,
    /// A's resources by kind (see `kind_of`).
    ids: Ids,
    /// B's own agent, to nest A's children under.
    b_ids: Ids,
    /// The value of the key behind `ids["api_key"]`, which the role walk revokes.
    victim_key: String,
}

async fn world(app: &TestApp, rec: &Recorder) -> World {
    let a = app.create_workspace("A").await;
    let b = app.create_workspace("B").await;
    let owner = ("owner", a.owner.as_str());
    let admin_token = ("admin_token", ADMIN_TOKEN);
    let mut ids = Ids::new();
    ids.insert("workspace", a.id.clone());
    let credits = format!("/v1/workspaces/{}/credits", a.id);
    rec.expect(
        app,
        Method::POST,
        &credits,
        admin_token,
        Some(json!({"amount": "50.00", "reference": "setup"})),
        201,
    )
    .await;

    let agent = rec
        .expect(
            app,
            Method::POST,
            "/v1/agents",
            owner,
            Some(json!({"name": "Reception", "status": "live"})),
            201,
        )
        .await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    let channels = format!("/v1/agents/{agent}/channels");
    rec.expect(
        app,
        Method::PATCH,
        &channels,
        owner,
        Some(json!({"notification_webhook_url": "https://hooks.customer.example/switchboard"})),
        200,
    )
    .await;
    let number = rec
        .expect(
            app,
            Method::POST,
            "/v1/numbers",
            owner,
            Some(json!({"agent_id": agent, "area_code": "30"})),
            201,
        )
        .await;
    let phone = number["number"]["phone_number"].as_str().unwrap().to_owned();
    ids.insert("number", number["number"]["id"].as_str().unwrap().to_owned());
    rec.expect(
        app,
        Method::PATCH,
        &channels,
        owner,
        Some(json!({"whatsapp_number": phone, "whatsapp_enabled": true})),
        200,
    )
    .await;
    let line = rec
        .expect(
            app,
            Method::POST,
            &format!("/v1/agents/{agent}/phone-lines"),
            owner,
            Some(json!({"vapi_phone_number_id": "vapi_phone_de_01", "phone_number": "+49 30 1234567",
                        "label": "Germany"})),
            201,
        )
        .await;
    ids.insert("phone_line", line["id"].as_str().unwrap().to_owned());
    let target = rec
        .expect(
            app,
            Method::POST,
            &format!("/v1/agents/{agent}/forwarding-targets"),
            owner,
            Some(json!({"name": "Sales", "phone_number": "+49301234568"})),
            201,
        )
        .await;
    ids.insert("forwarding_target", target["id"].as_str().unwrap().to_owned());
    let connection = rec
        .expect(
            app,
            Method::POST,
            "/v1/whatsapp/connections",
            owner,
            Some(json!({"display_name": "Meta line", "provider": "meta", "agent_id": agent,
                        "phone_number_id": "106540352242922", "access_token": META_TOKEN})),
            201,
        )
        .await;
    let connection = connection["id"].as_str().unwrap().to_owned();
    rec.expect(app, Method::POST, &format!("/v1/whatsapp/connections/{connection}/verify"), owner, None, 200)
        .await;
    ids.insert("whatsapp_connection", connection);
    let conversation = rec
        .expect(
            app,
            Method::POST,
            "/v1/conversations",
            owner,
            Some(json!({"channel": "sms", "contact": CONTACT, "number_id": ids["number"]})),
            201,
        )
        .await;
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    // Escalating raises a notification, and queues its webhook delivery to the agent's URL.
    rec.expect(app, Method::POST, &format!("/v1/conversations/{conversation}/escalate"), owner, None, 200)
        .await;
    ids.insert("conversation", conversation);
    let opt_out = rec
        .expect(
            app,
            Method::POST,
            "/v1/opt-outs",
            owner,
            Some(json!({"channel": "sms", "contact": "+4915199990000"})),
            201,
        )
        .await;
    ids.insert("opt_out", opt_out["id"].as_str().unwrap().to_owned());
    let issue = async |name: &str, role: &str| {
        let issued = rec
            .expect(app, Method::POST, "/v1/api-keys", owner, Some(json!({"name": name, "role": role})), 201)
            .await;
        let key = issued["key"].as_str().unwrap().to_owned();
        (issued["id"].as_str().unwrap().to_owned(), key)
    };
    // The key the walks revoke; the role keys stay valid throughout.
    let (victim, victim_key) = issue("ci", "admin").await;
    let (_, a_admin) = issue("admin", "admin").await;
    let (_, a_agent) = issue("agent", "agent").await;
    ids.insert("api_key", victim);
    let notifications = rec.expect(app, Method::GET, "/v1/notifications", owner, None, 200).await;
    ids.insert("notification", notifications["data"][0]["id"].as_str().expect("a notification").to_owned());
    let deliveries = rec.expect(app, Method::GET, "/v1/webhook-deliveries", owner, None, 200).await;
    ids.insert("webhook_delivery", deliveries["data"][0]["id"].as_str().expect("a delivery").to_owned());
    // The owner reads the signing secret: from here on it may appear only in that answer.
    let secret =
        rec.expect(app, Method::GET, &format!("/v1/agents/{agent}/webhook-secret"), owner, None, 200).await;
    assert!(secret["secret"].as_str().unwrap().starts_with("whsec_"));
    ids.insert("agent", agent);

    let b_agent = rec
        .expect(app, Method::POST, "/v1/agents", ("owner", &b.owner), Some(json!({"name": "B's agent"})), 201)
        .await;
    let b_ids = Ids::from([("agent", b_agent["id"].as_str().unwrap().to_owned())]);
    World { a, b, a_admin, a_agent, ids, b_ids, victim_key }
}

/// Every readable thing of workspace A, read by A's owner: path → body.
async fn snapshot(app: &TestApp, rec: &Recorder, ops: &[Op], w: &World) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for op in ops {
        // `available` answers are computed from the clock and the provider's stock.
        if op.method != Method::GET || op.security != Security::ApiKey || op.template.contains("available") {
            continue;
        }
        let path = fill(&op.template, |kind| id_of(&w.ids, kind, &op.template).to_owned());
        let body = rec.expect(app, Method::GET, &path, ("owner", &w.a.owner), None, 200).await;
        out.insert(path, body);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 1. Foreign ids.

async fn foreign_walk(app: &TestApp, rec: &Recorder, ops: &[Op], w: &World) -> usize {
    let before = snapshot(app, rec, ops, w).await;
    let b = ("owner", w.b.owner.as_str());
    let mut walked = 0;
    for op in ops.iter().filter(|op| !op.params().is_empty()) {
        match op.security {
            Security::ApiKey => {}
            Security::AdminToken if op.template == "/v1/workspaces/{id}/credits" => {
                // Platform admin only (SPEC §2): a workspace's key, even with the right id, is not
                // the admin token — 401, never a credit. An unknown workspace answers 404.
                let path = fill(&op.template, |kind| id_of(&w.ids, kind, &op.template).to_owned());
                let i = rec.call(app, &op.key(), op.method.clone(), &path, Some(b), body(op, &w.b_ids)).await;
                let r = rec.get(i);
                assert_eq!(
                    (r.status, r.body["code"].as_str()),
                    (401, Some("invalid_admin_token")),
                    "{}",
                    r.text
                );
                let missing = fill(&op.template, |kind| missing_id(id_of(&w.ids, kind, &op.template)));
                let i = rec
                    .call(
                        app,
                        &op.key(),
                        op.method.clone(),
                        &missing,
                        Some(("admin_token", ADMIN_TOKEN)),
                        body(op, &w.b_ids),
                    )
                    .await;
                assert_not_found(&rec.get(i), "an unknown workspace");
                walked += 1;
                continue;
            }
            _ => panic!(
                "{}: a path parameter with {:?} security is unknown to the walk",
                op.key(),
                op.security
            ),
        }
        // A's ids, as B.
        let foreign = fill(&op.template, |kind| id_of(&w.ids, kind, &op.template).to_owned());
        let i = rec.call(app, &op.key(), op.method.clone(), &foreign, Some(b), body(op, &w.b_ids)).await;
        let foreign_reply = rec.get(i);
        assert_not_found(&foreign_reply, "A's ids as B");
        // The same answer as ids that exist nowhere.
        let missing = fill(&op.template, |kind| missing_id(id_of(&w.ids, kind, &op.template)));
        let j = rec.call(app, &op.key(), op.method.clone(), &missing, Some(b), body(op, &w.b_ids)).await;
        let missing_reply = rec.get(j);
        assert_not_found(&missing_reply, "missing ids as B");
        assert_eq!(
            foreign_reply.body["detail"],
            missing_reply.body["detail"],
            "{}: a foreign id is told apart from a missing one",
            op.key()
        );
        // A's child under B's own agent.
        if op.params().len() > 1 {
            let mut first = true;
            let mixed = fill(&op.template, |kind| {
                let ids = if std::mem::take(&mut first) { &w.b_ids } else { &w.ids };
                id_of(ids, kind, &op.template).to_owned()
            });
            let i = rec.call(app, &op.key(), op.method.clone(), &mixed, Some(b), body(op, &w.b_ids)).await;
            assert_not_found(&rec.get(i), "A's child under B's agent");
        }
        walked += 1;
    }

    // Ids of A named in bodies are refused as well, and create nothing.
    let by_reference = [
        ("/v1/numbers", json!({"agent_id": w.ids["agent"], "area_code": "30"}), "agent_id"),
        (
            "/v1/conversations",
            json!({"channel": "sms", "contact": CONTACT, "number_id": w.ids["number"]}),
            "number_id",
        ),
        (
            "/v1/conversations",
            json!({"channel": "whatsapp", "contact": CONTACT, "whatsapp_connection_id": w.ids["whatsapp_connection"]}),
            "whatsapp_connection_id",
        ),
        (
            "/v1/whatsapp/connections",
            json!({"display_name": "Hijack", "provider": "twilio", "agent_id": w.ids["agent"],
                   "sender": "whatsapp:+4930901821"}),
            "agent_id",
        ),
    ];
    for (path, body, field) in by_reference {
        let i = rec.call(app, path, Method::POST, path, Some(b), Some(body)).await;
        let r = rec.get(i);
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (422, Some("validation_failed")),
            "{path}: {}",
            r.text
        );
        assert_eq!(fields(&r.body), [field], "{path}: {}", r.text);
    }

    // B's lists name nothing of A.
    let a_ids: Vec<&String> = w.ids.values().collect();
    for op in ops {
        if op.method == Method::GET && op.security == Security::ApiKey && op.params().is_empty() {
            let i = rec.call(app, &op.key(), Method::GET, &op.template, Some(b), None).await;
            let r = rec.get(i);
            assert!(r.status < 300, "{}: {}", op.key(), r.text);
            for id in &a_ids {
                assert!(!r.text.contains(id.as_str()), "{} as B names A's {id}: {}", op.key(), r.text);
            }
        }
    }

    let after = snapshot(app, rec, ops, w).await;
    for (path, was) in &before {
        assert_eq!(&after[path], was, "{path}: A's resource changed through B's calls");
    }
    walked
}

#[tokio::test]
async fn every_operation_answers_404_for_another_workspaces_ids_and_changes_nothing() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let rec = Recorder::default();
        let ops = operations();
        let w = world(&app, &rec).await;
        let walked = foreign_walk(&app, &rec, &ops, &w).await;
        let with_params = ops.iter().filter(|op| !op.params().is_empty()).count();
        assert_eq!(walked, with_params);
        eprintln!("walked {walked} operations with path parameters");
    })
    .await;
}

#[test]
fn a_path_parameter_the_walk_cannot_fill_fails_it() {
    let ids = Ids::from([("agent", "agt_x".to_owned())]);
    assert_eq!(fill("/v1/agents/{id}/channels", |k| ids[k].clone()), "/v1/agents/agt_x/channels");
    assert!(try_fill("/v1/gadgets/{id}", |_| String::new()).is_err(), "an unknown resource was filled");
    assert!(try_fill("/v1/agents/{agent_id}", |_| String::new()).is_err(), "an unknown parameter was filled");
    // And every parameter of the current document is known.
    for op in operations() {
        try_fill(&op.template, |_| String::new()).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Roles against SPEC §2.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// No credentials.
    Public,
    /// The platform admin token only; every API key is unauthenticated there.
    AdminToken,
    /// An API key whose role has this permission (named in the 403).
    Key(&'static str),
}

/// SPEC §2's table: which roles (owner, admin, agent) hold a permission.
fn roles_holding(permission: &str) -> [bool; 3] {
    match permission {
        // read everything in the workspace
        "read"
        // send messages, close/archive/reopen conversations, toggle AI, mark notifications read
        | "messages_send" | "conversations_manage" | "notifications_manage" => [true, true, true],
        // search, provision, release numbers
        "numbers_create" | "numbers_release"
        // change numbers, agents, lines, targets, channel settings, email, WhatsApp connections
        | "numbers_write" | "agents_write" | "lines_write" | "targets_write" | "channels_write"
        | "email_write" | "whatsapp_write"
        // delete conversations; billing: usage, ledger, wallet
        | "conversations_delete" | "billing_read" => [true, true, false],
        // API keys; the webhook signing secret is "readable by owners" (§8)
        "api_keys_manage" | "webhook_secret_read" => [true, false, false],
        other => panic!("{other}: not a permission of SPEC §2"),
    }
}

/// Every operation of the document and what it needs. An operation missing here fails the walk.
fn access(op: &Op) -> Access {
    use Access::*;
    let need = match (op.method.as_str(), op.template.as_str()) {
        ("GET", "/healthz" | "/readyz") => return Public,
        ("POST", "/v1/workspaces" | "/v1/workspaces/{id}/credits") => return AdminToken,
        ("GET", "/v1/workspace") => "read",
        ("GET", "/v1/billing/wallet" | "/v1/billing/ledger" | "/v1/billing/usage") => "billing_read",
        // Searching the stock is part of provisioning.
        ("GET", "/v1/numbers/available") | ("POST", "/v1/numbers") => "numbers_create",
        ("GET", "/v1/numbers" | "/v1/numbers/{id}") => "read",
        ("DELETE", "/v1/numbers/{id}") => "numbers_release",
        ("PATCH", "/v1/numbers/{id}") | ("POST", "/v1/numbers/{id}/reconfigure-webhooks") => "numbers_write",
        ("GET", "/v1/agents" | "/v1/agents/{id}") => "read",
        ("POST", "/v1/agents") | ("PATCH" | "DELETE", "/v1/agents/{id}") => "agents_write",
        ("GET", "/v1/agents/{id}/phone-lines" | "/v1/agents/{id}/phone-lines/{line_id}") => "read",
        ("POST", "/v1/agents/{id}/phone-lines")
        | ("PATCH" | "DELETE", "/v1/agents/{id}/phone-lines/{line_id}") => "lines_write",
        ("GET", "/v1/agents/{id}/channels") => "read",
        ("PATCH", "/v1/agents/{id}/channels") => "channels_write",
        ("GET", "/v1/agents/{id}/email") => "read",
        ("POST", "/v1/agents/{id}/email/verify") => "email_write",
        // Asking which target is open or matches a name reads.
        ("GET", "/v1/agents/{id}/forwarding-targets/available")
        | ("POST", "/v1/agents/{id}/forwarding-targets/resolve") => "read",
        ("GET", "/v1/agents/{id}/forwarding-targets" | "/v1/agents/{id}/forwarding-targets/{target_id}") => {
            "read"
        }
        ("POST", "/v1/agents/{id}/forwarding-targets")
        | ("PATCH" | "DELETE", "/v1/agents/{id}/forwarding-targets/{target_id}") => "targets_write",
        (_, "/v1/api-keys" | "/v1/api-keys/{id}") => "api_keys_manage",
        ("GET", "/v1/whatsapp/connections" | "/v1/whatsapp/connections/{id}") => "read",
        ("POST", "/v1/whatsapp/connections")
        | ("PATCH" | "DELETE", "/v1/whatsapp/connections/{id}")
        | ("POST", "/v1/whatsapp/connections/{id}/restore" | "/v1/whatsapp/connections/{id}/verify") => {
            "whatsapp_write"
        }
        ("GET", "/v1/conversations" | "/v1/conversations/{id}") => "read",
        // Starting a thread is the first step of sending.
        ("POST", "/v1/conversations" | "/v1/conversations/{id}/messages") => "messages_send",
        // Toggle AI, close/archive/reopen; escalating is handing it to a human, as any role may.
        ("PATCH", "/v1/conversations/{id}")
        | (
            "POST",
            "/v1/conversations/{id}/close"
            | "/v1/conversations/{id}/archive"
            | "/v1/conversations/{id}/reopen"
            | "/v1/conversations/{id}/escalate",
        ) => "conversations_manage",
        ("DELETE", "/v1/conversations/{id}") => "conversations_delete",
        ("GET", "/v1/opt-outs") => "read",
        // Honouring a contact's "stop" is part of handling a conversation; lifting it (the contact
        // may be messaged again) changes the channel's settings.
        ("POST", "/v1/opt-outs") => "conversations_manage",
        ("DELETE", "/v1/opt-outs/{id}") => "channels_write",
        ("GET", "/v1/notifications" | "/v1/notifications/{id}") => "read",
        ("POST", "/v1/notifications/read-all" | "/v1/notifications/{id}/read") => "notifications_manage",
        ("GET" | "POST", "/v1/agents/{id}/webhook-secret" | "/v1/agents/{id}/webhook-secret/rotate") => {
            "webhook_secret_read"
        }
        ("GET", "/v1/webhook-deliveries" | "/v1/webhook-deliveries/{id}") => "read",
        // Replaying re-enables a disabled endpoint: a change to the channel settings.
        ("POST", "/v1/webhook-deliveries/{id}/replay") => "channels_write",
        _ => panic!("{}: not in the permission table of security.rs; add it as SPEC §2 says", op.key()),
    };
    roles_holding(need); // a permission SPEC §2 does not name fails here
    Key(need)
}

/// Deletions last (children before the agent), so that every check meets the resources it names.
fn walk_order(ops: &[Op]) -> Vec<&Op> {
    let mut ordered: Vec<&Op> = ops.iter().collect();
    ordered.sort_by_key(|op| {
        (
            op.method == Method::DELETE,
            op.template == "/v1/agents/{id}" && op.method == Method::DELETE,
            std::cmp::Reverse(op.template.split('/').count()),
        )
    });
    ordered
}

async fn role_walk(app: &TestApp, rec: &Recorder, ops: &[Op], w: &World) -> usize {
    let roles = [("agent", w.a_agent.as_str()), ("admin", w.a_admin.as_str()), ("owner", w.a.owner.as_str())];
    let unknown_key = format!("sk_{}", "x".repeat(40));
    for op in walk_order(ops) {
        let path = fill(&op.template, |kind| id_of(&w.ids, kind, &op.template).to_owned());
        let payload = || body(op, &w.ids);
        let label = op.key();
        match access(op) {
            Access::Public => {
                let i = rec.call(app, &label, op.method.clone(), &path, None, payload()).await;
                let r = rec.get(i);
                assert!(r.status < 300, "{label} without credentials: {} {}", r.status, r.text);
            }
            Access::AdminToken => {
                for (who, key) in roles.iter().copied().chain([("bad", unknown_key.as_str())]) {
                    let i =
                        rec.call(app, &label, op.method.clone(), &path, Some((who, key)), payload()).await;
                    let r = rec.get(i);
                    assert_eq!(r.status, 401, "{label} as {who}: {}", r.text);
                    assert_eq!(r.body["code"], "invalid_admin_token", "{label} as {who}");
                }
                let i = rec.call(app, &label, op.method.clone(), &path, None, payload()).await;
                assert_eq!(rec.get(i).status, 401, "{label} without credentials");
                let i = rec
                    .call(
                        app,
                        &label,
                        op.method.clone(),
                        &path,
                        Some(("admin_token", ADMIN_TOKEN)),
                        payload(),
                    )
                    .await;
                let r = rec.get(i);
                assert!(
                    matches!(r.status, 200 | 201),
                    "{label} as the platform admin: {} {}",
                    r.status,
                    r.text
                );
            }
            Access::Key(permission) => {
                let i = rec.call(app, &label, op.method.clone(), &path, None, payload()).await;
                let r = rec.get(i);
                assert_eq!(
                    (r.status, r.body["code"].as_str()),
                    (401, Some("unauthenticated")),
                    "{label}: {}",
                    r.text
                );
                for (who, key) in [("bad", unknown_key.as_str()), ("admin_token", ADMIN_TOKEN)] {
                    let i =
                        rec.call(app, &label, op.method.clone(), &path, Some((who, key)), payload()).await;
                    let r = rec.get(i);
                    assert_eq!(
                        (r.status, r.body["code"].as_str()),
                        (401, Some("invalid_api_key")),
                        "{label} with {who}: {}",
                        r.text
                    );
                }
                let holds = roles_holding(permission);
                for ((who, key), allowed) in roles.iter().copied().zip([holds[2], holds[1], holds[0]]) {
                    let i =
                        rec.call(app, &label, op.method.clone(), &path, Some((who, key)), payload()).await;
                    let r = rec.get(i);
                    if allowed {
                        assert!(
                            !matches!(r.status, 401 | 403) && r.status < 500,
                            "{label} as {who} must be allowed ({permission}): {} {}",
                            r.status,
                            r.text
                        );
                    } else {
                        assert_eq!(
                            r.status, 403,
                            "{label} as {who} must be refused ({permission}): {}",
                            r.text
                        );
                        assert_eq!(r.content_type, "application/problem+json");
                        assert_eq!(r.body["code"], "forbidden", "{label} as {who}");
                        assert!(
                            r.body["detail"].as_str().unwrap_or("").contains(permission),
                            "{label} as {who}: the 403 does not name {permission}: {}",
                            r.text
                        );
                    }
                }
            }
        }
    }
    ops.len()
}

#[tokio::test]
async fn every_operation_allows_exactly_the_roles_of_the_permission_table() {
    each_engine(|db| async move {
        let app = spawn_app(db).await;
        let rec = Recorder::default();
        let ops = operations();
        let w = world(&app, &rec).await;
        // The table names every operation before anything is called.
        for op in &ops {
            access(op);
        }
        let walked = role_walk(&app, &rec, &ops, &w).await;
        eprintln!("walked {walked} operations with 3 roles, no key, an unknown key and the admin token");
        // The owner revoked A's "ci" key during the walk: it is unauthenticated from now on.
        let revoked = w.victim_key.as_str();
        let i = rec.call(&app, "revoked", Method::GET, "/v1/agents", Some(("revoked", revoked)), None).await;
        assert_eq!((rec.get(i).status, rec.get(i).body["code"].as_str()), (401, Some("invalid_api_key")));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Secrets.

/// Everything logged on this thread (the app runs on the test's current-thread runtime).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

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

/// `sk_` followed by 40 letters or digits: the shape of an API key.
fn api_keys_in(text: &str) -> Vec<&str> {
    text.match_indices("sk_")
        .filter_map(|(i, _)| text.get(i..i + 43))
        .filter(|k| k[3..].chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let db = &app.state.db;
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

/// Every secret of the test, with where it may be seen; asserts no other answer shows it.
async fn assert_no_secret_in_responses(app: &TestApp, rec: &Recorder, w: &World) -> Vec<String> {
    // Stored forms: key hashes, the sealed webhook secret and the sealed access token.
    let mut stored = column(app, "SELECT key_hash FROM api_keys").await;
    stored.extend(column(app, "SELECT secret FROM webhook_endpoints").await);
    stored.extend(
        column(
            app,
            "SELECT access_token_sealed FROM whatsapp_connections WHERE access_token_sealed IS NOT NULL",
        )
        .await,
    );
    let replies = rec.replies.borrow();
    // API keys: only in the answer that issued them.
    // (The two owner keys came from the harness, outside the recorder.)
    let mut keys: Vec<String> = vec![w.a.owner.clone(), w.b.owner.clone()];
    for r in replies.iter() {
        let mints =
            matches!(r.label.as_str(), "POST /v1/api-keys" | "POST /v1/workspaces") && r.status == 201;
        let found = api_keys_in(&r.text);
        if mints {
            assert_eq!(found.len(), 1, "{}: one key in its creation answer: {}", r.label, r.text);
            assert!(!keys.iter().any(|k| k == found[0]), "{}: answered an existing key", r.label);
            keys.push(found[0].to_owned());
        } else {
            assert!(found.is_empty(), "{} as {} answered an API key: {}", r.label, r.who, r.text);
        }
    }
    // Webhook secrets: only in the owner's secret endpoints.
    let secret_answer =
        |r: &Reply| r.label.contains("/webhook-secret") && r.who == "owner" && r.status == 200;
    let mut webhook_secrets: Vec<String> = replies
        .iter()
        .filter(|r| secret_answer(r))
        .map(|r| r.body["secret"].as_str().unwrap().to_owned())
        .collect();
    webhook_secrets.dedup();
    assert!(!webhook_secrets.is_empty());
    assert!(stored.len() >= keys.len() + 2, "{stored:?}");

    let mut everywhere: Vec<String> = vec![META_TOKEN.to_owned(), ADMIN_TOKEN.to_owned()];
    everywhere.extend(stored);
    for r in replies.iter() {
        for secret in &everywhere {
            assert!(
                !r.text.contains(secret.as_str()),
                "{} as {} answered a secret: {}",
                r.label,
                r.who,
                r.text
            );
        }
        if !secret_answer(r) {
            for secret in &webhook_secrets {
                assert!(
                    !r.text.contains(secret.as_str()),
                    "{} as {} answered the webhook secret",
                    r.label,
                    r.who
                );
                // Nor its key bytes without the prefix.
                assert!(!r.text.contains(&secret[6..]), "{} as {} answered the webhook key", r.label, r.who);
            }
        }
        // The last four of the Meta token are shown, never more of it.
        assert!(!r.text.contains(&META_TOKEN[..20]), "{}: part of the access token", r.label);
    }
    everywhere.extend(keys);
    everywhere.extend(webhook_secrets);
    everywhere
}

#[tokio::test]
async fn no_secret_appears_in_any_response_or_log_line() {
    let logs = Captured::default();
    // Events only, at every level, on this thread (see conversations.rs for why events only).
    use tracing_subscriber::layer::SubscriberExt as _;
    let subscriber = tracing_subscriber::registry().with(tracing_subscriber::Layer::with_filter(
        tracing_subscriber::fmt::layer().with_writer(logs.clone()).with_ansi(false),
        tracing_subscriber::filter::filter_fn(|meta| meta.is_event()),
    ));
    let _guard = tracing::subscriber::set_default(subscriber);
    let secrets: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = secrets.clone();
    each_engine(move |db| {
        let sink = sink.clone();
        async move {
            let app = spawn_app(db).await;
            let rec = Recorder::default();
            let ops = operations();
            let w = world(&app, &rec).await;
            foreign_walk(&app, &rec, &ops, &w).await;
            role_walk(&app, &rec, &ops, &w).await;
            let found = assert_no_secret_in_responses(&app, &rec, &w).await;
            eprintln!("{} answers checked for {} secrets", rec.replies.borrow().len(), found.len());
            sink.lock().unwrap().extend(found);
        }
    })
    .await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("API key issued"), "the capture works: {}", &text[..text.len().min(2000)]);
    for secret in secrets.lock().unwrap().iter() {
        assert!(!text.contains(secret.as_str()), "a secret was logged: {}…", &secret[..8]);
    }
    assert!(!text.contains(&META_TOKEN[..20]), "part of the access token was logged");
    assert!(api_keys_in(&text).is_empty(), "an API key was logged: {:?}", api_keys_in(&text));
}
