//! Outgoing notification webhooks, signed the Standard Webhooks way, and notification mail
//! (SPEC §8).
//!
//! - [`crate::notifications::raise`] queues, in the caller's transaction, one delivery per new
//!   notification whose agent has a `notification_webhook_url` and an endpoint that is not
//!   disabled, and one mail when the agent has a `notification_email`.
//! - [`WebhookDispatcher::run_due`] (billing-cron's `webhooks` job) makes the due attempts: the
//!   first one at the next run after raising, retries on timeouts, connection errors, 408, 429
//!   and 5xx after [`RetryPolicy::delays`], anything else (other 4xx, a refused address) is final.
//!   Every attempt is logged (`webhook_attempts`). An attempt is claimed by a conditional update
//!   (attempt count unchanged, due), so two concurrent runs never make the same attempt twice.
//! - After [`RetryPolicy::disable_after`] consecutive deliveries to an agent's endpoint ended in
//!   failure, the endpoint is disabled and a `webhook_endpoint_disabled` notification is raised
//!   (not sent to that endpoint, since it is disabled). Replaying a delivery re-enables it.
//! - The `webhook-id` is the notification id, the same on every attempt and replay.
//! - The signing secret is stored encrypted (`core::secret_box`, the configured key): what is
//!   stored is the sealed base64 of the 32 key bytes; `whsec_` is added when it is shown or used.
//!   It is made on first use — the first attempt or the owner's first read — not when raising,
//!   since `raise` has no key.
//! - Mail goes out once: its row is claimed (`pending` → `sending`) before the provider is called
//!   and never reset, so a crash mid-send loses a mail rather than sending it twice.

pub(crate) mod entity;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Sha256;
use switchboard_agents::AgentService;
use switchboard_core::net::PublicUrl;
use switchboard_core::secret_box::Sealer;
use switchboard_core::{
    AgentId, Ctx, Error, NotificationId, Page, PageRequest, Permission, Result, WebhookDeliveryId,
    WorkspaceId,
};
use switchboard_email_identities::ports::{EmailSender, OutgoingEmail};
use switchboard_outbound::{OutboundError, SafeClient};
use utoipa::ToSchema;

use crate::notifications::{self, NewNotification, Notification, NotificationKind};
use entity::{attempt, delivery, email, endpoint};

/// The prefix of a Standard Webhooks signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(rand::random::<[u8; 32]>()))
}

/// What is stored for `secret`: the sealed base64 part (fits the column; `whsec_` is implied).
fn seal(sealer: &Sealer, secret: &str) -> String {
    sealer.seal(&SecretString::from(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret).to_owned()))
}

/// The `whsec_…` secret stored as `stored`.
fn open(sealer: &Sealer, stored: &str) -> Result<String> {
    let key = sealer.open(stored).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", key.expose_secret()))
}

/// The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's decoded bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret.strip_prefix(SECRET_PREFIX).and_then(|k| STANDARD.decode(k).ok()).unwrap_or_default();
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// When deliveries are retried and when an endpoint gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before each retry; a delivery gets `delays.len() + 1` attempts.
    pub delays: Vec<Duration>,
    /// Disable an endpoint after this many consecutive failed deliveries.
    pub disable_after: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 2 min, 10 min, 1 h, 6 h, 24 h (seven attempts over about 31 hours); five failed
    /// deliveries in a row disable the endpoint.
    fn default() -> Self {
        Self {
            delays: [30, 120, 600, 3600, 6 * 3600, 24 * 3600].into_iter().map(Duration::from_secs).collect(),
            disable_after: 5,
        }
    }
}

