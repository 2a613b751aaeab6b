//! WhatsApp connections (SPEC §11): how a workspace is reachable on WhatsApp — a Twilio sender
//! (`whatsapp:+E164`) or a Meta Cloud API phone number id with a permanent access token — and
//! the agent that answers there.
//!
//! **Table**: `whatsapp_connections` (soft delete: `deleted_at`).
//!
//! **Invariants**
//! - The Meta access token is write-only: stored sealed (AES-256-GCM, [`Sealer`]) with its last
//!   four characters beside it; it is opened only to call Meta, never returned, logged or put in
//!   an error.
//! - An active connection has an agent, and that agent is `live` with WhatsApp switched on.
//! - A deleted connection is inactive; restoring brings it back inactive, to be switched on again
//!   once its agent is checked.
//! - Changing needs `whatsapp_write` (owner, admin); reading needs `read`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use switchboard_agents::{AgentService, AgentStatus};
use switchboard_core::error::Violations;
use switchboard_core::secret_box::Sealer;
use switchboard_core::text::required_text;
use switchboard_core::{
    AgentId, Ctx, Error, Page, PageRequest, Permission, Result, WhatsappConnectionId, WorkspaceId,
};
use utoipa::ToSchema;

use crate::ports::{MessagingProviders, Verification, VerificationStatus, parse_whatsapp_address};

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;
    use switchboard_core::{AgentId, WhatsappConnectionId, WorkspaceId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "whatsapp_connections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: WhatsappConnectionId,
        pub workspace_id: WorkspaceId,
        pub display_name: String,
        pub agent_id: Option<AgentId>,
        pub active: bool,
        pub provider: String,
        pub sender: Option<String>,
        pub phone_number_id: Option<String>,
        pub business_account_id: Option<String>,
        /// `base64(nonce ‖ AES-256-GCM ciphertext)`; never leaves this module unopened.
        pub access_token_sealed: Option<String>,
        pub access_token_last4: Option<String>,
        pub can_initiate: bool,
        pub verification_status: Option<String>,
        pub verification_message: Option<String>,
        pub verification_checked_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub deleted_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity, Model};

/// Who carries the connection's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhatsappProvider {
    Twilio,
    Meta,
}

impl WhatsappProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            WhatsappProvider::Twilio => "twilio",
            WhatsappProvider::Meta => "meta",
        }
    }
}

/// The last check of a connection against its provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConnectionVerification {
    pub status: VerificationStatus,
    pub message: String,
    pub checked_at: DateTime<Utc>,
}

/// A WhatsApp connection as the API shows it (SPEC §13). The access token is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WhatsappConnection {
    pub id: WhatsappConnectionId,
    pub display_name: String,
    pub agent_id: Option<AgentId>,
    pub active: bool,
    pub provider: WhatsappProvider,
    /// Twilio: `whatsapp:+E164`.
    pub sender: Option<String>,
    /// Meta: the Phone Number ID.
    pub phone_number_id: Option<String>,
    /// Meta: the WhatsApp Business Account ID, if given.
    pub business_account_id: Option<String>,
    /// Meta: the last four characters of the access token.
    pub access_token_last4: Option<String>,
    /// Whether the business may write first to a contact who never wrote.
    pub can_initiate: bool,
    /// `null` until the first Verify.
    pub verification: Option<ConnectionVerification>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<Model> for WhatsappConnection {
    fn from(m: Model) -> Self {
        let verification = match (m.verification_status.as_deref(), m.verification_checked_at) {
            (Some(s), Some(checked_at)) => Some(ConnectionVerification {
                status: match s {
                    "verified" => VerificationStatus::Verified,
                    "pending" => VerificationStatus::Pending,
                    _ => VerificationStatus::Failed,
                },
                message: m.verification_message.unwrap_or_default(),
                checked_at,
            }),
            _ => None,
        };
        Self {
            id: m.id,
            display_name: m.display_name,
            agent_id: m.agent_id,
            active: m.active,
            provider: if m.provider == "meta" { WhatsappProvider::Meta } else { WhatsappProvider::Twilio },
            sender: m.sender,
            phone_number_id: m.phone_number_id,
            business_account_id: m.business_account_id,
            access_token_last4: m.access_token_last4,
            can_initiate: m.can_initiate,
            verification,
            created_at: m.created_at,
            updated_at: m.updated_at,
            deleted_at: m.deleted_at,
        }
    }
}

