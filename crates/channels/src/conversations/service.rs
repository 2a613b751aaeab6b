//! The conversations API (SPEC §11) that binaries and other crates call: list and read, the
//! status machine, the AI toggle, escalation, deletion, and replies through the provider.
//!
//! **Status machine**: `open → closed → archived`; `reopen` from `closed` or `archived`. Each
//! move is one conditional `UPDATE … WHERE status IN (…)`, so of two concurrent moves only one
//! applies; the other answers 409 `invalid_transition`.
//!
//! **Replies** are checked in this order, each refusal a 409 with its own code:
//! `recipient_opted_out` (our opt-out list), then per channel — SMS: billing's admission of the
//! number (`number_disabled`, `sms_disabled`, `limit_reached`), counted under the reply's own
//! message id before anything is sent; WhatsApp: `cannot_initiate` (the contact never wrote and
//! the connection may not write first), `whatsapp_window_closed` (the contact's last message is
//! over 24 hours old). The provider's own refusals map to the same codes (`SendRefusal`), and a
//! provider opt-out is recorded. With an `Idempotency-Key`, a repeated request answers the first
//! reply and sends nothing.

use chrono::TimeDelta;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::{Deserialize, Serialize};
use switchboard_billing::{SmsDecision, UsageService};
use switchboard_core::{ConversationId, Ctx, E164, Error, MessageId, Page, PageRequest, Permission, Result};
use switchboard_numbers::NumberService;
use switchboard_numbers::idempotency::{self, Claim};
use utoipa::ToSchema;

use super::{
    Channel, Conversation, ConversationFilter, ConversationStatus, Message, OutboundMessage, entity,
};
use crate::notifications::{self, NewNotification, NotificationKind};
use crate::opt_outs::{self, OptOutSource};
use crate::ports::{MessageChannel, MessagingProviders, OutgoingMessage, SendRefusal, SentMessage};
use crate::whatsapp;
use switchboard_core::secret_box::Sealer;

/// WhatsApp's customer-service window.
const WHATSAPP_WINDOW: TimeDelta = TimeDelta::hours(24);
/// Twilio's `Body` limit (the stricter of the two providers).
const BODY_MAX: usize = 1600;
const SEND_SCOPE: &str = "conversation_message";

/// A conversation in a list: the conversation and its last message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConversationView {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub last_message: Option<Message>,
}

/// One conversation with its messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub last_message: Option<Message>,
    pub messages: Vec<Message>,
}

/// `PATCH /v1/conversations/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatch {
    /// Off: only humans answer.
    pub ai_active: Option<bool>,
}

/// `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// 1–1600 characters; line breaks allowed.
    pub body: String,
}

/// `POST /v1/conversations`: the business writes first. SMS from one of the workspace's
/// numbers, WhatsApp through one of its connections.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    pub channel: Channel,
    /// E.164.
    pub contact: String,
    /// SMS: the number to write from.
    pub number_id: Option<switchboard_core::NumberId>,
    /// WhatsApp: the connection to write through.
    pub whatsapp_connection_id: Option<switchboard_core::WhatsappConnectionId>,
}

/// Conversations of the caller's workspace.
#[derive(Clone)]
pub struct ConversationService {
    db: DatabaseConnection,
    numbers: NumberService,
    usage: UsageService,
    messaging: MessagingProviders,
    sealer: Sealer,
    /// Where Twilio posts the status of the messages we send (webhook-ingest).
    status_callback: Option<String>,
}

impl std::fmt::Debug for ConversationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationService").finish_non_exhaustive()
    }
}

/// The transitions of the status machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Close,
    Archive,
    Reopen,
}

impl Transition {
    fn rule(self) -> (&'static [ConversationStatus], ConversationStatus) {
        use ConversationStatus::*;
        match self {
            Transition::Close => (&[Open], Closed),
            Transition::Archive => (&[Closed], Archived),
            Transition::Reopen => (&[Closed, Archived], Open),
        }
    }
}

impl ConversationService {
    /// `public_base_url` is webhook-ingest's public base; Twilio reports message statuses to
    /// `{public_base_url}/twilio/messages/status`.
    pub fn new(
        db: DatabaseConnection,
        numbers: NumberService,
        usage: UsageService,
        messaging: MessagingProviders,
        sealer: Sealer,
        public_base_url: Option<&str>,
    ) -> Self {
        let status_callback =
            public_base_url.map(|base| format!("{}/twilio/messages/status", base.trim_end_matches('/')));
        Self { db, numbers, usage, messaging, sealer, status_callback }
    }

