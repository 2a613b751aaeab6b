//! Twilio: buying, wiring and releasing numbers (REST 2010-04-01) and registering WhatsApp senders
//! (Messaging v2); sending messages and checking WhatsApp senders are in [`messaging`]. HTTP Basic
//! auth `AccountSid:AuthToken` on every request; every 2010 path ends in `.json` (without it
//! Twilio answers XML).
//!
//! **Area codes outside the US and Canada.** Twilio's `AreaCode` filter only works for US/CA. For
//! every other country the area code becomes a `Contains` pattern anchored at the start of the
//! E.164 number: `+` + calling code + area code (DE `30` → `Contains=+4930`), and the answer is
//! checked against that prefix again. Twilio has a single `Contains`, so when the query also has
//! `contains`, that part is applied here to the answer (substring of the digits), and a larger page
//! is requested so the filter has something to choose from. For a country missing from the small
//! calling-code table below, the area code is sent unanchored (`Contains=30`): best effort.
//!
//! **Error mapping** (classic `{code, message, more_info, status}` and RFC 9457
//! `{type, title, status, code, detail}` bodies; the HTTP status alone when the body is not JSON):
//! 21422 → `NotAvailable`; 404 / 20404 → `NotFound`; 401/403 → `Unauthorized`; 429, 5xx, timeouts
//! and connection errors → `Unavailable`; every other 4xx → `Rejected` with Twilio's code (or the
//! HTTP status when there is none).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{Country, E164, NumberType, ProviderError};
use switchboard_numbers::{
    AvailableNumber, Capabilities, NumberInventory, PurchasedNumber, SearchQuery, SenderRegistration,
    SenderStatus, WebhookTargets, WhatsappSenders,
};

use crate::{ConfigError, http, non_empty, truncate};

pub mod messaging;

const PROVIDER: &str = "twilio";

pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
pub const DEFAULT_MESSAGING_BASE_URL: &str = "https://messaging.twilio.com";

/// Twilio's `FriendlyName` limit.
const FRIENDLY_NAME_MAX: usize = 64;
/// Page size asked for when part of the filtering happens here.
const LOCAL_FILTER_PAGE: u32 = 100;

#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// REST 2010 base, `https://api.twilio.com`.
    pub base_url: String,
    /// Messaging v2 base, `https://messaging.twilio.com`.
    pub messaging_base_url: String,
    pub account_sid: String,
    pub auth_token: SecretString,
    /// Whole-request timeout (connect + answer).
    pub timeout: Duration,
}

/// The live Twilio client.
#[derive(Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: Url,
    messaging_base: Url,
    account_sid: String,
    auth_token: SecretString,
}

impl TwilioClient {
    pub fn new(config: TwilioConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: http::client(PROVIDER, config.timeout)?,
            base: http::base_url(PROVIDER, &config.base_url)?,
            messaging_base: http::base_url(PROVIDER, &config.messaging_base_url)?,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
        })
    }

    /// `{base}/2010-04-01/Accounts/{sid}/{rest…}`; the last segment carries `.json`.
    fn account_url(&self, rest: &[&str]) -> Url {
        let mut segments = vec!["2010-04-01", "Accounts", self.account_sid.as_str()];
        segments.extend_from_slice(rest);
        http::join(&self.base, &segments)
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
    }

    /// Sends, and turns any non-2xx answer into a [`ProviderError`]; returns the success body.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        op: &'static str,
    ) -> Result<Vec<u8>, ProviderError> {
        let (status, body) = http::send(PROVIDER, self.authed(request)).await?;
        tracing::debug!(provider = PROVIDER, op, status = status.as_u16(), "provider answered");
        if status.is_success() {
            Ok(body)
        } else {
            let err = error_from(status, &body);
            tracing::warn!(provider = PROVIDER, op, status = status.as_u16(), error = %err, "provider call failed");
            Err(err)
        }
    }
}

// ---- numbers -------------------------------------------------------------------------------

#[async_trait]
impl NumberInventory for TwilioClient {
    async fn search(&self, query: &SearchQuery) -> Result<Vec<AvailableNumber>, ProviderError> {
        let kind = match query.number_type {
            NumberType::Local => "Local.json",
            NumberType::Mobile => "Mobile.json",
            NumberType::TollFree => "TollFree.json",
        };
        let url = self.account_url(&["AvailablePhoneNumbers", query.country.as_str(), kind]);
        let plan = SearchPlan::new(query);
        let body = self.call(self.http.get(url).query(&plan.params), "search").await?;
        let page: AvailablePage = http::decode(PROVIDER, &body)?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        Ok(page
            .available_phone_numbers
            .into_iter()
            .filter_map(|item| available_from(item, query))
            .filter(|n| plan.keeps(&n.phone_number))
            .take(limit)
            .collect())
    }

