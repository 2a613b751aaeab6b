use sea_orm::entity::prelude::*;
use switchboard_core::{AgentId, ForwardingTargetId, WorkspaceId};

use crate::model::TransferMode;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "forwarding_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ForwardingTargetId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub name: String,
    pub phone_number: String,
    /// JSON array of strings.
    pub aliases: String,
    pub description: Option<String>,
    pub forwarding_message: Option<String>,
    pub mode: TransferMode,
    pub ring_timeout_seconds: i32,
    pub fallback_message: Option<String>,
    /// JSON in the wire form of `OpeningHours`; NULL = around the clock.
    pub opening_hours: Option<String>,
    pub timezone: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
