use sea_orm::entity::prelude::*;
use switchboard_core::{AgentId, NumberId, NumberType, WorkspaceId};

use crate::model::{NumberStatus, WhatsappStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: NumberId,
    pub workspace_id: WorkspaceId,
    pub phone_number: String,
    /// `phone_number` while held, NULL once released (unique: one live record per number).
    pub held_number: Option<String>,
    pub friendly_name: String,
    pub name: String,
    pub country: String,
    pub number_type: NumberType,
    pub cap_voice: bool,
    pub cap_sms: bool,
    pub cap_mms: bool,
    pub cap_fax: bool,
    pub agent_id: Option<AgentId>,
    pub calls_enabled: bool,
    pub sms_enabled: bool,
    pub monthly_minutes_limit: Option<i64>,
    pub monthly_sms_limit: Option<i64>,
    pub status: NumberStatus,
    pub whatsapp_status: WhatsappStatus,
    pub twilio_sid: Option<String>,
    pub vapi_phone_number_id: Option<String>,
    pub whatsapp_sender_sid: Option<String>,
    pub monthly_price: i64,
    pub currency: String,
    pub rental_anchor_day: i32,
    pub next_rental_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub released_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