    async fn last_message(&self, c: &Conversation) -> Result<Option<Message>> {
        Ok(entity::message::Entity::find()
            .filter(entity::message::Column::WorkspaceId.eq(c.workspace_id.clone()))
            .filter(entity::message::Column::ConversationId.eq(c.id.clone()))
            .order_by_desc(entity::message::Column::CreatedAt)
            .order_by_desc(entity::message::Column::Id)
            .one(&self.db)
            .await?
            .map(Message::from))
    }

    pub async fn list(
        &self,
        ctx: &Ctx,
        filter: &ConversationFilter,
        page: &PageRequest,
    ) -> Result<Page<ConversationView>> {
        ctx.require(Permission::Read)?;
        let page = super::page(&self.db, ctx.workspace_id(), filter, page).await?;
        let mut data = Vec::with_capacity(page.data.len());
        for conversation in page.data {
            let last_message = self.last_message(&conversation).await?;
            data.push(ConversationView { conversation, last_message });
        }
        Ok(Page { data, next_cursor: page.next_cursor })
    }

    async fn find(&self, ctx: &Ctx, id: &ConversationId) -> Result<Conversation> {
        super::get(&self.db, ctx.workspace_id(), id).await?.ok_or(Error::not_found("conversation"))
    }

    pub async fn get(&self, ctx: &Ctx, id: &ConversationId) -> Result<ConversationDetail> {
        ctx.require(Permission::Read)?;
        let conversation = self.find(ctx, id).await?;
        let messages = super::messages(&self.db, ctx.workspace_id(), id).await?;
        Ok(ConversationDetail { last_message: messages.last().cloned(), conversation, messages })
    }

    /// Starts a conversation the business opens (or answers the existing one of that thread, with
    /// `false`). Nothing is sent: the first reply goes through [`Self::send`], where
    /// `cannot_initiate` applies until the contact writes.
    pub async fn start(&self, ctx: &Ctx, input: NewConversation) -> Result<(ConversationDetail, bool)> {
        ctx.require(Permission::MessagesSend)?;
        let ws = ctx.workspace_id();
        let contact =
            E164::parse(input.contact.trim()).map_err(|e| Error::invalid("contact", e.to_string()))?;
        let (business, agent, number, connection) = match input.channel {
            Channel::Sms => {
                let Some(number_id) = input.number_id else {
                    return Err(Error::invalid("number_id", "is required for an SMS conversation"));
                };
                if input.whatsapp_connection_id.is_some() {
                    return Err(Error::invalid(
                        "whatsapp_connection_id",
                        "is only for WhatsApp conversations",
                    ));
                }
                let n = match self.numbers.get(ctx, &number_id).await {
                    Err(Error::NotFound { .. }) => {
                        return Err(Error::invalid("number_id", "no number with this id in the workspace"));
                    }
                    other => other?,
                };
                (n.phone_number.to_string(), n.agent_id, Some(n.id), None)
            }
            Channel::Whatsapp => {
                let Some(cid) = input.whatsapp_connection_id else {
                    return Err(Error::invalid(
                        "whatsapp_connection_id",
                        "is required for a WhatsApp conversation",
                    ));
                };
                if input.number_id.is_some() {
                    return Err(Error::invalid("number_id", "is only for SMS conversations"));
                }
                let Some(c) = whatsapp::find(&self.db, ws, &cid).await? else {
                    return Err(Error::invalid(
                        "whatsapp_connection_id",
                        "no WhatsApp connection with this id",
                    ));
                };
                if c.deleted_at.is_some() || !c.active {
                    return Err(Error::conflict(
                        "connection_inactive",
                        "this WhatsApp connection is inactive or deleted",
                    ));
                }
                let business = match (c.provider.as_str(), c.sender.as_deref(), c.phone_number_id.clone()) {
                    ("meta", _, Some(pnid)) => pnid,
                    (_, Some(sender), _) => sender.trim_start_matches("whatsapp:").to_owned(),
                    _ => return Err(Error::Internal("a WhatsApp connection without an address".into())),
                };
                (business, c.agent_id.clone(), None, Some(c.id))
            }
            Channel::Email => {
                return Err(Error::conflict(
                    "channel_not_supported",
                    "email conversations start when the contact writes; send email through the agent's sender",
                ));
            }
        };
        let before = super::find(&self.db, ws, input.channel, &business, contact.as_str()).await?;
        let c = super::open_outbound(
            &self.db,
            ws,
            input.channel,
            &business,
            contact.as_str(),
            agent,
            number,
            connection,
        )
        .await?;
        let created = before.is_none();
        if created {
            tracing::info!(conversation_id = %c.id, channel = input.channel.as_str(), "conversation started");
        }
        Ok((self.get(ctx, &c.id).await?, created))
    }

