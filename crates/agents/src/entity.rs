use sea_orm::entity::prelude::*;
use switchboard_core::{AgentId, Language, WorkspaceId};

use crate::model::AgentStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub status: AgentStatus,
    pub timezone: String,
    pub language: Language,
    pub whatsapp_number: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
