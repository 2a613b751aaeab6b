//! # switchboard-tenancy
//!
//! Owns the tenants and who may act in them (SPEC §2).
//!
//! **Tables**: `workspaces`, `api_keys`, `system_flags`.
//!
//! **Invariants**
//! - An API key's secret (`sk_…`, 40 random alphanumerics ≈ 238 bits) is shown once, when it is
//!   issued, and never stored: the table holds its SHA-256 and an 8-character display prefix.
//!   A plain SHA-256 (not a password hash) is the right tool for a random high-entropy token: it
//!   lets authentication look the key up by its hash in one indexed query, with no per-request
//!   key-stretching cost, and a leaked table still reveals no usable key.
//! - A revoked key never authenticates again; the last active owner key of a workspace cannot be
//!   revoked (the workspace would be locked out — only the platform admin can create workspaces).
//! - Every query on `api_keys` is scoped by workspace, except [`service::authenticate`], whose
//!   input *is* the credential that names the workspace.
//! - `system_flags` rows are written once (primary key), which makes one-time work such as the
//!   demo seed happen once even when several replicas start together.

pub mod entity;
pub mod model;
pub mod service;
mod store;

pub use model::{ApiKey, IssuedApiKey, NewApiKey, NewWorkspace, Workspace};
pub use service::TenancyService;
/// Serialise work on one workspace inside a transaction (see the function's doc).
pub use store::lock_workspace;
