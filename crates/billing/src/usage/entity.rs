use sea_orm::entity::prelude::*;
use switchboard_core::{NumberId, WorkspaceId};

/// One metered SMS or call (`usage_records`), keyed by its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub workspace_id: WorkspaceId,
    pub number_id: NumberId,
    /// `sms` or `call`.
    pub kind: String,
    pub period: String,
    /// `counted` or `released` (SMS), `reserved`, `expired` (reservation released unsettled) or
    /// `settled` (calls).
    pub state: String,
    /// SMS: 1. Calls: the minutes counted once settled.
    pub quantity: i64,
    /// Calls: the minutes granted by the reservation.
    pub reserved: i64,
    pub free_quantity: i64,
    /// What the billable part cost, in 1/10 000 units (positive).
    pub charge: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const KIND_SMS: &str = "sms";
pub const KIND_CALL: &str = "call";
pub const COUNTED: &str = "counted";
pub const RESERVED: &str = "reserved";
pub const EXPIRED: &str = "expired";
pub const SETTLED: &str = "settled";
/// An SMS counted, then taken back because the provider did not send it.
pub const RELEASED: &str = "released";
