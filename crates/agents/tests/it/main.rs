//! The agents service as a library caller uses it, on every engine: the same permission and
//! scoping rules as the HTTP API.

#![allow(clippy::unwrap_used)]

use switchboard_agents::{AgentFilter, AgentPatch, AgentService, AgentStatus, NewAgent};
use switchboard_core::{Ctx, Error, Language, PageRequest, Permission, Role, Zone};
use switchboard_tenancy::{NewApiKey, NewWorkspace, TenancyService};
use switchboard_testkit::each_engine;

fn new_agent(name: &str) -> NewAgent {
    NewAgent { name: name.into(), status: None, timezone: None, language: None }
}

#[tokio::test]
async fn library_callers_get_the_permission_table_and_workspace_scoping() {
    each_engine(|db| async move {
        let tenancy = TenancyService::new(db.conn.clone());
        let agents = AgentService::new(db.conn.clone(), tenancy.clone());
        let (ws, _) = tenancy
            .create_workspace(NewWorkspace {
                name: "A".into(),
                timezone: Some(Zone::parse("Asia/Tokyo").unwrap()),
            })
            .await
            .unwrap();
        let (other, _) =
            tenancy.create_workspace(NewWorkspace { name: "B".into(), timezone: None }).await.unwrap();
        let owner = Ctx::system(ws.id.clone());
        let agent_key = tenancy
            .create_api_key(&owner, NewApiKey { name: "bot".into(), role: Role::Agent })
            .await
            .unwrap();
        let agent_role = tenancy.authenticate(&agent_key.key).await.unwrap().unwrap();

        let created = agents.create(&owner, new_agent("Reception")).await.unwrap();
        assert_eq!(created.timezone.name(), "Asia/Tokyo");
        assert_eq!(created.language, Language::De);
        assert_eq!(created.status, AgentStatus::Draft);

        let refused = agents.create(&agent_role, new_agent("Nope")).await;
        assert!(matches!(refused, Err(Error::Forbidden(Permission::AgentsWrite))), "{refused:?}");
        let refused = agents
            .update(
                &agent_role,
                &created.id,
                AgentPatch { status: Some(AgentStatus::Live), ..Default::default() },
            )
            .await;
        assert!(matches!(refused, Err(Error::Forbidden(_))));
        assert!(agents.get(&agent_role, &created.id).await.is_ok(), "agents may read");

        let foreign = Ctx::system(other.id.clone());
        assert!(matches!(agents.get(&foreign, &created.id).await, Err(Error::NotFound { .. })));
        assert!(matches!(
            agents
                .update(&foreign, &created.id, AgentPatch { name: Some("x".into()), ..Default::default() })
                .await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(agents.delete(&foreign, &created.id).await, Err(Error::NotFound { .. })));
        assert_eq!(agents.get(&owner, &created.id).await.unwrap().name, "Reception");

        let live = agents
            .list(&owner, &AgentFilter { status: Some(AgentStatus::Live) }, &PageRequest::default())
            .await
            .unwrap();
        assert!(live.data.is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_invalid_patch_changes_nothing() {
    each_engine(|db| async move {
        let tenancy = TenancyService::new(db.conn.clone());
        let agents = AgentService::new(db.conn.clone(), tenancy.clone());
        let (ws, _) =
            tenancy.create_workspace(NewWorkspace { name: "A".into(), timezone: None }).await.unwrap();
        let ctx = Ctx::system(ws.id);
        let agent = agents.create(&ctx, new_agent("Reception")).await.unwrap();
        let err = agents
            .update(
                &ctx,
                &agent.id,
                AgentPatch {
                    name: Some(String::new()),
                    status: Some(AgentStatus::Live),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(ref f) if f[0].field == "name"));
        let after = agents.get(&ctx, &agent.id).await.unwrap();
        assert_eq!(after.status, AgentStatus::Draft, "a refused patch applied part of itself");
    })
    .await;
}
