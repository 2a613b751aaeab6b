//! Forwarding targets on every engine: field rules, availability, name resolution, and the
//! transfer destinations the call path uses.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use serde_json::json;
use switchboard_agents::{AgentService, NewAgent};
use switchboard_core::{AgentId, Ctx, E164, Error, PageRequest, Permission, Role, Zone};
use switchboard_forwarding::{ForwardingService, NewTarget, TargetPatch, TransferDecision, TransferMode};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

struct Fixture {
    tenancy: TenancyService,
    targets: ForwardingService,
    ctx: Ctx,
    agent: AgentId,
}

async fn fixture(db: &TestDb) -> Fixture {
    let tenancy = TenancyService::new(db.conn.clone());
    let agents = AgentService::new(db.conn.clone(), tenancy.clone());
    let (ws, _) = tenancy.create_workspace(NewWorkspace { name: "A".into(), timezone: None }).await.unwrap();
    let ctx = Ctx::system(ws.id);
    let agent = agents
        .create(
            &ctx,
            NewAgent {
                name: "Reception".into(),
                status: None,
                timezone: Some(Zone::parse("Europe/Berlin").unwrap()),
                language: None,
            },
        )
        .await
        .unwrap()
        .id;
    Fixture { tenancy, targets: ForwardingService::new(db.conn.clone(), agents), ctx, agent }
}

