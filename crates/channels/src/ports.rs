//! What conversations and WhatsApp connections need from providers (SPEC §11): sending a text
//! message, and checking that a connection's sender answers. Implemented by
//! `switchboard-providers` for the real APIs (Twilio Messages and Messaging v2 senders, Meta's
//! WhatsApp Cloud API) and for the sandbox; used as `Arc<dyn …>`.
//!
//! Failures arrive as [`ProviderError`] (`Unavailable` for timeouts, 5xx and 429 — worth a retry;
//! `Unauthorized` when credentials are refused; `NotFound` when a sender or phone number id does
//! not exist; `Rejected` with the provider's own code otherwise). The refusals a conversation
//! reports with a code of its own — an opted-out recipient, an invalid recipient, a closed
//! WhatsApp window — are picked out by [`SendRefusal::of`], the same way for live and sandbox.
//!
//! Access tokens of Meta connections are [`SecretString`]s: exposed only while building the
//! request, never in an error message, a `Debug` output or a log line.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use switchboard_core::{E164, ProviderError};
use utoipa::ToSchema;

use crate::conversations::{Channel, MessageStatus};

/// The channel of a message sent through Twilio Messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageChannel {
    /// From and to plain E.164 numbers.
    Sms,
    /// From and to `whatsapp:+E164` addresses.
    Whatsapp,
}

impl From<MessageChannel> for Channel {
    fn from(channel: MessageChannel) -> Self {
        match channel {
            MessageChannel::Sms => Channel::Sms,
            MessageChannel::Whatsapp => Channel::Whatsapp,
        }
    }
}

/// `whatsapp:+14155550142`: how Twilio names a WhatsApp sender or recipient.
pub fn whatsapp_address(number: &E164) -> String {
    format!("whatsapp:{number}")
}

/// The number of a `whatsapp:+E164` address typed exactly in that form (no spaces, no
/// punctuation, lowercase prefix); `None` for anything else.
pub fn parse_whatsapp_address(address: &str) -> Option<E164> {
    let raw = address.strip_prefix("whatsapp:")?;
    E164::parse(raw).ok().filter(|n| n.as_str() == raw)
}

/// A text message to send through Twilio (SMS, or WhatsApp with a Twilio sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub channel: MessageChannel,
    /// Our number (SMS) or WhatsApp sender's number; sent as `whatsapp:+E164` for WhatsApp.
    pub from: E164,
    pub to: E164,
    /// The text; Twilio takes up to 1600 characters.
    pub body: String,
    /// Where Twilio posts this message's status callbacks (webhook-ingest's message status
    /// route). Conversations always pass one; `None` sends without.
    pub status_callback: Option<String>,
}

/// What the provider answered to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// Twilio's `SM…`/`MM…` sid, or Meta's `wamid.…` — the id status callbacks carry.
    pub provider_message_id: String,
    /// The status at creation (normally `Queued`; later ones arrive by callback).
    pub status: MessageStatus,
}

/// Sending through Twilio Messages (`POST /2010-04-01/Accounts/{sid}/Messages.json`).
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Sends `message`. An opted-out recipient is `Rejected` with Twilio's code 21610, an
    /// invalid one with 21211 (see [`SendRefusal::of`]).
    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, ProviderError>;
}

/// A WhatsApp Business phone number as Meta describes it (`GET /{version}/{phone_number_id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaPhoneNumber {
    /// The Phone Number ID.
    pub id: String,
    /// As Meta formats it, e.g. `+1 555-555-5555`.
    pub display_phone_number: Option<String>,
    /// The business name WhatsApp shows.
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `NA`.
    pub quality_rating: Option<String>,
}

/// Meta's WhatsApp Cloud API, with the access token of the connection (not of configuration).
#[async_trait]
pub trait MetaMessenger: Send + Sync {
    /// Sends a text message from the connection's phone number
    /// (`POST /{version}/{phone_number_id}/messages`). A closed customer-service window is
    /// `Rejected` with Meta's code 131047; a refused token `Unauthorized`; an unknown phone
    /// number id `NotFound`.
    async fn send_text(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        to: &E164,
        body: &str,
    ) -> Result<SentMessage, ProviderError>;

