use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use switchboard_webhook_auth::sns::{CertificateSource, SnsMessageType, SnsVerifier, is_genuine_sns_host};
use switchboard_webhook_auth::{CertificateError, SignatureError};
use url::Url;

const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:switchboard-ses-feedback";
const CERT_URL: &str =
    "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-6209c161c6221fdf56ec1eb5c821d112.pem";
const SIGNING_CERT: &str = include_str!("../fixtures/signing-cert.pem");
const OTHER_CERT: &str = include_str!("../fixtures/other-cert.pem");
const BOUNCE_V1: &str = include_str!("../fixtures/ses-bounce-notification-v1.json");
const COMPLAINT_V2: &str = include_str!("../fixtures/ses-complaint-notification-v2.json");
const SUBSCRIPTION_V2: &str = include_str!("../fixtures/subscription-confirmation-v2.json");
const UNSUBSCRIBE_V1: &str = include_str!("../fixtures/unsubscribe-confirmation-v1.json");

/// Serves fixed PEMs by URL and counts the fetches.
#[derive(Default)]
struct FakeCertificates {
    pems: HashMap<String, Vec<u8>>,
    fetches: AtomicUsize,
}

impl FakeCertificates {
    fn serving(pem: &str) -> Arc<Self> {
        Arc::new(Self {
            pems: HashMap::from([(CERT_URL.to_owned(), pem.as_bytes().to_vec())]),
            ..Self::default()
        })
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl CertificateSource for FakeCertificates {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, CertificateError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.pems.get(url.as_str()).cloned().ok_or_else(|| CertificateError::new("404 Not Found"))
    }
}

fn timestamp_of(body: &str) -> DateTime<Utc> {
    let json: Value = serde_json::from_str(body).unwrap();
    json["Timestamp"].as_str().unwrap().parse().unwrap()
}

/// A verifier for our topic whose clock reads five minutes after `body` was published.
fn verifier(certs: Arc<FakeCertificates>, body: &str) -> SnsVerifier {
    let now = timestamp_of(body) + TimeDelta::minutes(5);
    SnsVerifier::new(certs, [TOPIC]).clock(move || now)
}

/// `body` with one top-level field set (or removed, for `None`).
fn edit(body: &str, field: &str, value: Option<&str>) -> Vec<u8> {
    let mut json: Value = serde_json::from_str(body).unwrap();
    let object = json.as_object_mut().unwrap();
    match value {
        Some(v) => object.insert(field.to_owned(), Value::String(v.to_owned())),
        None => object.remove(field),
    };
    serde_json::to_vec(&json).unwrap()
}

async fn verify(
    body: &[u8],
    fixture: &str,
) -> Result<switchboard_webhook_auth::sns::SnsMessage, SignatureError> {
    verifier(FakeCertificates::serving(SIGNING_CERT), fixture).verify(body).await
}

#[tokio::test]
async fn ses_bounce_notification_signed_with_sha1_is_accepted() {
    let message = verify(BOUNCE_V1.as_bytes(), BOUNCE_V1).await.unwrap();
    assert_eq!(message.kind, SnsMessageType::Notification);
    assert_eq!(message.message_id, "5a4f3c2e-9b1d-5e7f-a0c3-1d2e3f4a5b6c");
    assert_eq!(message.topic_arn, TOPIC);
    assert_eq!(message.subject, None);
    assert_eq!(message.timestamp, timestamp_of(BOUNCE_V1));
    let ses: Value = serde_json::from_str(&message.message).unwrap();
    assert_eq!(ses["notificationType"], "Bounce");
    assert_eq!(ses["bounce"]["bounceType"], "Permanent");
    assert_eq!(ses["mail"]["source"], "Zoë Müller <desk@mail.example.com>");
}

#[tokio::test]
async fn ses_complaint_with_a_subject_signed_with_sha256_is_accepted() {
    let message = verify(COMPLAINT_V2.as_bytes(), COMPLAINT_V2).await.unwrap();
    assert_eq!(message.subject.as_deref(), Some("Amazon SES Email Event Notification"));
    assert!(message.message.contains("\"complaintFeedbackType\":\"abuse\""));
}

#[tokio::test]
async fn subscription_confirmation_is_accepted_with_a_genuine_subscribe_url() {
    let message = verify(SUBSCRIPTION_V2.as_bytes(), SUBSCRIPTION_V2).await.unwrap();
    assert_eq!(message.kind, SnsMessageType::SubscriptionConfirmation);
    assert!(message.message.contains(".\nTo confirm the subscription"), "newline decoded before signing");
    let url = message.subscribe_url.unwrap();
    assert_eq!(url.host_str(), Some("sns.eu-central-1.amazonaws.com"));
    assert!(url.query().unwrap().starts_with("Action=ConfirmSubscription&TopicArn="));
    assert!(message.token.is_some());
}

#[tokio::test]
async fn unsubscribe_confirmation_is_accepted() {
    let message = verify(UNSUBSCRIBE_V1.as_bytes(), UNSUBSCRIBE_V1).await.unwrap();
    assert_eq!(message.kind, SnsMessageType::UnsubscribeConfirmation);
}

#[tokio::test]
async fn lambda_style_url_spellings_are_accepted() {
    let json = BOUNCE_V1
        .replace("\"SigningCertURL\"", "\"SigningCertUrl\"")
        .replace("\"UnsubscribeURL\"", "\"UnsubscribeUrl\"");
    let message = verify(json.as_bytes(), BOUNCE_V1).await.unwrap();
    assert!(message.unsubscribe_url.unwrap().contains("Action=Unsubscribe"));
}

#[tokio::test]
async fn tampered_fields_fail_the_signature() {
    let bounce_message: Value = serde_json::from_str(BOUNCE_V1).unwrap();
    let transient = bounce_message["Message"].as_str().unwrap().replace("Permanent", "Transient");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (BOUNCE_V1, edit(BOUNCE_V1, "Message", Some(&transient))),
        (BOUNCE_V1, edit(BOUNCE_V1, "MessageId", Some("5a4f3c2e-9b1d-5e7f-a0c3-1d2e3f4a5b6d"))),
        (BOUNCE_V1, edit(BOUNCE_V1, "Subject", Some("injected"))),
        (BOUNCE_V1, edit(BOUNCE_V1, "Timestamp", Some("2026-11-02T09:14:08.512Z"))),
        (BOUNCE_V1, edit(BOUNCE_V1, "SignatureVersion", Some("2"))),
        (COMPLAINT_V2, edit(COMPLAINT_V2, "Subject", None)),
        (COMPLAINT_V2, edit(COMPLAINT_V2, "SignatureVersion", Some("1"))),
        (SUBSCRIPTION_V2, edit(SUBSCRIPTION_V2, "Token", Some("00"))),
        (
            SUBSCRIPTION_V2,
            edit(
                SUBSCRIPTION_V2,
                "SubscribeURL",
                Some("https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription"),
            ),
        ),
        (SUBSCRIPTION_V2, edit(SUBSCRIPTION_V2, "Type", Some("UnsubscribeConfirmation"))),
        (BOUNCE_V1, edit(BOUNCE_V1, "Signature", Some("AAAA"))),
        (BOUNCE_V1, edit(BOUNCE_V1, "Signature", Some("not base64"))),
    ];
    for (fixture, body) in cases {
        let error = verify(&body, fixture).await.unwrap_err();
        assert!(
            matches!(error, SignatureError::Mismatch("SNS Signature")),
            "{error:?} for {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(error.status(), 401);
    }
}

#[tokio::test]
async fn a_signature_by_another_key_fails() {
    let error = verifier(FakeCertificates::serving(OTHER_CERT), BOUNCE_V1)
        .verify(BOUNCE_V1.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(error, SignatureError::Mismatch(_)));
}

#[tokio::test]
async fn stale_messages_are_refused_before_any_certificate_is_fetched() {
    let certs = FakeCertificates::serving(SIGNING_CERT);
    let published = timestamp_of(BOUNCE_V1);
    let late = SnsVerifier::new(certs.clone(), [TOPIC]).clock(move || published + TimeDelta::seconds(3601));
    let error = late.verify(BOUNCE_V1.as_bytes()).await.unwrap_err();
    assert!(matches!(error, SignatureError::Stale { age_secs: 3601 }), "{error:?}");
    assert_eq!(error.status(), 401);
    assert_eq!(certs.fetches(), 0);

    let just_in_time =
        SnsVerifier::new(certs.clone(), [TOPIC]).clock(move || published + TimeDelta::seconds(3599));
    just_in_time.verify(BOUNCE_V1.as_bytes()).await.unwrap();

    let stricter = SnsVerifier::new(certs.clone(), [TOPIC])
        .max_age(Some(Duration::from_secs(60)))
        .clock(move || published + TimeDelta::minutes(2));
    assert!(matches!(stricter.verify(BOUNCE_V1.as_bytes()).await, Err(SignatureError::Stale { .. })));

    let ageless =
        SnsVerifier::new(certs, [TOPIC]).max_age(None).clock(move || published + TimeDelta::days(400));
    ageless.verify(BOUNCE_V1.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_foreign_topic_is_refused_with_403_without_fetching() {
    let certs = FakeCertificates::serving(SIGNING_CERT);
    let other_topic = SnsVerifier::new(certs.clone(), ["arn:aws:sns:eu-central-1:123456789012:other"]);
    let error = other_topic.verify(BOUNCE_V1.as_bytes()).await.unwrap_err();
    assert!(matches!(&error, SignatureError::UnexpectedTopic { topic_arn } if topic_arn == TOPIC));
    assert_eq!(error.status(), 403);
    let none = SnsVerifier::new(certs.clone(), Vec::<String>::new());
    assert!(none.verify(BOUNCE_V1.as_bytes()).await.is_err());
    assert_eq!(certs.fetches(), 0);
}

const LOOKALIKES: &[&str] = &[
    "https://sns.eu-central-1.amazonaws.com.evil.com/SimpleNotificationService-1.pem",
    "https://sns.eu-central-1.amazonaws.com.cn.evil.com/a.pem",
    "https://sns.eu-central-1.amazonaws.com./a.pem",
    "https://sns.eu-central-1.amazonaws.co/a.pem",
    "https://sns.eu-central-1.evil-amazonaws.com/a.pem",
    "https://sns.eu-central-1.amazonaws.com%2eevil.com/a.pem",
    "https://sns.eu-central-1.amazonaws.com@evil.com/a.pem",
    "https://evil.com@sns.eu-central-1.amazonaws.com/a.pem",
    "https://user:pass@sns.eu-central-1.amazonaws.com/a.pem",
    "https://sns.eu-central-1.amazonaws.com:8443/a.pem",
    "http://sns.eu-central-1.amazonaws.com/a.pem",
    "ftp://sns.eu-central-1.amazonaws.com/a.pem",
    "https://xsns.eu-central-1.amazonaws.com/a.pem",
    "https://a.sns.eu-central-1.amazonaws.com/a.pem",
    "https://sns.amazonaws.com/a.pem",
    "https://sns.evil.amazonaws.com/a.pem",
    "https://sns.s3-us-west-2.amazonaws.com/a.pem",
    "https://sns.s3.amazonaws.com/a.pem",
    "https://s3.amazonaws.com/sns/a.pem",
    "https://mybucket.s3.eu-central-1.amazonaws.com/a.pem",
    "https://sns.eu-central-1.amazonaws.com/a.txt",
    "https://sns.eu-central-1.amazonaws.com/a.pem?x=1",
    "https://sns.eu-central-1.amazonaws.com/a.pem#x",
    "https://54.239.0.1/a.pem",
    "https://[::1]/a.pem",
    "//sns.eu-central-1.amazonaws.com/a.pem",
    "not a url",
    "",
];

#[tokio::test]
async fn signing_certificates_from_lookalike_hosts_are_refused_without_fetching() {
    for url in LOOKALIKES {
        let certs = FakeCertificates::serving(SIGNING_CERT);
        // The URL is not covered by the signature: this body is otherwise genuine.
        let body = edit(BOUNCE_V1, "SigningCertURL", Some(url));
        let error = verifier(certs.clone(), BOUNCE_V1).verify(&body).await.unwrap_err();
        assert!(matches!(error, SignatureError::UntrustedHost("SigningCertURL")), "{url}: {error:?}");
        assert_eq!(error.status(), 403);
        assert_eq!(certs.fetches(), 0, "{url}");
    }
}

#[tokio::test]
async fn subscribe_urls_on_lookalike_hosts_are_refused() {
    for url in
        LOOKALIKES.iter().filter(|url| !url.ends_with(".txt") && !url.contains('?') && !url.contains('#'))
    {
        let body = edit(SUBSCRIPTION_V2, "SubscribeURL", Some(url));
        let error = verify(&body, SUBSCRIPTION_V2).await.unwrap_err();
        assert!(matches!(error, SignatureError::UntrustedHost("SubscribeURL")), "{url}: {error:?}");
    }
}

#[test]
fn genuine_sns_hosts() {
    for host in [
        "sns.us-east-1.amazonaws.com",
        "sns.eu-central-1.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
    ] {
        assert!(is_genuine_sns_host(host), "{host}");
    }
    for host in [
        "sns.us-east-1.amazonaws.com.evil.com",
        "sns.s3-external-1.amazonaws.com",
        "sqs.us-east-1.amazonaws.com",
        "sns.us-east-1.amazonaws.com.",
    ] {
        assert!(!is_genuine_sns_host(host), "{host}");
    }
}

#[tokio::test]
async fn explicit_default_port_and_upper_case_host_are_the_same_url() {
    let certs = Arc::new(FakeCertificates {
        pems: HashMap::from([(CERT_URL.to_owned(), SIGNING_CERT.as_bytes().to_vec())]),
        ..FakeCertificates::default()
    });
    for url in [
        CERT_URL.replace(".com/", ".com:443/"),
        CERT_URL.replace("sns.eu-central-1.amazonaws.com", "SNS.EU-CENTRAL-1.AMAZONAWS.COM"),
    ] {
        let body = edit(BOUNCE_V1, "SigningCertURL", Some(&url));
        verifier(certs.clone(), BOUNCE_V1).verify(&body).await.unwrap();
    }
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"Type=Notification".to_vec(),
        b"[]".to_vec(),
        edit(BOUNCE_V1, "Signature", None),
        edit(BOUNCE_V1, "Message", None),
        edit(BOUNCE_V1, "Type", Some("Unknown")),
        edit(BOUNCE_V1, "SignatureVersion", Some("3")),
        edit(BOUNCE_V1, "Timestamp", Some("yesterday")),
        edit(SUBSCRIPTION_V2, "SubscribeURL", None),
        // A key given twice: which value was signed would be ambiguous.
        BOUNCE_V1
            .replacen(
                "\"Type\": \"Notification\",",
                "\"Type\": \"Notification\", \"Type\": \"Notification\",",
                1,
            )
            .into_bytes(),
    ];
    for body in cases {
        let error = verify(&body, BOUNCE_V1).await.unwrap_err();
        assert!(
            matches!(error, SignatureError::Malformed(_)),
            "{error:?} for {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(error.status(), 400);
    }
}

#[tokio::test]
async fn an_unavailable_or_unreadable_certificate_is_503() {
    let empty = Arc::new(FakeCertificates::default());
    let error = verifier(empty, BOUNCE_V1).verify(BOUNCE_V1.as_bytes()).await.unwrap_err();
    assert!(matches!(error, SignatureError::CertificateUnavailable(_)));
    assert_eq!(error.status(), 503);

    let garbage = FakeCertificates::serving("<html>not a certificate</html>");
    let error = verifier(garbage, BOUNCE_V1).verify(BOUNCE_V1.as_bytes()).await.unwrap_err();
    assert!(matches!(error, SignatureError::CertificateUnavailable(_)));
}
