//! Meta's WhatsApp Cloud API (Graph API): sending a text message from a connection's phone
//! number and checking that the phone number id answers with the connection's token.
//! `Authorization: Bearer <access token>` on every request — the token belongs to the connection
//! and is passed per call, never stored in the client; the Graph version is part of every path
//! (`/v23.0/…`) and comes from configuration.
//!
//! **Send.** `POST /{version}/{phone_number_id}/messages` with
//! `{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "<digits>",
//! "type": "text", "text": {"body", "preview_url": false}}` — `recipient_type` always, as the
//! published spec requires it. The answer's `messages[0].id` (`wamid.…`) is the message id.
//!
//! **Verify.** `GET /{version}/{phone_number_id}`: `id`, `display_phone_number`, `verified_name`,
//! `quality_rating` (the default fields, so no `fields` parameter).
//!
//! **Errors** arrive as `{"error": {message, type, code, error_subcode, is_transient,
//! error_data {details}, fbtrace_id}}` (the details join the message; the trace id goes to the
//! log line), mapped by code first: `is_transient` → `Unavailable`; 190 (token invalid or
//! expired), 102, 104, 10 and 200–299 (permissions) → `Unauthorized`; 4, 17, 32, 613, 80007,
//! 130429, 131056 (rate limits) and 1, 2, 131000, 131016 (Meta's own trouble) → `Unavailable`;
//! 803, and 100 with subcode 33 (no such object) → `NotFound`; in `verify`, whose only parameter is
//! the id, every other 100 is `NotFound` too. Everything else goes by HTTP status (404
//! `NotFound`, 401/403 `Unauthorized`, 429/5xx `Unavailable`, other 4xx `Rejected` with Meta's code
//! — e.g. 131047, the closed 24-hour window). Graph sometimes quotes a malformed token in its
//! message, so the token is cut out of every message before it becomes an error.
//!
//! A phone number id that is not all digits is `NotFound` without a request (Meta's ids are
//! numeric; an empty one would address the API's root instead).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{MetaMessenger, MetaPhoneNumber, SentMessage};
use switchboard_core::{E164, ProviderError};

use crate::{ConfigError, http};

const PROVIDER: &str = "meta";

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version the client was written against (`business-messaging-api_v23.0.yaml`).
pub const DEFAULT_API_VERSION: &str = "v23.0";

#[derive(Debug, Clone)]
pub struct MetaConfig {
    /// `https://graph.facebook.com`.
    pub base_url: String,
    /// `v23.0`: `v`, digits, a dot, digits.
    pub api_version: String,
    /// Whole-request timeout (connect + answer).
    pub timeout: Duration,
}

/// Whether `version` is a Graph API version as paths carry it: `v`, digits, a dot, digits.
pub fn is_api_version(version: &str) -> bool {
    version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(major, minor)| {
        [major, minor].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The live Cloud API client. Holds no credentials: each call brings the connection's token.
#[derive(Debug)]
pub struct MetaClient {
    http: reqwest::Client,
    base: Url,
    version: String,
}

/// What a call was, for the parts of error mapping that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Send,
    Verify,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Send => "send_whatsapp_message",
            Op::Verify => "verify_phone_number",
        }
    }
}

impl MetaClient {
    pub fn new(config: MetaConfig) -> Result<Self, ConfigError> {
        let version = config.api_version.trim();
        if !is_api_version(version) {
            return Err(ConfigError::ApiVersion { provider: PROVIDER, version: config.api_version });
        }
        Ok(Self {
            http: http::client(PROVIDER, config.timeout)?,
            base: http::base_url(PROVIDER, &config.base_url)?,
            version: version.to_owned(),
        })
    }

