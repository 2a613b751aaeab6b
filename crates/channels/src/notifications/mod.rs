//! The workspace's notification inbox (SPEC §8): escalations, closed conversations, a negative
//! wallet, disabled webhook endpoints. A notification is raised once per `dedupe_key` (unique
//! index), so a job that notices the same condition on every run raises it once.
//!
//! Raising a notification also queues its delivery to the agent's notification webhook and its
//! mail to the agent's notification email (in the same transaction, see [`crate::webhooks`]); the
//! inbox API ([`NotificationService`]) lists them and marks them read — any role may.

pub(crate) mod entity;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use switchboard_core::{
    AgentId, Ctx, Error, NotificationId, Page, PageRequest, Permission, Result, WorkspaceId,
};
use utoipa::ToSchema;

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
    let inserted = Entity::insert(model.clone().into_active_model())
        .on_conflict(OnConflict::column(Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    if inserted == 1 {
        tracing::info!(kind = n.kind.as_str(), "notification raised");
        crate::webhooks::enqueue(conn, &model).await?;
    }
    Ok(inserted == 1)
}

/// A notification as the API shows it (also the `data` of its webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String, example = "ntf_01J…")]
    pub id: NotificationId,
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// `conversation_escalated | conversation_closed | wallet_negative | webhook_endpoint_disabled`
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Model> for Notification {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            agent_id: m.agent_id,
            kind: m.kind,
            subject: m.subject,
            body: m.body,
            created_at: m.created_at,
            read_at: m.read_at,
        }
    }
}

/// The workspace's inbox.
#[derive(Debug, Clone)]
pub struct NotificationService {
    db: DatabaseConnection,
}

impl NotificationService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Newest first; `unread_only` leaves out those read.
    pub async fn list(&self, ctx: &Ctx, unread_only: bool, page: &PageRequest) -> Result<Page<Notification>> {
        ctx.require(Permission::Read)?;
        let mut q = Entity::find().filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()));
        if unread_only {
            q = q.filter(Column::ReadAt.is_null());
        }
        if let Some(after) = &page.after {
            q = q.filter(Column::Id.lt(after.clone()));
        }
        let rows = q.order_by_desc(Column::Id).limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(rows, page, |r| r.id.to_string()).map(Notification::from))
    }

    pub async fn get(&self, ctx: &Ctx, id: &NotificationId) -> Result<Notification> {
        ctx.require(Permission::Read)?;
        Ok(self.find(ctx, id).await?.into())
    }

    async fn find(&self, ctx: &Ctx, id: &NotificationId) -> Result<Model> {
        Entity::find_by_id(id.clone())
            .filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("notification"))
    }

    /// Marks one read (keeping the first read time); answers it.
    pub async fn mark_read(&self, ctx: &Ctx, id: &NotificationId) -> Result<Notification> {
        ctx.require(Permission::NotificationsManage)?;
        let row = self.find(ctx, id).await?;
        if row.read_at.is_none() {
            Entity::update_many()
                .col_expr(Column::ReadAt, Expr::value(switchboard_core::time::now()))
                .filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()))
                .filter(Column::Id.eq(id.clone()))
                .filter(Column::ReadAt.is_null())
                .exec(&self.db)
                .await?;
        }
        Ok(self.find(ctx, id).await?.into())
    }

    /// Marks every unread notification of the workspace read; answers how many were unread.
    pub async fn mark_all_read(&self, ctx: &Ctx) -> Result<u64> {
        ctx.require(Permission::NotificationsManage)?;
        let res = Entity::update_many()
            .col_expr(Column::ReadAt, Expr::value(switchboard_core::time::now()))
            .filter(Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

/// The notification with this id, whatever its workspace (for the delivery jobs).
pub(crate) async fn by_id(
    conn: &impl ConnectionTrait,
    id: &NotificationId,
) -> std::result::Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.clone()).one(conn).await
}
