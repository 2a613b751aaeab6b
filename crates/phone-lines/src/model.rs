//! Phone lines as the API shows them, and the inputs that create and change them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::error::Violations;
use switchboard_core::text::optional_text;
use switchboard_core::{AgentId, E164, Language, PhoneLineId, WorkspaceId};
use utoipa::ToSchema;

use crate::entity;

/// A Vapi number that serves an agent in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhoneLine {
    pub id: PhoneLineId,
    pub agent_id: AgentId,
    pub vapi_phone_number_id: String,
    pub phone_number: E164,
    pub label: Option<String>,
    pub language: Language,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::Model> for PhoneLine {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            agent_id: m.agent_id,
            vapi_phone_number_id: m.vapi_phone_number_id,
            phone_number: E164::from_stored(m.phone_number),
            label: m.label,
            language: m.language,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `POST /v1/agents/{id}/phone-lines`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// Vapi's id of the number: at least 8 characters of letters, digits, `-` and `_`.
    pub vapi_phone_number_id: String,
    /// E.164; spaces, hyphens, dots and parentheses are removed.
    pub phone_number: E164,
    /// Up to 80 characters.
    #[serde(default)]
    pub label: Option<String>,
    /// Default `de`.
    #[serde(default)]
    pub language: Option<Language>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

/// `PATCH /v1/agents/{id}/phone-lines/{line_id}`: only the fields sent change; `label: null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePatch {
    pub vapi_phone_number_id: Option<String>,
    pub phone_number: Option<E164>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
    pub language: Option<Language>,
    pub active: Option<bool>,
}

/// What the call path needs to know about the line a call arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRoute {
    pub line_id: PhoneLineId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub language: Language,
}

pub(crate) fn check_vapi_id(v: &mut Violations, value: &str) -> Option<String> {
    let value = value.trim();
    let ok = (8..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Some(value.to_owned())
    } else {
        v.add("vapi_phone_number_id", "must be 8–64 characters of letters, digits, `-` and `_`");
        None
    }
}

pub(crate) fn check_label(v: &mut Violations, value: Option<&str>) -> Option<String> {
    value.and_then(|l| v.check("label", optional_text(l, 80)).flatten())
}
