//! Plumbing shared by the live clients: building URLs and clients, sending a request and reading
//! the whole answer, and the status-code part of error mapping.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use switchboard_core::ProviderError;

use crate::ConfigError;

/// Parses a configured base URL; it must be able to take path segments.
pub(crate) fn base_url(provider: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let bad = || ConfigError::BaseUrl { provider, url: raw.to_owned() };
    let url = Url::parse(raw.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(bad());
    }
    Ok(url)
}

/// `base` + `segments`, each segment percent-encoded (so an id can never change the path).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    // Cannot fail: `base_url` refused cannot-be-a-base URLs.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

pub(crate) fn client(provider: &'static str, timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| ConfigError::HttpClient { provider, source })
}

/// Sends `request` and reads the whole body. Transport failures (timeout, refused connection, a
/// body cut off) are `Unavailable`; the status is left to the caller.
pub(crate) async fn send(
    provider: &'static str,
    request: RequestBuilder,
) -> Result<(StatusCode, Vec<u8>), ProviderError> {
    let response = request.send().await.map_err(|e| transport(provider, &e))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| transport(provider, &e))?;
    Ok((status, body.to_vec()))
}

fn transport(provider: &'static str, err: &reqwest::Error) -> ProviderError {
    // The URL may appear in the message: it carries no secret, credentials travel in headers.
    let message = if err.is_timeout() {
        "request timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("request failed: {}", DisplayErr(err))
    };
    ProviderError::Unavailable { provider, message }
}

struct DisplayErr<'a>(&'a reqwest::Error);

impl std::fmt::Display for DisplayErr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut err: &dyn std::error::Error = self.0;
        write!(f, "{err}")?;
        while let Some(source) = err.source() {
            write!(f, ": {source}")?;
            err = source;
        }
        Ok(())
    }
}

/// Decodes a success body; a body that does not match is the provider misbehaving → `Unavailable`.
pub(crate) fn decode<T: DeserializeOwned>(provider: &'static str, body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::Unavailable {
        provider,
        message: format!("unexpected response body: {e}"),
    })
}

/// The status-code rules both providers share, after provider-specific codes were looked at:
/// 404 → NotFound, 401/403 → Unauthorized, 429/5xx → Unavailable, other 4xx → Rejected.
pub(crate) fn by_status(
    provider: &'static str,
    status: StatusCode,
    code: Option<String>,
    message: String,
) -> ProviderError {
    match status.as_u16() {
        404 => ProviderError::NotFound { provider, message },
        401 | 403 => ProviderError::Unauthorized { provider, message },
        429 | 500..=599 => ProviderError::Unavailable { provider, message },
        400..=499 => ProviderError::Rejected {
            provider,
            code: code.unwrap_or_else(|| status.as_u16().to_string()),
            message,
        },
        // 1xx/3xx that reqwest did not resolve: nothing we can act on, try again later.
        _ => ProviderError::Unavailable { provider, message },
    }
}

/// The message to use when the body said nothing readable.
pub(crate) fn status_message(status: StatusCode) -> String {
    format!("HTTP {status}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn join_encodes_segments_and_keeps_a_base_path() {
        let base = base_url("t", "http://localhost:9/prefix/").unwrap();
        assert_eq!(
            join(&base, &["a", "b/../c.json"]).as_str(),
            "http://localhost:9/prefix/a/b%2F..%2Fc.json"
        );
        let bare = base_url("t", "http://localhost:9").unwrap();
        assert_eq!(join(&bare, &["x.json"]).as_str(), "http://localhost:9/x.json");
    }

    #[test]
    fn base_url_refuses_what_cannot_take_a_path() {
        for bad in ["", "api.twilio.com", "mailto:x@y.z", "ftp://host"] {
            assert!(base_url("t", bad).is_err(), "{bad}");
        }
    }
}
