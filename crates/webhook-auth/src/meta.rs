//! Meta (WhatsApp Cloud API) webhooks (providers.md §6.3, §6.4).
//!
//! Events are POSTed with `X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256(app secret,
//! raw body)>`. The HMAC is over the raw bytes as received — Meta escapes non-ASCII as `\uXXXX`
//! in what it signs, so a re-serialised body would not match. The legacy SHA-1
//! `X-Hub-Signature` is not accepted.
//!
//! Subscribing the callback URL is a GET with `hub.mode=subscribe`, `hub.verify_token` (what was
//! typed into the App Dashboard) and `hub.challenge`, which is echoed back as the body.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::SignatureError;
use crate::ct::{bytes_eq, secret_eq};

/// The header Meta signs event deliveries with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";

type HmacSha256 = Hmac<Sha256>;

/// The `X-Hub-Signature-256` value Meta sends for `raw_body`. Public so endpoint tests can sign.
pub fn signature_header(app_secret: &SecretString, raw_body: &[u8]) -> String {
    format!("{PREFIX}{}", hex::encode(mac(app_secret, raw_body)))
}

/// Checks an event delivery. `header` is `X-Hub-Signature-256`, `None` when absent.
pub fn verify_signature(
    app_secret: &SecretString,
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    if app_secret.expose_secret().is_empty() {
        return Err(SignatureError::NotConfigured("Meta app secret"));
    }
    let header = header.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let presented = header
        .strip_prefix(PREFIX)
        .and_then(|hex_digits| hex::decode(hex_digits).ok())
        .ok_or(SignatureError::Mismatch(SIGNATURE_HEADER))?;
    if bytes_eq(&mac(app_secret, raw_body), &presented) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch(SIGNATURE_HEADER))
    }
}

/// Answers the subscription GET: the `hub.challenge` to echo as a `200 text/plain` body when
/// `hub.mode` is `subscribe` and `hub.verify_token` equals ours, else
/// [`SignatureError::ChallengeRefused`] (403). Pass the three query parameters as received
/// (`None` when absent).
pub fn verify_challenge<'q>(
    verify_token: &SecretString,
    mode: Option<&str>,
    presented_token: Option<&str>,
    challenge: Option<&'q str>,
) -> Result<&'q str, SignatureError> {
    if verify_token.expose_secret().is_empty() {
        return Err(SignatureError::NotConfigured("Meta verify token"));
    }
    let token_ok = presented_token
        .is_some_and(|presented| secret_eq(verify_token.expose_secret().as_bytes(), presented.as_bytes()));
    if mode != Some("subscribe") || !token_ok {
        return Err(SignatureError::ChallengeRefused);
    }
    challenge.ok_or(SignatureError::Malformed("hub.challenge"))
}

fn mac(app_secret: &SecretString, raw_body: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(app_secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(raw_body);
    mac.finalize().into_bytes().to_vec()
}