    /// `{base}/{version}/{phone_number_id}/{rest…}`, after checking the id is digits.
    fn url(&self, phone_number_id: &str, rest: &[&str]) -> Result<Url, ProviderError> {
        if phone_number_id.is_empty() || !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProviderError::NotFound {
                provider: PROVIDER,
                message: format!("`{phone_number_id}` is not a phone number id (Meta's ids are digits)"),
            });
        }
        let mut segments = vec![self.version.as_str(), phone_number_id];
        segments.extend_from_slice(rest);
        Ok(http::join(&self.base, &segments))
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
        op: Op,
    ) -> Result<Vec<u8>, ProviderError> {
        let request = request.bearer_auth(token.expose_secret());
        let (status, body) = http::send(PROVIDER, request).await?;
        tracing::debug!(provider = PROVIDER, op = op.name(), status = status.as_u16(), "provider answered");
        if status.is_success() {
            Ok(body)
        } else {
            let (err, trace) = error_from(op, status, &body, token);
            tracing::warn!(
                provider = PROVIDER,
                op = op.name(),
                status = status.as_u16(),
                fbtrace_id = trace.as_deref().unwrap_or(""),
                error = %err,
                "provider call failed"
            );
            Err(err)
        }
    }
}

#[derive(Serialize)]
struct SendText<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    to: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    text: Text<'a>,
}

#[derive(Serialize)]
struct Text<'a> {
    body: &'a str,
    preview_url: bool,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    messages: Vec<SentItem>,
}

#[derive(Deserialize)]
struct SentItem {
    id: Option<String>,
}

#[derive(Deserialize)]
struct PhoneNumber {
    id: Option<String>,
    display_phone_number: Option<String>,
    verified_name: Option<String>,
    quality_rating: Option<String>,
}

#[async_trait]
impl MetaMessenger for MetaClient {
    async fn send_text(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        to: &E164,
        body: &str,
    ) -> Result<SentMessage, ProviderError> {
        let url = self.url(phone_number_id, &["messages"])?;
        let message = SendText {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to: to.digits(),
            kind: "text",
            text: Text { body, preview_url: false },
        };
        let answer = self.call(self.http.post(url).json(&message), access_token, Op::Send).await?;
        let sent: SendAnswer = http::decode(PROVIDER, &answer)?;
        let id =
            sent.messages.into_iter().find_map(|m| m.id.filter(|id| !id.is_empty())).ok_or_else(|| {
                ProviderError::Unavailable {
                    provider: PROVIDER,
                    message: "unexpected response body: no message id".into(),
                }
            })?;
        // Meta's `message_status` (accepted, held_for_quality_assessment, paused) all mean "not
        // sent yet"; `sent`, `delivered` and `read` arrive by webhook.
        Ok(SentMessage { provider_message_id: id, status: MessageStatus::Queued })
    }

    async fn verify(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
    ) -> Result<MetaPhoneNumber, ProviderError> {
        let url = self.url(phone_number_id, &[])?;
        let answer = self.call(self.http.get(url), access_token, Op::Verify).await?;
        let number: PhoneNumber = http::decode(PROVIDER, &answer)?;
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(MetaPhoneNumber {
            id: non_empty(number.id).unwrap_or_else(|| phone_number_id.to_owned()),
            display_phone_number: non_empty(number.display_phone_number),
            verified_name: non_empty(number.verified_name),
            quality_rating: non_empty(number.quality_rating),
        })
    }
}

// ---- errors --------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    error: Option<GraphError>,
}