/// `POST /v1/whatsapp/connections`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// 1–120 characters.
    pub display_name: String,
    /// Required when active; the agent must be live with WhatsApp switched on.
    pub agent_id: Option<AgentId>,
    /// Default `true`.
    pub active: Option<bool>,
    pub provider: WhatsappProvider,
    /// Twilio: exactly `whatsapp:+E164`.
    pub sender: Option<String>,
    /// Meta: digits.
    pub phone_number_id: Option<String>,
    /// Meta, optional: digits.
    pub business_account_id: Option<String>,
    /// Meta: the permanent access token. Write-only.
    #[schema(value_type = Option<String>, write_only)]
    pub access_token: Option<SecretString>,
    /// Default `false`.
    pub can_initiate: Option<bool>,
}

/// `PATCH /v1/whatsapp/connections/{id}`: only the fields sent change; `null` clears a
/// nullable one. The provider cannot change (create another connection).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPatch {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<AgentId>)]
    pub agent_id: Option<Option<AgentId>>,
    pub active: Option<bool>,
    pub sender: Option<String>,
    pub phone_number_id: Option<String>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    pub business_account_id: Option<Option<String>>,
    /// Replaces the Meta access token. Write-only.
    #[schema(value_type = Option<String>, write_only)]
    pub access_token: Option<SecretString>,
    pub can_initiate: Option<bool>,
}

/// `?deleted=true` lists the deleted connections instead of the others.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectionFilter {
    pub deleted: bool,
}

/// The WhatsApp connections of the caller's workspace.
#[derive(Clone)]
pub struct WhatsappService {
    db: DatabaseConnection,
    agents: AgentService,
    sealer: Sealer,
    messaging: MessagingProviders,
}

impl std::fmt::Debug for WhatsappService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsappService").finish_non_exhaustive()
    }
}

fn scoped(ws: &WorkspaceId) -> sea_orm::Select<Entity> {
    Entity::find().filter(Column::WorkspaceId.eq(ws.clone()))
}

pub(crate) async fn find(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &WhatsappConnectionId,
) -> std::result::Result<Option<Model>, DbErr> {
    scoped(ws).filter(Column::Id.eq(id.clone())).one(conn).await
}

/// The live (not deleted) connection serving `business_address`: a Twilio sender
/// `whatsapp:{address}` or a Meta phone number id equal to it. Active ones first.
pub(crate) async fn find_by_address(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    business_address: &str,
) -> std::result::Result<Option<Model>, DbErr> {
    use sea_orm::Condition;
    scoped(ws)
        .filter(Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::Sender.eq(format!("whatsapp:{business_address}")))
                .add(Column::PhoneNumberId.eq(business_address)),
        )
        .order_by_desc(Column::Active)
        .order_by_asc(Column::Id)
        .one(conn)
        .await
}

/// Whose Meta Cloud API number `phone_number_id` is: the connection that webhooks naming it are
/// routed to (the webhook names the number, not the workspace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaRoute {
    pub workspace_id: WorkspaceId,
    pub connection_id: WhatsappConnectionId,
    pub agent_id: Option<AgentId>,
    pub active: bool,
}

/// The live Meta connection of `phone_number_id` in any workspace; an active one before an
/// inactive one, then the oldest (ids are time-ordered).
pub async fn route_meta(
    conn: &impl ConnectionTrait,
    phone_number_id: &str,
) -> std::result::Result<Option<MetaRoute>, DbErr> {
    let found = Entity::find()
        .filter(Column::DeletedAt.is_null())
        .filter(Column::Provider.eq(WhatsappProvider::Meta.as_str()))
        .filter(Column::PhoneNumberId.eq(phone_number_id))
        .order_by_desc(Column::Active)
        .order_by_asc(Column::Id)
        .one(conn)
        .await?;
    Ok(found.map(|m| MetaRoute {
        workspace_id: m.workspace_id,
        connection_id: m.id,
        agent_id: m.agent_id,
        active: m.active,
    }))
}

