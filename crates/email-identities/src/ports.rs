//! What the email domain needs from its provider (AWS SES v2 or the sandbox).
//!
//! Failures arrive as [`ProviderError`]: `NotFound` when an identity does not exist,
//! `Unavailable` for throttling, timeouts and 5xx, `Rejected` for refusals such as a sender that
//! is not verified at SES, `Unauthorized` for refused credentials.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchboard_core::ProviderError;
use utoipa::ToSchema;

/// What is being verified: one address, or a whole domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// SES mails a confirmation link to the address.
    Address,
    /// SES checks three DKIM CNAME records in the domain's DNS.
    Domain,
}

/// SES's verification status of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    NotStarted,
    Pending,
    Verified,
    Failed,
    TemporaryFailure,
}

/// An identity as the provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// The address or domain.
    pub identity: String,
    pub kind: IdentityKind,
    pub status: VerificationStatus,
    /// Whether SES will send from it (SES's `VerifiedForSendingStatus`).
    pub verified_for_sending: bool,
    /// DKIM tokens of a domain identity: publish `<token>._domainkey.<domain>` CNAME
    /// `<token>.dkim.amazonses.com` for each. Empty for address identities.
    pub dkim_tokens: Vec<String>,
}

/// Creating and checking sender identities (SES v2 `CreateEmailIdentity`, `GetEmailIdentity`).
#[async_trait]
pub trait EmailIdentityProvider: Send + Sync {
    /// Creates the identity for `identity` (an address or a domain). If it already exists, answers
    /// its current state instead (creating twice is not an error).
    async fn create_identity(
        &self,
        identity: &str,
        kind: IdentityKind,
    ) -> Result<IdentityState, ProviderError>;

    /// The identity's current state; `NotFound` when it does not exist.
    async fn get_identity(&self, identity: &str) -> Result<IdentityState, ProviderError>;
}

/// A plain-text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The sender address; must be a verified identity (or in a verified domain).
    pub from: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// Sending email (SES v2 `SendEmail`).
#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Sends the message; answers the provider's message id.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, ProviderError>;
}
