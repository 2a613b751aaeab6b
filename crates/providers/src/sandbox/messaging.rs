//! The sandbox's messaging: Twilio Messages (SMS and WhatsApp), Meta's Cloud API and the Twilio
//! WhatsApp sender check, on the same [`Sandbox`] (so a sender registered while provisioning is
//! found by the check). Failures on demand come from `[messaging]` in `fixtures/sandbox.toml`,
//! with the providers' own codes, so `SendRefusal::of` reads them as it reads the live ones:
//!
//! - **Recipients** (`To`), by their last digits — `opted_out` (`0000`): Twilio 21610, for Meta
//!   no meaning (sent); `invalid_recipient` (`0011`): Twilio 21211, Meta 100; `unreachable`
//!   (`0012`): Twilio 21612, Meta 131026; `window_closed` (`0047`), WhatsApp only: Twilio 63016,
//!   Meta 131047; `unavailable` (`0503`): `Unavailable`, as in an outage.
//! - **Bodies**: empty is Twilio 21602 / Meta 100; longer than 1600 (Twilio) or 4096 (Meta)
//!   characters is Twilio 21617 / Meta 100.
//! - **Meta**: a token in `meta_invalid_tokens` (`invalid`) or an empty one is `Unauthorized`
//!   (190); a phone number id in `meta_unknown_phone_number_ids` (`000000`) is `NotFound`
//!   (100/33), like one that is not digits. Any other id answers with a display number made from
//!   its last seven digits (`+1 555-xxx-xxxx`) and the name `Sandbox Business`.
//! - **WhatsApp senders**: a number registered here answers its registration (`Registered` →
//!   verified, `Pending` → pending); a number whose registration the sandbox refuses
//!   (`whatsapp_rejected`) is not a sender; by last digits, `sender_not_found` (`0404`) is not a
//!   sender, `sender_offline` (`0410`) is offline, `sender_pending` (`0202`) is pending,
//!   `unavailable` (`0503`) is `Unavailable`; every other number is verified, as if registered
//!   outside this process (demo numbers are seeded, not bought here).
//!
//! The sender's own number is not checked (seeded demo numbers were never bought here). Ids are
//! shaped like the providers' — `SM` + 32 hex digits, `wamid.` + 32 upper-case hex digits — and
//! unique across processes and restarts, as theirs are (the scale-out proof caught two API
//! processes minting the same id when ids counted per process).

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{
    MessageChannel, MessageSender, MetaMessenger, MetaPhoneNumber, OutgoingMessage, SentMessage,
    Verification, VerificationStatus, WhatsappSenderDirectory, whatsapp_address,
};
use switchboard_core::{E164, ProviderError};
use switchboard_numbers::SenderStatus;

use super::{Sandbox, TWILIO, matches_any};

const META: &str = "meta";
/// Twilio's `Body` limit.
const TWILIO_BODY_MAX: usize = 1600;
/// Meta's `text.body` limit.
const META_BODY_MAX: usize = 4096;

/// A message the sandbox accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxMessage {
    /// `twilio` or `meta`.
    pub provider: &'static str,
    pub provider_message_id: String,
    pub channel: MessageChannel,
    /// As the provider got it: `+E164` (SMS), `whatsapp:+E164` (Twilio WhatsApp), or the Meta
    /// phone number id.
    pub from: String,
    pub to: E164,
    pub body: String,
    pub status_callback: Option<String>,
}

/// `[messaging]` of the sandbox TOML.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct MessagingFile {
    #[serde(default)]
    opted_out: Vec<String>,
    #[serde(default)]
    invalid_recipient: Vec<String>,
    #[serde(default)]
    unreachable: Vec<String>,
    #[serde(default)]
    window_closed: Vec<String>,
    #[serde(default)]
    unavailable: Vec<String>,
    #[serde(default)]
    sender_not_found: Vec<String>,
    #[serde(default)]
    sender_offline: Vec<String>,
    #[serde(default)]
    sender_pending: Vec<String>,
    #[serde(default)]
    meta_invalid_tokens: Vec<String>,
    #[serde(default)]
    meta_unknown_phone_number_ids: Vec<String>,
}

