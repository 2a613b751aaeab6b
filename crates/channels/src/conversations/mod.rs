//! Conversations (SPEC §11), storage part: what webhook-ingest needs to append inbound messages
//! and follow outbound ones. (The API — listing, replies, close/archive/reopen, AI toggle,
//! escalation — comes with the conversations feature and builds on these tables.)
//!
//! **Tables**: `conversations` (one per workspace, channel, business address and contact — a
//! unique index), `conversation_messages` (a provider's message id is unique per workspace).
//!
//! **Invariants**
//! - Appending is idempotent by the provider's message id: the message insert is
//!   `ON CONFLICT DO NOTHING`, and the conversation's timestamps move only when it inserted.
//!   A batch of messages is appended in four statements ([`append_inbound_many`]); one message
//!   is a batch of one.
//! - A conversation is created by an insert that loses quietly to a concurrent one
//!   (`ON CONFLICT DO NOTHING` on the thread key), then read back by that key — no
//!   check-then-insert.
//! - Timestamps only move forward (`last_message_at`, `last_inbound_at` are updated with a
//!   `CASE` in the statement), and a message status never moves backwards
//!   ([`MessageStatus::rank`]).
//! - Every function takes the workspace id it works in.

mod entity;
pub mod service;

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QueryTrait,
};
use serde::{Deserialize, Serialize};
use switchboard_core::db::{placeholder, values_list};
use switchboard_core::{AgentId, ConversationId, MessageId, NumberId, WhatsappConnectionId, WorkspaceId};

use entity::{conversation, message};

/// The channel a conversation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Whatsapp,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Channel::Sms),
            "whatsapp" => Some(Channel::Whatsapp),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// `open | closed | archived`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Closed,
    Archived,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Closed => "closed",
            ConversationStatus::Archived => "archived",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "closed" => ConversationStatus::Closed,
            "archived" => ConversationStatus::Archived,
            _ => ConversationStatus::Open,
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Where a message is (Twilio's and Meta's statuses, folded into one list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// An inbound message as it arrived.
    Received,
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Undelivered,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Failed => "failed",
        }
    }

    /// Twilio's `MessageStatus` / Meta's `status`; `None` for statuses that say nothing new
    /// (`receiving`, `scheduled`, `canceled`, …).
    pub fn from_provider(s: &str) -> Option<Self> {
        Some(match s {
            "received" => MessageStatus::Received,
            "accepted" | "queued" => MessageStatus::Queued,
            "sending" => MessageStatus::Sending,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "undelivered" => MessageStatus::Undelivered,
            "failed" => MessageStatus::Failed,
            _ => return None,
        })
    }

    /// Callbacks arrive out of order; a status only replaces one of a lower rank. Failure and
    /// delivery are alternatives of one rank, so neither overwrites the other.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Received | MessageStatus::Queued => 0,
            MessageStatus::Sending => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered | MessageStatus::Undelivered | MessageStatus::Failed => 3,
            MessageStatus::Read => 4,
        }
    }

    const ALL: [MessageStatus; 8] = [
        MessageStatus::Received,
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Undelivered,
        MessageStatus::Failed,
    ];
}

/// An inbound message to append to its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub workspace_id: WorkspaceId,
    pub channel: Channel,
    /// Our side: the E.164 number (or address) the contact wrote to.
    pub business_address: String,
    /// Their side: E.164 where the provider gives one, else what it gives.
    pub contact: String,
    /// The agent that serves the business address now.
    pub agent_id: Option<AgentId>,
    pub number_id: Option<NumberId>,
    pub body: String,
    pub media_urls: Vec<String>,
    /// Twilio's `MessageSid`, Meta's `wamid…`.
    pub provider_message_id: String,
    pub received_at: DateTime<Utc>,
    /// The WhatsApp connection it arrived through (Meta Cloud API messages).
    pub whatsapp_connection_id: Option<WhatsappConnectionId>,
}

/// What [`append_inbound`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub conversation_id: ConversationId,
    /// The stored message; `None` when this provider id was appended before.
    pub message_id: Option<MessageId>,
    /// The conversation was created by this message.
    pub new_conversation: bool,
    /// The conversation was closed or archived and this message opened it again.
    pub reopened: bool,
}

