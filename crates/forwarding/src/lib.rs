//! # switchboard-forwarding
//!
//! People or departments the AI may connect a caller to (SPEC §6), and when they can be reached.
//!
//! **Table**: `forwarding_targets` (aliases and opening hours as JSON text).
//!
//! - [`hours`]: the opening-hours engine — weekday intervals, overnight intervals, dated
//!   exceptions, evaluated in the target's IANA zone (or the agent's), DST-correct.
//! - [`matching`]: spoken names against names and aliases, case- and accent-insensitive.
//! - [`service`]: CRUD, `available` at an instant, `resolve` a spoken name, and for the call
//!   path the open targets as Vapi transfer destinations.
//!
//! **Invariants**: every query is scoped by workspace and agent; changes need `targets_write`;
//! stored opening hours are always the validated, normalised wire form.

mod entity;
pub mod hours;
pub mod matching;
pub mod model;
pub mod service;
mod store;

pub use model::{ForwardingTarget, NewTarget, TargetPatch, TransferMode};
pub use service::{ForwardingService, ResolvedTarget, TargetStatus, TransferDecision, TransferDestination};