const PENDING: &str = "pending";
const SUCCEEDED: &str = "succeeded";
const FAILED: &str = "failed";
/// How long a claimed attempt is held before another run may take it over (a crashed run).
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The agent's endpoint row, made with a fresh (sealed) secret when missing.
async fn ensure_endpoint(
    conn: &impl ConnectionTrait,
    sealer: &Sealer,
    ws: &WorkspaceId,
    agent: &AgentId,
) -> std::result::Result<endpoint::Model, DbErr> {
    let now = switchboard_core::time::now();
    let fresh = endpoint::Model {
        agent_id: agent.clone(),
        workspace_id: ws.clone(),
        secret: seal(sealer, &new_secret()),
        consecutive_failures: 0,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    endpoint::Entity::insert(fresh.into_active_model())
        .on_conflict(OnConflict::column(endpoint::Column::AgentId).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    endpoint::Entity::find_by_id(agent.clone())
        .filter(endpoint::Column::WorkspaceId.eq(ws.clone()))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("webhook endpoint of {agent}")))
}

async fn channels_row(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
) -> std::result::Result<Option<crate::entity::Model>, DbErr> {
    crate::entity::Entity::find()
        .filter(crate::entity::Column::WorkspaceId.eq(ws.clone()))
        .filter(crate::entity::Column::AgentId.eq(agent.clone()))
        .one(conn)
        .await
}

