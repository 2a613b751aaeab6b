//! The workspace's notification inbox (SPEC §8): escalations, closed conversations, a negative
//! wallet, disabled webhook endpoints. A notification is raised once per `dedupe_key` (unique
//! index), so a job that notices the same condition on every run raises it once.
//! (Listing, marking read, and delivery to the agent's webhook and email come with the inbox API.)

mod entity;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};
use switchboard_core::{AgentId, NotificationId, WorkspaceId};

use entity::{Column, Entity, Model};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    ConversationEscalated,
    ConversationClosed,
    WalletNegative,
    WebhookEndpointDisabled,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::ConversationEscalated => "conversation_escalated",
            NotificationKind::ConversationClosed => "conversation_closed",
            NotificationKind::WalletNegative => "wallet_negative",
            NotificationKind::WebhookEndpointDisabled => "webhook_endpoint_disabled",
        }
    }
}

/// A notification to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub workspace_id: WorkspaceId,
    pub agent_id: Option<AgentId>,
    pub kind: NotificationKind,
    /// Raising a second notification with this key does nothing.
    pub dedupe_key: String,
    pub subject: String,
    pub body: String,
}

/// Stores `n` unless one with its dedupe key exists; whether it was new.
pub async fn raise(conn: &impl ConnectionTrait, n: NewNotification) -> Result<bool, DbErr> {
    let model = Model {
        id: NotificationId::new(),
        workspace_id: n.workspace_id,
        agent_id: n.agent_id,
        kind: n.kind.as_str().to_owned(),
        dedupe_key: n.dedupe_key,
        subject: n.subject,
        body: n.body,
        created_at: switchboard_core::time::now(),
        read_at: None,
    };
    let inserted = Entity::insert(model.into_active_model())
        .on_conflict(OnConflict::column(Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    if inserted == 1 {
        tracing::info!(kind = n.kind.as_str(), "notification raised");
    }
    Ok(inserted == 1)
}
