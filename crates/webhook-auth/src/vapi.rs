//! Vapi server messages (providers.md §3.4).
//!
//! Vapi proves itself with a shared secret: the legacy inline `server.secret` arrives raw in
//! `X-Vapi-Secret`; a Bearer credential arrives as `Authorization: Bearer <secret>` (a Bearer
//! credential may also name another header, with or without the prefix — the binary then passes
//! that header as `secret_header`). The request is authentic if any credential it presents equals
//! the configured secret; both are compared in constant time whatever the outcome.
//!
//! Vapi's HMAC credential is not supported: §3.4 gives its defaults but not the format of the
//! timestamp it signs (seconds or milliseconds), so a freshness window cannot be stated exactly.

use secrecy::{ExposeSecret, SecretString};

use crate::SignatureError;
use crate::ct::secret_eq;

/// The header the legacy `server.secret` arrives in.
pub const SECRET_HEADER: &str = "X-Vapi-Secret";

/// Checks a Vapi request. `secret_header` is `X-Vapi-Secret` (or the header a Bearer credential
/// was configured with, without prefix), `authorization` the `Authorization` header; `None` when
/// absent.
pub fn verify_server_secret(
    server_secret: &SecretString,
    secret_header: Option<&str>,
    authorization: Option<&str>,
) -> Result<(), SignatureError> {
    let configured = server_secret.expose_secret().as_bytes();
    if configured.is_empty() {
        return Err(SignatureError::NotConfigured("Vapi server secret"));
    }
    let bearer = authorization.map(bearer_token);
    if secret_header.is_none() && bearer.is_none() {
        return Err(SignatureError::Missing(SECRET_HEADER));
    }
    let header_ok = secret_header.is_some_and(|presented| secret_eq(configured, presented.as_bytes()));
    let bearer_ok = bearer.flatten().is_some_and(|presented| secret_eq(configured, presented.as_bytes()));
    if header_ok | bearer_ok { Ok(()) } else { Err(SignatureError::Mismatch(SECRET_HEADER)) }
}

/// The credential of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start_matches(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc"), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