/// A conversation as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    #[serde(skip)]
    #[schema(ignore)]
    pub workspace_id: WorkspaceId,
    pub channel: Channel,
    pub business_address: String,
    pub contact: String,
    pub agent_id: Option<AgentId>,
    pub number_id: Option<NumberId>,
    pub whatsapp_connection_id: Option<WhatsappConnectionId>,
    pub status: ConversationStatus,
    /// Off: only humans answer.
    pub ai_active: bool,
    pub escalated: bool,
    pub sentiment: Option<String>,
    pub summary: Option<String>,
    pub last_message_at: DateTime<Utc>,
    /// When the contact last wrote; WhatsApp replies need this within 24 hours.
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<conversation::Model> for Conversation {
    fn from(m: conversation::Model) -> Self {
        Self {
            id: m.id,
            workspace_id: m.workspace_id,
            channel: Channel::parse(&m.channel).unwrap_or(Channel::Sms),
            business_address: m.business_address,
            contact: m.contact,
            agent_id: m.agent_id,
            number_id: m.number_id,
            whatsapp_connection_id: m.whatsapp_connection_id,
            status: ConversationStatus::parse(&m.status),
            ai_active: m.ai_active,
            escalated: m.escalated,
            sentiment: m.sentiment,
            summary: m.summary,
            last_message_at: m.last_message_at,
            last_inbound_at: m.last_inbound_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub body: String,
    pub media_urls: Vec<String>,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            direction: if m.direction == "outbound" { Direction::Outbound } else { Direction::Inbound },
            body: m.body,
            media_urls: m.media_urls.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
            provider_message_id: m.provider_message_id,
            status: MessageStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == m.status)
                .unwrap_or(MessageStatus::Received),
            error_code: m.error_code,
            created_at: m.created_at,
        }
    }
}

/// Appends an inbound message to its conversation, creating or reopening the conversation.
/// Idempotent by `provider_message_id`; works inside the caller's transaction.
pub async fn append_inbound(conn: &impl ConnectionTrait, m: InboundMessage) -> Result<Appended, DbErr> {
    append_inbound_many(conn, vec![m])
        .await?
        .pop()
        .ok_or_else(|| DbErr::Custom("appending a message answered nothing".into()))
}

/// [`append_inbound`] for many messages in four statements, whatever their number (webhook-ingest
/// settles a batch of messages at once): insert the missing conversations and read every one
/// back, insert the messages, move the conversations that received one. Answers what happened to
/// each message, in order; a conversation counts as created or reopened by the first message
/// appended to it.
pub async fn append_inbound_many(
    conn: &impl ConnectionTrait,
    messages: Vec<InboundMessage>,
) -> Result<Vec<Appended>, DbErr> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let now = switchboard_core::time::now();
    let threads = threads_of(conn, &messages, now).await?;
    let thread = |m: &InboundMessage| threads.get(&thread_key(m)).ok_or_else(vanished);

    // The messages, in key order so two writers with overlapping ids wait for each other in the
    // same order instead of deadlocking on PostgreSQL's unique index.
    let mut rows = Vec::with_capacity(messages.len());
    for m in &messages {
        rows.push(message::Model {
            id: MessageId::new(),
            workspace_id: m.workspace_id.clone(),
            conversation_id: thread(m)?.0.id.clone(),
            direction: Direction::Inbound.as_str().to_owned(),
            body: m.body.clone(),
            media_urls: (!m.media_urls.is_empty())
                .then(|| serde_json::to_string(&m.media_urls).unwrap_or_else(|_| "[]".into())),
            provider_message_id: Some(m.provider_message_id.clone()),
            status: MessageStatus::Received.as_str().to_owned(),
            error_code: None,
            created_at: m.received_at,
            updated_at: now,
        });
    }
    let mut ordered: Vec<&message::Model> = rows.iter().collect();
    ordered.sort_by(|a, b| {
        (&a.workspace_id, &a.provider_message_id).cmp(&(&b.workspace_id, &b.provider_message_id))
    });
    let mut inserted = HashSet::new();
    for chunk in ordered.chunks(ROWS_PER_STATEMENT) {
        let insert = message::Entity::insert_many(chunk.iter().map(|m| (*m).clone().into_active_model()))
            .on_conflict(
                OnConflict::columns([message::Column::WorkspaceId, message::Column::ProviderMessageId])
                    .do_nothing()
                    .to_owned(),
            )
            .into_query()
            .returning_col(message::Column::Id)
            .to_owned();
        for row in conn.query_all(conn.get_database_backend().build(&insert)).await? {
            inserted.insert(row.try_get::<MessageId>("", "id")?);
        }
    }

    // What each conversation that received a message becomes: open, its timestamps moved forward
    // to its latest message, and the agent, number and connection of its latest message.
    let mut moved: BTreeMap<ConversationId, Move> = BTreeMap::new();
    let mut appended = Vec::with_capacity(messages.len());
    for (m, row) in messages.into_iter().zip(rows) {
        let (conversation, created) = thread(&m)?;
        if !inserted.contains(&row.id) {
            appended.push(Appended {
                conversation_id: conversation.id.clone(),
                message_id: None,
                new_conversation: false,
                reopened: false,
            });
            continue;
        }
        let first = !moved.contains_key(&conversation.id);
        let change = moved
            .entry(conversation.id.clone())
            .or_insert_with(|| Move { at: m.received_at, ..Move::default() });
        change.at = change.at.max(m.received_at);
        change.agent_id = m.agent_id.or(change.agent_id.take());
        change.number_id = m.number_id.or(change.number_id.take());
        change.connection_id = m.whatsapp_connection_id.or(change.connection_id.take());
        let reopened = first && conversation.status != ConversationStatus::Open.as_str();
        if reopened {
            tracing::info!(conversation_id = %conversation.id, "conversation reopened by an inbound message");
        }
        appended.push(Appended {
            conversation_id: conversation.id.clone(),
            message_id: Some(row.id),
            new_conversation: first && *created,
            reopened,
        });
    }
    move_conversations(conn, &moved, now).await?;
    Ok(appended)
}