fn target(body: serde_json::Value) -> NewTarget {
    serde_json::from_value(body).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn fields(err: &Error) -> Vec<String> {
    match err {
        Error::Invalid(f) => f.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn a_target_gets_the_defaults_and_normalised_fields() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let t = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": " Manfred Müller ", "phone_number": "+49 (30) 123-4567", "aliases": ["Manni", "manni", " MANNI ", "Herr Müller"]})))
            .await
            .unwrap();
        assert_eq!(t.name, "Manfred Müller");
        assert_eq!(t.phone_number, E164::parse("+49301234567").unwrap());
        assert_eq!(t.aliases, ["Manni", "Herr Müller"], "duplicates ignoring case are dropped");
        assert_eq!((t.mode, t.ring_timeout_seconds, t.active), (TransferMode::Warm, 30, true));
        assert!(t.opening_hours.is_none() && t.timezone.is_none());

        let office = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Office", "phone_number": "+49301111111", "opening_hours": {}})))
            .await
            .unwrap();
        let hours = serde_json::to_value(office.opening_hours.unwrap()).unwrap();
        assert_eq!(hours["days"]["mon"], json!([{"start": "09:00", "end": "17:00"}]), "{{}} means Mon–Fri 09–17");
        assert_eq!(hours["days"]["sat"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn every_field_rule_is_a_field_level_error() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let base = json!({"name": "Sales", "phone_number": "+49301234567"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            target(b)
        };
        let cases = [
            (with("name", json!("")), "name"),
            (with("name", json!("x".repeat(121))), "name"),
            (with("aliases", json!(["ok", "  "])), "aliases[1]"),
            (with("aliases", json!((0..21).map(|i| format!("alias {i}")).collect::<Vec<_>>())), "aliases"),
            (with("description", json!("x".repeat(2001))), "description"),
            (with("forwarding_message", json!("x".repeat(201))), "forwarding_message"),
            (with("fallback_message", json!("x".repeat(401))), "fallback_message"),
            (with("ring_timeout_seconds", json!(4)), "ring_timeout_seconds"),
            (with("ring_timeout_seconds", json!(121)), "ring_timeout_seconds"),
            (with("timezone", json!("Mars/Base")), "timezone"),
        ];
        for (input, field) in cases {
            let err = f.targets.create(&f.ctx, &f.agent, input).await.unwrap_err();
            assert_eq!(fields(&err), [field]);
        }
        let err = f
            .targets
            .create(
                &f.ctx,
                &f.agent,
                with("opening_hours", json!({"days": {"mon": [{"start": "9:00", "end": "17:00"}]}})),
            )
            .await
            .unwrap_err();
        assert!(fields(&err)[0].starts_with("opening_hours.days.mon[0]"), "{err:?}");
        // Bounds themselves are fine; a blank zone means the agent's.
        let ok = f.targets.create(&f.ctx, &f.agent, with("ring_timeout_seconds", json!(120))).await.unwrap();
        assert_eq!(ok.ring_timeout_seconds, 120);
        let blank = f.targets.create(&f.ctx, &f.agent, with("timezone", json!("  "))).await.unwrap();
        assert!(blank.timezone.is_none());
        assert_eq!(f.targets.list(&f.ctx, &f.agent, &PageRequest::default()).await.unwrap().data.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn available_filters_by_hours_in_the_targets_zone() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let office = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Office", "phone_number": "+49301111111", "opening_hours": {}})))
            .await
            .unwrap();
        f.targets
            .create(&f.ctx, &f.agent, target(json!({"name": "NY desk", "phone_number": "+12125550100", "opening_hours": {}, "timezone": "America/New_York"})))
            .await
            .unwrap();
        f.targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Hotline", "phone_number": "+49302222222"})))
            .await
            .unwrap();
        let off = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Retired", "phone_number": "+49303333333", "active": false})))
            .await
            .unwrap();

        // Wed 2026-11-25 10:00 Berlin = 04:00 New York: the office is open, New York is not yet.
        let open = f.targets.available(&f.ctx, &f.agent, at("2026-11-25T09:00:00Z")).await.unwrap();
        let names: Vec<_> = open.iter().map(|s| s.target.name.as_str()).collect();
        assert_eq!(names, ["Office", "Hotline"]);
        let office_now = open.iter().find(|s| s.target.id == office.id).unwrap();
        assert_eq!(office_now.open_until, Some(at("2026-11-25T16:00:00Z")), "closes 17:00 Berlin");
        assert!(open.iter().find(|s| s.target.name == "Hotline").unwrap().open_until.is_none(), "around the clock");
        assert!(!open.iter().any(|s| s.target.id == off.id), "inactive targets never show");

        // 16:00 Berlin = 10:00 New York: both offices open.
        let later = f.targets.available(&f.ctx, &f.agent, at("2026-11-25T15:00:00Z")).await.unwrap();
        assert_eq!(later.len(), 3);
        // Saturday: only the hotline.
        let weekend = f.targets.available(&f.ctx, &f.agent, at("2026-11-28T12:00:00Z")).await.unwrap();
        assert_eq!(weekend.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn resolve_ranks_spoken_names_and_reports_closed_targets_with_their_fallback() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let muller = f
            .targets
            .create(
                &f.ctx,
                &f.agent,
                target(json!({"name": "Thomas Müller", "phone_number": "+49301111111", "aliases": ["Tom"], "opening_hours": {}, "fallback_message": "Thomas is out, may I take a message?"})),
            )
            .await
            .unwrap();
        f.targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Anna Mueller-Schmidt", "phone_number": "+49302222222"})))
            .await
            .unwrap();
        f.targets.create(&f.ctx, &f.agent, target(json!({"name": "Sales", "phone_number": "+49303333333"}))).await.unwrap();

        let saturday = at("2026-11-28T12:00:00Z");
        let hits = f.targets.resolve(&f.ctx, &f.agent, "Herr Thomas Mueller", saturday).await.unwrap();
        assert_eq!(hits[0].status.target.id, muller.id, "the full name ranks first");
        assert!(!hits[0].status.open);
        assert_eq!(hits[0].status.next_open_at, Some(at("2026-11-30T08:00:00Z")), "Monday 09:00 Berlin");
        assert!(hits.iter().all(|h| h.status.target.name != "Sales"));
        let by_alias = f.targets.resolve(&f.ctx, &f.agent, "tom", saturday).await.unwrap();
        assert_eq!(by_alias[0].matched, "Tom");
        assert!(f.targets.resolve(&f.ctx, &f.agent, "Nobody Known", saturday).await.unwrap().is_empty());
        assert!(matches!(f.targets.resolve(&f.ctx, &f.agent, "  ", saturday).await, Err(Error::Invalid(_))));

        // The call path: closed → its fallback message; open → a Vapi transfer destination.
        match f.targets.decide_transfer(f.ctx.workspace_id(), &f.agent, "Müller", saturday).await.unwrap() {
            TransferDecision::Closed { message, .. } => assert_eq!(message, "Thomas is out, may I take a message?"),
            other => panic!("expected closed, got {other:?}"),
        }
        let monday = at("2026-11-30T10:00:00Z");
        match f.targets.decide_transfer(f.ctx.workspace_id(), &f.agent, "Thomas Müller", monday).await.unwrap() {
            TransferDecision::Transfer(d) => {
                let vapi = d.to_vapi();
                assert_eq!(vapi["type"], "number");
                assert_eq!(vapi["number"], "+49301111111");
                assert_eq!(vapi["transferPlan"]["mode"], "warm-transfer-say-message");
                assert_eq!(vapi["transferPlan"]["dialTimeout"], 30);
                assert_eq!(vapi["transferPlan"]["fallbackPlan"]["message"], "Thomas is out, may I take a message?");
            }
            other => panic!("expected a transfer, got {other:?}"),
        }
        let open_destinations = f.targets.transfer_destinations(f.ctx.workspace_id(), &f.agent, saturday).await.unwrap();
        assert_eq!(open_destinations.len(), 2, "the closed office is not offered on Saturday");
    })
    .await;
}

#[tokio::test]
async fn patch_changes_only_what_is_sent_and_null_clears() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let t = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Sales", "phone_number": "+49301234567", "opening_hours": {}, "description": "orders"})))
            .await
            .unwrap();
        let patch: TargetPatch = serde_json::from_value(json!({"opening_hours": null, "mode": "blind", "description": null})).unwrap();
        let changed = f.targets.update(&f.ctx, &f.agent, &t.id, patch).await.unwrap();
        assert!(changed.opening_hours.is_none() && changed.description.is_none());
        assert_eq!(changed.mode, TransferMode::Blind);
        assert_eq!(changed.name, "Sales");
        let bad: TargetPatch = serde_json::from_value(json!({"ring_timeout_seconds": 1, "name": "x"})).unwrap();
        assert_eq!(fields(&f.targets.update(&f.ctx, &f.agent, &t.id, bad).await.unwrap_err()), ["ring_timeout_seconds"]);
        assert_eq!(f.targets.get(&f.ctx, &f.agent, &t.id).await.unwrap().name, "Sales", "a refused patch changes nothing");
    })
    .await;
}

#[tokio::test]
async fn targets_stay_in_their_workspace_and_agent_keys_cannot_change_them() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let t = f
            .targets
            .create(&f.ctx, &f.agent, target(json!({"name": "Sales", "phone_number": "+49301234567"})))
            .await
            .unwrap();
        let other = fixture(&db).await;
        assert!(matches!(other.targets.get(&other.ctx, &f.agent, &t.id).await, Err(Error::NotFound { .. })));
        assert!(matches!(
            other.targets.get(&other.ctx, &other.agent, &t.id).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            other.targets.available(&other.ctx, &f.agent, Utc::now()).await,
            Err(Error::NotFound { .. })
        ));
        let key = f
            .tenancy
            .create_api_key(&f.ctx, NewApiKey { name: "bot".into(), role: Role::Agent })
            .await
            .unwrap();
        let agent_role = f.tenancy.authenticate(&key.key).await.unwrap().unwrap();
        let err = f
            .targets
            .create(&agent_role, &f.agent, target(json!({"name": "X", "phone_number": "+49301234568"})))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(Permission::TargetsWrite)));
        assert!(matches!(f.targets.delete(&agent_role, &f.agent, &t.id).await, Err(Error::Forbidden(_))));
        assert_eq!(
            f.targets.available(&agent_role, &f.agent, Utc::now()).await.unwrap().len(),
            1,
            "agents may read"
        );
    })
    .await;
}
