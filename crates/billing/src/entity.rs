use sea_orm::entity::prelude::*;
use switchboard_core::{LedgerEntryId, NumberId, WorkspaceId};

use crate::model::EntryKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerEntryId,
    pub workspace_id: WorkspaceId,
    pub kind: EntryKind,
    pub number_id: Option<NumberId>,
    pub quantity: i64,
    /// Signed, in 1/10 000 of the currency unit: credits positive, charges negative.
    pub amount: i64,
    pub currency: String,
    pub period: Option<String>,
    pub idempotency_key: String,
    pub description: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
