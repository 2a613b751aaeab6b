//! Agents as the API shows them, and the inputs that create and change them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use switchboard_core::error::Violations;
use switchboard_core::text::required_text;
use switchboard_core::{AgentId, E164, Language, Zone};
use utoipa::ToSchema;

use crate::entity;

/// Where an agent is in its life: only `live` agents answer on enabled numbers.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AgentStatus {
    #[default]
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "live")]
    Live,
    #[sea_orm(string_value = "paused")]
    Paused,
}

/// An AI agent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub status: AgentStatus,
    pub timezone: Zone,
    pub language: Language,
    /// The number customers write to on WhatsApp; filled in when a number is provisioned.
    pub whatsapp_number: Option<E164>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Agent {
    pub fn is_live(&self) -> bool {
        self.status == AgentStatus::Live
    }
}

impl From<entity::Model> for Agent {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            status: m.status,
            timezone: Zone::parse(&m.timezone).unwrap_or_default(),
            language: m.language,
            whatsapp_number: m.whatsapp_number.map(E164::from_stored),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `POST /v1/agents`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// 1–120 characters.
    pub name: String,
    /// Default `draft`.
    #[serde(default)]
    pub status: Option<AgentStatus>,
    /// IANA zone; default the workspace's.
    #[serde(default)]
    pub timezone: Option<Zone>,
    /// Default `de`.
    #[serde(default)]
    pub language: Option<Language>,
}

/// `PATCH /v1/agents/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub status: Option<AgentStatus>,
    pub timezone: Option<Zone>,
    pub language: Option<Language>,
}

pub(crate) fn validate_name(v: &mut Violations, name: &str) -> Option<String> {
    v.check("name", required_text(name, 120))
}

/// Query filters of `GET /v1/agents`.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    pub status: Option<AgentStatus>,
}
