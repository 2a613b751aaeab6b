//! Value types of the numbers domain.

use serde::{Deserialize, Serialize};
use switchboard_core::{Country, E164, NumberType};
use utoipa::ToSchema;

/// What a number can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub fax: bool,
}

/// A search for numbers for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub country: Country,
    pub number_type: NumberType,
    /// Digits of an area code / prefix (national, without the trunk 0).
    pub area_code: Option<String>,
    /// Digits the number must contain.
    pub contains: Option<String>,
    /// Capabilities the number must have (`None`: no filter).
    pub voice: Option<bool>,
    pub sms: Option<bool>,
    pub mms: Option<bool>,
    pub fax: Option<bool>,
    /// At most this many results.
    pub limit: u32,
}

/// A number a provider has for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableNumber {
    pub phone_number: E164,
    /// National format, e.g. `030 1234567` or `(415) 555-0100`.
    pub friendly_name: String,
    pub locality: Option<String>,
    pub country: Country,
    pub number_type: NumberType,
    pub capabilities: Capabilities,
}

/// Where the provider must send a number's traffic (all under `public_base_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTargets {
    /// Inbound SMS and WhatsApp messages: `<base>/twilio/messages`.
    pub sms_url: String,
    /// Call status callbacks: `<base>/twilio/voice/status`.
    pub voice_status_url: String,
    /// Vapi server URL (assistant-request and call events): `<base>/vapi/events`.
    pub vapi_server_url: String,
}

impl WebhookTargets {
    /// The targets under `public_base_url` (no trailing slash).
    pub fn under(public_base_url: &str) -> Self {
        let base = public_base_url.trim_end_matches('/');
        Self {
            sms_url: format!("{base}/twilio/messages"),
            voice_status_url: format!("{base}/twilio/voice/status"),
            vapi_server_url: format!("{base}/vapi/events"),
        }
    }
}

/// A number just bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchasedNumber {
    /// The provider's id (Twilio `PN…`).
    pub sid: String,
    pub phone_number: E164,
    pub friendly_name: String,
    pub capabilities: Capabilities,
}