    async fn purchase(
        &self,
        number: &E164,
        friendly_name: &str,
        hooks: &WebhookTargets,
    ) -> Result<PurchasedNumber, ProviderError> {
        let form = [
            ("PhoneNumber", number.as_str()),
            ("FriendlyName", truncate(friendly_name, FRIENDLY_NAME_MAX)),
            ("SmsUrl", &hooks.sms_url),
            ("SmsMethod", "POST"),
            ("StatusCallback", &hooks.voice_status_url),
            ("StatusCallbackMethod", "POST"),
        ];
        let url = self.account_url(&["IncomingPhoneNumbers.json"]);
        let body = self.call(self.http.post(url).form(&form), "purchase").await?;
        let bought: IncomingNumber = http::decode(PROVIDER, &body)?;
        Ok(PurchasedNumber {
            // Twilio echoes the number it sold; should it ever be unreadable, it is the one we asked for.
            phone_number: bought
                .phone_number
                .as_deref()
                .and_then(|p| E164::parse(p).ok())
                .unwrap_or_else(|| number.clone()),
            friendly_name: bought.friendly_name.unwrap_or_else(|| friendly_name.to_owned()),
            capabilities: capabilities_from(bought.capabilities.as_ref()),
            sid: bought.sid,
        })
    }

    async fn configure_webhooks(&self, sid: &str, hooks: &WebhookTargets) -> Result<(), ProviderError> {
        let form = [
            ("SmsUrl", hooks.sms_url.as_str()),
            ("SmsMethod", "POST"),
            ("StatusCallback", hooks.voice_status_url.as_str()),
            ("StatusCallbackMethod", "POST"),
        ];
        let url = self.account_url(&["IncomingPhoneNumbers", &format!("{sid}.json")]);
        self.call(self.http.post(url).form(&form), "configure_webhooks").await.map(drop)
    }

    async fn release(&self, sid: &str) -> Result<(), ProviderError> {
        let url = self.account_url(&["IncomingPhoneNumbers", &format!("{sid}.json")]);
        self.call(self.http.delete(url), "release").await.map(drop)
    }
}

/// Query parameters for Twilio plus what is filtered here afterwards (see the module doc).
#[derive(Debug)]
struct SearchPlan {
    params: Vec<(&'static str, String)>,
    /// Digits the E.164 number must start with (the area-code pattern, checked again).
    prefix: Option<String>,
    /// Digits the number must contain, when Twilio's `Contains` is taken by the area code.
    contains: Option<String>,
}

impl SearchPlan {
    fn new(q: &SearchQuery) -> Self {
        let area = non_empty(q.area_code.as_deref());
        let contains = non_empty(q.contains.as_deref());
        let mut plan = Self { params: Vec::new(), prefix: None, contains: None };

        let nanp = matches!(q.country.as_str(), "US" | "CA");
        match (area, nanp) {
            (Some(area), true) => plan.params.push(("AreaCode", area.to_owned())),
            (Some(area), false) => {
                match calling_code(q.country) {
                    Some(cc) => {
                        plan.params.push(("Contains", format!("+{cc}{area}")));
                        plan.prefix = Some(format!("{cc}{area}"));
                    }
                    None => plan.params.push(("Contains", area.to_owned())),
                }
                plan.contains = contains.map(str::to_owned);
            }
            (None, _) => {}
        }
        if plan.contains.is_none()
            && let Some(c) = contains
        {
            plan.params.push(("Contains", c.to_owned()));
        }

        for (name, wanted) in
            [("VoiceEnabled", q.voice), ("SmsEnabled", q.sms), ("MmsEnabled", q.mms), ("FaxEnabled", q.fax)]
        {
            if let Some(wanted) = wanted {
                plan.params.push((name, wanted.to_string()));
            }
        }

        let page = if plan.contains.is_some() { q.limit.max(LOCAL_FILTER_PAGE) } else { q.limit };
        plan.params.push(("PageSize", page.clamp(1, 1000).to_string()));
        plan
    }

