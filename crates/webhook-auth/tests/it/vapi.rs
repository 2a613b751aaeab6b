use switchboard_webhook_auth::SignatureError;
use switchboard_webhook_auth::vapi::verify_server_secret;

use crate::secret;

const SECRET: &str = "vapi-server-secret-7f3a";

#[test]
fn secret_in_x_vapi_secret_is_accepted() {
    verify_server_secret(&secret(SECRET), Some(SECRET), None).unwrap();
}

#[test]
fn secret_as_bearer_token_is_accepted() {
    verify_server_secret(&secret(SECRET), None, Some(&format!("Bearer {SECRET}"))).unwrap();
    verify_server_secret(&secret(SECRET), None, Some(&format!("bearer {SECRET}"))).unwrap();
}

#[test]
fn one_right_credential_is_enough() {
    verify_server_secret(&secret(SECRET), Some("stale"), Some(&format!("Bearer {SECRET}"))).unwrap();
    verify_server_secret(&secret(SECRET), Some(SECRET), Some("Basic dXNlcjpwYXNz")).unwrap();
}

#[test]
fn wrong_secret_fails_with_401() {
    for (header, authorization) in [
        (Some("vapi-server-secret-7f3b"), None),
        (Some("vapi-server-secret-7f3"), None),
        (Some(""), None),
        (None, Some(format!("Bearer {SECRET}x"))),
        (None, Some(format!("Basic {SECRET}"))),
        (None, Some(SECRET.to_owned())),
    ] {
        let error = verify_server_secret(&secret(SECRET), header, authorization.as_deref()).unwrap_err();
        assert!(matches!(error, SignatureError::Mismatch("X-Vapi-Secret")), "{header:?} {authorization:?}");
        assert_eq!(error.status(), 401);
    }
}

#[test]
fn missing_credentials_fail_with_401() {
    let error = verify_server_secret(&secret(SECRET), None, None).unwrap_err();
    assert!(matches!(error, SignatureError::Missing("X-Vapi-Secret")));
    assert_eq!(error.status(), 401);
}

#[test]
fn an_empty_configured_secret_authenticates_nothing() {
    let error = verify_server_secret(&secret(""), Some(""), Some("Bearer ")).unwrap_err();
    assert!(matches!(error, SignatureError::NotConfigured(_)));
    assert_eq!(error.status(), 503);
}

#[test]
fn secrets_never_show_in_errors_or_debug_output() {
    let configured = secret(SECRET);
    assert!(!format!("{configured:?}").contains(SECRET));
    let error = verify_server_secret(&configured, Some("guess"), None).unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(SECRET) && !text.contains("guess"), "{text}");
    }
}
