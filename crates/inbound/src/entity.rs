use sea_orm::entity::prelude::*;
use switchboard_core::{InboundEventId, WorkspaceId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: InboundEventId,
    pub provider: String,
    pub kind: String,
    pub external_id: String,
    pub workspace_id: Option<WorkspaceId>,
    pub payload: String,
    pub state: String,
    pub reason: Option<String>,
    pub attempts: i32,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