/// Rows one multi-row insert carries at most (≤ 15 values each: well within both engines' bind
/// limits).
const ROWS_PER_STATEMENT: usize = 1000;

/// A conversation's thread: workspace, channel, business address, contact.
type ThreadKey = (WorkspaceId, &'static str, String, String);

fn thread_key(m: &InboundMessage) -> ThreadKey {
    (m.workspace_id.clone(), m.channel.as_str(), m.business_address.clone(), m.contact.clone())
}

fn vanished() -> DbErr {
    DbErr::RecordNotFound("conversation vanished after its upsert".into())
}

/// The conversation of each message's thread, and whether this call created it.
async fn threads_of(
    conn: &impl ConnectionTrait,
    messages: &[InboundMessage],
    now: DateTime<Utc>,
) -> Result<HashMap<ThreadKey, (conversation::Model, bool)>, DbErr> {
    let mut fresh: BTreeMap<ThreadKey, conversation::Model> = BTreeMap::new();
    for m in messages {
        fresh.entry(thread_key(m)).or_insert_with(|| conversation::Model {
            id: ConversationId::new(),
            workspace_id: m.workspace_id.clone(),
            channel: m.channel.as_str().to_owned(),
            business_address: m.business_address.clone(),
            contact: m.contact.clone(),
            agent_id: m.agent_id.clone(),
            number_id: m.number_id.clone(),
            status: ConversationStatus::Open.as_str().to_owned(),
            ai_active: true,
            escalated: false,
            sentiment: None,
            summary: None,
            whatsapp_connection_id: m.whatsapp_connection_id.clone(),
            last_message_at: m.received_at,
            last_inbound_at: Some(m.received_at),
            created_at: now,
            updated_at: now,
        });
    }
    upsert_threads(conn, fresh).await
}

/// Inserts the conversations of `fresh` whose thread has none, by a statement that loses quietly
/// to a concurrent insert (`ON CONFLICT DO NOTHING` on the thread key), then reads every thread's
/// row back by its key — one conversation per thread, whoever races. Answers each thread's row
/// and whether this call created it. Rows go in key order (a `BTreeMap`), so two writers with
/// overlapping threads wait for each other instead of deadlocking on PostgreSQL's unique index.
async fn upsert_threads(
    conn: &impl ConnectionTrait,
    fresh: BTreeMap<ThreadKey, conversation::Model>,
) -> Result<HashMap<ThreadKey, (conversation::Model, bool)>, DbErr> {
    let rows: Vec<conversation::Model> = fresh.values().cloned().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        conversation::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .on_conflict(
                OnConflict::columns([
                    conversation::Column::WorkspaceId,
                    conversation::Column::Channel,
                    conversation::Column::BusinessAddress,
                    conversation::Column::Contact,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    let keys: Vec<&ThreadKey> = fresh.keys().collect();
    let mut found = HashMap::with_capacity(fresh.len());
    for chunk in keys.chunks(ROWS_PER_STATEMENT / 4) {
        let mut any = Condition::any();
        for (ws, channel, address, contact) in chunk {
            any = any.add(
                Condition::all()
                    .add(conversation::Column::WorkspaceId.eq(ws.clone()))
                    .add(conversation::Column::Channel.eq(*channel))
                    .add(conversation::Column::BusinessAddress.eq(address.as_str()))
                    .add(conversation::Column::Contact.eq(contact.as_str())),
            );
        }
        for row in conversation::Entity::find().filter(any).all(conn).await? {
            found.insert(row_key(&row), row);
        }
    }
    fresh
        .into_iter()
        .map(|(key, mine)| {
            let row = found.remove(&key).ok_or_else(vanished)?;
            let created = row.id == mine.id;
            Ok((key, (row, created)))
        })
        .collect()
}

/// The thread of a stored (or about to be stored) conversation.
fn row_key(row: &conversation::Model) -> ThreadKey {
    let channel = Channel::parse(&row.channel).map_or("", Channel::as_str);
    (row.workspace_id.clone(), channel, row.business_address.clone(), row.contact.clone())
}

/// What a batch of messages does to one conversation.
#[derive(Default)]
struct Move {
    at: DateTime<Utc>,
    agent_id: Option<AgentId>,
    number_id: Option<NumberId>,
    connection_id: Option<WhatsappConnectionId>,
}

/// Opens the conversations of `moved` and moves each one's timestamps forward to its latest
/// message (never back: a late message leaves a later time as it is), taking the agent, number
/// and connection the batch knows of. One `UPDATE … FROM (VALUES (id, at, agent, number,
/// connection), …)` per chunk, which both engines run as a lookup by id per row — its cost grows
/// with the conversations, not with their square as a `CASE` per conversation would.
async fn move_conversations(
    conn: &impl ConnectionTrait,
    moved: &BTreeMap<ConversationId, Move>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let moved: Vec<(&ConversationId, &Move)> = moved.iter().collect();
    for chunk in moved.chunks(MOVES_PER_STATEMENT) {
        let mut values: Vec<sea_orm::Value> = vec![ConversationStatus::Open.as_str().into(), now.into()];
        let rows = values_list(
            backend,
            &mut values,
            chunk.iter().map(|(id, change)| -> [sea_orm::Value; 5] {
                [
                    id.to_string().into(),
                    change.at.into(),
                    change.agent_id.as_ref().map(ToString::to_string).into(),
                    change.number_id.as_ref().map(ToString::to_string).into(),
                    change.connection_id.as_ref().map(ToString::to_string).into(),
                ]
            }),
        );
        let later = |col: &str| {
            format!(
                "{col} = CASE WHEN conversations.{col} IS NULL OR conversations.{col} < v.column2 \
                 THEN v.column2 ELSE conversations.{col} END"
            )
        };
        let known = |col: &str, v: &str| format!("{col} = COALESCE(v.{v}, conversations.{col})");
        let sql = format!(
            "UPDATE conversations SET status = {status}, updated_at = {now}, {message}, {inbound}, \
             {agent}, {number}, {connection} FROM (VALUES {rows}) AS v WHERE conversations.id = v.column1",
            status = placeholder(backend, 1),
            now = placeholder(backend, 2),
            message = later("last_message_at"),
            inbound = later("last_inbound_at"),
            agent = known("agent_id", "column3"),
            number = known("number_id", "column4"),
            connection = known("whatsapp_connection_id", "column5"),
        );
        conn.execute(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    Ok(())
}

/// Conversations one moving statement carries at most (5 bind values each).
const MOVES_PER_STATEMENT: usize = 1000;

/// Moves an outbound message to `status` unless it is already as far or further
/// ([`MessageStatus::rank`]); whether it changed. Unknown provider ids change nothing.
pub async fn update_status(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    provider_message_id: &str,
    status: MessageStatus,
    error_code: Option<&str>,
) -> Result<bool, DbErr> {
    let lower: Vec<&str> =
        MessageStatus::ALL.iter().filter(|s| s.rank() < status.rank()).map(|s| s.as_str()).collect();
    let mut update = message::Entity::update_many()
        .col_expr(message::Column::Status, Expr::value(status.as_str()))
        .col_expr(message::Column::UpdatedAt, Expr::value(switchboard_core::time::now()));
    if let Some(code) = error_code {
        update = update.col_expr(message::Column::ErrorCode, Expr::value(code));
    }
    let changed = update
        .filter(message::Column::WorkspaceId.eq(ws.clone()))
        .filter(message::Column::ProviderMessageId.eq(provider_message_id))
        .filter(message::Column::Status.is_in(lower))
        .exec(conn)
        .await?;
    Ok(changed.rows_affected > 0)
}

async fn find_thread(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    business_address: &str,
    contact: &str,
) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find()
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Channel.eq(channel.as_str()))
        .filter(conversation::Column::BusinessAddress.eq(business_address))
        .filter(conversation::Column::Contact.eq(contact))
        .one(conn)
        .await
}

/// The conversation of `contact` with `business_address` on `channel`, if there is one.
pub async fn find(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    business_address: &str,
    contact: &str,
) -> Result<Option<Conversation>, DbErr> {
    Ok(find_thread(conn, ws, channel, business_address, contact).await?.map(Conversation::from))
}

/// The workspace's conversations, oldest first (the paginated API comes with issue 8).
pub async fn list(conn: &impl ConnectionTrait, ws: &WorkspaceId) -> Result<Vec<Conversation>, DbErr> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .order_by_asc(conversation::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Conversation::from)
        .collect())
}

/// A conversation's messages, oldest first.
pub async fn messages(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    conversation: &ConversationId,
) -> Result<Vec<Message>, DbErr> {
    Ok(message::Entity::find()
        .filter(message::Column::WorkspaceId.eq(ws.clone()))
        .filter(message::Column::ConversationId.eq(conversation.clone()))
        .order_by_asc(message::Column::CreatedAt)
        .order_by_asc(message::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Message::from)
        .collect())
}

/// Sets a conversation's status (close, archive, reopen); whether it existed in `ws`.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
    status: ConversationStatus,
) -> Result<bool, DbErr> {
    let r = conversation::Entity::update_many()
        .col_expr(conversation::Column::Status, Expr::value(status.as_str()))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}

/// `GET /v1/conversations` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub channel: Option<Channel>,
    pub status: Option<ConversationStatus>,
    pub agent_id: Option<AgentId>,
}

