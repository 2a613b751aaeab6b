//! The request context and the permission table of SPEC §2.
//!
//! Every service method takes `&Ctx` first: the workspace scopes every query, and the role is
//! checked with [`Ctx::require`] in the service layer, so a library caller gets the same rules as
//! the HTTP API.

use sea_orm::sea_query::StringLen;

use crate::error::Error;
use crate::id::{ApiKeyId, WorkspaceId};

/// A role an API key carries.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "owner")]
    Owner,
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "agent")]
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    /// The permission table of SPEC §2.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            Read | MessagesSend | ConversationsManage | NotificationsManage => true,
            NumbersCreate | NumbersRelease | NumbersWrite | AgentsWrite | LinesWrite | TargetsWrite
            | ChannelsWrite | EmailWrite | WhatsappWrite | ConversationsDelete | BillingRead => {
                matches!(self, Role::Owner | Role::Admin)
            }
            ApiKeysManage | WebhookSecretRead => self == Role::Owner,
        }
    }
}

/// What an action needs; named in the 403 a refused action answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read everything in the workspace.
    Read,
    /// Search and provision numbers.
    NumbersCreate,
    /// Release numbers.
    NumbersRelease,
    /// Change numbers (name, agent, services, limits, status, webhooks).
    NumbersWrite,
    AgentsWrite,
    LinesWrite,
    TargetsWrite,
    ChannelsWrite,
    EmailWrite,
    WhatsappWrite,
    MessagesSend,
    /// Close, archive, reopen conversations; toggle AI; escalate.
    ConversationsManage,
    ConversationsDelete,
    /// Mark notifications read.
    NotificationsManage,
    /// Usage, ledger, wallet.
    BillingRead,
    ApiKeysManage,
    /// Read the per-agent webhook signing secret.
    WebhookSecretRead,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            Read => "read",
            NumbersCreate => "numbers_create",
            NumbersRelease => "numbers_release",
            NumbersWrite => "numbers_write",
            AgentsWrite => "agents_write",
            LinesWrite => "lines_write",
            TargetsWrite => "targets_write",
            ChannelsWrite => "channels_write",
            EmailWrite => "email_write",
            WhatsappWrite => "whatsapp_write",
            MessagesSend => "messages_send",
            ConversationsManage => "conversations_manage",
            ConversationsDelete => "conversations_delete",
            NotificationsManage => "notifications_manage",
            BillingRead => "billing_read",
            ApiKeysManage => "api_keys_manage",
            WebhookSecretRead => "webhook_secret_read",
        }
    }
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A caller with an API key.
    ApiKey(ApiKeyId),
    /// Switchboard itself (webhook-ingest, billing-cron, seeding) acting inside a workspace.
    System,
}

/// The request context: the workspace every query is scoped to, and the role that acts.
#[derive(Debug, Clone)]
pub struct Ctx {
    workspace_id: WorkspaceId,
    role: Role,
    principal: Principal,
}

impl Ctx {
    pub fn for_api_key(workspace_id: WorkspaceId, key_id: ApiKeyId, role: Role) -> Self {
        Self { workspace_id, role, principal: Principal::ApiKey(key_id) }
    }

    /// Switchboard's own jobs act with the owner's rights inside one workspace.
    pub fn system(workspace_id: WorkspaceId) -> Self {
        Self { workspace_id, role: Role::Owner, principal: Principal::System }
    }

    pub fn workspace_id(&self) -> &WorkspaceId {
        &self.workspace_id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// `Err(Error::Forbidden)` naming the permission when the role lacks it.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.role.allows(permission) { Ok(()) } else { Err(Error::Forbidden(permission)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table_of_the_spec() {
        use Permission::*;
        for p in [Read, MessagesSend, ConversationsManage, NotificationsManage] {
            assert!(Role::Agent.allows(p) && Role::Admin.allows(p) && Role::Owner.allows(p));
        }
        for p in [NumbersCreate, NumbersRelease, AgentsWrite, TargetsWrite, ConversationsDelete, BillingRead]
        {
            assert!(!Role::Agent.allows(p), "{p:?}");
            assert!(Role::Admin.allows(p) && Role::Owner.allows(p));
        }
        assert!(Role::Owner.allows(ApiKeysManage));
        assert!(!Role::Admin.allows(ApiKeysManage));
        assert!(!Role::Agent.allows(ApiKeysManage));
    }

    #[test]
    fn refusal_names_the_permission() {
        let ctx = Ctx::for_api_key(WorkspaceId::new(), ApiKeyId::new(), Role::Agent);
        let err = ctx.require(Permission::AgentsWrite).unwrap_err();
        assert!(err.to_string().contains("agents_write"));
    }
}