    fn keeps(&self, number: &E164) -> bool {
        self.prefix.as_deref().is_none_or(|p| number.digits().starts_with(p))
            && self.contains.as_deref().is_none_or(|c| number.digits().contains(c))
    }
}

/// Calling codes of the countries we expect to search in; others get an unanchored pattern.
fn calling_code(country: Country) -> Option<&'static str> {
    Some(match country.as_str() {
        "US" | "CA" => "1",
        "DE" => "49",
        "AT" => "43",
        "CH" => "41",
        "GB" => "44",
        "FR" => "33",
        "NL" => "31",
        "BE" => "32",
        "LU" => "352",
        "ES" => "34",
        "IT" => "39",
        "PT" => "351",
        "IE" => "353",
        "DK" => "45",
        "SE" => "46",
        "NO" => "47",
        "FI" => "358",
        "PL" => "48",
        "CZ" => "420",
        "AU" => "61",
        "NZ" => "64",
        "BR" => "55",
        "MX" => "52",
        "JP" => "81",
        "IL" => "972",
        "ZA" => "27",
        _ => return None,
    })
}

#[derive(Deserialize)]
struct AvailablePage {
    #[serde(default)]
    available_phone_numbers: Vec<Value>,
}

/// One item of the search answer. Every field is nullable in Twilio's schema; `latitude` and
/// `longitude` (strings on the wire) are not read at all.
#[derive(Deserialize)]
struct AvailableItem {
    phone_number: Option<String>,
    friendly_name: Option<String>,
    locality: Option<String>,
    iso_country: Option<String>,
    capabilities: Option<serde_json::Map<String, Value>>,
}

/// Items that do not parse or whose number is not E.164 are skipped, not fatal: one odd number
/// must not hide the rest of the page.
fn available_from(item: Value, q: &SearchQuery) -> Option<AvailableNumber> {
    let item: AvailableItem = match serde_json::from_value(item) {
        Ok(item) => item,
        Err(e) => {
            tracing::warn!(provider = PROVIDER, error = %e, "skipping an unreadable available number");
            return None;
        }
    };
    let raw = item.phone_number.unwrap_or_default();
    let Ok(phone_number) = E164::parse(&raw) else {
        tracing::warn!(provider = PROVIDER, phone_number = %raw, "skipping an available number that is not E.164");
        return None;
    };
    Some(AvailableNumber {
        friendly_name: item.friendly_name.filter(|f| !f.is_empty()).unwrap_or_else(|| raw.clone()),
        locality: item.locality.filter(|l| !l.is_empty()),
        country: item.iso_country.and_then(|c| c.parse().ok()).unwrap_or(q.country),
        number_type: q.number_type,
        capabilities: capabilities_from(item.capabilities.as_ref()),
        phone_number,
    })
}

/// Capability keys vary in case (`sms`, `SMS`); a missing or non-boolean key counts as false.
fn capabilities_from(map: Option<&serde_json::Map<String, Value>>) -> Capabilities {
    let mut caps = Capabilities::default();
    for (key, value) in map.into_iter().flatten() {
        let on = value.as_bool().unwrap_or(false);
        match key.to_ascii_lowercase().as_str() {
            "voice" => caps.voice = on,
            "sms" => caps.sms = on,
            "mms" => caps.mms = on,
            "fax" => caps.fax = on,
            _ => {}
        }
    }
    caps
}

/// The parts of an IncomingPhoneNumber we keep.
#[derive(Deserialize)]
struct IncomingNumber {
    sid: String,
    phone_number: Option<String>,
    friendly_name: Option<String>,
    capabilities: Option<serde_json::Map<String, Value>>,
}

// ---- WhatsApp senders ----------------------------------------------------------------------

#[derive(Serialize)]
struct CreateSender<'a> {
    sender_id: String,
    profile: SenderProfile<'a>,
    webhook: SenderWebhook<'a>,
}

#[derive(Serialize)]
struct SenderProfile<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct SenderWebhook<'a> {
    callback_url: &'a str,
    callback_method: &'static str,
}

#[derive(Deserialize)]
struct Sender {
    sid: String,
    status: Option<String>,
}

