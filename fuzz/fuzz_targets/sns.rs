//! AWS SNS messages (SES feedback): parsing, the host/topic/age checks and the signature over the
//! canonical string, with a certificate source that serves the test signing certificate of
//! `crates/webhook-auth/tests/fixtures` for every (already host-checked) URL.
//!
//! Properties: any body is judged without a panic; whatever verifies carries exactly the signed
//! fields of one of the genuinely signed fixtures (no edit of a signed field, no reordering and
//! no JSON trick gets a forged value through); a verified `SubscribeURL` is a genuine SNS https
//! URL; the age limit refuses messages older than an hour; the inbound event is keyed by the
//! `MessageId`.
#![no_main]

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::block_on;
use switchboard_inbound::payload::sns_event;
use switchboard_webhook_auth::CertificateError;
use switchboard_webhook_auth::sns::{
    CertificateSource, SnsMessage, SnsMessageType, SnsVerifier, is_genuine_sns_host,
};
use url::Url;

const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:switchboard-ses-feedback";
const SIGNING_CERT: &str = include_str!("../../crates/webhook-auth/tests/fixtures/signing-cert.pem");
const FIXTURES: [&str; 4] = [
    include_str!("../../crates/webhook-auth/tests/fixtures/ses-bounce-notification-v1.json"),
    include_str!("../../crates/webhook-auth/tests/fixtures/ses-complaint-notification-v2.json"),
    include_str!("../../crates/webhook-auth/tests/fixtures/subscription-confirmation-v2.json"),
    include_str!("../../crates/webhook-auth/tests/fixtures/unsubscribe-confirmation-v1.json"),
];

struct TestCertificate;

#[async_trait::async_trait]
impl CertificateSource for TestCertificate {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, CertificateError> {
        assert!(url.host_str().is_some_and(is_genuine_sns_host), "fetch from {url}");
        Ok(SIGNING_CERT.as_bytes().to_vec())
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T10:00:00Z").expect("constant").with_timezone(&Utc)
}

static ANY_AGE: LazyLock<SnsVerifier> =
    LazyLock::new(|| SnsVerifier::new(Arc::new(TestCertificate), [TOPIC]).max_age(None));
static ONE_HOUR: LazyLock<SnsVerifier> =
    LazyLock::new(|| SnsVerifier::new(Arc::new(TestCertificate), [TOPIC]).clock(now));
/// The fixtures as verified: what a genuine signature vouches for.
static GENUINE: LazyLock<Vec<SnsMessage>> = LazyLock::new(|| {
    FIXTURES.iter().map(|f| block_on(ANY_AGE.verify(f.as_bytes())).expect("the fixtures verify")).collect()
});

/// The fields the canonical string covers for the message's kind.
fn signed(
    m: &SnsMessage,
) -> (SnsMessageType, &str, &str, &str, DateTime<Utc>, Option<&str>, Option<String>, Option<&str>) {
    let confirmation = m.kind != SnsMessageType::Notification;
    (
        m.kind,
        &m.message_id,
        &m.topic_arn,
        &m.message,
        m.timestamp,
        if confirmation { None } else { m.subject.as_deref() },
        if confirmation { m.subscribe_url.as_ref().map(Url::to_string) } else { None },
        if confirmation { m.token.as_deref() } else { None },
    )
}

fuzz_target!(|data: &[u8]| {
    let genuine = &*GENUINE;
    let Ok(message) = block_on(ANY_AGE.verify(data)) else {
        assert!(block_on(ONE_HOUR.verify(data)).is_err(), "the age limit cannot admit more");
        return;
    };
    assert!(
        genuine.iter().any(|g| signed(g) == signed(&message)),
        "a message no fixture signed verified: {message:?}"
    );
    if let Some(url) = &message.subscribe_url {
        assert_eq!(url.scheme(), "https");
        assert!(url.host_str().is_some_and(is_genuine_sns_host));
    }
    match block_on(ONE_HOUR.verify(data)) {
        Ok(fresh) => {
            assert_eq!(fresh, message);
            assert!(now() - message.timestamp <= TimeDelta::hours(1));
        }
        Err(_) => assert!(now() - message.timestamp > TimeDelta::hours(1)),
    }
    let event = sns_event(&message, now());
    assert_eq!(event.external_id, message.message_id);
    assert!(serde_json::from_str::<serde_json::Value>(&event.payload).is_ok());
});
