//! Value types of the numbers domain.

use serde::{Deserialize, Serialize};
use switchboard_core::{Country, E164, NumberType};
use utoipa::ToSchema;

/// What a number can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub fax: bool,
}

/// A search for numbers for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub country: Country,
    pub number_type: NumberType,
    /// Digits of an area code / prefix (national, without the trunk 0).
    pub area_code: Option<String>,
    /// Digits the number must contain.
    pub contains: Option<String>,
    /// Capabilities the number must have (`None`: no filter).
    pub voice: Option<bool>,
    pub sms: Option<bool>,
    pub mms: Option<bool>,
    pub fax: Option<bool>,
    /// At most this many results.
    pub limit: u32,
}

/// A number a provider has for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableNumber {
    pub phone_number: E164,
    /// National format, e.g. `030 1234567` or `(415) 555-0100`.
    pub friendly_name: String,
    pub locality: Option<String>,
    pub country: Country,
    pub number_type: NumberType,
    pub capabilities: Capabilities,
}

/// Where the provider must send a number's traffic (all under `public_base_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTargets {
    /// Inbound SMS and WhatsApp messages: `<base>/twilio/messages`.
    pub sms_url: String,
    /// Call status callbacks: `<base>/twilio/voice/status`.
    pub voice_status_url: String,
    /// Vapi server URL (assistant-request and call events): `<base>/vapi/events`.
    pub vapi_server_url: String,
}

impl WebhookTargets {
    /// The targets under `public_base_url` (no trailing slash).
    pub fn under(public_base_url: &str) -> Self {
        let base = public_base_url.trim_end_matches('/');
        Self {
            sms_url: format!("{base}/twilio/messages"),
            voice_status_url: format!("{base}/twilio/voice/status"),
            vapi_server_url: format!("{base}/vapi/events"),
        }
    }
}

/// A number just bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchasedNumber {
    /// The provider's id (Twilio `PN…`).
    pub sid: String,
    pub phone_number: E164,
    pub friendly_name: String,
    pub capabilities: Capabilities,
}

use chrono::{DateTime, Utc};
use sea_orm::sea_query::StringLen;
use switchboard_core::{AgentId, Amount, Currency, Money, NumberId};

use crate::entity;

/// Where a number is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum NumberStatus {
    /// Held, but calls and SMS are not answered and no usage is charged.
    #[sea_orm(string_value = "disabled")]
    Disabled,
    #[sea_orm(string_value = "enabled")]
    Enabled,
    /// Given back to the provider; the record stays as history.
    #[sea_orm(string_value = "released")]
    Released,
}

/// The outcome of the best-effort WhatsApp sender registration.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WhatsappStatus {
    #[sea_orm(string_value = "registered")]
    Registered,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "skipped")]
    Skipped,
}

/// A provisioned number (SPEC §13 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Number {
    pub id: NumberId,
    pub phone_number: E164,
    /// National format.
    pub friendly_name: String,
    /// Internal name, not shown to callers; defaults to the friendly format.
    pub name: String,
    pub country: Country,
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub capabilities: Capabilities,
    pub agent_id: Option<AgentId>,
    pub calls_enabled: bool,
    pub sms_enabled: bool,
    pub monthly_minutes_limit: Option<i64>,
    pub monthly_sms_limit: Option<i64>,
    pub status: NumberStatus,
    pub whatsapp_status: WhatsappStatus,
    /// Twilio's id of the number (`PN…`).
    pub twilio_sid: Option<String>,
    /// Vapi's id of the number.
    pub vapi_phone_number_id: Option<String>,
    pub monthly_price: Money,
    pub next_rental_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

impl From<entity::Model> for Number {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            phone_number: E164::from_stored(m.phone_number),
            friendly_name: m.friendly_name,
            name: m.name,
            country: m.country.parse().unwrap_or(Country::US),
            number_type: m.number_type,
            capabilities: Capabilities { voice: m.cap_voice, sms: m.cap_sms, mms: m.cap_mms, fax: m.cap_fax },
            agent_id: m.agent_id,
            calls_enabled: m.calls_enabled,
            sms_enabled: m.sms_enabled,
            monthly_minutes_limit: m.monthly_minutes_limit,
            monthly_sms_limit: m.monthly_sms_limit,
            status: m.status,
            whatsapp_status: m.whatsapp_status,
            twilio_sid: m.twilio_sid,
            vapi_phone_number_id: m.vapi_phone_number_id,
            monthly_price: Money::new(
                Amount::from_units(m.monthly_price),
                m.currency.parse().unwrap_or(Currency::EUR),
            ),
            next_rental_at: m.next_rental_at,
            created_at: m.created_at,
            released_at: m.released_at,
        }
    }
}

/// Something the caller should know about an operation that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    /// Stable code: `country_fallback`, `agent_not_live`, `whatsapp_pending`, `whatsapp_failed`, …
    pub code: String,
    pub message: String,
}

impl Notice {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

/// `POST /v1/numbers` → 201 `{"number": …, "notices": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Provisioned {
    pub number: Number,
    pub notices: Vec<Notice>,
}

/// `POST /v1/numbers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    pub agent_id: AgentId,
    /// Default `DE`.
    #[serde(default)]
    pub country: Option<Country>,
    /// Default `local`.
    #[serde(default, rename = "type")]
    pub number_type: Option<NumberType>,
    /// Digits of the area code (national, without the trunk 0), e.g. `30` for Berlin.
    #[serde(default)]
    pub area_code: Option<String>,
    /// A specific number from the search; no US fallback when given.
    #[serde(default)]
    pub phone_number: Option<E164>,
    /// Internal name (1–120); default the friendly format.
    #[serde(default)]
    pub name: Option<String>,
}

/// `PATCH /v1/numbers/{id}`: only the fields sent change; `null` clears a nullable field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<Option<AgentId>>,
    pub calls_enabled: Option<bool>,
    pub sms_enabled: Option<bool>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub monthly_minutes_limit: Option<Option<i64>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub monthly_sms_limit: Option<Option<i64>>,
    /// `enabled` or `disabled` (release with `DELETE`).
    pub status: Option<NumberStatus>,
}

/// Filters of `GET /v1/numbers`.
#[derive(Debug, Clone, Default)]
pub struct NumberFilter {
    pub agent_id: Option<AgentId>,
    pub status: Option<NumberStatus>,
    /// Digits the number contains.
    pub digits: Option<String>,
}

/// A number for sale as the API shows it, with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Offer {
    pub phone_number: E164,
    pub friendly_name: String,
    pub locality: Option<String>,
    pub country: Country,
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub capabilities: Capabilities,
    pub monthly_price: Money,
}
