use sea_orm::entity::prelude::*;
use switchboard_core::{AgentId, Language, PhoneLineId, WorkspaceId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "phone_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PhoneLineId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub vapi_phone_number_id: String,
    pub phone_number: String,
    pub label: Option<String>,
    pub language: Language,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
