//! `X-Twilio-Signature` (providers.md §2.2, §2.3).
//!
//! The string to sign is the URL Twilio requested — rebuilt from our configured public base URL
//! and the path and query as received, never from the `Host` header — followed, for form posts,
//! by every parameter as `name + value`, sorted by name and then by value. The signature is
//! `base64(HMAC-SHA1(auth token, string))`. Every received parameter counts: Twilio adds
//! parameters without notice, so a whitelist would reject genuine requests.
//!
//! JSON bodies are signed differently: Twilio appends `bodySHA256=<hex SHA-256 of the body>` to
//! the query and signs the URL alone; both the signature and the body hash must match.
//!
//! Twilio is inconsistent about the default port, so, like its own SDKs, a signature is also
//! accepted over the URL with the scheme's default port added (when absent) or removed (when
//! present). Only the default port (`:443` for https, `:80` for http) is added or removed; a
//! URL with another port is checked exactly as given.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::SignatureError;
use crate::ct::bytes_eq;

/// The header Twilio signs requests with.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

const BODY_HASH_PARAM: &str = "bodySHA256";

type HmacSha1 = Hmac<Sha1>;

/// The URL Twilio requested: the configured public base URL (scheme, host, optional port and
/// whatever path prefix the proxy strips) followed by the path and query exactly as received.
///
/// ```
/// # use switchboard_webhook_auth::twilio::request_url;
/// assert_eq!(
///     request_url("https://hooks.example.com/", "/twilio/messages?x=1"),
///     "https://hooks.example.com/twilio/messages?x=1"
/// );
/// ```
pub fn request_url(public_base_url: &str, path_and_query: &str) -> String {
    let base = public_base_url.trim_end_matches('/');
    if path_and_query.starts_with('/') {
        format!("{base}{path_and_query}")
    } else {
        format!("{base}/{path_and_query}")
    }
}

/// The signature Twilio sends for a form post (or, with no params, for a GET or a JSON body) to
/// `url`. Public so tests of the webhook endpoints can sign the requests they send.
pub fn signature(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params))
}

/// Checks a form-encoded request (`application/x-www-form-urlencoded` POST, or a GET with
/// `params` empty because they are already in `url`).
///
/// `params` are the decoded body parameters in any order, repeats included. `signature` is the
/// `X-Twilio-Signature` header, `None` when absent.
pub fn verify_form(
    auth_token: &SecretString,
    url: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    check_token(auth_token)?;
    let presented = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    if matches_any_port_variant(auth_token, url, params, presented) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch(SIGNATURE_HEADER))
    }
}

/// Checks an `application/json` request: `url` carries `bodySHA256`, which must be the SHA-256
/// of `raw_body`, and the signature is over `url` alone.
pub fn verify_json(
    auth_token: &SecretString,
    url: &str,
    raw_body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    check_token(auth_token)?;
    let presented = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let claimed_hash = body_hash_param(url)?;
    let signature_ok = matches_any_port_variant(auth_token, url, &[], presented);
    let claimed = hex::decode(claimed_hash).map_err(|_| SignatureError::Mismatch(BODY_HASH_PARAM))?;
    let body_ok = bytes_eq(&claimed, &Sha256::digest(raw_body));
    if !signature_ok {
        Err(SignatureError::Mismatch(SIGNATURE_HEADER))
    } else if !body_ok {
        Err(SignatureError::Mismatch(BODY_HASH_PARAM))
    } else {
        Ok(())
    }
}

fn check_token(auth_token: &SecretString) -> Result<(), SignatureError> {
    if auth_token.expose_secret().is_empty() {
        return Err(SignatureError::NotConfigured("Twilio auth token"));
    }
    Ok(())
}