fn digits(v: &mut Violations, field: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        v.add(field, "must be 1–32 digits, as Meta shows it");
        None
    } else {
        Some(value.to_owned())
    }
}

fn last4(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

impl WhatsappService {
    pub fn new(
        db: DatabaseConnection,
        agents: AgentService,
        sealer: Sealer,
        messaging: MessagingProviders,
    ) -> Self {
        Self { db, agents, sealer, messaging }
    }

    pub async fn list(
        &self,
        ctx: &Ctx,
        filter: ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<WhatsappConnection>> {
        ctx.require(Permission::Read)?;
        let mut q = scoped(ctx.workspace_id());
        q = if filter.deleted {
            q.filter(Column::DeletedAt.is_not_null())
        } else {
            q.filter(Column::DeletedAt.is_null())
        };
        if let Some(after) = &page.after {
            q = q.filter(Column::Id.gt(after.as_str()));
        }
        let rows = q.order_by_asc(Column::Id).limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(rows, page, |m| m.id.to_string()).map(WhatsappConnection::from))
    }

    async fn row(&self, ctx: &Ctx, id: &WhatsappConnectionId) -> Result<Model> {
        find(&self.db, ctx.workspace_id(), id).await?.ok_or(Error::not_found("WhatsApp connection"))
    }

    pub async fn get(&self, ctx: &Ctx, id: &WhatsappConnectionId) -> Result<WhatsappConnection> {
        ctx.require(Permission::Read)?;
        Ok(self.row(ctx, id).await?.into())
    }

    /// Refuses an active connection without a live, WhatsApp-enabled agent.
    async fn check_agent(&self, ctx: &Ctx, m: &Model) -> Result<()> {
        let Some(agent_id) = &m.agent_id else {
            if m.active {
                return Err(Error::invalid("agent_id", "is required while the connection is active"));
            }
            return Ok(());
        };
        let agent = match self.agents.get(ctx, agent_id).await {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid("agent_id", "no agent with this id in the workspace"));
            }
            Err(e) => return Err(e),
        };
        if !m.active {
            return Ok(());
        }
        if agent.status != AgentStatus::Live {
            return Err(Error::conflict(
                "agent_not_live",
                "an active WhatsApp connection needs a live agent; set the agent live or save the connection inactive",
            ));
        }
        if !crate::service::snapshot(&self.db, ctx.workspace_id(), agent_id).await?.whatsapp_enabled {
            return Err(Error::conflict(
                "whatsapp_not_enabled",
                "the agent has WhatsApp switched off; enable it in the agent's channels (whatsapp_enabled) first",
            ));
        }
        Ok(())
    }

    /// Validates the provider fields of `m` (after a create or a patch) and seals a new token.
    fn check_provider(&self, v: &mut Violations, m: &mut Model, token: Option<&SecretString>) {
        match m.provider.as_str() {
            "meta" => {
                if m.sender.is_some() {
                    v.add("sender", "is only for provider twilio");
                }
                match m.phone_number_id.clone() {
                    Some(id) => m.phone_number_id = digits(v, "phone_number_id", &id),
                    None => v.add("phone_number_id", "is required for provider meta"),
                }
                if let Some(id) = m.business_account_id.clone() {
                    m.business_account_id = digits(v, "business_account_id", &id);
                }
                match token {
                    Some(t) => {
                        let raw = t.expose_secret().trim();
                        if raw.len() < 8
                            || raw.len() > 1024
                            || raw.chars().any(|c| c.is_whitespace() || c.is_control())
                        {
                            v.add("access_token", "must be 8–1024 characters without spaces");
                        } else {
                            m.access_token_sealed =
                                Some(self.sealer.seal(&SecretString::from(raw.to_owned())));
                            m.access_token_last4 = Some(last4(raw));
                        }
                    }
                    None if m.access_token_sealed.is_none() => {
                        v.add("access_token", "is required for provider meta");
                    }
                    None => {}
                }
            }
            _ => {
                match m.sender.as_deref() {
                    Some(s) if parse_whatsapp_address(s).is_some() => {}
                    Some(_) => v.add("sender", "must be exactly whatsapp:+E164, e.g. whatsapp:+14155550142"),
                    None => v.add("sender", "is required for provider twilio"),
                }
                if m.phone_number_id.is_some() {
                    v.add("phone_number_id", "is only for provider meta");
                }
                if m.business_account_id.is_some() {
                    v.add("business_account_id", "is only for provider meta");
                }
                if token.is_some() {
                    v.add("access_token", "is only for provider meta");
                }
            }
        }
    }

    pub async fn create(&self, ctx: &Ctx, input: NewConnection) -> Result<WhatsappConnection> {
        ctx.require(Permission::WhatsappWrite)?;
        let mut v = Violations::new();
        let display_name = v.check("display_name", required_text(&input.display_name, 120));
        let now = switchboard_core::time::now();
        let mut m = Model {
            id: WhatsappConnectionId::new(),
            workspace_id: ctx.workspace_id().clone(),
            display_name: display_name.unwrap_or_default(),
            agent_id: input.agent_id,
            active: input.active.unwrap_or(true),
            provider: input.provider.as_str().to_owned(),
            sender: input.sender,
            phone_number_id: input.phone_number_id,
            business_account_id: input.business_account_id,
            access_token_sealed: None,
            access_token_last4: None,
            can_initiate: input.can_initiate.unwrap_or(false),
            verification_status: None,
            verification_message: None,
            verification_checked_at: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        self.check_provider(&mut v, &mut m, input.access_token.as_ref());
        if m.active && m.agent_id.is_none() {
            v.add("agent_id", "is required while the connection is active");
        }
        v.finish()?;
        self.check_agent(ctx, &m).await?;
        let m = m.into_active_model().insert(&self.db).await?;
        tracing::info!(connection_id = %m.id, provider = %m.provider, "WhatsApp connection created");
        Ok(m.into())
    }

    pub async fn update(
        &self,
        ctx: &Ctx,
        id: &WhatsappConnectionId,
        patch: ConnectionPatch,
    ) -> Result<WhatsappConnection> {
        ctx.require(Permission::WhatsappWrite)?;
        let mut m = self.row(ctx, id).await?;
        if m.deleted_at.is_some() {
            return Err(Error::conflict("connection_deleted", "restore the connection before changing it"));
        }
        let credentials_changed =
            patch.access_token.is_some() || patch.phone_number_id.is_some() || patch.sender.is_some();
        let mut v = Violations::new();
        if let Some(name) = &patch.display_name
            && let Some(name) = v.check("display_name", required_text(name, 120))
        {
            m.display_name = name;
        }
        if let Some(agent) = patch.agent_id {
            m.agent_id = agent;
        }
        if let Some(active) = patch.active {
            m.active = active;
        }
        if let Some(sender) = patch.sender {
            m.sender = Some(sender);
        }
        if let Some(id) = patch.phone_number_id {
            m.phone_number_id = Some(id);
        }
        if let Some(id) = patch.business_account_id {
            m.business_account_id = id;
        }
        if let Some(can) = patch.can_initiate {
            m.can_initiate = can;
        }
        self.check_provider(&mut v, &mut m, patch.access_token.as_ref());
        if m.active && m.agent_id.is_none() {
            v.add("agent_id", "is required while the connection is active");
        }
        v.finish()?;
        self.check_agent(ctx, &m).await?;
        if credentials_changed {
            // The last verdict was about other credentials.
            m.verification_status = None;
            m.verification_message = None;
            m.verification_checked_at = None;
        }
        m.updated_at = switchboard_core::time::now();
        let m = self.save(m).await?;
        tracing::info!(connection_id = %m.id, "WhatsApp connection changed");
        Ok(m.into())
    }

    async fn save(&self, m: Model) -> Result<Model> {
        let mut am = m.clone().into_active_model().reset_all();
        am.id = sea_orm::ActiveValue::NotSet;
        am.workspace_id = sea_orm::ActiveValue::NotSet;
        am.created_at = sea_orm::ActiveValue::NotSet;
        let r = Entity::update_many()
            .set(am)
            .filter(Column::WorkspaceId.eq(m.workspace_id.clone()))
            .filter(Column::Id.eq(m.id.clone()))
            .exec(&self.db)
            .await?;
        if r.rows_affected == 0 {
            return Err(Error::not_found("WhatsApp connection"));
        }
        Ok(m)
    }

    /// Soft delete: the connection stops serving, stays listed under `?deleted=true`. Idempotent.
    pub async fn delete(&self, ctx: &Ctx, id: &WhatsappConnectionId) -> Result<()> {
        ctx.require(Permission::WhatsappWrite)?;
        let mut m = self.row(ctx, id).await?;
        if m.deleted_at.is_some() {
            return Ok(());
        }
        let now = switchboard_core::time::now();
        m.deleted_at = Some(now);
        m.active = false;
        m.updated_at = now;
        self.save(m).await?;
        tracing::info!(connection_id = %id, "WhatsApp connection deleted");
        Ok(())
    }

    /// Brings a deleted connection back, inactive. A connection that is not deleted is returned
    /// as it is.
    pub async fn restore(&self, ctx: &Ctx, id: &WhatsappConnectionId) -> Result<WhatsappConnection> {
        ctx.require(Permission::WhatsappWrite)?;
        let mut m = self.row(ctx, id).await?;
        if m.deleted_at.is_none() {
            return Ok(m.into());
        }
        m.deleted_at = None;
        m.active = false;
        m.updated_at = switchboard_core::time::now();
        let m = self.save(m).await?;
        tracing::info!(connection_id = %id, "WhatsApp connection restored");
        Ok(m.into())
    }

    /// Checks the connection at its provider and stores the verdict. A provider that gives no
    /// verdict (an outage) answers an error and stores nothing.
    pub async fn verify(&self, ctx: &Ctx, id: &WhatsappConnectionId) -> Result<WhatsappConnection> {
        ctx.require(Permission::WhatsappWrite)?;
        let mut m = self.row(ctx, id).await?;
        if m.deleted_at.is_some() {
            return Err(Error::conflict("connection_deleted", "restore the connection before verifying it"));
        }
        let verdict: Verification = if m.provider == "meta" {
            let token = self.token(&m)?;
            let pnid = m.phone_number_id.clone().unwrap_or_default();
            Verification::of_meta(self.messaging.meta.verify(&pnid, &token).await)?
        } else {
            let number = m
                .sender
                .as_deref()
                .and_then(parse_whatsapp_address)
                .ok_or_else(|| Error::Internal("stored sender is not whatsapp:+E164".into()))?;
            self.messaging.whatsapp_senders.verify_sender(&number).await?
        };
        let now = switchboard_core::time::now();
        m.verification_status = Some(verdict.status.as_str().to_owned());
        m.verification_message = Some(verdict.message);
        m.verification_checked_at = Some(now);
        m.updated_at = now;
        let m = self.save(m).await?;
        tracing::info!(connection_id = %id, status = verdict.status.as_str(), "WhatsApp connection verified");
        Ok(m.into())
    }

    /// The opened access token of a Meta connection.
    pub(crate) fn token(&self, m: &Model) -> Result<SecretString> {
        let sealed = m
            .access_token_sealed
            .as_deref()
            .ok_or_else(|| Error::Internal("Meta connection without an access token".into()))?;
        self.sealer.open(sealed).map_err(|e| Error::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::last4;

    #[test]
    fn last_four_characters_of_any_token() {
        assert_eq!(last4("EAAGabcd1234"), "1234");
        assert_eq!(last4("xyz"), "xyz");
        assert_eq!(last4("ÄÖÜßé"), "ÖÜßé");
    }
}
