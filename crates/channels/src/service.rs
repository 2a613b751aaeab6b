//! The channel-settings API that binaries and other crates call.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait};
use switchboard_agents::AgentService;
use switchboard_core::email::EmailAddress;
use switchboard_core::net::PublicUrl;
use switchboard_core::{AgentId, Ctx, E164, Error, Permission, Result};
use switchboard_email_identities::{EmailService, EmailView};

use crate::entity::{Column, Entity, Model};
use crate::model::{ChannelSettings, ChannelsPatch, parse_uuid};

/// Channel settings of the caller's agents.
#[derive(Debug, Clone)]
pub struct ChannelService {
    db: DatabaseConnection,
    agents: AgentService,
    email: EmailService,
}

fn view(
    agent_id: AgentId,
    whatsapp_number: Option<E164>,
    row: Option<Model>,
    email: EmailView,
) -> ChannelSettings {
    let row = row.as_ref();
    ChannelSettings {
        email_alias: email.email_alias,
        inbound_address: email.inbound_address,
        reply_from: email.reply_from,
        reply_display_name: email.reply_display_name,
        agent_id,
        whatsapp_number,
        whatsapp_enabled: row.is_some_and(|r| r.whatsapp_enabled),
        vapi_assistant_id: row.and_then(|r| r.vapi_assistant_id.clone()),
        // Stored values were validated on the way in.
        tool_webhook_url: row
            .and_then(|r| r.tool_webhook_url.as_deref())
            .and_then(|u| PublicUrl::parse(u).ok()),
        notification_webhook_url: row
            .and_then(|r| r.notification_webhook_url.as_deref())
            .and_then(|u| PublicUrl::parse(u).ok()),
        notification_email: row.and_then(|r| r.notification_email.clone()).map(EmailAddress::from_stored),
    }
}

impl ChannelService {
    pub fn new(db: DatabaseConnection, agents: AgentService, email: EmailService) -> Self {
        Self { db, agents, email }
    }

    async fn row(&self, ctx: &Ctx, agent: &AgentId) -> Result<Option<Model>> {
        Ok(Entity::find()
            .filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(Column::AgentId.eq(agent.clone()))
            .one(&self.db)
            .await?)
    }

    pub async fn get(&self, ctx: &Ctx, agent: &AgentId) -> Result<ChannelSettings> {
        let a = self.agents.get(ctx, agent).await?;
        let email = self.email.get(ctx, agent).await?;
        Ok(view(a.id, a.whatsapp_number, self.row(ctx, agent).await?, email))
    }

    pub async fn update(&self, ctx: &Ctx, agent: &AgentId, patch: ChannelsPatch) -> Result<ChannelSettings> {
        ctx.require(Permission::ChannelsWrite)?;
        let a = self.agents.get(ctx, agent).await?;
        let assistant = match &patch.vapi_assistant_id {
            Some(Some(id)) => Some(Some(parse_uuid(id).ok_or_else(|| {
                Error::invalid(
                    "vapi_assistant_id",
                    "must be a UUID such as 550e8400-e29b-41d4-a716-446655440000",
                )
            })?)),
            Some(None) => Some(None),
            None => None,
        };
        let now = switchboard_core::time::now();
        let mut row = self.row(ctx, agent).await?.unwrap_or(Model {
            agent_id: agent.clone(),
            workspace_id: ctx.workspace_id().clone(),
            whatsapp_enabled: false,
            vapi_assistant_id: None,
            tool_webhook_url: None,
            notification_webhook_url: None,
            notification_email: None,
            created_at: now,
            updated_at: now,
        });
        let whatsapp_number = match &patch.whatsapp_number {
            Some(n) => n.clone(),
            None => a.whatsapp_number.clone(),
        };
        if let Some(enabled) = patch.whatsapp_enabled {
            row.whatsapp_enabled = enabled;
        }
        if row.whatsapp_enabled && whatsapp_number.is_none() {
            return Err(Error::conflict(
                "whatsapp_number_required",
                "set a whatsapp_number before switching WhatsApp on (provisioning a number fills it in)",
            ));
        }
        if let Some(id) = assistant {
            row.vapi_assistant_id = id;
        }
        if let Some(url) = &patch.tool_webhook_url {
            row.tool_webhook_url = url.as_ref().map(|u| u.to_string());
        }
        if let Some(url) = &patch.notification_webhook_url {
            row.notification_webhook_url = url.as_ref().map(|u| u.to_string());
        }
        if let Some(email) = &patch.notification_email {
            row.notification_email = email.as_ref().map(|e| e.to_string());
        }
        row.updated_at = now;

        // The email part validates (and fails) before anything of the channels part is written.
        let email_patch = patch.email();
        let email = if email_patch.is_empty() {
            self.email.get(ctx, agent).await?
        } else {
            self.email.update(ctx, agent, email_patch).await?
        };
        let txn = self.db.begin().await?;
        if patch.whatsapp_number.is_some() {
            switchboard_agents::set_whatsapp_number(
                &txn,
                ctx.workspace_id(),
                agent,
                whatsapp_number.as_ref().map(E164::as_str),
            )
            .await?;
        }
        Entity::insert(row.clone().into_active_model())
            .on_conflict(
                OnConflict::column(Column::AgentId)
                    .update_columns([
                        Column::WhatsappEnabled,
                        Column::VapiAssistantId,
                        Column::ToolWebhookUrl,
                        Column::NotificationWebhookUrl,
                        Column::NotificationEmail,
                        Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(agent_id = %agent, "channel settings changed");
        Ok(view(a.id, whatsapp_number, Some(row), email))
    }
}

/// What the call and message paths need of an agent's channel card: read with the workspace a
/// webhook was routed to, without a caller's `Ctx`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSnapshot {
    pub vapi_assistant_id: Option<String>,
    pub whatsapp_enabled: bool,
}

/// The agent's [`ChannelSnapshot`]; defaults when the agent never changed its channels.
pub async fn snapshot(
    conn: &impl sea_orm::ConnectionTrait,
    ws: &switchboard_core::WorkspaceId,
    agent: &AgentId,
) -> std::result::Result<ChannelSnapshot, sea_orm::DbErr> {
    let row = Entity::find()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::AgentId.eq(agent.clone()))
        .one(conn)
        .await?;
    Ok(row.map_or_else(ChannelSnapshot::default, |r| ChannelSnapshot {
        vapi_assistant_id: r.vapi_assistant_id,
        whatsapp_enabled: r.whatsapp_enabled,
    }))
}
