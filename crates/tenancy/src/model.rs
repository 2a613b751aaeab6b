//! Workspaces and API keys as the API shows them, and the inputs that create them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::error::Violations;
use switchboard_core::text::required_text;
use switchboard_core::{ApiKeyId, Role, WorkspaceId, Zone};
use utoipa::ToSchema;

use crate::entity::{api_key, workspace};

/// A tenant: owns agents, numbers, lines, targets, identities, connections, conversations, ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// The zone whose calendar months usage and limits are counted in; agents default to it.
    pub timezone: Zone,
    pub created_at: DateTime<Utc>,
}

impl From<workspace::Model> for Workspace {
    fn from(m: workspace::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            timezone: Zone::parse(&m.timezone).unwrap_or_default(),
            created_at: m.created_at,
        }
    }
}

/// `POST /v1/workspaces`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    /// 1–200 characters.
    pub name: String,
    /// IANA zone; default UTC.
    #[serde(default)]
    pub timezone: Option<Zone>,
}

impl NewWorkspace {
    pub(crate) fn validate(&self) -> Result<String, switchboard_core::Error> {
        let mut v = Violations::new();
        let name = v.check("name", required_text(&self.name, 200));
        v.finish()?;
        Ok(name.unwrap_or_default())
    }
}

/// An API key as listed: never the secret, only its display prefix.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, to tell keys apart: `sk_ab12cd34…`.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(m: api_key::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            role: m.role,
            prefix: format!("sk_{}…", m.key_prefix),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// `POST /v1/api-keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// 1–120 characters, e.g. "CRM integration".
    pub name: String,
    pub role: Role,
}

impl NewApiKey {
    pub(crate) fn validate(&self) -> Result<String, switchboard_core::Error> {
        let mut v = Violations::new();
        let name = v.check("name", required_text(&self.name, 120));
        v.finish()?;
        Ok(name.unwrap_or_default())
    }
}

/// A key just issued: the only time its secret is ever shown.
#[derive(Clone, Serialize, ToSchema)]
pub struct IssuedApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    /// The secret, `sk_…`. Store it now: it cannot be shown again.
    pub key: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedApiKey")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("key", &"sk_***")
            .finish()
    }
}
