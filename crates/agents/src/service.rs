//! The agents API that binaries and other crates call.

use sea_orm::DatabaseConnection;
use switchboard_core::error::Violations;
use switchboard_core::{AgentId, Ctx, Error, Page, PageRequest, Permission, Result};
use switchboard_tenancy::TenancyService;

use crate::entity::Model;
use crate::model::{Agent, AgentFilter, AgentPatch, NewAgent, validate_name};
use crate::store;

/// Agent CRUD, scoped to the caller's workspace.
#[derive(Debug, Clone)]
pub struct AgentService {
    db: DatabaseConnection,
    tenancy: TenancyService,
}

impl AgentService {
    pub fn new(db: DatabaseConnection, tenancy: TenancyService) -> Self {
        Self { db, tenancy }
    }

    pub async fn list(&self, ctx: &Ctx, filter: &AgentFilter, page: &PageRequest) -> Result<Page<Agent>> {
        ctx.require(Permission::Read)?;
        let rows = store::list(&self.db, ctx.workspace_id(), filter, page).await?;
        Ok(Page::from_rows(rows, page, |a| a.id.to_string()).map(Agent::from))
    }

    pub async fn get(&self, ctx: &Ctx, id: &AgentId) -> Result<Agent> {
        ctx.require(Permission::Read)?;
        self.find(ctx, id).await.map(Agent::from)
    }

    pub async fn create(&self, ctx: &Ctx, input: NewAgent) -> Result<Agent> {
        ctx.require(Permission::AgentsWrite)?;
        let mut v = Violations::new();
        let name = validate_name(&mut v, &input.name);
        v.finish()?;
        let timezone = match input.timezone {
            Some(zone) => zone,
            None => self.tenancy.workspace(ctx).await?.timezone,
        };
        let now = switchboard_core::time::now();
        let model = Model {
            id: AgentId::new(),
            workspace_id: ctx.workspace_id().clone(),
            name: name.unwrap_or_default(),
            status: input.status.unwrap_or_default(),
            timezone: timezone.name().to_owned(),
            language: input.language.unwrap_or_default(),
            whatsapp_number: None,
            created_at: now,
            updated_at: now,
        };
        let created = store::insert(&self.db, model).await?;
        tracing::info!(agent_id = %created.id, "agent created");
        Ok(created.into())
    }

    pub async fn update(&self, ctx: &Ctx, id: &AgentId, patch: AgentPatch) -> Result<Agent> {
        ctx.require(Permission::AgentsWrite)?;
        let mut v = Violations::new();
        let name = patch.name.as_deref().map(|n| validate_name(&mut v, n));
        v.finish()?;
        let mut agent = self.find(ctx, id).await?;
        if let Some(Some(name)) = name {
            agent.name = name;
        }
        if let Some(status) = patch.status {
            agent.status = status;
        }
        if let Some(zone) = patch.timezone {
            agent.timezone = zone.name().to_owned();
        }
        if let Some(language) = patch.language {
            agent.language = language;
        }
        agent.updated_at = switchboard_core::time::now();
        if !store::update(&self.db, ctx.workspace_id(), &agent).await? {
            return Err(Error::not_found("agent"));
        }
        Ok(agent.into())
    }

    pub async fn delete(&self, ctx: &Ctx, id: &AgentId) -> Result<()> {
        ctx.require(Permission::AgentsWrite)?;
        let deleted = store::delete(&self.db, ctx.workspace_id(), id).await.map_err(|e| {
            // Numbers and other channels reference their agent with a RESTRICT foreign key.
            if switchboard_core::db::is_foreign_key_violation(&e) {
                Error::conflict(
                    "agent_in_use",
                    "the agent still has numbers or channels; reassign or release them first",
                )
            } else {
                e.into()
            }
        })?;
        if deleted {
            tracing::info!(agent_id = %id, "agent deleted");
            Ok(())
        } else {
            Err(Error::not_found("agent"))
        }
    }

    async fn find(&self, ctx: &Ctx, id: &AgentId) -> Result<Model> {
        store::find(&self.db, ctx.workspace_id(), id).await?.ok_or(Error::not_found("agent"))
    }
}
