//! # switchboard-channels
//!
//! The agent's "Channels & Integrations" card (SPEC §8, settings part): the WhatsApp number and
//! switch, the Vapi assistant id, the tool and notification webhook addresses and the
//! notification email; the notification inbox ([`notifications`]); and the storage of
//! conversations ([`conversations`]) and opt-outs ([`opt_outs`]) that webhook-ingest appends to,
//! with their API (list, status machine, replies through the provider); WhatsApp connections
//! ([`whatsapp`]); the signed notification webhooks, their
//! retries and delivery log, and notification mail ([`webhooks`]).
//!
//! **Tables**: `agent_channels` (one row per agent, made on the first change; absent = defaults),
//! `notifications`, `conversations`, `conversation_messages`, `opt_outs`; for outgoing
//! notification webhooks and mail ([`webhooks`]): `webhook_endpoints`, `webhook_deliveries`,
//! `webhook_attempts`, `notification_emails`; `whatsapp_connections`.
//! The WhatsApp number itself lives on the agent, where provisioning fills it in.
//!
//! **Invariants**
//! - Webhook addresses are [`PublicUrl`]s: https, no credentials, no internal host — checked here
//!   when saved, and again at every request by `switchboard-outbound`.
//! - WhatsApp can be switched on only with a WhatsApp number.
//! - Reading needs `read`; changing needs `channels_write` (owner, admin); WhatsApp connections
//!   `whatsapp_write`; replies `messages_send`, close/archive/reopen/AI/escalate
//!   `conversations_manage` (every role); deleting a conversation `conversations_delete`.
//! - A Meta access token is stored only sealed and never returned or logged.
//!
//! [`PublicUrl`]: switchboard_core::net::PublicUrl

pub mod conversations;
mod entity;
pub mod model;
pub mod notifications;
pub mod opt_outs;
pub mod ports;
pub mod service;
pub mod webhooks;
pub mod whatsapp;

pub use conversations::Channel;
pub use conversations::service::{ConversationService, Transition};
pub use model::{ChannelSettings, ChannelsPatch};
pub use ports::{
    MessageChannel, MessageSender, MessagingProviders, MetaMessenger, MetaPhoneNumber, OutgoingMessage,
    SendRefusal, SentMessage, Verification, VerificationStatus, WhatsappSenderDirectory,
};
pub use service::{ChannelService, ChannelSnapshot, snapshot};
pub use whatsapp::WhatsappService;
