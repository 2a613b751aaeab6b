//! Phone lines on every engine: the rules of SPEC §5 and the call-path lookup.

#![allow(clippy::unwrap_used)]

use switchboard_agents::{AgentService, NewAgent};
use switchboard_core::{AgentId, Ctx, E164, Error, Language, PageRequest, Permission, Role};
use switchboard_phone_lines::{LinePatch, NewLine, PhoneLineService};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::{TestDb, each_engine};

struct Fixture {
    tenancy: TenancyService,
    lines: PhoneLineService,
    ctx: Ctx,
    agent: AgentId,
}

async fn fixture(db: &TestDb) -> Fixture {
    let tenancy = TenancyService::new(db.conn.clone());
    let agents = AgentService::new(db.conn.clone(), tenancy.clone());
    let (ws, _) = tenancy.create_workspace(NewWorkspace { name: "A".into(), timezone: None }).await.unwrap();
    let ctx = Ctx::system(ws.id);
    let agent = agents
        .create(&ctx, NewAgent { name: "Hotline".into(), status: None, timezone: None, language: None })
        .await
        .unwrap()
        .id;
    Fixture { tenancy, lines: PhoneLineService::new(db.conn.clone(), agents), ctx, agent }
}

fn line(vapi_id: &str, number: &str) -> NewLine {
    NewLine {
        vapi_phone_number_id: vapi_id.into(),
        phone_number: E164::parse(number).unwrap(),
        label: None,
        language: None,
        active: None,
    }
}

fn fields(err: &Error) -> Vec<String> {
    match err {
        Error::Invalid(f) => f.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn a_line_defaults_to_german_and_active_and_routes_calls_in_its_language() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let de = f.lines.create(&f.ctx, &f.agent, line("vapi_phone_de_01", "+49 30 1234567")).await.unwrap();
        assert_eq!(de.language, Language::De);
        assert!(de.active);
        assert_eq!(de.phone_number.as_str(), "+49301234567");
        let mut en = line("vapi_phone_us_01", "+14155550100");
        en.language = Some(Language::En);
        en.label = Some("  US hotline ".into());
        let en = f.lines.create(&f.ctx, &f.agent, en).await.unwrap();
        assert_eq!(en.label.as_deref(), Some("US hotline"));

        let route = f.lines.route_for_vapi_id("vapi_phone_us_01").await.unwrap().unwrap();
        assert_eq!(
            (route.language, &route.agent_id, &route.workspace_id),
            (Language::En, &f.agent, f.ctx.workspace_id())
        );
        let by_number =
            f.lines.route_for_number(&E164::parse("+49301234567").unwrap()).await.unwrap().unwrap();
        assert_eq!(by_number.language, Language::De);
        assert!(f.lines.route_for_vapi_id("unknown_vapi_id").await.unwrap().is_none());

        // Inactive lines are ignored at call time.
        f.lines
            .update(&f.ctx, &f.agent, &en.id, LinePatch { active: Some(false), ..Default::default() })
            .await
            .unwrap();
        assert!(f.lines.route_for_vapi_id("vapi_phone_us_01").await.unwrap().is_none());
        assert_eq!(f.lines.list(&f.ctx, &f.agent, &PageRequest::default()).await.unwrap().data.len(), 2);

        f.lines.delete(&f.ctx, &f.agent, &de.id).await.unwrap();
        assert!(f.lines.route_for_vapi_id("vapi_phone_de_01").await.unwrap().is_none());
        assert!(matches!(f.lines.get(&f.ctx, &f.agent, &de.id).await, Err(Error::NotFound { .. })));
    })
    .await;
}

#[tokio::test]
async fn field_rules_are_enforced_with_the_field_named() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        for bad in ["short", "has space 123", "ümlaut-id-1", &"x".repeat(65)] {
            let err = f.lines.create(&f.ctx, &f.agent, line(bad, "+49301234567")).await.unwrap_err();
            assert_eq!(fields(&err), ["vapi_phone_number_id"], "{bad:?}");
        }
        let mut long_label = line("vapi_phone_de_01", "+49301234567");
        long_label.label = Some("x".repeat(81));
        assert_eq!(fields(&f.lines.create(&f.ctx, &f.agent, long_label).await.unwrap_err()), ["label"]);
        let mut ok = line("vapi-phone_de-01", "+49301234567");
        ok.label = Some("x".repeat(80));
        f.lines.create(&f.ctx, &f.agent, ok).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_vapi_id_serves_at_most_one_line_in_any_workspace() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        f.lines.create(&f.ctx, &f.agent, line("vapi_phone_de_01", "+49301234567")).await.unwrap();
        let err =
            f.lines.create(&f.ctx, &f.agent, line("vapi_phone_de_01", "+49301234568")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "vapi_id_taken", .. }), "{err:?}");

        let other = f.lines.create(&f.ctx, &f.agent, line("vapi_phone_de_02", "+49301234568")).await.unwrap();
        let err = f
            .lines
            .update(
                &f.ctx,
                &f.agent,
                &other.id,
                LinePatch { vapi_phone_number_id: Some("vapi_phone_de_01".into()), ..Default::default() },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "vapi_id_taken", .. }), "{err:?}");

        let second = fixture(&db).await;
        let err = second
            .lines
            .create(&second.ctx, &second.agent, line("vapi_phone_de_01", "+49301234567"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict { code: "vapi_id_taken", .. }),
            "another workspace cannot take it either"
        );
    })
    .await;
}

#[tokio::test]
async fn lines_stay_in_their_workspace_and_agents_cannot_change_them() {
    each_engine(|db| async move {
        let f = fixture(&db).await;
        let l = f.lines.create(&f.ctx, &f.agent, line("vapi_phone_de_01", "+49301234567")).await.unwrap();
        let other = fixture(&db).await;
        assert!(matches!(other.lines.get(&other.ctx, &f.agent, &l.id).await, Err(Error::NotFound { .. })));
        assert!(matches!(
            other.lines.get(&other.ctx, &other.agent, &l.id).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            other.lines.delete(&other.ctx, &other.agent, &l.id).await,
            Err(Error::NotFound { .. })
        ));

        let key = f
            .tenancy
            .create_api_key(&f.ctx, NewApiKey { name: "bot".into(), role: Role::Agent })
            .await
            .unwrap();
        let agent_role = f.tenancy.authenticate(&key.key).await.unwrap().unwrap();
        let err = f
            .lines
            .create(&agent_role, &f.agent, line("vapi_phone_de_02", "+49301234568"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(Permission::LinesWrite)));
        assert_eq!(f.lines.list(&agent_role, &f.agent, &PageRequest::default()).await.unwrap().data.len(), 1);
    })
    .await;
}
