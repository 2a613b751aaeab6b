//! Forwarding targets as the API shows them, the inputs that create and change them, and their
//! field rules (SPEC §6).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use switchboard_core::error::Violations;
use switchboard_core::text::required_text;
use switchboard_core::{AgentId, E164, ForwardingTargetId, Zone};
use utoipa::ToSchema;

use crate::entity;
use crate::hours::{OpeningHours, Schedule};

pub const MAX_ALIASES: usize = 20;
pub const DEFAULT_RING_TIMEOUT: i64 = 30;

/// Whether the AI announces the caller before connecting.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum TransferMode {
    /// The AI announces the caller to the person first.
    #[default]
    #[sea_orm(string_value = "warm")]
    Warm,
    /// Connect directly.
    #[sea_orm(string_value = "blind")]
    Blind,
}

/// A person or department a call may be forwarded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ForwardingTarget {
    pub id: ForwardingTargetId,
    pub agent_id: AgentId,
    pub name: String,
    pub phone_number: E164,
    pub aliases: Vec<String>,
    /// When the AI should forward here.
    pub description: Option<String>,
    /// Said before connecting.
    pub forwarding_message: Option<String>,
    pub mode: TransferMode,
    pub ring_timeout_seconds: i64,
    /// Said when nobody answers (or the target is closed).
    pub fallback_message: Option<String>,
    /// `null`: reachable around the clock.
    pub opening_hours: Option<OpeningHours>,
    /// The target's own zone; `null` = the agent's.
    pub timezone: Option<Zone>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::Model> for ForwardingTarget {
    fn from(m: entity::Model) -> Self {
        Self {
            id: m.id,
            agent_id: m.agent_id,
            name: m.name,
            phone_number: E164::from_stored(m.phone_number),
            aliases: serde_json::from_str(&m.aliases).unwrap_or_default(),
            description: m.description,
            forwarding_message: m.forwarding_message,
            mode: m.mode,
            ring_timeout_seconds: i64::from(m.ring_timeout_seconds),
            fallback_message: m.fallback_message,
            opening_hours: m.opening_hours.and_then(|h| serde_json::from_str(&h).ok()),
            timezone: m.timezone.and_then(|z| Zone::parse(&z).ok()),
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `POST /v1/agents/{id}/forwarding-targets`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTarget {
    /// 1–120 characters.
    pub name: String,
    /// E.164; spaces, hyphens, dots and parentheses are removed.
    pub phone_number: E164,
    /// Other names the caller may say: each 1–120 characters, at most 20, duplicates (ignoring
    /// case) dropped.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Up to 2000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Up to 200 characters.
    #[serde(default)]
    pub forwarding_message: Option<String>,
    /// Default `warm`.
    #[serde(default)]
    pub mode: Option<TransferMode>,
    /// 5–120, default 30.
    #[serde(default)]
    pub ring_timeout_seconds: Option<i64>,
    /// Up to 400 characters.
    #[serde(default)]
    pub fallback_message: Option<String>,
    /// `null` or absent: around the clock; `{}`: Mon–Fri 09:00–17:00.
    #[serde(default)]
    pub opening_hours: Option<OpeningHours>,
    /// IANA zone; blank: the agent's.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

/// `PATCH …/forwarding-targets/{target_id}`: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetPatch {
    pub name: Option<String>,
    pub phone_number: Option<E164>,
    pub aliases: Option<Vec<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub forwarding_message: Option<Option<String>>,
    pub mode: Option<TransferMode>,
    pub ring_timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub fallback_message: Option<Option<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<OpeningHours>)]
    pub opening_hours: Option<Option<OpeningHours>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    pub active: Option<bool>,
}

/// Text that may span lines (descriptions, spoken messages): trimmed, at most `max` characters,
/// no control characters other than line breaks and tabs.
fn text_field(v: &mut Violations, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|s| !s.is_empty())?;
    let len = value.chars().count();
    if len > max {
        v.add(field, format!("must be at most {max} characters, got {len}"));
        return None;
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        v.add(field, "must not contain control characters");
        return None;
    }
    Some(value.to_owned())
}

pub(crate) fn check_name(v: &mut Violations, name: &str) -> Option<String> {
    v.check("name", required_text(name, 120))
}

/// Trims, validates and de-duplicates (ignoring case, first spelling kept) the aliases.
pub(crate) fn check_aliases(v: &mut Violations, aliases: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for (i, alias) in aliases.iter().enumerate() {
        match required_text(alias, 120) {
            Ok(a) => {
                if !kept.iter().any(|k| k.to_lowercase() == a.to_lowercase()) {
                    kept.push(a);
                }
            }
            Err(m) => v.add(format!("aliases[{i}]"), m),
        }
    }
    if kept.len() > MAX_ALIASES {
        v.add("aliases", format!("at most {MAX_ALIASES} aliases, got {}", kept.len()));
    }
    kept
}

pub(crate) fn check_description(v: &mut Violations, value: Option<&str>) -> Option<String> {
    text_field(v, "description", value, 2000)
}

pub(crate) fn check_forwarding_message(v: &mut Violations, value: Option<&str>) -> Option<String> {
    text_field(v, "forwarding_message", value, 200)
}

pub(crate) fn check_fallback_message(v: &mut Violations, value: Option<&str>) -> Option<String> {
    text_field(v, "fallback_message", value, 400)
}

pub(crate) fn check_ring_timeout(v: &mut Violations, value: i64) -> i64 {
    if !(5..=120).contains(&value) {
        v.add("ring_timeout_seconds", "must be between 5 and 120 seconds");
    }
    value
}

/// Blank means "the agent's zone".
pub(crate) fn check_timezone(v: &mut Violations, value: Option<&str>) -> Option<Zone> {
    let value = value.map(str::trim).filter(|s| !s.is_empty())?;
    v.check("timezone", Zone::parse(value))
}

pub(crate) fn check_hours(v: &mut Violations, hours: Option<&OpeningHours>) -> Option<Schedule> {
    match hours?.compile("opening_hours") {
        Ok(schedule) => Some(schedule),
        Err(errors) => {
            for e in errors {
                v.add(e.field, e.message);
            }
            None
        }
    }
}