    /// Close, archive or reopen. Closing notifies (SPEC §8).
    pub async fn transition(
        &self,
        ctx: &Ctx,
        id: &ConversationId,
        t: Transition,
    ) -> Result<ConversationDetail> {
        ctx.require(Permission::ConversationsManage)?;
        let ws = ctx.workspace_id();
        let (from, to) = t.rule();
        let txn = self.db.begin().await?;
        if !super::transition(&txn, ws, id, from, to).await? {
            let current = super::get(&txn, ws, id).await?.ok_or(Error::not_found("conversation"))?;
            return Err(Error::conflict(
                "invalid_transition",
                format!(
                    "a conversation that is {} cannot be {}",
                    current.status.as_str(),
                    match t {
                        Transition::Close => "closed (only open ones can)",
                        Transition::Archive => "archived (close it first)",
                        Transition::Reopen => "reopened (it is open)",
                    }
                ),
            ));
        }
        if t == Transition::Close {
            let c = super::get(&txn, ws, id).await?.ok_or(Error::not_found("conversation"))?;
            notifications::raise(
                &txn,
                NewNotification {
                    workspace_id: ws.clone(),
                    agent_id: c.agent_id.clone(),
                    kind: NotificationKind::ConversationClosed,
                    // Closed again after a reopen is news again.
                    dedupe_key: format!("conversation_closed:{id}:{}", c.updated_at.timestamp_micros()),
                    subject: format!("Conversation with {} closed", c.contact),
                    body: format!(
                        "The {} conversation {id} with {} was closed.",
                        c.channel.as_str(),
                        c.contact
                    ),
                },
            )
            .await?;
        }
        txn.commit().await?;
        tracing::info!(conversation_id = %id, status = to.as_str(), "conversation status changed");
        self.get(ctx, id).await
    }

    pub async fn update(
        &self,
        ctx: &Ctx,
        id: &ConversationId,
        patch: ConversationPatch,
    ) -> Result<ConversationDetail> {
        ctx.require(Permission::ConversationsManage)?;
        match patch.ai_active {
            Some(on) => {
                if !super::set_ai_active(&self.db, ctx.workspace_id(), id, on).await? {
                    return Err(Error::not_found("conversation"));
                }
                tracing::info!(conversation_id = %id, ai_active = on, "conversation AI toggled");
            }
            None => {
                self.find(ctx, id).await?;
            }
        }
        self.get(ctx, id).await
    }

    /// Marks the conversation escalated and notifies once (a repeat changes nothing).
    pub async fn escalate(&self, ctx: &Ctx, id: &ConversationId) -> Result<ConversationDetail> {
        ctx.require(Permission::ConversationsManage)?;
        let ws = ctx.workspace_id();
        let txn = self.db.begin().await?;
        let c = super::get(&txn, ws, id).await?.ok_or(Error::not_found("conversation"))?;
        if super::mark_escalated(&txn, ws, id).await? {
            notifications::raise(
                &txn,
                NewNotification {
                    workspace_id: ws.clone(),
                    agent_id: c.agent_id.clone(),
                    kind: NotificationKind::ConversationEscalated,
                    dedupe_key: format!("conversation_escalated:{id}"),
                    subject: format!("Conversation with {} needs a human", c.contact),
                    body: format!(
                        "The {} conversation {id} with {} was escalated.",
                        c.channel.as_str(),
                        c.contact
                    ),
                },
            )
            .await?;
            tracing::info!(conversation_id = %id, "conversation escalated");
        }
        txn.commit().await?;
        self.get(ctx, id).await
    }

    /// Deletes the conversation and its messages (owner, admin).
    pub async fn delete(&self, ctx: &Ctx, id: &ConversationId) -> Result<()> {
        ctx.require(Permission::ConversationsDelete)?;
        let txn = self.db.begin().await?;
        if !super::delete(&txn, ctx.workspace_id(), id).await? {
            return Err(Error::not_found("conversation"));
        }
        txn.commit().await?;
        tracing::info!(conversation_id = %id, "conversation deleted");
        Ok(())
    }