/// The same, checked: suffixes and ids are digits, tokens are not empty.
#[derive(Debug, Default)]
pub(super) struct MessagingRules {
    opted_out: Vec<String>,
    invalid_recipient: Vec<String>,
    unreachable: Vec<String>,
    window_closed: Vec<String>,
    unavailable: Vec<String>,
    sender_not_found: Vec<String>,
    sender_offline: Vec<String>,
    sender_pending: Vec<String>,
    meta_invalid_tokens: Vec<String>,
    meta_unknown_phone_number_ids: Vec<String>,
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl MessagingFile {
    pub(super) fn into_rules(self) -> Result<MessagingRules, String> {
        let digits = |key: &str, list: Vec<String>| -> Result<Vec<String>, String> {
            match list.iter().find(|s| !is_digits(s)) {
                Some(bad) => Err(format!("messaging.{key}: `{bad}` must be digits")),
                None => Ok(list),
            }
        };
        if self.meta_invalid_tokens.iter().any(String::is_empty) {
            return Err("messaging.meta_invalid_tokens: a token cannot be empty".into());
        }
        Ok(MessagingRules {
            opted_out: digits("opted_out", self.opted_out)?,
            invalid_recipient: digits("invalid_recipient", self.invalid_recipient)?,
            unreachable: digits("unreachable", self.unreachable)?,
            window_closed: digits("window_closed", self.window_closed)?,
            unavailable: digits("unavailable", self.unavailable)?,
            sender_not_found: digits("sender_not_found", self.sender_not_found)?,
            sender_offline: digits("sender_offline", self.sender_offline)?,
            sender_pending: digits("sender_pending", self.sender_pending)?,
            meta_invalid_tokens: self.meta_invalid_tokens,
            meta_unknown_phone_number_ids: digits(
                "meta_unknown_phone_number_ids",
                self.meta_unknown_phone_number_ids,
            )?,
        })
    }
}

fn ends_with_any(suffixes: &[String], number: &E164) -> bool {
    suffixes.iter().any(|s| number.digits().ends_with(s.as_str()))
}

/// What the recipient's last digits ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recipient {
    Fine,
    OptedOut,
    Invalid,
    Unreachable,
    WindowClosed,
    Outage,
}

impl MessagingRules {
    fn recipient(&self, to: &E164, whatsapp: bool) -> Recipient {
        if ends_with_any(&self.unavailable, to) {
            Recipient::Outage
        } else if ends_with_any(&self.opted_out, to) {
            Recipient::OptedOut
        } else if ends_with_any(&self.invalid_recipient, to) {
            Recipient::Invalid
        } else if ends_with_any(&self.unreachable, to) {
            Recipient::Unreachable
        } else if whatsapp && ends_with_any(&self.window_closed, to) {
            Recipient::WindowClosed
        } else {
            Recipient::Fine
        }
    }
}

fn outage(provider: &'static str, to: &E164) -> ProviderError {
    ProviderError::Unavailable {
        provider,
        message: format!("sandbox: simulated outage while sending to {to}"),
    }
}

fn twilio_rejected(code: &str, message: String) -> ProviderError {
    ProviderError::Rejected {
        provider: TWILIO,
        code: code.into(),
        message: format!("{message} (Twilio error {code})"),
    }
}

fn meta_rejected(code: &str, message: &str) -> ProviderError {
    ProviderError::Rejected {
        provider: META,
        code: code.into(),
        message: format!("{message} (Meta error {code})"),
    }
}

fn meta_not_found(phone_number_id: &str) -> ProviderError {
    ProviderError::NotFound {
        provider: META,
        message: format!(
            "Unsupported request. Object with ID '{phone_number_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation (Meta error 100, subcode 33)"
        ),
    }
}

impl Sandbox {
    /// Meta's checks of a call, in Graph's order: the id's form (no request in the live
    /// client either), the token, then whether the id exists.
    fn meta_check(&self, phone_number_id: &str, token: &SecretString) -> Result<(), ProviderError> {
        let rules = &self.catalog.messaging;
        if !is_digits(phone_number_id) {
            return Err(meta_not_found(phone_number_id));
        }
        let token = token.expose_secret();
        if token.is_empty() || rules.meta_invalid_tokens.iter().any(|t| t == token) {
            return Err(ProviderError::Unauthorized {
                provider: META,
                message: "Invalid OAuth access token - Cannot parse access token (Meta error 190)".into(),
            });
        }
        if rules.meta_unknown_phone_number_ids.iter().any(|id| id == phone_number_id) {
            return Err(meta_not_found(phone_number_id));
        }
        Ok(())
    }

    fn record(&self, kind: &'static str, message: SandboxMessage) -> String {
        let mut state = self.state();
        // Unique like the provider's own: two processes (or one restarted) sending to the same
        // recipient must not mint the same id, or their messages would be taken for one.
        let hex = super::hex128(&format!("{kind}:{}:{}", message.to, switchboard_core::MessageId::new()));
        let id = match kind {
            "wamid" => format!("wamid.{}", hex.to_ascii_uppercase()),
            _ => format!("{kind}{hex}"),
        };
        state.messages.push(SandboxMessage { provider_message_id: id.clone(), ..message });
        id
    }
}

