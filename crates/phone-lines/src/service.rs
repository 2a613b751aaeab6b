//! The phone-lines API that binaries and other crates call.

use sea_orm::DatabaseConnection;
use switchboard_agents::AgentService;
use switchboard_core::db::is_unique_violation;
use switchboard_core::error::Violations;
use switchboard_core::{AgentId, Ctx, E164, Error, Page, PageRequest, Permission, PhoneLineId, Result};

use crate::entity::Model;
use crate::model::{LinePatch, LineRoute, NewLine, PhoneLine, check_label, check_vapi_id};
use crate::store;

/// Phone lines of an agent in the caller's workspace.
#[derive(Debug, Clone)]
pub struct PhoneLineService {
    db: DatabaseConnection,
    agents: AgentService,
}

fn taken(e: sea_orm::DbErr) -> Error {
    if is_unique_violation(&e) {
        Error::conflict("vapi_id_taken", "this Vapi phone-number id is already linked to a line")
    } else {
        e.into()
    }
}

fn route(m: Model) -> LineRoute {
    LineRoute { line_id: m.id, workspace_id: m.workspace_id, agent_id: m.agent_id, language: m.language }
}

impl PhoneLineService {
    pub fn new(db: DatabaseConnection, agents: AgentService) -> Self {
        Self { db, agents }
    }

    pub async fn list(&self, ctx: &Ctx, agent: &AgentId, page: &PageRequest) -> Result<Page<PhoneLine>> {
        self.agents.get(ctx, agent).await?;
        let rows = store::list(&self.db, ctx.workspace_id(), agent, page).await?;
        Ok(Page::from_rows(rows, page, |l| l.id.to_string()).map(PhoneLine::from))
    }

    pub async fn get(&self, ctx: &Ctx, agent: &AgentId, id: &PhoneLineId) -> Result<PhoneLine> {
        self.agents.get(ctx, agent).await?;
        self.find(ctx, agent, id).await.map(PhoneLine::from)
    }

    async fn find(&self, ctx: &Ctx, agent: &AgentId, id: &PhoneLineId) -> Result<Model> {
        store::find(&self.db, ctx.workspace_id(), agent, id).await?.ok_or(Error::not_found("phone line"))
    }

    pub async fn create(&self, ctx: &Ctx, agent: &AgentId, input: NewLine) -> Result<PhoneLine> {
        ctx.require(Permission::LinesWrite)?;
        self.agents.get(ctx, agent).await?;
        let mut v = Violations::new();
        let vapi_id = check_vapi_id(&mut v, &input.vapi_phone_number_id);
        let label = check_label(&mut v, input.label.as_deref());
        v.finish()?;
        let now = switchboard_core::time::now();
        let model = Model {
            id: PhoneLineId::new(),
            workspace_id: ctx.workspace_id().clone(),
            agent_id: agent.clone(),
            vapi_phone_number_id: vapi_id.unwrap_or_default(),
            phone_number: input.phone_number.to_string(),
            label,
            language: input.language.unwrap_or_default(),
            active: input.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let line = store::insert(&self.db, model).await.map_err(taken)?;
        tracing::info!(line_id = %line.id, agent_id = %agent, "phone line linked");
        Ok(line.into())
    }

    pub async fn update(
        &self,
        ctx: &Ctx,
        agent: &AgentId,
        id: &PhoneLineId,
        patch: LinePatch,
    ) -> Result<PhoneLine> {
        ctx.require(Permission::LinesWrite)?;
        self.agents.get(ctx, agent).await?;
        let mut v = Violations::new();
        let vapi_id = patch.vapi_phone_number_id.as_deref().map(|id| check_vapi_id(&mut v, id));
        let label = patch.label.as_ref().map(|l| check_label(&mut v, l.as_deref()));
        v.finish()?;
        let mut line = self.find(ctx, agent, id).await?;
        if let Some(Some(vapi_id)) = vapi_id {
            line.vapi_phone_number_id = vapi_id;
        }
        if let Some(number) = patch.phone_number {
            line.phone_number = number.to_string();
        }
        if let Some(label) = label {
            line.label = label;
        }
        if let Some(language) = patch.language {
            line.language = language;
        }
        if let Some(active) = patch.active {
            line.active = active;
        }
        line.updated_at = switchboard_core::time::now();
        if !store::update(&self.db, ctx.workspace_id(), &line).await.map_err(taken)? {
            return Err(Error::not_found("phone line"));
        }
        Ok(line.into())
    }

    pub async fn delete(&self, ctx: &Ctx, agent: &AgentId, id: &PhoneLineId) -> Result<()> {
        ctx.require(Permission::LinesWrite)?;
        self.agents.get(ctx, agent).await?;
        if store::delete(&self.db, ctx.workspace_id(), agent, id).await? {
            Ok(())
        } else {
            Err(Error::not_found("phone line"))
        }
    }

    /// Which active line — so which workspace, agent and language — serves a call to this Vapi
    /// phone-number id. `None`: no active line; the agent detects the language.
    pub async fn route_for_vapi_id(&self, vapi_id: &str) -> Result<Option<LineRoute>> {
        Ok(store::active_by_vapi_id(&self.db, vapi_id).await?.map(route))
    }

    /// Which active line serves a call to this number (the oldest, if several share it).
    pub async fn route_for_number(&self, number: &E164) -> Result<Option<LineRoute>> {
        Ok(store::active_by_number(&self.db, number.as_str()).await?.map(route))
    }
}
