//! # switchboard-inbound
//!
//! What the providers tell us (SPEC §10), made durable and turned into effects: inbound SMS and
//! WhatsApp messages, message and call statuses, Vapi's call events, Meta's WhatsApp events and
//! SES feedback via SNS. `switchboard-webhook-ingest` authenticates a request, reads it into
//! [`NewEvent`]s ([`payload`]), stores them ([`Persister`]), acknowledges, and hands them to
//! [`Processor`]; billing-cron and the ingest's start-up process whatever is still pending
//! ([`InboundService::process_pending`]).
//!
//! **Table**: `inbound_events`. (Conversations and opt-outs, which processing writes, belong to
//! `switchboard-channels`; usage and charges to `switchboard-billing`.)
//!
//! **Invariants**
//! - **Stored before acknowledged, once per provider id.** `(provider, kind, external_id)` is
//!   unique and events are inserted with `ON CONFLICT DO NOTHING`: a redelivery inserts nothing
//!   and is acknowledged as a duplicate. The request is answered only after the insert committed.
//! - **Processing is idempotent**, so an event processed twice (a crash between effect and
//!   settling, the sweep racing a worker, two billing-cron hosts) has its effects once: SMS and
//!   calls are counted and charged by keys of the provider's ids (`sms:<MessageSid>`,
//!   `call:<CallSid>`), conversation messages are unique by provider id, opt-outs by contact.
//!   An event is settled (`received` → `processed | dropped | unroutable | failed`) by a
//!   conditional update, so only the first settling counts.
//! - **Routing happens in processing**, not in the request: the request path authenticates,
//!   parses and stores; a number nobody holds is settled `unroutable` (the provider was already
//!   answered 200, so it does not retry what can never be delivered).
//! - **Calls meet on one key.** Vapi's `end-of-call-report` and Twilio's call status both settle
//!   `call:<CallSid>` (Vapi gives the CallSid as `call.phoneCallProviderId`), and the
//!   reservation made at `assistant-request` uses the same key.
//! - Events Vapi waits for (`assistant-request`, `transfer-destination-request`) are answered at
//!   once and stored already settled with their outcome.
//! - **Messages settle in batches, set by set.** A worker takes everything queued (up to
//!   [`InboundService::BATCH`]) and settles its Twilio messages in one transaction, taking the
//!   month counters first in one shared order so concurrent batches cannot deadlock. Each step is
//!   one statement for the whole batch (the usage records, the ledger entries, the conversations,
//!   the messages, the events' settling) but locking and adding to the counters, which is one per
//!   number and workspace touched. A failed batch is retried message by message, so one bad event
//!   fails alone.
//! - A failing event is retried (by the sweep and billing-cron) and left `failed` after
//!   [`InboundService::MAX_ATTEMPTS`] attempts — never deleted.

mod entity;
mod gate;
pub mod model;
pub mod payload;
mod persister;
mod processor;
mod service;
pub mod store;

pub use gate::WriteGate;
pub use model::{
    EventKind, EventRecord, EventState, NewEvent, Outcome, PendingSummary, Persisted, Provider, StoredEvent,
};
pub use payload::{Malformed, TwilioParams, VapiMessage};
pub use persister::{PersistError, Persister};
pub use processor::{Processor, Workers};
pub use service::{InboundService, VapiAnswer, Wiring};