fn mac(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut mac = HmacSha1::new_from_slice(auth_token.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    // twilio-python appends each distinct value of a repeated name once (providers.md §2.2).
    sorted.dedup();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// True if `presented` is the signature over `url` or over its default-port variant. Both are
/// computed and compared in full, so the time taken does not tell which one failed.
fn matches_any_port_variant(
    auth_token: &SecretString,
    url: &str,
    params: &[(String, String)],
    presented: &str,
) -> bool {
    let exact = bytes_eq(signature(auth_token, url, params).as_bytes(), presented.as_bytes());
    let variant = match default_port_variant(url) {
        Some(other) => bytes_eq(signature(auth_token, &other, params).as_bytes(), presented.as_bytes()),
        None => false,
    };
    exact | variant
}

/// `url` with the scheme's default port added when it has no port, or removed when it has the
/// default one; `None` for any other port or a URL that is not http(s). Works on the string so
/// that nothing else in the URL (encoding, order of the query) changes.
pub(crate) fn default_port_variant(url: &str) -> Option<Cow<'_, str>> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else if scheme.eq_ignore_ascii_case("http") {
        "80"
    } else {
        return None;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];
    // The port separator is the last ':' that is not inside an IPv6 literal's brackets.
    let port_separator = host_and_port.rfind(':').filter(|&colon| !host_and_port[colon..].contains(']'));
    match port_separator {
        None => Some(Cow::Owned(format!("{scheme}://{authority}:{default_port}{tail}"))),
        Some(colon) if &host_and_port[colon + 1..] == default_port => {
            let without_port = &authority[..host_start + colon];
            Some(Cow::Owned(format!("{scheme}://{without_port}{tail}")))
        }
        Some(_) => None,
    }
}

/// The single `bodySHA256` query parameter of `url`.
fn body_hash_param(url: &str) -> Result<String, SignatureError> {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    let query = without_fragment.split_once('?').map_or("", |(_, query)| query);
    let mut values =
        form_urlencoded::parse(query.as_bytes()).filter(|(name, _)| name == BODY_HASH_PARAM).map(|(_, v)| v);
    let first = values.next().ok_or(SignatureError::Missing(BODY_HASH_PARAM))?;
    if values.next().is_some() {
        // Two hashes in one URL: which one the body must match is ambiguous.
        return Err(SignatureError::Mismatch(BODY_HASH_PARAM));
    }
    Ok(first.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_added_or_removed_and_nothing_else_changes() {
        let cases = [
            ("https://a.example/p?q=%2B1&b=2", Some("https://a.example:443/p?q=%2B1&b=2")),
            ("https://a.example:443/p?q=1", Some("https://a.example/p?q=1")),
            ("http://a.example/p", Some("http://a.example:80/p")),
            ("http://a.example:80", Some("http://a.example")),
            ("HTTPS://a.example?x", Some("HTTPS://a.example:443?x")),
            ("https://user:pw@a.example/p", Some("https://user:pw@a.example:443/p")),
            ("https://[2001:db8::1]/p", Some("https://[2001:db8::1]:443/p")),
            ("https://[2001:db8::1]:443/p", Some("https://[2001:db8::1]/p")),
            ("https://a.example:8443/p", None),
            ("http://a.example:443/p", None),
            ("ftp://a.example/p", None),
            ("not a url", None),
        ];
        for (url, expected) in cases {
            assert_eq!(default_port_variant(url).as_deref(), expected, "{url}");
        }
    }

    #[test]
    fn body_hash_is_read_from_the_query_only() {
        assert_eq!(body_hash_param("https://a/p?x=1&bodySHA256=ab").ok().as_deref(), Some("ab"));
        assert!(matches!(body_hash_param("https://a/p?x=1"), Err(SignatureError::Missing(_))));
        assert!(matches!(body_hash_param("https://a/p#bodySHA256=ab"), Err(SignatureError::Missing(_))));
        assert!(matches!(
            body_hash_param("https://a/p?bodySHA256=ab&bodySHA256=cd"),
            Err(SignatureError::Mismatch(_))
        ));
    }

    #[test]
    fn request_url_joins_base_and_path() {
        assert_eq!(request_url("https://h.example", "/t/m"), "https://h.example/t/m");
        assert_eq!(request_url("https://h.example/", "/t/m?a=1"), "https://h.example/t/m?a=1");
        assert_eq!(request_url("https://h.example/prefix", "t"), "https://h.example/prefix/t");
    }
}
