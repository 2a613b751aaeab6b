//! # switchboard-phone-lines
//!
//! Multilingual hotlines (SPEC §5): existing Vapi phone numbers linked to an agent, each with
//! exactly one language, so every call on a line runs in that language whatever the caller's
//! country. Linking creates nothing at a provider.
//!
//! **Table**: `phone_lines`.
//!
//! **Invariants**
//! - A Vapi phone-number id is linked to at most one line — across all workspaces, since one Vapi
//!   number can only be answered one way (unique index; 409 `vapi_id_taken`).
//! - Every query is scoped by workspace and agent, except the call-path lookups
//!   ([`PhoneLineService::route_for_vapi_id`], [`PhoneLineService::route_for_number`]): the
//!   provider's webhook names only the number, and the line found names the workspace.
//! - Inactive lines are ignored at call time; with no active line the agent detects the language.

mod entity;
pub mod model;
pub mod service;
mod store;

pub use model::{LinePatch, LineRoute, NewLine, PhoneLine};
pub use service::PhoneLineService;