/// One page of the workspace's conversations, by id.
pub async fn page(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    filter: &ConversationFilter,
    page: &switchboard_core::PageRequest,
) -> Result<switchboard_core::Page<Conversation>, DbErr> {
    use sea_orm::QuerySelect;
    let mut q = conversation::Entity::find().filter(conversation::Column::WorkspaceId.eq(ws.clone()));
    if let Some(channel) = filter.channel {
        q = q.filter(conversation::Column::Channel.eq(channel.as_str()));
    }
    if let Some(status) = filter.status {
        q = q.filter(conversation::Column::Status.eq(status.as_str()));
    }
    if let Some(agent) = &filter.agent_id {
        q = q.filter(conversation::Column::AgentId.eq(agent.clone()));
    }
    if let Some(after) = &page.after {
        q = q.filter(conversation::Column::Id.gt(after.as_str()));
    }
    let rows = q.order_by_asc(conversation::Column::Id).limit(page.fetch_limit()).all(conn).await?;
    Ok(switchboard_core::Page::from_rows(rows, page, |m| m.id.to_string()).map(Conversation::from))
}

/// The conversation `id` of `ws`.
pub async fn get(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
) -> Result<Option<Conversation>, DbErr> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .one(conn)
        .await?
        .map(Conversation::from))
}

