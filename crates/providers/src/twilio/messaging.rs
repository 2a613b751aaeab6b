//! Twilio's side of conversations: sending a message (REST 2010 Messages) and checking that a
//! WhatsApp sender of the account is online (Messaging v2 Channels Senders).
//!
//! **Send.** `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`, `Body`
//! and `StatusCallback`; WhatsApp addresses carry the `whatsapp:` channel prefix on both `To` and
//! `From`. Twilio answers 201 with the Message (`sid` `SM…`/`MM…`, `status` normally `queued`).
//! Refusals keep Twilio's code (`Rejected`): 21610 the recipient unsubscribed, 21211 an invalid
//! `To`, 21408/21612/21614 not routable, 21606 a `From` that is not ours, 63016 outside the
//! WhatsApp window; the caller picks the ones it answers itself with `SendRefusal::of`.
//!
//! **Sender check.** The senders list cannot be filtered by address, so
//! `GET /v2/Channels/Senders?Channel=whatsapp&PageSize=1000` is read page by page (following
//! `meta.next_page_url`, at most [`MAX_SENDER_PAGES`] pages) until `sender_id` matches. The next
//! page's path and query are replayed against the configured base, so the account's credentials
//! only ever go to that host.

use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{
    MessageChannel, MessageSender, OutgoingMessage, SentMessage, Verification, VerificationStatus,
    WhatsappSenderDirectory, whatsapp_address,
};
use switchboard_core::{E164, ProviderError};

use super::{PROVIDER, TwilioClient};
use crate::http;

/// Page size asked for when listing senders (Twilio's maximum).
const SENDER_PAGE_SIZE: &str = "1000";
/// Bound on the pages read while looking for one sender.
pub const MAX_SENDER_PAGES: usize = 20;

/// `+E164` for SMS, `whatsapp:+E164` for WhatsApp.
fn address(channel: MessageChannel, number: &E164) -> String {
    match channel {
        MessageChannel::Sms => number.as_str().to_owned(),
        MessageChannel::Whatsapp => whatsapp_address(number),
    }
}

/// The parts of a Message resource we keep.
#[derive(Deserialize)]
struct Message {
    sid: String,
    status: Option<String>,
}

#[async_trait]
impl MessageSender for TwilioClient {
    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, ProviderError> {
        let to = address(message.channel, &message.to);
        let from = address(message.channel, &message.from);
        let mut form = vec![("To", to.as_str()), ("From", from.as_str()), ("Body", message.body.as_str())];
        if let Some(callback) = message.status_callback.as_deref() {
            form.push(("StatusCallback", callback));
        }
        let url = self.account_url(&["Messages.json"]);
        let body = self.call(self.http.post(url).form(&form), "send_message").await?;
        let sent: Message = http::decode(PROVIDER, &body)?;
        Ok(SentMessage {
            provider_message_id: sent.sid,
            // A fresh send is `queued` (or `accepted`); anything unreadable is treated as queued.
            status: sent
                .status
                .as_deref()
                .and_then(MessageStatus::from_provider)
                .unwrap_or(MessageStatus::Queued),
        })
    }
}

#[derive(Deserialize)]
struct SenderPage {
    #[serde(default)]
    senders: Vec<Value>,
    meta: Option<PageMeta>,
}

#[derive(Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// One listed sender; every field is optional so one odd item cannot hide the others.
#[derive(Deserialize)]
struct ListedSender {
    sender_id: Option<String>,
    status: Option<String>,
    properties: Option<SenderProperties>,
    offline_reasons: Option<Vec<OfflineReason>>,
}

#[derive(Deserialize)]
struct SenderProperties {
    quality_rating: Option<String>,
    messaging_limit: Option<String>,
}

#[derive(Deserialize)]
struct OfflineReason {
    code: Option<Value>,
    message: Option<String>,
}

impl ListedSender {
    /// Whether `sender_id` is `whatsapp:{number}` (prefix in any case, number normalised).
    fn is(&self, number: &E164) -> bool {
        let Some(id) = self.sender_id.as_deref() else { return false };
        id.get(..9).is_some_and(|prefix| prefix.eq_ignore_ascii_case("whatsapp:"))
            && id.get(9..).and_then(|rest| E164::parse(rest).ok()).as_ref() == Some(number)
    }
}