    /// Whether the phone number id answers with this token (`GET /{version}/{phone_number_id}`):
    /// the number's details, `Unauthorized` for a refused token (Meta 190), `NotFound` for an
    /// unknown id (Meta 100/803).
    async fn verify(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
    ) -> Result<MetaPhoneNumber, ProviderError>;
}

/// The verdict of a connection check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ConnectionVerificationStatus)]
pub enum VerificationStatus {
    /// The sender answers and can send.
    Verified,
    /// The sender exists but is still being set up at the provider; check again later.
    Pending,
    /// The sender does not exist, is offline, or the credentials were refused.
    Failed,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Verified => "verified",
            VerificationStatus::Pending => "pending",
            VerificationStatus::Failed => "failed",
        }
    }
}

/// A verdict and a sentence saying why, for the connection's `verification` (SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub status: VerificationStatus,
    pub message: String,
}

impl Verification {
    /// The verdict of a Meta [`MetaMessenger::verify`]: the number's details are `Verified`;
    /// a refused token, an unknown id or another refusal is `Failed` with the provider's
    /// message; only `Unavailable` (no verdict: try again) stays an error.
    pub fn of_meta(answer: Result<MetaPhoneNumber, ProviderError>) -> Result<Self, ProviderError> {
        let failed = |message: String| Ok(Self { status: VerificationStatus::Failed, message });
        match answer {
            Ok(number) => {
                let shown = match (&number.display_phone_number, &number.verified_name) {
                    (Some(phone), Some(name)) => format!("{phone} ({name})"),
                    (Some(phone), None) => phone.clone(),
                    (None, Some(name)) => name.clone(),
                    (None, None) => format!("phone number id {}", number.id),
                };
                Ok(Self {
                    status: VerificationStatus::Verified,
                    message: format!("{shown} answers with this access token"),
                })
            }
            Err(ProviderError::Unauthorized { message, .. }) => {
                failed(format!("Meta refused the access token: {message}"))
            }
            Err(ProviderError::NotFound { message, .. }) => {
                failed(format!("Meta does not know this phone number id: {message}"))
            }
            Err(ProviderError::Rejected { message, .. } | ProviderError::NotAvailable { message, .. }) => {
                failed(format!("Meta refused the check: {message}"))
            }
            Err(e @ ProviderError::Unavailable { .. }) => Err(e),
        }
    }
}

/// The WhatsApp senders of our Twilio account (Messaging v2 Channels Senders).
#[async_trait]
pub trait WhatsappSenderDirectory: Send + Sync {
    /// Whether `whatsapp:{number}` is a WhatsApp sender of the account and online. Every answer
    /// about the sender is a [`Verification`] — `Verified` when `ONLINE`, `Pending` while Twilio
    /// or Meta still set it up, `Failed` when offline or not in the account; an error means Twilio
    /// gave no verdict (`Unavailable`, or `Unauthorized`: our own credentials).
    async fn verify_sender(&self, number: &E164) -> Result<Verification, ProviderError>;
}

/// A provider refusal that a conversation answers with a code of its own (SPEC §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The recipient unsubscribed at the provider (Twilio 21610, after STOP): 409
    /// `recipient_opted_out`, and record the opt-out.
    RecipientOptedOut,
    /// The recipient's number cannot receive messages at all (Twilio 21211, invalid `To`).
    InvalidRecipient,
    /// WhatsApp's 24-hour customer-service window is closed (Meta 131047, Twilio 63016): 409
    /// `whatsapp_window_closed`.
    WindowClosed,
}