#[async_trait]
impl WhatsappSenders for TwilioClient {
    async fn register(
        &self,
        number: &E164,
        display_name: &str,
        callback_url: &str,
    ) -> Result<SenderRegistration, ProviderError> {
        let body = CreateSender {
            sender_id: format!("whatsapp:{number}"),
            profile: SenderProfile { name: display_name },
            webhook: SenderWebhook { callback_url, callback_method: "POST" },
        };
        let url = http::join(&self.messaging_base, &["v2", "Channels", "Senders"]);
        let answer = self.call(self.http.post(url).json(&body), "register_whatsapp_sender").await?;
        let sender: Sender = http::decode(PROVIDER, &answer)?;
        // Only ONLINE can send; CREATING, PENDING_VERIFICATION, TWILIO_REVIEW, … are on their way.
        let status = match sender.status.as_deref() {
            Some("ONLINE") => SenderStatus::Registered,
            _ => SenderStatus::Pending,
        };
        Ok(SenderRegistration { sid: sender.sid, status })
    }
}

// ---- errors --------------------------------------------------------------------------------

/// Both error shapes in one lenient struct: classic (`code`, `message`) and RFC 9457 (`code`,
/// `title`, `detail`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<Value>,
    message: Option<String>,
    detail: Option<String>,
    title: Option<String>,
}

fn error_from(status: StatusCode, body: &[u8]) -> ProviderError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = match parsed.code {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let message = [parsed.message, parsed.detail, parsed.title]
        .into_iter()
        .flatten()
        .find(|m| !m.is_empty())
        .unwrap_or_else(|| http::status_message(status));
    let message = match &code {
        Some(code) => format!("{message} (Twilio error {code})"),
        None => message,
    };
    match code.as_deref() {
        Some("21422") => ProviderError::NotAvailable { provider: PROVIDER, message },
        Some("20404") => ProviderError::NotFound { provider: PROVIDER, message },
        Some("20429") => ProviderError::Unavailable { provider: PROVIDER, message },
        _ => http::by_status(PROVIDER, status, code, message),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn query(country: &str, area: Option<&str>, contains: Option<&str>) -> SearchQuery {
        SearchQuery {
            country: country.parse().unwrap(),
            number_type: NumberType::Local,
            area_code: area.map(str::to_owned),
            contains: contains.map(str::to_owned),
            voice: None,
            sms: Some(true),
            mms: None,
            fax: None,
            limit: 5,
        }
    }

    fn param<'a>(plan: &'a SearchPlan, name: &str) -> Option<&'a str> {
        plan.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn us_area_codes_use_area_code() {
        let plan = SearchPlan::new(&query("US", Some("415"), Some("555")));
        assert_eq!(param(&plan, "AreaCode"), Some("415"));
        assert_eq!(param(&plan, "Contains"), Some("555"));
        assert_eq!(param(&plan, "SmsEnabled"), Some("true"));
        assert_eq!(param(&plan, "PageSize"), Some("5"));
        assert!(plan.prefix.is_none() && plan.contains.is_none());
    }

    #[test]
    fn other_area_codes_become_an_anchored_contains() {
        let plan = SearchPlan::new(&query("DE", Some("30"), None));
        assert_eq!(param(&plan, "Contains"), Some("+4930"));
        assert_eq!(param(&plan, "AreaCode"), None);
        assert!(plan.keeps(&E164::parse("+49301234567").unwrap()));
        assert!(!plan.keeps(&E164::parse("+49891304567").unwrap()));
    }

    #[test]
    fn contains_is_filtered_here_when_the_area_code_takes_the_pattern() {
        let plan = SearchPlan::new(&query("DE", Some("30"), Some("777")));
        assert_eq!(plan.params.iter().filter(|(n, _)| *n == "Contains").count(), 1);
        assert_eq!(param(&plan, "PageSize"), Some("100"));
        assert!(plan.keeps(&E164::parse("+49307771234").unwrap()));
        assert!(!plan.keeps(&E164::parse("+49301234567").unwrap()));
    }

    #[test]
    fn unknown_countries_get_an_unanchored_area_pattern() {
        let plan = SearchPlan::new(&query("KE", Some("20"), None));
        assert_eq!(param(&plan, "Contains"), Some("20"));
        assert!(plan.prefix.is_none());
    }

    #[test]
    fn capability_keys_are_case_insensitive() {
        let map = serde_json::json!({"voice": true, "SMS": true, "MMS": null, "Fax": "yes"});
        let caps = capabilities_from(map.as_object());
        assert_eq!(caps, Capabilities { voice: true, sms: true, mms: false, fax: false });
        assert_eq!(capabilities_from(None), Capabilities::default());
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("Zürich", 2), "Zü");
        assert_eq!(truncate("abc", 64), "abc");
    }
}
