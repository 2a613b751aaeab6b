use http::StatusCode;
use switchboard_webhook_auth::{CertificateError, SignatureError};

#[test]
fn every_error_suggests_a_status_and_a_stable_code() {
    let cases = [
        (SignatureError::Missing("X-Twilio-Signature"), StatusCode::UNAUTHORIZED, "signature_missing"),
        (SignatureError::Mismatch("X-Hub-Signature-256"), StatusCode::UNAUTHORIZED, "signature_mismatch"),
        (SignatureError::Stale { age_secs: 4000 }, StatusCode::UNAUTHORIZED, "stale_message"),
        (SignatureError::Malformed("SNS message"), StatusCode::BAD_REQUEST, "malformed_message"),
        (SignatureError::UntrustedHost("SigningCertURL"), StatusCode::FORBIDDEN, "untrusted_host"),
        (
            SignatureError::UnexpectedTopic { topic_arn: "arn:aws:sns:us-east-1:1:x".into() },
            StatusCode::FORBIDDEN,
            "unexpected_topic",
        ),
        (SignatureError::ChallengeRefused, StatusCode::FORBIDDEN, "challenge_refused"),
        (
            SignatureError::CertificateUnavailable(CertificateError::new("timed out")),
            StatusCode::SERVICE_UNAVAILABLE,
            "certificate_unavailable",
        ),
        (
            SignatureError::NotConfigured("Vapi server secret"),
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook_secret_not_configured",
        ),
    ];
    for (error, status, code) in cases {
        assert_eq!(error.status(), status, "{error}");
        assert_eq!(error.code(), code, "{error}");
    }
}

#[test]
fn certificate_unavailable_keeps_its_cause_for_the_log() {
    let error = SignatureError::CertificateUnavailable(CertificateError::new("answered 404 Not Found"));
    let cause = std::error::Error::source(&error).unwrap();
    assert_eq!(cause.to_string(), "answered 404 Not Found");
}