/// Queues the webhook delivery and the mail of a notification just raised.
pub(crate) async fn enqueue(
    conn: &impl ConnectionTrait,
    n: &notifications::entity::Model,
) -> std::result::Result<(), DbErr> {
    let Some(agent) = &n.agent_id else { return Ok(()) };
    let Some(row) = channels_row(conn, &n.workspace_id, agent).await? else { return Ok(()) };
    let now = switchboard_core::time::now();
    if let Some(url) = &row.notification_webhook_url {
        let disabled = endpoint::Entity::find_by_id(agent.clone())
            .filter(endpoint::Column::WorkspaceId.eq(n.workspace_id.clone()))
            .one(conn)
            .await?
            .is_some_and(|ep| ep.disabled_at.is_some());
        if !disabled {
            let d = delivery::Model {
                id: WebhookDeliveryId::new(),
                workspace_id: n.workspace_id.clone(),
                agent_id: agent.clone(),
                notification_id: n.id.clone(),
                url: url.clone(),
                status: PENDING.into(),
                attempts: 0,
                round_attempts: 0,
                next_attempt_at: Some(now),
                last_status_code: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            };
            delivery::Entity::insert(d.into_active_model())
                .on_conflict(
                    OnConflict::columns([delivery::Column::NotificationId, delivery::Column::AgentId])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
        }
    }
    if let Some(to) = &row.notification_email {
        let m = email::Model {
            notification_id: n.id.clone(),
            workspace_id: n.workspace_id.clone(),
            to_address: to.clone(),
            status: PENDING.into(),
            provider_message_id: None,
            error: None,
            created_at: now,
            updated_at: now,
        };
        email::Entity::insert(m.into_active_model())
            .on_conflict(OnConflict::column(email::Column::NotificationId).do_nothing().to_owned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The JSON body of a notification's webhook: the same bytes on every attempt.
pub fn payload(n: &Notification) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        timestamp: DateTime<Utc>,
        data: &'a Notification,
    }
    serde_json::to_vec(&Body { kind: &n.kind, timestamp: n.created_at, data: n }).unwrap_or_default()
}

/// What a dispatch run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchSummary {
    pub attempted: u64,
    pub succeeded: u64,
    pub retrying: u64,
    pub failed: u64,
    pub endpoints_disabled: u64,
    pub mails_sent: u64,
    pub mails_failed: u64,
}

enum Outcome {
    Success,
    Retry,
    Final,
}

/// Makes due webhook attempts and sends queued mail (billing-cron's `webhooks` job).
#[derive(Clone)]
pub struct WebhookDispatcher {
    db: DatabaseConnection,
    client: SafeClient,
    sealer: Sealer,
    mailer: Arc<dyn EmailSender>,
    mail_from: Option<String>,
    policy: RetryPolicy,
}

impl std::fmt::Debug for WebhookDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDispatcher").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl WebhookDispatcher {
    /// `mail_from`: the platform's sender (`notifications@<email.system_domain>`); without one,
    /// mails are marked `skipped`.
    pub fn new(
        db: DatabaseConnection,
        client: SafeClient,
        sealer: Sealer,
        mailer: Arc<dyn EmailSender>,
        mail_from: Option<String>,
    ) -> Self {
        Self { db, client, sealer, mailer, mail_from, policy: RetryPolicy::default() }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How many deliveries are due at `now`.
    pub async fn due_count(&self, now: DateTime<Utc>) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .count(&self.db)
            .await?)
    }

    /// Makes up to `limit` due attempts as of `now`, then sends up to `limit` queued mails.
    pub async fn run_due(&self, now: DateTime<Utc>, limit: u64) -> Result<DispatchSummary> {
        let mut s = DispatchSummary::default();
        let due = delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        for d in due {
            let claimed = delivery::Entity::update_many()
                .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + LEASE))
                .filter(delivery::Column::Id.eq(d.id.clone()))
                .filter(delivery::Column::Status.eq(PENDING))
                .filter(delivery::Column::Attempts.eq(d.attempts))
                .filter(delivery::Column::NextAttemptAt.lte(now))
                .exec(&self.db)
                .await?
                .rows_affected
                == 1;
            if claimed {
                self.attempt(d, now, &mut s).await?;
            }
        }
        self.send_mails(limit, &mut s).await?;
        Ok(s)
    }

    async fn attempt(&self, d: delivery::Model, now: DateTime<Utc>, s: &mut DispatchSummary) -> Result<()> {
        let n = notifications::by_id(&self.db, &d.notification_id).await?;
        let ep = ensure_endpoint(&self.db, &self.sealer, &d.workspace_id, &d.agent_id).await?;
        let url = channels_row(&self.db, &d.workspace_id, &d.agent_id)
            .await?
            .and_then(|r| r.notification_webhook_url);
        let (Some(n), Some(url)) = (n, url) else {
            return self
                .finish_without_attempt(&d, "the agent has no notification webhook url any more")
                .await;
        };
        if ep.disabled_at.is_some() {
            return self.finish_without_attempt(&d, "the endpoint is disabled").await;
        }
        let notification = Notification::from(n);
        let body = payload(&notification);
        let id = notification.id.to_string();
        let timestamp = now.timestamp();
        let signature = sign(&open(&self.sealer, &ep.secret)?, &id, timestamp, &body);
        let ts = timestamp.to_string();
        let started = Instant::now();
        let result = match PublicUrl::parse(&url) {
            Ok(target) => {
                self.client
                    .post_json(
                        &target,
                        &[("webhook-id", &id), ("webhook-timestamp", &ts), ("webhook-signature", &signature)],
                        body,
                    )
                    .await
            }
            Err(e) => Err(OutboundError::Refused(e.to_string())),
        };
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error, outcome) = match result {
            Ok(r) if (200..300).contains(&r.status) => (Some(r.status), None, Outcome::Success),
            Ok(r) if r.status >= 500 || r.status == 408 || r.status == 429 => {
                (Some(r.status), Some(format!("answered {}", r.status)), Outcome::Retry)
            }
            Ok(r) => (Some(r.status), Some(format!("answered {}", r.status)), Outcome::Final),
            Err(e @ OutboundError::Refused(_)) => (None, Some(e.to_string()), Outcome::Final),
            Err(e) => (None, Some(e.to_string()), Outcome::Retry),
        };
        let error = error.map(|e| e.chars().take(500).collect::<String>());
        let attempt_no = d.attempts + 1;
        let round = d.round_attempts + 1;
        attempt::Entity::insert(
            attempt::Model {
                delivery_id: d.id.clone(),
                attempt: attempt_no,
                workspace_id: d.workspace_id.clone(),
                attempted_at: now,
                status_code: status_code.map(i32::from),
                latency_ms,
                error: error.clone(),
            }
            .into_active_model(),
        )
        .exec_without_returning(&self.db)
        .await?;
        s.attempted += 1;
        let retry_after = match outcome {
            Outcome::Retry => {
                usize::try_from(round - 1).ok().and_then(|i| self.policy.delays.get(i)).copied()
            }
            _ => None,
        };
        let (status, next) = match (&outcome, retry_after) {
            (Outcome::Success, _) => (SUCCEEDED, None),
            (Outcome::Retry, Some(wait)) => {
                (PENDING, Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1))))
            }
            _ => (FAILED, None),
        };
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(status))
            .col_expr(delivery::Column::Attempts, Expr::value(attempt_no))
            .col_expr(delivery::Column::RoundAttempts, Expr::value(round))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(delivery::Column::Url, Expr::value(url.clone()))
            .col_expr(delivery::Column::LastStatusCode, Expr::value(status_code.map(i32::from)))
            .col_expr(delivery::Column::LastError, Expr::value(error.clone()))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(d.id.clone()))
            .exec(&self.db)
            .await?;
        tracing::info!(delivery_id = %d.id, attempt = attempt_no, status_code, outcome = status, "webhook attempt made");
        match status {
            SUCCEEDED => {
                s.succeeded += 1;
                endpoint::Entity::update_many()
                    .col_expr(endpoint::Column::ConsecutiveFailures, Expr::value(0))
                    .col_expr(endpoint::Column::UpdatedAt, Expr::value(now))
                    .filter(endpoint::Column::AgentId.eq(d.agent_id.clone()))
                    .exec(&self.db)
                    .await?;
            }
            PENDING => s.retrying += 1,
            _ => {
                s.failed += 1;
                if self.delivery_failed(&d, now).await? {
                    s.endpoints_disabled += 1;
                }
            }
        }
        Ok(())
    }

    async fn finish_without_attempt(&self, d: &delivery::Model, why: &str) -> Result<()> {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(FAILED))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(delivery::Column::LastError, Expr::value(why))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
            .filter(delivery::Column::Id.eq(d.id.clone()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Counts a failed delivery against its endpoint; disables it (and notifies) at the limit.
    /// Answers whether this call disabled it.
    async fn delivery_failed(&self, d: &delivery::Model, now: DateTime<Utc>) -> Result<bool> {
        endpoint::Entity::update_many()
            .col_expr(
                endpoint::Column::ConsecutiveFailures,
                Expr::col(endpoint::Column::ConsecutiveFailures).add(1),
            )
            .col_expr(endpoint::Column::UpdatedAt, Expr::value(now))
            .filter(endpoint::Column::AgentId.eq(d.agent_id.clone()))
            .exec(&self.db)
            .await?;
        let limit = i32::try_from(self.policy.disable_after).unwrap_or(i32::MAX);
        let disabled = endpoint::Entity::update_many()
            .col_expr(endpoint::Column::DisabledAt, Expr::value(now))
            .filter(endpoint::Column::AgentId.eq(d.agent_id.clone()))
            .filter(endpoint::Column::DisabledAt.is_null())
            .filter(endpoint::Column::ConsecutiveFailures.gte(limit))
            .exec(&self.db)
            .await?
            .rows_affected
            == 1;
        if disabled {
            tracing::warn!(agent_id = %d.agent_id, "notification webhook endpoint disabled after repeated failure");
            notifications::raise(
                &self.db,
                NewNotification {
                    workspace_id: d.workspace_id.clone(),
                    agent_id: Some(d.agent_id.clone()),
                    kind: NotificationKind::WebhookEndpointDisabled,
                    dedupe_key: format!("webhook_endpoint_disabled:{}:{}", d.agent_id, now.timestamp()),
                    subject: "Notification webhook disabled".into(),
                    body: format!(
                        "{} deliveries in a row to the notification webhook of agent {} failed (the last: {}), \
                         so it is disabled. Fix the endpoint, then replay a delivery to enable it again.",
                        self.policy.disable_after, d.agent_id, d.url
                    ),
                },
            )
            .await?;
        }
        Ok(disabled)
    }

    async fn send_mails(&self, limit: u64, s: &mut DispatchSummary) -> Result<()> {
        let queued = email::Entity::find()
            .filter(email::Column::Status.eq(PENDING))
            .order_by_asc(email::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        for m in queued {
            let claimed = email::Entity::update_many()
                .col_expr(email::Column::Status, Expr::value("sending"))
                .filter(email::Column::NotificationId.eq(m.notification_id.clone()))
                .filter(email::Column::Status.eq(PENDING))
                .exec(&self.db)
                .await?
                .rows_affected
                == 1;
            if !claimed {
                continue;
            }
            let n = notifications::by_id(&self.db, &m.notification_id).await?;
            let (status, message_id, error) = match (&self.mail_from, n) {
                (None, _) => {
                    ("skipped", None, Some("no platform sender: email.system_domain is not set".to_owned()))
                }
                (_, None) => ("failed", None, Some("the notification is gone".to_owned())),
                (Some(from), Some(n)) => {
                    let mail = OutgoingEmail {
                        from: from.clone(),
                        from_name: Some("Switchboard".into()),
                        to: vec![m.to_address.clone()],
                        subject: n.subject.clone(),
                        text: n.body.clone(),
                    };
                    match self.mailer.send(&mail).await {
                        Ok(id) => {
                            s.mails_sent += 1;
                            ("sent", Some(id), None)
                        }
                        Err(e) => {
                            s.mails_failed += 1;
                            tracing::warn!(notification_id = %m.notification_id, error = %e, "notification mail failed");
                            ("failed", None, Some(e.to_string().chars().take(500).collect()))
                        }
                    }
                }
            };
            email::Entity::update_many()
                .col_expr(email::Column::Status, Expr::value(status))
                .col_expr(email::Column::ProviderMessageId, Expr::value(message_id))
                .col_expr(email::Column::Error, Expr::value(error))
                .col_expr(email::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
                .filter(email::Column::NotificationId.eq(m.notification_id.clone()))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }
}

/// An agent's signing secret (owners only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookSecret {
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// `whsec_` + base64 of 32 bytes; verify `webhook-signature` with its decoded bytes.
    pub secret: String,
    /// When the endpoint is disabled after repeated failure; replaying a delivery enables it.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The endpoint's HTTP status; `null` when there was no answer.
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// A notification's delivery to an agent's webhook, with its attempt log (oldest first).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDelivery {
    #[schema(value_type = String, example = "whd_01J…")]
    pub id: WebhookDeliveryId,
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// Also the `webhook-id` header of every attempt.
    #[schema(value_type = String)]
    pub notification_id: NotificationId,
    pub url: String,
    /// `pending | succeeded | failed`
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attempt_log: Vec<WebhookAttempt>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub agent_id: Option<AgentId>,
    /// `pending | succeeded | failed`
    pub status: Option<String>,
}

/// Secrets and the delivery log, for the API.
#[derive(Debug, Clone)]
pub struct WebhookService {
    db: DatabaseConnection,
    agents: AgentService,
    sealer: Sealer,
}

impl WebhookService {
    pub fn new(db: DatabaseConnection, agents: AgentService, sealer: Sealer) -> Self {
        Self { db, agents, sealer }
    }

    /// The agent's signing secret, made on first use.
    pub async fn secret(&self, ctx: &Ctx, agent: &AgentId) -> Result<WebhookSecret> {
        ctx.require(Permission::WebhookSecretRead)?;
        self.agents.get(ctx, agent).await?;
        let ep = ensure_endpoint(&self.db, &self.sealer, ctx.workspace_id(), agent).await?;
        let secret = open(&self.sealer, &ep.secret)?;
        Ok(WebhookSecret { agent_id: ep.agent_id, secret, disabled_at: ep.disabled_at })
    }

    /// Replaces the signing secret; deliveries from now on are signed with the new one.
    pub async fn rotate_secret(&self, ctx: &Ctx, agent: &AgentId) -> Result<WebhookSecret> {
        ctx.require(Permission::WebhookSecretRead)?;
        self.agents.get(ctx, agent).await?;
        ensure_endpoint(&self.db, &self.sealer, ctx.workspace_id(), agent).await?;
        endpoint::Entity::update_many()
            .col_expr(endpoint::Column::Secret, Expr::value(seal(&self.sealer, &new_secret())))
            .col_expr(endpoint::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
            .filter(endpoint::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(endpoint::Column::AgentId.eq(agent.clone()))
            .exec(&self.db)
            .await?;
        tracing::info!(agent_id = %agent, "webhook signing secret rotated");
        self.secret(ctx, agent).await
    }

    /// Newest first.
    pub async fn list(
        &self,
        ctx: &Ctx,
        filter: DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<WebhookDelivery>> {
        ctx.require(Permission::Read)?;
        let mut q =
            delivery::Entity::find().filter(delivery::Column::WorkspaceId.eq(ctx.workspace_id().clone()));
        if let Some(agent) = filter.agent_id {
            q = q.filter(delivery::Column::AgentId.eq(agent));
        }
        if let Some(status) = filter.status {
            if ![PENDING, SUCCEEDED, FAILED].contains(&status.as_str()) {
                return Err(Error::invalid("status", "must be one of pending, succeeded, failed"));
            }
            q = q.filter(delivery::Column::Status.eq(status));
        }
        if let Some(after) = &page.after {
            q = q.filter(delivery::Column::Id.lt(after.clone()));
        }
        let rows = q.order_by_desc(delivery::Column::Id).limit(page.fetch_limit()).all(&self.db).await?;
        let page = Page::from_rows(rows, page, |r| r.id.to_string());
        let ids: Vec<WebhookDeliveryId> = page.data.iter().map(|d| d.id.clone()).collect();
        let mut attempts = attempt::Entity::find()
            .filter(attempt::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(attempt::Column::Attempt)
            .all(&self.db)
            .await?;
        Ok(page.map(|d| {
            let mine = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
            attempts.retain(|a| a.delivery_id != d.id);
            view(d, mine)
        }))
    }

    pub async fn get(&self, ctx: &Ctx, id: &WebhookDeliveryId) -> Result<WebhookDelivery> {
        ctx.require(Permission::Read)?;
        let d = self.find(ctx, id).await?;
        let attempts = attempt::Entity::find()
            .filter(attempt::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(attempt::Column::DeliveryId.eq(id.clone()))
            .order_by_asc(attempt::Column::Attempt)
            .all(&self.db)
            .await?;
        Ok(view(d, attempts))
    }

    async fn find(&self, ctx: &Ctx, id: &WebhookDeliveryId) -> Result<delivery::Model> {
        delivery::Entity::find_by_id(id.clone())
            .filter(delivery::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("webhook delivery"))
    }

    /// Queues the delivery again, due now, with a fresh round of retries (same `webhook-id`), and
    /// enables its endpoint again if it was disabled. The next `webhooks` run sends it.
    pub async fn replay(&self, ctx: &Ctx, id: &WebhookDeliveryId) -> Result<WebhookDelivery> {
        ctx.require(Permission::ChannelsWrite)?;
        let d = self.find(ctx, id).await?;
        let now = switchboard_core::time::now();
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(PENDING))
            .col_expr(delivery::Column::RoundAttempts, Expr::value(0))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(delivery::Column::Id.eq(id.clone()))
            .exec(&self.db)
            .await?;
        endpoint::Entity::update_many()
            .col_expr(endpoint::Column::DisabledAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(endpoint::Column::ConsecutiveFailures, Expr::value(0))
            .col_expr(endpoint::Column::UpdatedAt, Expr::value(now))
            .filter(endpoint::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(endpoint::Column::AgentId.eq(d.agent_id.clone()))
            .exec(&self.db)
            .await?;
        tracing::info!(delivery_id = %id, "webhook delivery queued for replay");
        self.get(ctx, id).await
    }
}

fn view(d: delivery::Model, attempts: Vec<attempt::Model>) -> WebhookDelivery {
    WebhookDelivery {
        id: d.id,
        agent_id: d.agent_id,
        notification_id: d.notification_id,
        url: d.url,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        created_at: d.created_at,
        updated_at: d.updated_at,
        attempt_log: attempts
            .into_iter()
            .map(|a| WebhookAttempt {
                attempt: a.attempt,
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let s = new_secret();
        let key = STANDARD.decode(s.strip_prefix(SECRET_PREFIX).unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn the_standard_webhooks_example_signature() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