impl SendRefusal {
    /// The refusal `err` stands for; `None` for any other failure, which keeps its own kind.
    pub fn of(err: &ProviderError) -> Option<Self> {
        let ProviderError::Rejected { provider, code, .. } = err else { return None };
        match (*provider, code.as_str()) {
            ("twilio", "21610") => Some(SendRefusal::RecipientOptedOut),
            ("twilio", "21211") => Some(SendRefusal::InvalidRecipient),
            ("twilio", "63016") | ("meta", "131047") => Some(SendRefusal::WindowClosed),
            _ => None,
        }
    }

    /// The stable API code.
    pub fn code(self) -> &'static str {
        match self {
            SendRefusal::RecipientOptedOut => "recipient_opted_out",
            SendRefusal::InvalidRecipient => "invalid_recipient",
            SendRefusal::WindowClosed => "whatsapp_window_closed",
        }
    }
}

/// One implementation of each messaging port, of one mode (sandbox or live).
#[derive(Clone)]
pub struct MessagingProviders {
    pub sender: Arc<dyn MessageSender>,
    pub meta: Arc<dyn MetaMessenger>,
    pub whatsapp_senders: Arc<dyn WhatsappSenderDirectory>,
}

impl std::fmt::Debug for MessagingProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingProviders").finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_addresses_round_trip_and_must_be_exact() {
        let number = E164::parse("+14155550142").unwrap();
        assert_eq!(whatsapp_address(&number), "whatsapp:+14155550142");
        assert_eq!(parse_whatsapp_address("whatsapp:+14155550142"), Some(number));
        for bad in ["+14155550142", "WhatsApp:+14155550142", "whatsapp:+1 415 555 0142", "whatsapp:", ""] {
            assert_eq!(parse_whatsapp_address(bad), None, "{bad}");
        }
    }

    fn rejected(provider: &'static str, code: &str) -> ProviderError {
        ProviderError::Rejected { provider, code: code.into(), message: "m".into() }
    }

    #[test]
    fn refusals_are_picked_by_provider_and_code() {
        assert_eq!(SendRefusal::of(&rejected("twilio", "21610")), Some(SendRefusal::RecipientOptedOut));
        assert_eq!(SendRefusal::of(&rejected("twilio", "21211")), Some(SendRefusal::InvalidRecipient));
        assert_eq!(SendRefusal::of(&rejected("meta", "131047")), Some(SendRefusal::WindowClosed));
        assert_eq!(SendRefusal::of(&rejected("twilio", "63016")), Some(SendRefusal::WindowClosed));
        assert_eq!(SendRefusal::of(&rejected("meta", "21610")), None);
        assert_eq!(SendRefusal::of(&rejected("twilio", "21612")), None);
        let unavailable = ProviderError::Unavailable { provider: "twilio", message: "21610".into() };
        assert_eq!(SendRefusal::of(&unavailable), None);
        assert_eq!(SendRefusal::RecipientOptedOut.code(), "recipient_opted_out");
    }

    #[test]
    fn meta_answers_become_verdicts_except_an_outage() {
        let number = MetaPhoneNumber {
            id: "106540352242922".into(),
            display_phone_number: Some("+1 555-078-3881".into()),
            verified_name: Some("Acme".into()),
            quality_rating: Some("GREEN".into()),
        };
        let ok = Verification::of_meta(Ok(number)).unwrap();
        assert_eq!(ok.status, VerificationStatus::Verified);
        assert_eq!(ok.message, "+1 555-078-3881 (Acme) answers with this access token");

        let token = ProviderError::Unauthorized { provider: "meta", message: "Invalid OAuth".into() };
        assert_eq!(Verification::of_meta(Err(token)).unwrap().status, VerificationStatus::Failed);
        let unknown = ProviderError::NotFound { provider: "meta", message: "no such id".into() };
        let failed = Verification::of_meta(Err(unknown)).unwrap();
        assert_eq!(failed.status, VerificationStatus::Failed);
        assert!(failed.message.contains("no such id"), "{}", failed.message);

        let down = ProviderError::Unavailable { provider: "meta", message: "timed out".into() };
        assert!(Verification::of_meta(Err(down)).is_err());
    }
}
