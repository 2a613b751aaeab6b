use switchboard_webhook_auth::SignatureError;
use switchboard_webhook_auth::meta::{signature_header, verify_challenge, verify_signature};

use crate::secret;

const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
const SIGNED: &str = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756";

#[test]
fn providers_md_vectors_are_reproduced() {
    assert_eq!(signature_header(&secret("test_app_secret"), BODY), SIGNED);
    assert_eq!(
        signature_header(&secret("secret"), b"test"),
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    );
}

#[test]
fn valid_signature_is_accepted() {
    verify_signature(&secret("test_app_secret"), BODY, Some(SIGNED)).unwrap();
}

#[test]
fn tampered_body_fails() {
    let tampered = br#"{"object":"whatsapp_business_account","entry":[{}]}"#;
    let error = verify_signature(&secret("test_app_secret"), tampered, Some(SIGNED)).unwrap_err();
    assert!(matches!(error, SignatureError::Mismatch("X-Hub-Signature-256")));
    assert_eq!(error.status(), 401);
}

#[test]
fn signature_is_over_the_raw_bytes_not_the_parsed_json() {
    // Meta escapes non-ASCII in what it signs; the same JSON written with the raw character
    // (what a re-serialisation would produce) is a different body.
    let sent = br#"{"name":"M\u00fcller"}"#;
    let header = signature_header(&secret("s"), sent);
    verify_signature(&secret("s"), sent, Some(&header)).unwrap();
    assert!(verify_signature(&secret("s"), "{\"name\":\"Müller\"}".as_bytes(), Some(&header)).is_err());
}

#[test]
fn wrong_secret_missing_or_misprefixed_header_fails() {
    assert!(matches!(
        verify_signature(&secret("other_secret"), BODY, Some(SIGNED)),
        Err(SignatureError::Mismatch(_))
    ));
    let missing = verify_signature(&secret("test_app_secret"), BODY, None).unwrap_err();
    assert!(matches!(missing, SignatureError::Missing("X-Hub-Signature-256")));
    assert_eq!(missing.status(), 401);
    let hex_only = SIGNED.trim_start_matches("sha256=");
    for header in
        [hex_only, &format!("sha1={hex_only}"), &format!("SHA256={hex_only}"), "sha256=", "sha256=zz"]
    {
        assert!(
            matches!(
                verify_signature(&secret("test_app_secret"), BODY, Some(header)),
                Err(SignatureError::Mismatch(_))
            ),
            "{header}"
        );
    }
    assert!(matches!(
        verify_signature(&secret(""), BODY, Some(SIGNED)),
        Err(SignatureError::NotConfigured(_))
    ));
}

#[test]
fn challenge_is_echoed_for_subscribe_with_our_token() {
    let answer = verify_challenge(
        &secret("my-verify-token"),
        Some("subscribe"),
        Some("my-verify-token"),
        Some("1158201444"),
    );
    assert_eq!(answer.unwrap(), "1158201444");
}

#[test]
fn challenge_with_wrong_token_or_mode_is_refused_with_403() {
    let token = secret("my-verify-token");
    for (mode, presented) in [
        (Some("subscribe"), Some("my-verify-tokeN")),
        (Some("subscribe"), Some("my-verify-token ")),
        (Some("subscribe"), Some("")),
        (Some("subscribe"), None),
        (Some("unsubscribe"), Some("my-verify-token")),
        (None, Some("my-verify-token")),
    ] {
        let error = verify_challenge(&token, mode, presented, Some("1")).unwrap_err();
        assert!(matches!(error, SignatureError::ChallengeRefused), "{mode:?} {presented:?}");
        assert_eq!(error.status(), 403);
    }
    assert!(matches!(
        verify_challenge(&token, Some("subscribe"), Some("my-verify-token"), None),
        Err(SignatureError::Malformed("hub.challenge"))
    ));
    assert!(matches!(
        verify_challenge(&secret(""), Some("subscribe"), Some(""), Some("1")),
        Err(SignatureError::NotConfigured(_))
    ));
}