    /// Sends a reply through the conversation's provider and appends it. With an idempotency
    /// key, a repeat of the same request answers the first reply and sends nothing.
    pub async fn send(
        &self,
        ctx: &Ctx,
        id: &ConversationId,
        reply: NewReply,
        idempotency_key: Option<&str>,
    ) -> Result<Message> {
        ctx.require(Permission::MessagesSend)?;
        let Some(key) = idempotency_key else { return self.send_now(ctx, id, &reply).await };
        idempotency::validate_key(key)?;
        let ws = ctx.workspace_id();
        let hash = idempotency::request_hash(&(id, &reply));
        match idempotency::claim(&self.db, ws, SEND_SCOPE, key, &hash).await? {
            Claim::Done(body) => {
                let first: MessageId = body
                    .parse()
                    .map_err(|_| Error::Internal("stored idempotent answer is not a message id".into()))?;
                super::message(&self.db, ws, &first).await?.ok_or(Error::not_found("message"))
            }
            Claim::Owner => match self.send_now(ctx, id, &reply).await {
                Ok(sent) => {
                    idempotency::complete(&self.db, ws, SEND_SCOPE, key, 201, sent.id.as_str()).await?;
                    Ok(sent)
                }
                Err(e) => {
                    if let Err(db) = idempotency::abandon(&self.db, ws, SEND_SCOPE, key).await {
                        tracing::warn!(error = %db, "could not abandon an idempotency claim");
                    }
                    Err(e)
                }
            },
        }
    }

    async fn send_now(&self, ctx: &Ctx, id: &ConversationId, reply: &NewReply) -> Result<Message> {
        let body = reply.body.trim();
        let len = body.chars().count();
        if body.is_empty() || len > BODY_MAX {
            return Err(Error::invalid("body", format!("must be 1–{BODY_MAX} characters, got {len}")));
        }
        let ws = ctx.workspace_id();
        let c = self.find(ctx, id).await?;
        let Ok(to) = E164::parse(&c.contact) else {
            return Err(Error::conflict(
                "invalid_recipient",
                "this conversation's contact is not a phone number that can receive messages",
            ));
        };
        if opt_outs::is_opted_out(&self.db, ws, c.channel, &c.contact).await? {
            return Err(opted_out());
        }
        let sent = match c.channel {
            Channel::Sms => self.send_sms(ctx, &c, to, body).await,
            Channel::Whatsapp => self.send_whatsapp(ctx, &c, to, body).await,
            Channel::Email => {
                return Err(Error::conflict(
                    "channel_not_supported",
                    "replies to email conversations are sent by email, not through this endpoint",
                ));
            }
        };
        let sent = match sent {
            Ok(sent) => sent,
            Err(Error::Provider(e)) => {
                return Err(match SendRefusal::of(&e) {
                    Some(SendRefusal::RecipientOptedOut) => {
                        opt_outs::opt_out(&self.db, ws, c.channel, &c.contact, OptOutSource::ProviderRefusal)
                            .await?;
                        opted_out()
                    }
                    Some(SendRefusal::WindowClosed) => window_closed(),
                    Some(SendRefusal::InvalidRecipient) => Error::conflict(
                        "invalid_recipient",
                        "the provider says this contact's number cannot receive messages",
                    ),
                    None => Error::Provider(e),
                });
            }
            Err(e) => return Err(e),
        };
        let message = super::append_outbound(
            &self.db,
            OutboundMessage {
                workspace_id: ws.clone(),
                conversation_id: c.id.clone(),
                body: body.to_owned(),
                provider_message_id: sent.provider_message_id,
                status: sent.status,
                sent_at: switchboard_core::time::now(),
            },
        )
        .await?;
        tracing::info!(conversation_id = %c.id, message_id = %message.id, channel = c.channel.as_str(), "reply sent");
        Ok(message)
    }

