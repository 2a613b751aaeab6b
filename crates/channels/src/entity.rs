use sea_orm::entity::prelude::*;
use switchboard_core::{AgentId, WorkspaceId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: AgentId,
    pub workspace_id: WorkspaceId,
    pub whatsapp_enabled: bool,
    pub vapi_assistant_id: Option<String>,
    pub tool_webhook_url: Option<String>,
    pub notification_webhook_url: Option<String>,
    pub notification_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
