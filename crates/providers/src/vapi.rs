//! Vapi: importing our Twilio numbers so Vapi answers their calls. `Authorization: Bearer
//! <api_key>`, JSON in camelCase.
//!
//! **Import.** `POST /phone-number` with `provider: "twilio"`, the Twilio credentials (Vapi points
//! the number's voice webhook at itself with them), no `assistantId` (so every call sends
//! `assistant-request` to our server URL) and `smsEnabled: false` (so inbound SMS stays on our
//! `SmsUrl`). The name is cut to 40 characters, the spec's limit.
//!
//! **How Vapi proves itself to us.** The spec's `Server` object has no inline `secret` any more;
//! it offers `credentialId` (a credential created beforehand through another API, whose id we
//! would have to store) and `headers` (a map sent with every request). We send
//! `headers: {"X-Vapi-Secret": <server_secret>}`: the same header the legacy `secret` produced, so
//! webhook-ingest checks one header in constant time, and no extra resource to create or keep.
//!
//! **Errors** come in the NestJS shape `{"message": string | [string], "error", "statusCode"}`,
//! read leniently and keyed on the HTTP status: 404 → `NotFound`, 401/403 → `Unauthorized`,
//! 429/5xx/timeouts → `Unavailable`, other 4xx → `Rejected` (code = the HTTP status).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{E164, ProviderError};
use switchboard_numbers::VoiceGateway;

use crate::{ConfigError, http, truncate};

const PROVIDER: &str = "vapi";

pub const DEFAULT_BASE_URL: &str = "https://api.vapi.ai";

/// Vapi's `name` limit on phone numbers.
const NAME_MAX: usize = 40;
/// The header Vapi sends to our server URL, carrying `server_secret`.
pub const SECRET_HEADER: &str = "X-Vapi-Secret";

#[derive(Debug, Clone)]
pub struct VapiConfig {
    /// `https://api.vapi.ai`.
    pub base_url: String,
    /// Private API key.
    pub api_key: SecretString,
    /// The Twilio account the imported numbers live in.
    pub twilio_account_sid: String,
    pub twilio_auth_token: SecretString,
    /// Sent back to us by Vapi in [`SECRET_HEADER`] on every server-URL request.
    pub server_secret: SecretString,
    /// Whole-request timeout (connect + answer).
    pub timeout: Duration,
}

/// The live Vapi client.
#[derive(Debug)]
pub struct VapiClient {
    http: reqwest::Client,
    base: Url,
    api_key: SecretString,
    twilio_account_sid: String,
    twilio_auth_token: SecretString,
    server_secret: SecretString,
}

impl VapiClient {
    pub fn new(config: VapiConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: http::client(PROVIDER, config.timeout)?,
            base: http::base_url(PROVIDER, &config.base_url)?,
            api_key: config.api_key,
            twilio_account_sid: config.twilio_account_sid,
            twilio_auth_token: config.twilio_auth_token,
            server_secret: config.server_secret,
        })
    }

    fn server<'a>(&'a self, url: &'a str) -> Server<'a> {
        Server { url, headers: BTreeMap::from([(SECRET_HEADER, self.server_secret.expose_secret())]) }
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        op: &'static str,
    ) -> Result<Vec<u8>, ProviderError> {
        let request = request.bearer_auth(self.api_key.expose_secret());
        let (status, body) = http::send(PROVIDER, request).await?;
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportTwilioNumber<'a> {
    provider: &'static str,
    number: &'a str,
    twilio_account_sid: &'a str,
    twilio_auth_token: &'a str,
    name: &'a str,
    sms_enabled: bool,
    server: Server<'a>,
}

/// `provider` is the discriminator of the update body's `oneOf`.
#[derive(Serialize)]
struct UpdateServer<'a> {
    provider: &'static str,
    server: Server<'a>,
}

#[derive(Serialize)]
struct Server<'a> {
    url: &'a str,
    headers: BTreeMap<&'static str, &'a str>,
}

#[derive(Deserialize)]
struct PhoneNumber {
    id: String,
}

#[async_trait]
impl VoiceGateway for VapiClient {
    async fn import_number(
        &self,
        number: &E164,
        name: &str,
        server_url: &str,
    ) -> Result<String, ProviderError> {
        let body = ImportTwilioNumber {
            provider: "twilio",
            number: number.as_str(),
            twilio_account_sid: &self.twilio_account_sid,
            twilio_auth_token: self.twilio_auth_token.expose_secret(),
            name: truncate(name, NAME_MAX),
            sms_enabled: false,
            server: self.server(server_url),
        };
        let url = http::join(&self.base, &["phone-number"]);
        let answer = self.call(self.http.post(url).json(&body), "import_number").await?;
        let imported: PhoneNumber = http::decode(PROVIDER, &answer)?;
        Ok(imported.id)
    }

    async fn update_server_url(&self, vapi_id: &str, server_url: &str) -> Result<(), ProviderError> {
        let body = UpdateServer { provider: "twilio", server: self.server(server_url) };
        let url = http::join(&self.base, &["phone-number", vapi_id]);
        self.call(self.http.patch(url).json(&body), "update_server_url").await.map(drop)
    }

    async fn remove_number(&self, vapi_id: &str) -> Result<(), ProviderError> {
        let url = http::join(&self.base, &["phone-number", vapi_id]);
        // 200 with the deleted object, which we have no use for.
        self.call(self.http.delete(url), "remove_number").await.map(drop)
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    message: Option<Value>,
    error: Option<String>,
}

fn error_from(status: StatusCode, body: &[u8]) -> ProviderError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = match parsed.message {
        Some(Value::String(s)) => Some(s),
        // Validation errors list one message per field.
        Some(Value::Array(items)) => {
            Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        }
        _ => None,
    };
    let message = [message, parsed.error]
        .into_iter()
        .flatten()
        .find(|m| !m.is_empty())
        .unwrap_or_else(|| http::status_message(status));
    http::by_status(PROVIDER, status, None, message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_may_be_a_list() {
        let err = error_from(
            StatusCode::BAD_REQUEST,
            br#"{"message":["number must be a valid phone number","name too long"],"error":"Bad Request","statusCode":400}"#,
        );
        assert_eq!(
            err,
            ProviderError::Rejected {
                provider: PROVIDER,
                code: "400".into(),
                message: "number must be a valid phone number; name too long".into()
            }
        );
    }

    #[test]
    fn a_body_without_message_falls_back_to_the_status() {
        let err = error_from(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(
            err,
            ProviderError::Unavailable { provider: PROVIDER, message: "HTTP 502 Bad Gateway".into() }
        );
    }
}