/// Twilio's sender status as a verdict with a sentence.
fn verdict(address: &str, sender: ListedSender) -> Verification {
    let status = sender.status.unwrap_or_default();
    let (status, message) = match status.as_str() {
        "ONLINE" | "ONLINE:UPDATING" => {
            let details: Vec<String> = sender
                .properties
                .map(|p| {
                    [
                        p.quality_rating.map(|q| format!("quality {q}")),
                        p.messaging_limit.map(|l| format!("limit {l}")),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect()
                })
                .unwrap_or_default();
            let message = if details.is_empty() {
                format!("{address} is online")
            } else {
                format!("{address} is online ({})", details.join(", "))
            };
            (VerificationStatus::Verified, message)
        }
        "CREATING" | "PENDING_VERIFICATION" | "VERIFYING" | "TWILIO_REVIEW" | "DRAFT" | "STUBBED" => {
            (VerificationStatus::Pending, format!("{address} is not online yet (Twilio status {status})"))
        }
        "OFFLINE" => {
            let reasons: Vec<String> = sender
                .offline_reasons
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| {
                    let code = match r.code {
                        Some(Value::String(s)) if !s.is_empty() => Some(s),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    };
                    match (r.message.filter(|m| !m.is_empty()), code) {
                        (Some(m), Some(c)) => Some(format!("{m} ({c})")),
                        (Some(m), None) => Some(m),
                        (None, Some(c)) => Some(format!("error {c}")),
                        (None, None) => None,
                    }
                })
                .collect();
            let message = if reasons.is_empty() {
                format!("{address} is offline")
            } else {
                format!("{address} is offline: {}", reasons.join("; "))
            };
            (VerificationStatus::Failed, message)
        }
        "" => (VerificationStatus::Failed, format!("{address} has no status at Twilio")),
        other => (VerificationStatus::Failed, format!("{address} is not online (Twilio status {other})")),
    };
    Verification { status, message }
}

impl TwilioClient {
    /// `next` (an absolute URL Twilio gave) replayed against the configured messaging base: its
    /// path and query, our scheme, host and port (and path prefix, if any).
    fn next_page(&self, next: &str) -> Option<Url> {
        let next = Url::parse(next).ok()?;
        let mut url = self.messaging_base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{}", next.path()));
        url.set_query(next.query());
        Some(url)
    }
}

#[async_trait]
impl WhatsappSenderDirectory for TwilioClient {
    async fn verify_sender(&self, number: &E164) -> Result<Verification, ProviderError> {
        let address = whatsapp_address(number);
        let mut url = http::join(&self.messaging_base, &["v2", "Channels", "Senders"]);
        url.query_pairs_mut().append_pair("Channel", "whatsapp").append_pair("PageSize", SENDER_PAGE_SIZE);
        for _ in 0..MAX_SENDER_PAGES {
            let body = self.call(self.http.get(url.clone()), "list_whatsapp_senders").await?;
            let page: SenderPage = http::decode(PROVIDER, &body)?;
            let found = page
                .senders
                .into_iter()
                .filter_map(|item| match serde_json::from_value::<ListedSender>(item) {
                    Ok(sender) => Some(sender),
                    Err(e) => {
                        tracing::warn!(provider = PROVIDER, error = %e, "skipping an unreadable WhatsApp sender");
                        None
                    }
                })
                .find(|sender| sender.is(number));
            if let Some(sender) = found {
                return Ok(verdict(&address, sender));
            }
            match page.meta.and_then(|m| m.next_page_url).filter(|u| !u.is_empty()) {
                Some(next) => match self.next_page(&next) {
                    Some(next) => url = next,
                    None => break,
                },
                None => break,
            }
        }
        Ok(Verification {
            status: VerificationStatus::Failed,
            message: format!("{address} is not a WhatsApp sender of this Twilio account"),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sender(json: Value) -> ListedSender {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn sender_ids_match_by_number() {
        let number = E164::parse("+14155550142").unwrap();
        assert!(sender(serde_json::json!({"sender_id": "whatsapp:+14155550142"})).is(&number));
        assert!(sender(serde_json::json!({"sender_id": "WhatsApp:+14155550142"})).is(&number));
        assert!(!sender(serde_json::json!({"sender_id": "whatsapp:+14155550143"})).is(&number));
        assert!(!sender(serde_json::json!({"sender_id": "rcs:+14155550142"})).is(&number));
        assert!(!sender(serde_json::json!({"sender_id": null})).is(&number));
    }

    #[test]
    fn statuses_become_verdicts() {
        let v = |status: &str| verdict("whatsapp:+1", sender(serde_json::json!({"status": status}))).status;
        assert_eq!(v("ONLINE"), VerificationStatus::Verified);
        assert_eq!(v("ONLINE:UPDATING"), VerificationStatus::Verified);
        for pending in ["CREATING", "PENDING_VERIFICATION", "VERIFYING", "TWILIO_REVIEW", "DRAFT", "STUBBED"]
        {
            assert_eq!(v(pending), VerificationStatus::Pending, "{pending}");
        }
        assert_eq!(v("OFFLINE"), VerificationStatus::Failed);
        assert_eq!(v("SOMETHING_NEW"), VerificationStatus::Failed);
    }
}