#[async_trait]
impl MessageSender for Sandbox {
    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, ProviderError> {
        let whatsapp = message.channel == MessageChannel::Whatsapp;
        let rules = &self.catalog.messaging;
        let to = &message.to;
        let recipient = rules.recipient(to, whatsapp);
        if recipient == Recipient::Outage {
            return Err(outage(TWILIO, to));
        }
        if message.body.trim().is_empty() {
            return Err(twilio_rejected("21602", "Message body is required.".into()));
        }
        if message.body.chars().count() > TWILIO_BODY_MAX {
            return Err(twilio_rejected(
                "21617",
                "The concatenated message body exceeds the 1600 character limit.".into(),
            ));
        }
        let (from, to_address) = if whatsapp {
            (whatsapp_address(&message.from), whatsapp_address(to))
        } else {
            (message.from.to_string(), to.to_string())
        };
        match recipient {
            Recipient::OptedOut => {
                return Err(twilio_rejected("21610", "Attempt to send to unsubscribed recipient".into()));
            }
            Recipient::Invalid => {
                return Err(twilio_rejected("21211", format!("Invalid 'To' Phone Number: {to_address}")));
            }
            Recipient::Unreachable => {
                return Err(twilio_rejected(
                    "21612",
                    format!(
                        "The 'To' phone number: {to_address}, is not currently reachable using the 'From' phone number: {from}"
                    ),
                ));
            }
            Recipient::WindowClosed => {
                return Err(twilio_rejected(
                    "63016",
                    "Failed to send freeform message because you are outside the allowed window. Please use a Message Template.".into(),
                ));
            }
            Recipient::Fine | Recipient::Outage => {}
        }
        let id = self.record(
            "SM",
            SandboxMessage {
                provider: TWILIO,
                provider_message_id: String::new(),
                channel: message.channel,
                from,
                to: to.clone(),
                body: message.body.clone(),
                status_callback: message.status_callback.clone(),
            },
        );
        Ok(SentMessage { provider_message_id: id, status: MessageStatus::Queued })
    }
}

#[async_trait]
impl MetaMessenger for Sandbox {
    async fn send_text(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        to: &E164,
        body: &str,
    ) -> Result<SentMessage, ProviderError> {
        self.meta_check(phone_number_id, access_token)?;
        match self.catalog.messaging.recipient(to, true) {
            Recipient::Outage => return Err(outage(META, to)),
            Recipient::Invalid => return Err(meta_rejected("100", "(#100) Invalid parameter: to")),
            Recipient::Unreachable => return Err(meta_rejected("131026", "Message undeliverable")),
            Recipient::WindowClosed => {
                return Err(meta_rejected(
                    "131047",
                    "Re-engagement message: more than 24 hours have passed since the recipient last replied",
                ));
            }
            // WhatsApp has no provider-side STOP list; our own opt-outs are checked before sending.
            Recipient::OptedOut | Recipient::Fine => {}
        }
        if body.trim().is_empty() {
            return Err(meta_rejected("100", "(#100) The parameter text['body'] is required."));
        }
        if body.chars().count() > META_BODY_MAX {
            return Err(meta_rejected(
                "100",
                "(#100) Param text['body'] must be at most 4096 characters long.",
            ));
        }
        let id = self.record(
            "wamid",
            SandboxMessage {
                provider: META,
                provider_message_id: String::new(),
                channel: MessageChannel::Whatsapp,
                from: phone_number_id.to_owned(),
                to: to.clone(),
                body: body.to_owned(),
                status_callback: None,
            },
        );
        Ok(SentMessage { provider_message_id: id, status: MessageStatus::Queued })
    }

    async fn verify(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
    ) -> Result<MetaPhoneNumber, ProviderError> {
        self.meta_check(phone_number_id, access_token)?;
        let tail = format!("{phone_number_id:0>7}");
        let tail = &tail[tail.len() - 7..];
        Ok(MetaPhoneNumber {
            id: phone_number_id.to_owned(),
            display_phone_number: Some(format!("+1 555-{}-{}", &tail[..3], &tail[3..])),
            verified_name: Some("Sandbox Business".into()),
            quality_rating: Some("GREEN".into()),
        })
    }
}

#[async_trait]
impl WhatsappSenderDirectory for Sandbox {
    async fn verify_sender(&self, number: &E164) -> Result<Verification, ProviderError> {
        let rules = &self.catalog.messaging;
        let address = whatsapp_address(number);
        let verdict = |status, message: String| Ok(Verification { status, message });
        if ends_with_any(&rules.unavailable, number) {
            return Err(ProviderError::Unavailable {
                provider: TWILIO,
                message: format!("sandbox: simulated outage while looking up {address}"),
            });
        }
        if let Some(registration) = self.sender_of(number) {
            return match registration.status {
                SenderStatus::Registered => {
                    verdict(VerificationStatus::Verified, format!("{address} is online"))
                }
                SenderStatus::Pending => verdict(
                    VerificationStatus::Pending,
                    format!("{address} is not online yet (Twilio status PENDING_VERIFICATION)"),
                ),
            };
        }
        let not_a_sender = || {
            verdict(
                VerificationStatus::Failed,
                format!("{address} is not a WhatsApp sender of this Twilio account"),
            )
        };
        if matches_any(&self.catalog.failures.whatsapp_rejected, number).is_some()
            || ends_with_any(&rules.sender_not_found, number)
        {
            return not_a_sender();
        }
        if ends_with_any(&rules.sender_offline, number) {
            return verdict(
                VerificationStatus::Failed,
                format!("{address} is offline: sandbox: simulated offline sender"),
            );
        }
        if ends_with_any(&rules.sender_pending, number) {
            return verdict(
                VerificationStatus::Pending,
                format!("{address} is not online yet (Twilio status TWILIO_REVIEW)"),
            );
        }
        verdict(VerificationStatus::Verified, format!("{address} is online"))
    }
}