/// Moves the conversation to `to` only while its status is one of `from` — one conditional
/// statement, so two concurrent transitions cannot both apply. Whether it moved.
pub async fn transition(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
    from: &[ConversationStatus],
    to: ConversationStatus,
) -> Result<bool, DbErr> {
    let r = conversation::Entity::update_many()
        .col_expr(conversation::Column::Status, Expr::value(to.as_str()))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .filter(conversation::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Sets `ai_active`; whether the conversation exists in `ws`.
pub async fn set_ai_active(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
    ai_active: bool,
) -> Result<bool, DbErr> {
    let r = conversation::Entity::update_many()
        .col_expr(conversation::Column::AiActive, Expr::value(ai_active))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Marks the conversation escalated; whether it was not escalated before (so a repeat notifies
/// nobody twice).
pub async fn mark_escalated(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
) -> Result<bool, DbErr> {
    let r = conversation::Entity::update_many()
        .col_expr(conversation::Column::Escalated, Expr::value(true))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .filter(conversation::Column::Escalated.eq(false))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Remembers the WhatsApp connection a conversation runs on.
pub async fn set_whatsapp_connection(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
    connection: &WhatsappConnectionId,
) -> Result<(), DbErr> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::WhatsappConnectionId, Expr::value(connection.clone()))
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .exec(conn)
        .await
        .map(drop)
}

/// Deletes the conversation and its messages; whether it existed.
pub async fn delete(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ConversationId,
) -> Result<bool, DbErr> {
    message::Entity::delete_many()
        .filter(message::Column::WorkspaceId.eq(ws.clone()))
        .filter(message::Column::ConversationId.eq(id.clone()))
        .exec(conn)
        .await?;
    let r = conversation::Entity::delete_many()
        .filter(conversation::Column::WorkspaceId.eq(ws.clone()))
        .filter(conversation::Column::Id.eq(id.clone()))
        .exec(conn)
        .await?;
    Ok(r.rows_affected > 0)
}

/// A reply the provider accepted, to append to its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub body: String,
    pub provider_message_id: String,
    pub status: MessageStatus,
    pub sent_at: DateTime<Utc>,
}

/// Appends a sent message and moves the conversation's `last_message_at` forward. Idempotent
/// by the provider's message id (a status callback cannot race it into a second row).
pub async fn append_outbound(conn: &impl ConnectionTrait, m: OutboundMessage) -> Result<Message, DbErr> {
    let now = switchboard_core::time::now();
    let row = message::Model {
        id: MessageId::new(),
        workspace_id: m.workspace_id.clone(),
        conversation_id: m.conversation_id.clone(),
        direction: Direction::Outbound.as_str().to_owned(),
        body: m.body,
        media_urls: None,
        provider_message_id: Some(m.provider_message_id.clone()),
        status: m.status.as_str().to_owned(),
        error_code: None,
        created_at: m.sent_at,
        updated_at: now,
    };
    message::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([message::Column::WorkspaceId, message::Column::ProviderMessageId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    let at = m.sent_at;
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastMessageAt,
            Expr::case(Expr::col(conversation::Column::LastMessageAt).lt(at), Expr::value(at))
                .finally(Expr::col(conversation::Column::LastMessageAt))
                .into(),
        )
        .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
        .filter(conversation::Column::WorkspaceId.eq(m.workspace_id.clone()))
        .filter(conversation::Column::Id.eq(m.conversation_id.clone()))
        .exec(conn)
        .await?;
    message::Entity::find()
        .filter(message::Column::WorkspaceId.eq(m.workspace_id))
        .filter(message::Column::ProviderMessageId.eq(m.provider_message_id))
        .one(conn)
        .await?
        .map(Message::from)
        .ok_or_else(|| DbErr::RecordNotFound("outbound message vanished after its insert".into()))
}

/// Starts a conversation the business opens (no inbound message yet), or returns the existing
/// one of this thread.
#[allow(clippy::too_many_arguments)]
pub async fn open_outbound(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    channel: Channel,
    business_address: &str,
    contact: &str,
    agent_id: Option<AgentId>,
    number_id: Option<NumberId>,
    whatsapp_connection_id: Option<WhatsappConnectionId>,
) -> Result<Conversation, DbErr> {
    let now = switchboard_core::time::now();
    let fresh = conversation::Model {
        id: ConversationId::new(),
        workspace_id: ws.clone(),
        channel: channel.as_str().to_owned(),
        business_address: business_address.to_owned(),
        contact: contact.to_owned(),
        agent_id,
        number_id,
        status: ConversationStatus::Open.as_str().to_owned(),
        ai_active: true,
        escalated: false,
        sentiment: None,
        summary: None,
        whatsapp_connection_id,
        last_message_at: now,
        last_inbound_at: None,
        created_at: now,
        updated_at: now,
    };
    let key = row_key(&fresh);
    let mut threads = upsert_threads(conn, BTreeMap::from([(key.clone(), fresh)])).await?;
    threads.remove(&key).map(|(row, _)| Conversation::from(row)).ok_or_else(vanished)
}

/// The message `id` of `ws`.
pub async fn message(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &MessageId,
) -> Result<Option<Message>, DbErr> {
    Ok(message::Entity::find()
        .filter(message::Column::WorkspaceId.eq(ws.clone()))
        .filter(message::Column::Id.eq(id.clone()))
        .one(conn)
        .await?
        .map(Message::from))
}
