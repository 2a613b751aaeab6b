//! What the numbers domain needs from providers. Implemented by `switchboard-providers` for the
//! real APIs (Twilio, Vapi) and for the sandbox; used as `Arc<dyn …>`.
//!
//! Every method maps the provider's failures into [`ProviderError`]: `NotAvailable` when a number
//! was sold meanwhile (try the next candidate), `NotFound` when the resource is gone (a release of
//! a number already gone counts as released), `Unavailable` for timeouts, 5xx and 429.

use async_trait::async_trait;
use switchboard_core::{E164, ProviderError};

use crate::model::{AvailableNumber, PurchasedNumber, SearchQuery, WebhookTargets};

/// Buying, wiring and releasing numbers (Twilio IncomingPhoneNumbers / AvailablePhoneNumbers).
#[async_trait]
pub trait NumberInventory: Send + Sync {
    /// Numbers for sale. An empty list is not an error.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<AvailableNumber>, ProviderError>;

    /// Buys `number`, pointing its SMS webhook and call status callback at `hooks`.
    async fn purchase(
        &self,
        number: &E164,
        friendly_name: &str,
        hooks: &WebhookTargets,
    ) -> Result<PurchasedNumber, ProviderError>;

    /// Points an owned number's SMS webhook and call status callback at `hooks` again.
    async fn configure_webhooks(&self, sid: &str, hooks: &WebhookTargets) -> Result<(), ProviderError>;

    /// Gives the number back. `NotFound` when it is already gone.
    async fn release(&self, sid: &str) -> Result<(), ProviderError>;
}

/// The voice AI's side of a number (Vapi phone numbers).
#[async_trait]
pub trait VoiceGateway: Send + Sync {
    /// Imports a bought number with no fixed assistant (so every call asks `server_url` which
    /// assistant answers) and SMS left with us (`smsEnabled: false`). Returns the Vapi id.
    async fn import_number(
        &self,
        number: &E164,
        name: &str,
        server_url: &str,
    ) -> Result<String, ProviderError>;

    /// Points an imported number at `server_url` again.
    async fn update_server_url(&self, vapi_id: &str, server_url: &str) -> Result<(), ProviderError>;

    /// Removes the number from Vapi. `NotFound` when it is already gone.
    async fn remove_number(&self, vapi_id: &str) -> Result<(), ProviderError>;
}

/// Result of registering a number as a WhatsApp sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRegistration {
    /// The provider's sender id (Twilio `XE…`).
    pub sid: String,
    pub status: SenderStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderStatus {
    /// Online and able to send.
    Registered,
    /// Accepted; verification or review still running.
    Pending,
}

/// WhatsApp sender registration (Twilio Messaging v2 Channels Senders).
#[async_trait]
pub trait WhatsappSenders: Send + Sync {
    /// Registers `number` as a WhatsApp sender with `display_name`, inbound messages to `callback_url`.
    async fn register(
        &self,
        number: &E164,
        display_name: &str,
        callback_url: &str,
    ) -> Result<SenderRegistration, ProviderError>;
}