    async fn send_sms(&self, ctx: &Ctx, c: &Conversation, to: E164, body: &str) -> Result<SentMessage> {
        let number_id = c.number_id.clone().ok_or_else(|| {
            Error::conflict("number_disabled", "this conversation's number is no longer in the workspace")
        })?;
        let meter = match self.numbers.meter(ctx, &number_id).await {
            Ok(m) => m,
            Err(Error::NotFound { .. }) => {
                return Err(Error::conflict("number_disabled", "this conversation's number was released"));
            }
            Err(e) => return Err(e),
        };
        let from = E164::parse(&c.business_address)
            .map_err(|_| Error::Internal("an SMS conversation's business address is not E.164".into()))?;
        // Counted under the reply's own key before sending, so the limit holds under concurrency.
        let key = format!("out:{}", MessageId::new());
        if let SmsDecision::Refused(refusal) =
            self.usage.admit_sms(&meter, &key, switchboard_core::time::now()).await?
        {
            return Err(Error::conflict(
                refusal.code(),
                match refusal.code() {
                    "sms_disabled" => "SMS are switched off on this conversation's number",
                    "limit_reached" => "the number's monthly SMS limit is reached",
                    _ => "this conversation's number is disabled",
                },
            ));
        }
        let sent = self
            .messaging
            .sender
            .send(&OutgoingMessage {
                channel: MessageChannel::Sms,
                from,
                to,
                body: body.to_owned(),
                status_callback: self.status_callback.clone(),
            })
            .await;
        if sent.is_err() {
            // Not sent (as far as we are told): take the SMS back, counters and charge.
            if let Err(e) = self.usage.release_sms(&meter, &key).await {
                tracing::error!(error = %e, key, "releasing an SMS the provider did not send failed");
            }
        }
        Ok(sent?)
    }

    async fn send_whatsapp(&self, ctx: &Ctx, c: &Conversation, to: E164, body: &str) -> Result<SentMessage> {
        let ws = ctx.workspace_id();
        let connection = match &c.whatsapp_connection_id {
            Some(cid) => whatsapp::find(&self.db, ws, cid).await?,
            None => whatsapp::find_by_address(&self.db, ws, &c.business_address).await?,
        };
        if let Some(conn) = &connection {
            if conn.deleted_at.is_some() || !conn.active {
                return Err(Error::conflict(
                    "connection_inactive",
                    "this conversation's WhatsApp connection is inactive or deleted",
                ));
            }
            if c.whatsapp_connection_id.is_none() {
                super::set_whatsapp_connection(&self.db, ws, &c.id, &conn.id).await?;
            }
        }
        let can_initiate = connection.as_ref().is_some_and(|m| m.can_initiate);
        match c.last_inbound_at {
            None if !can_initiate => {
                return Err(Error::conflict(
                    "cannot_initiate",
                    "the contact has not written yet and this WhatsApp connection may not write first",
                ));
            }
            Some(at) if switchboard_core::time::now() - at > WHATSAPP_WINDOW => return Err(window_closed()),
            _ => {}
        }
        match connection {
            Some(m) if m.provider == "meta" => {
                let token = self.token(&m)?;
                let pnid = m.phone_number_id.clone().unwrap_or_default();
                Ok(self.messaging.meta.send_text(&pnid, &token, &to, body).await?)
            }
            other => {
                let from = match other.as_ref().and_then(|m| m.sender.as_deref()) {
                    Some(sender) => crate::ports::parse_whatsapp_address(sender),
                    None => E164::parse(&c.business_address).ok(),
                }
                .ok_or_else(|| {
                    Error::conflict(
                        "whatsapp_not_connected",
                        "no WhatsApp connection serves this conversation",
                    )
                })?;
                Ok(self
                    .messaging
                    .sender
                    .send(&OutgoingMessage {
                        channel: MessageChannel::Whatsapp,
                        from,
                        to,
                        body: body.to_owned(),
                        status_callback: self.status_callback.clone(),
                    })
                    .await?)
            }
        }
    }

    fn token(&self, m: &whatsapp::entity::Model) -> Result<secrecy::SecretString> {
        let sealed = m
            .access_token_sealed
            .as_deref()
            .ok_or_else(|| Error::Internal("Meta connection without an access token".into()))?;
        self.sealer.open(sealed).map_err(|e| Error::Internal(e.to_string()))
    }
}

fn opted_out() -> Error {
    Error::conflict(
        "recipient_opted_out",
        "the contact opted out of this channel; they can opt in again with START",
    )
}

fn window_closed() -> Error {
    Error::conflict(
        "whatsapp_window_closed",
        "the contact's last WhatsApp message is more than 24 hours old; free-form replies are closed until they write again",
    )
}
