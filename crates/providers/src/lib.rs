//! # switchboard-providers
//!
//! Implements the provider ports of `switchboard-numbers` (number inventory, voice gateway,
//! WhatsApp senders) and `switchboard-email-identities` (SES identities and sending) two ways,
//! chosen once at start-up (`APP__PROVIDERS__MODE`):
//!
//! - **live**: HTTP clients for [`twilio`] (numbers, WhatsApp senders), [`vapi`] (phone-number
//!   import) and [`ses`] (the official AWS SDK for SES v2). Base URLs / endpoints come from
//!   configuration so tests point them at a local fake.
//! - **sandbox**: [`sandbox::Sandbox`], an in-process simulation with an inventory per country and
//!   failures on demand, loaded from `fixtures/sandbox.toml`; [`sandbox_ses::SandboxSes`] for email.
//!
//! [`sandbox()`] and [`live()`] bundle one implementation of each port as the services'
//! [`NumberProviders`].
//!
//! **Messaging** (the ports of `switchboard-channels`, SPEC §11): [`twilio::messaging`] sends SMS
//! and WhatsApp through Twilio Messages (`To`, `From`, `Body`, `StatusCallback`) and checks that a
//! `whatsapp:+E164` sender of the account is online (Messaging v2 senders, paged); [`meta`] sends
//! through Meta's Cloud API and verifies a phone number id, with the connection's access token
//! passed per call (never held by the client) and the Graph version from configuration. The
//! sandbox serves the same ports from the same [`Sandbox`] state (so senders registered while
//! provisioning are found), records what it sent, and fails on demand by the recipient's last
//! digits, a Meta token `invalid` or a phone number id `000000` (`[messaging]` in
//! `fixtures/sandbox.toml`). Refusals keep the provider's code (Twilio 21610 opted out, 21211
//! invalid `To`, 63016 / Meta 131047 closed window) for `SendRefusal::of` to pick out.
//! [`sandbox_messaging()`] and [`live_messaging()`] bundle them as [`MessagingProviders`].
//!
//! **Decisions**
//! - Every failure is mapped into [`ProviderError`] at this boundary, the same way for live and
//!   sandbox, so services decide retries and compensation without knowing who answered.
//! - Timeouts, connection failures, 429 and 5xx are `Unavailable`; so is a 2xx body we cannot
//!   read (the provider did something unexpected, the request may be worth repeating).
//! - Secrets (`auth_token`, `api_key`, `server_secret`, a Meta connection's `access_token`) live
//!   in `SecretString`, are exposed only while building a request, and never appear in an error
//!   message or a log line (a token Meta quotes back in an error is cut out).
//! - Wire DTOs are private, in the provider's casing, and parsed leniently (unknown fields ignored,
//!   optional fields optional) so a provider adding or varying a field does not break us.
//!
//! [`ProviderError`]: switchboard_core::ProviderError

mod http;
pub mod meta;
pub mod sandbox;
pub mod sandbox_ses;
pub mod ses;
pub mod twilio;
pub mod vapi;

use std::sync::Arc;

pub use switchboard_channels::MessagingProviders;
pub use switchboard_numbers::NumberProviders;

pub use meta::{MetaClient, MetaConfig};
pub use sandbox::{Sandbox, SandboxConfigError, SandboxMessage};
pub use sandbox_ses::SandboxSes;
pub use ses::{SesClient, SesConfig};
pub use twilio::{TwilioClient, TwilioConfig};
pub use vapi::{VapiClient, VapiConfig};

/// A live client could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{provider}: base URL `{url}` must be an absolute http(s) URL")]
    BaseUrl { provider: &'static str, url: String },
    #[error("{provider}: API version `{version}` must look like v23.0")]
    ApiVersion { provider: &'static str, version: String },
    #[error("{provider}: cannot build the HTTP client: {source}")]
    HttpClient {
        provider: &'static str,
        #[source]
        source: reqwest::Error,
    },
}

/// Every port served by the same sandbox (they share its state, so an import can see that the
/// number was bought).
pub fn sandbox(sandbox: Sandbox) -> NumberProviders {
    NumberProviders {
        inventory: Arc::new(sandbox.clone()),
        voice: Arc::new(sandbox.clone()),
        whatsapp: Arc::new(sandbox),
    }
}

/// The real providers: Twilio for numbers and WhatsApp senders, Vapi for voice.
pub fn live(twilio: TwilioConfig, vapi: VapiConfig) -> Result<NumberProviders, ConfigError> {
    let twilio = Arc::new(TwilioClient::new(twilio)?);
    let vapi = Arc::new(VapiClient::new(vapi)?);
    Ok(NumberProviders { inventory: twilio.clone(), voice: vapi, whatsapp: twilio })
}

/// The messaging ports (sending, Meta, WhatsApp sender checks) served by the same sandbox, so a
/// sender registered while provisioning a number is found by the sender check.
pub fn sandbox_messaging(sandbox: Sandbox) -> MessagingProviders {
    MessagingProviders {
        sender: Arc::new(sandbox.clone()),
        meta: Arc::new(sandbox.clone()),
        whatsapp_senders: Arc::new(sandbox),
    }
}

/// The real messaging providers: Twilio for SMS, WhatsApp through Twilio and its sender checks,
/// Meta's Cloud API for Meta connections.
pub fn live_messaging(twilio: TwilioConfig, meta: MetaConfig) -> Result<MessagingProviders, ConfigError> {
    let twilio = Arc::new(TwilioClient::new(twilio)?);
    let meta = Arc::new(MetaClient::new(meta)?);
    Ok(MessagingProviders { sender: twilio.clone(), meta, whatsapp_senders: twilio })
}

/// At most `max` characters (not bytes), cut on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// `None` for a missing or blank filter.
pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}