/// Graph's error object, every field optional.
#[derive(Deserialize, Default)]
struct GraphError {
    message: Option<String>,
    error_user_msg: Option<String>,
    code: Option<Value>,
    error_subcode: Option<Value>,
    is_transient: Option<bool>,
    fbtrace_id: Option<String>,
    /// `{"details": "…"}` on Cloud API errors: what exactly was wrong.
    error_data: Option<Value>,
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `message` with every occurrence of the token cut out.
fn redact(message: &str, token: &SecretString) -> String {
    let token = token.expose_secret();
    if token.is_empty() { message.to_owned() } else { message.replace(token, "[redacted]") }
}

/// The error, and Meta's trace id for the log line.
fn error_from(
    op: Op,
    status: StatusCode,
    body: &[u8],
    token: &SecretString,
) -> (ProviderError, Option<String>) {
    let error = serde_json::from_slice::<ErrorEnvelope>(body).unwrap_or_default().error.unwrap_or_default();
    let code = int(error.code.as_ref());
    let subcode = int(error.error_subcode.as_ref());
    let text = [error.message, error.error_user_msg]
        .into_iter()
        .flatten()
        .find(|m| !m.is_empty())
        .unwrap_or_else(|| http::status_message(status));
    let details = error.error_data.as_ref().and_then(|d| d.get("details")).and_then(Value::as_str);
    let text = match details.filter(|d| !d.is_empty()) {
        Some(details) => format!("{text}: {details}"),
        None => text,
    };
    let message = match (code, subcode) {
        (Some(code), Some(sub)) => format!("{} (Meta error {code}, subcode {sub})", redact(&text, token)),
        (Some(code), None) => format!("{} (Meta error {code})", redact(&text, token)),
        _ => redact(&text, token),
    };
    let trace = error.fbtrace_id.map(|t| redact(&t, token));

    let err = if error.is_transient == Some(true) {
        ProviderError::Unavailable { provider: PROVIDER, message }
    } else {
        match code {
            Some(190 | 102 | 104 | 10 | 200..=299) => {
                ProviderError::Unauthorized { provider: PROVIDER, message }
            }
            Some(4 | 17 | 32 | 613 | 80007 | 130_429 | 131_056 | 1 | 2 | 131_000 | 131_016) => {
                ProviderError::Unavailable { provider: PROVIDER, message }
            }
            Some(803) => ProviderError::NotFound { provider: PROVIDER, message },
            Some(100) if subcode == Some(33) || op == Op::Verify => {
                ProviderError::NotFound { provider: PROVIDER, message }
            }
            _ => http::by_status(PROVIDER, status, code.map(|c| c.to_string()), message),
        }
    };
    (err, trace)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(version: &str) -> MetaConfig {
        MetaConfig {
            base_url: DEFAULT_BASE_URL.into(),
            api_version: version.into(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_api_version_must_look_like_v23_0() {
        assert!(MetaClient::new(config("v23.0")).is_ok());
        assert!(MetaClient::new(config("v9.10")).is_ok());
        for bad in ["23.0", "v23", "v23.", "v.0", "vX.0", "", "v23.0/x"] {
            assert!(MetaClient::new(config(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_decide_before_the_status() {
        let token = SecretString::from("EAAtoken");
        let err = |op, status: u16, body: &str| {
            error_from(op, StatusCode::from_u16(status).unwrap(), body.as_bytes(), &token).0
        };
        let graph = |code: i64, sub: Option<i64>| match sub {
            Some(sub) => format!(r#"{{"error":{{"message":"m","code":{code},"error_subcode":{sub}}}}}"#),
            None => format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#),
        };
        assert!(matches!(err(Op::Send, 400, &graph(190, Some(463))), ProviderError::Unauthorized { .. }));
        assert!(matches!(err(Op::Send, 400, &graph(4, None)), ProviderError::Unavailable { .. }));
        assert!(matches!(err(Op::Send, 400, &graph(100, Some(33))), ProviderError::NotFound { .. }));
        assert!(matches!(err(Op::Send, 400, &graph(100, None)), ProviderError::Rejected { .. }));
        assert!(matches!(err(Op::Verify, 400, &graph(100, None)), ProviderError::NotFound { .. }));
        assert!(matches!(err(Op::Verify, 404, &graph(803, None)), ProviderError::NotFound { .. }));
        assert!(matches!(
            err(Op::Send, 403, &graph(200, Some(1_349_174))),
            ProviderError::Unauthorized { .. }
        ));
        let transient = r#"{"error":{"message":"m","code":131047,"is_transient":true}}"#;
        assert!(matches!(err(Op::Send, 400, transient), ProviderError::Unavailable { .. }));
        match err(Op::Send, 400, &graph(131_047, None)) {
            ProviderError::Rejected { code, message, .. } => {
                assert_eq!(code, "131047");
                assert_eq!(message, "m (Meta error 131047)");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_token_quoted_by_meta_is_cut_out() {
        let token = SecretString::from("EAAGm0PX4ZCpsBAK");
        let body = r#"{"error":{"message":"Malformed access token EAAGm0PX4ZCpsBAK","type":"OAuthException","code":190,"fbtrace_id":"A1"}}"#;
        let (err, trace) = error_from(Op::Verify, StatusCode::UNAUTHORIZED, body.as_bytes(), &token);
        assert_eq!(
            err.to_string(),
            "meta refused our credentials: Malformed access token [redacted] (Meta error 190)"
        );
        assert_eq!(trace.as_deref(), Some("A1"));
    }
}
