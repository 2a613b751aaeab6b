//! # switchboard-core
//!
//! The vocabulary every other Switchboard crate speaks. It owns no tables and depends on no other
//! workspace crate (nor on axum, reqwest, `config` or a tracing subscriber), so services that reuse
//! Switchboard as a library can take it on its own.
//!
//! - [`id`]: typed, prefixed, time-ordered ids (`ws_…`, `agt_…`) — a value that exists is valid.
//! - [`phone`]: [`E164`] phone numbers, normalised the one way the spec names (SPEC §6).
//! - [`money`]: exact [`Money`] in fixed point (1/10 000 of a unit), never floating point.
//! - [`period`]: calendar-month [`Period`]s in an IANA zone, and the [`Zone`] type.
//! - [`error`]: [`ErrorKind`] + stable snake_case codes + field errors; the shared [`Error`].
//! - [`ctx`]: the request context [`Ctx`] (workspace + role) and the permission table of SPEC §2.
//! - [`page`]: cursor pagination (`limit`, `cursor` → `{data, next_cursor}`).
//! - [`db`]: connecting to SQLite (WAL) or PostgreSQL, and classifying database errors.
//! - [`language`]: the nine line languages.
//! - [`net`]: [`net::PublicUrl`] — an https URL whose host may be called from our servers (SSRF rules).
//! - [`telephony`]: [`Country`] and [`NumberType`]; [`provider`]: [`ProviderError`].
//! - [`time`]: `now()` at the precision both engines store (microseconds).
//!
//! Invariant: parsing happens at the edge. Functions that take these types never re-validate them.

mod string_form;

pub mod ctx;
pub mod db;
pub mod email;
pub mod error;
pub mod id;
pub mod language;
pub mod money;
pub mod net;
pub mod page;
pub mod patch;
pub mod period;
pub mod phone;
pub mod provider;
pub mod secret_box;
pub mod telephony;
pub mod text;
pub mod time;

pub use ctx::{Ctx, Permission, Principal, Role};
pub use error::{DomainError, Error, ErrorKind, FieldError};
pub use id::{
    AgentId, ApiKeyId, ConversationId, ForwardingTargetId, InboundEventId, LedgerEntryId, MessageId,
    NotificationId, NumberId, OptOutId, PhoneLineId, WebhookDeliveryId, WhatsappConnectionId, WorkspaceId,
};
pub use language::Language;
pub use money::{Amount, Currency, Money};
pub use page::{Page, PageRequest};
pub use period::{Period, Zone};
pub use phone::E164;
pub use provider::ProviderError;
pub use telephony::{Country, NumberType};

/// The result type of Switchboard's shared operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
