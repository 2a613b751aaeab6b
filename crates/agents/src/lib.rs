//! # switchboard-agents
//!
//! The AI agents of a workspace (SPEC §3): name (1–120), status `draft | live | paused`, IANA time
//! zone, language (one of the nine line languages, default `de`).
//!
//! **Table**: `agents`.
//!
//! **Invariants**
//! - Every query is scoped by workspace ([`store`]); another workspace's agent is `not_found`.
//! - Creating and changing agents needs `agents_write` (owner, admin); reading needs `read`.
//! - An agent created without a time zone gets the workspace's zone *at that moment*, stored
//!   explicitly, so later changes of the workspace never move an agent's opening hours silently.
//! - Only a `live` agent may have numbers or WhatsApp connections enabled; later crates read
//!   [`Agent::is_live`] for that rule.

mod entity;
pub mod model;
pub mod service;
mod store;

pub use model::{Agent, AgentFilter, AgentPatch, AgentStatus, NewAgent};
pub use service::AgentService;
/// Fill in an agent's WhatsApp number inside another crate's transaction (provisioning).
pub use store::{fill_whatsapp_number, set_whatsapp_number};
