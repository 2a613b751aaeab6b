//! # switchboard-email-identities
//!
//! Email for agents (SPEC §7): the inbound alias on the system domain, the reply-from sender, and
//! the sender's verification at AWS SES v2. This crate owns the **ports** it needs from the email
//! provider ([`ports`]); `switchboard-providers` implements them for SES (the official AWS SDK)
//! and for the sandbox. (The aliases, the verification state machine and the API follow.)

mod entity;
pub mod model;
pub mod ports;
pub mod service;

pub use model::{DnsRecord, EmailPatch, EmailView, IdentityView, VerifyRequest, parse_alias};
pub use ports::{
    EmailIdentityProvider, EmailSender, IdentityKind, IdentityState, OutgoingEmail, VerificationStatus,
};
pub use service::{EmailService, workspaces_sending_as};
