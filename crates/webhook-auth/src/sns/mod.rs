//! AWS SNS message signatures (providers.md §5) — how SES bounces, complaints and deliveries
//! reach us.
//!
//! The body is JSON whatever its `Content-Type` (SNS sends `text/plain`). [`SnsVerifier::verify`]
//! checks, cheapest first, and only then hands out an [`SnsMessage`]:
//!
//! 1. `Type` is `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`;
//!    `SignatureVersion` is `1` (SHA1withRSA) or `2` (SHA256withRSA);
//! 2. `SigningCertURL` — not covered by the signature — is https to a genuine SNS host
//!    ([`is_genuine_sns_host`]) and names a `.pem`; a `SubscribeURL`, which the binary GETs to
//!    confirm a subscription, passes the same host rule;
//! 3. `TopicArn` is one of ours: SNS signs the messages of *every* topic, including one an
//!    attacker creates and subscribes our endpoint to;
//! 4. `Timestamp` is not older than the maximum age (1 hour unless configured; the clock is
//!    injectable) — checked before the certificate is fetched, like 2 and 3, so a forged message
//!    costs no outbound request unless it names one of our topics;
//! 5. the signature (PKCS#1 v1.5) over the canonical string verifies with the certificate's key.
//!
//! The canonical string is `Key\nvalue\n` for each key present, in the order
//! `Message, MessageId, Subject, Timestamp, TopicArn, Type` (notifications) or
//! `Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type` (confirmations), built
//! from the JSON-decoded values. Lambda-style spellings (`SigningCertUrl`, `SubscribeUrl`,
//! `UnsubscribeUrl`) are accepted like AWS's own validators do; a key given twice is refused.

mod certificates;
mod host;
mod subscriptions;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde::Deserialize;
use url::Url;

pub use self::certificates::{CertificateSource, HttpCertificateSource};
pub use self::host::is_genuine_sns_host;
pub use self::subscriptions::{HttpSubscriptionConfirmer, SubscriptionConfirmer, subscribe_url};
use crate::SignatureError;

/// The kind of an SNS message (`Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsMessageType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl SnsMessageType {
    fn parse(raw: &str) -> Result<Self, SignatureError> {
        match raw {
            "Notification" => Ok(Self::Notification),
            "SubscriptionConfirmation" => Ok(Self::SubscriptionConfirmation),
            "UnsubscribeConfirmation" => Ok(Self::UnsubscribeConfirmation),
            _ => Err(SignatureError::Malformed("SNS Type")),
        }
    }
}

/// A message whose signature, origin, topic and age have been checked. Only
/// [`SnsVerifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnsMessage {
    pub kind: SnsMessageType,
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// For SES, itself a JSON document.
    pub message: String,
    pub timestamp: DateTime<Utc>,
    /// Present on confirmations; a genuine SNS URL (checked like `SigningCertURL`), so a
    /// `SubscriptionConfirmation` can be confirmed by a GET to it.
    pub subscribe_url: Option<Url>,
    pub token: Option<String>,
    pub unsubscribe_url: Option<String>,
}

/// The body as SNS sends it; every value kept exactly as decoded, for the canonical string.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "TopicArn")]
    topic_arn: String,
    #[serde(rename = "Subject", default)]
    subject: Option<String>,
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "Timestamp")]
    timestamp: String,
    #[serde(rename = "SignatureVersion")]
    signature_version: String,
    #[serde(rename = "Signature")]
    signature: String,
    #[serde(rename = "SigningCertURL", alias = "SigningCertUrl")]
    signing_cert_url: String,
    #[serde(rename = "SubscribeURL", alias = "SubscribeUrl", default)]
    subscribe_url: Option<String>,
    #[serde(rename = "UnsubscribeURL", alias = "UnsubscribeUrl", default)]
    unsubscribe_url: Option<String>,
    #[serde(rename = "Token", default)]
    token: Option<String>,
}

impl Envelope {
    /// The string SNS signs (providers.md §5 step 3).
    fn string_to_sign(&self, kind: SnsMessageType) -> String {
        let fields: Vec<(&str, Option<&str>)> = match kind {
            SnsMessageType::Notification => vec![
                ("Message", Some(&self.message)),
                ("MessageId", Some(&self.message_id)),
                ("Subject", self.subject.as_deref()),
                ("Timestamp", Some(&self.timestamp)),
                ("TopicArn", Some(&self.topic_arn)),
                ("Type", Some(&self.kind)),
            ],
            SnsMessageType::SubscriptionConfirmation | SnsMessageType::UnsubscribeConfirmation => vec![
                ("Message", Some(&self.message)),
                ("MessageId", Some(&self.message_id)),
                ("SubscribeURL", self.subscribe_url.as_deref()),
                ("Timestamp", Some(&self.timestamp)),
                ("Token", self.token.as_deref()),
                ("TopicArn", Some(&self.topic_arn)),
                ("Type", Some(&self.kind)),
            ],
        };
        let mut out = String::with_capacity(self.message.len() + 512);
        for (key, value) in fields {
            if let Some(value) = value {
                out.push_str(key);
                out.push('\n');
                out.push_str(value);
                out.push('\n');
            }
        }
        out
    }
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Verifies SNS messages for a fixed set of topics.
#[derive(Clone)]
pub struct SnsVerifier {
    certificates: Arc<dyn CertificateSource>,
    topics: Vec<String>,
    max_age: Option<TimeDelta>,
    clock: Clock,
}

impl SnsVerifier {
    /// How old a message may be unless [`Self::max_age`] says otherwise.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

    /// A verifier accepting messages of `topic_arns` only (an empty list accepts none).
    pub fn new<T: Into<String>>(
        certificates: Arc<dyn CertificateSource>,
        topic_arns: impl IntoIterator<Item = T>,
    ) -> Self {
        Self {
            certificates,
            topics: topic_arns.into_iter().map(Into::into).collect(),
            max_age: TimeDelta::from_std(Self::DEFAULT_MAX_AGE).ok(),
            clock: Arc::new(Utc::now),
        }
    }

    /// Refuse messages whose `Timestamp` is older than this; `None` accepts any age.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age.and_then(|age| TimeDelta::from_std(age).ok());
        self
    }

    /// The clock the age is measured with (tests pass a fixed one).
    pub fn clock(mut self, now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// Checks a raw SNS body and returns the message it carries.
    pub async fn verify(&self, raw_body: &[u8]) -> Result<SnsMessage, SignatureError> {
        let envelope: Envelope =
            serde_json::from_slice(raw_body).map_err(|_| SignatureError::Malformed("SNS message"))?;
        let kind = SnsMessageType::parse(&envelope.kind)?;
        let algorithm: &'static dyn VerificationAlgorithm = match envelope.signature_version.as_str() {
            "1" => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => return Err(SignatureError::Malformed("SNS SignatureVersion")),
        };

        let cert_url = host::signing_cert_url(&envelope.signing_cert_url)?;
        let subscribe_url = envelope
            .subscribe_url
            .as_deref()
            .map(|raw| host::genuine_sns_url(raw, "SubscribeURL"))
            .transpose()?;
        if kind == SnsMessageType::SubscriptionConfirmation
            && (subscribe_url.is_none() || envelope.token.is_none())
        {
            return Err(SignatureError::Malformed("SNS SubscriptionConfirmation"));
        }

        if !self.topics.contains(&envelope.topic_arn) {
            return Err(SignatureError::UnexpectedTopic { topic_arn: envelope.topic_arn });
        }

        let timestamp = DateTime::parse_from_rfc3339(&envelope.timestamp)
            .map_err(|_| SignatureError::Malformed("SNS Timestamp"))?
            .with_timezone(&Utc);
        if let Some(max_age) = self.max_age {
            let age = (self.clock)() - timestamp;
            if age > max_age {
                return Err(SignatureError::Stale { age_secs: age.num_seconds() });
            }
        }

        let signature_bytes =
            STANDARD.decode(&envelope.signature).map_err(|_| SignatureError::Mismatch("SNS Signature"))?;
        let pem = self.certificates.fetch(&cert_url).await.map_err(SignatureError::CertificateUnavailable)?;
        let public_key =
            certificates::rsa_public_key(&pem).map_err(SignatureError::CertificateUnavailable)?;
        UnparsedPublicKey::new(algorithm, &public_key)
            .verify(envelope.string_to_sign(kind).as_bytes(), &signature_bytes)
            .map_err(|_| SignatureError::Mismatch("SNS Signature"))?;

        Ok(SnsMessage {
            kind,
            message_id: envelope.message_id,
            topic_arn: envelope.topic_arn,
            subject: envelope.subject,
            message: envelope.message,
            timestamp,
            subscribe_url,
            token: envelope.token,
            unsubscribe_url: envelope.unsubscribe_url,
        })
    }
}

impl fmt::Debug for SnsVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnsVerifier")
            .field("topics", &self.topics)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, subject: Option<&str>) -> Envelope {
        Envelope {
            kind: kind.into(),
            message_id: "id-1".into(),
            topic_arn: "arn:aws:sns:eu-central-1:1:t".into(),
            subject: subject.map(Into::into),
            message: "line one\nline two".into(),
            timestamp: "2026-11-02T09:14:07.512Z".into(),
            signature_version: "2".into(),
            signature: String::new(),
            signing_cert_url: String::new(),
            subscribe_url: Some("https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription".into()),
            unsubscribe_url: Some("https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe".into()),
            token: Some("tok".into()),
        }
    }

    #[test]
    fn notification_string_to_sign_omits_an_absent_subject_and_never_has_urls() {
        let e = envelope("Notification", None);
        assert_eq!(
            e.string_to_sign(SnsMessageType::Notification),
            "Message\nline one\nline two\nMessageId\nid-1\nTimestamp\n2026-11-02T09:14:07.512Z\n\
             TopicArn\narn:aws:sns:eu-central-1:1:t\nType\nNotification\n"
        );
        let e = envelope("Notification", Some("Hi"));
        assert!(
            e.string_to_sign(SnsMessageType::Notification)
                .contains("MessageId\nid-1\nSubject\nHi\nTimestamp\n")
        );
    }

    #[test]
    fn confirmation_string_to_sign_has_subscribe_url_and_token_in_order() {
        let e = envelope("SubscriptionConfirmation", Some("ignored"));
        assert_eq!(
            e.string_to_sign(SnsMessageType::SubscriptionConfirmation),
            "Message\nline one\nline two\nMessageId\nid-1\n\
             SubscribeURL\nhttps://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription\n\
             Timestamp\n2026-11-02T09:14:07.512Z\nToken\ntok\n\
             TopicArn\narn:aws:sns:eu-central-1:1:t\nType\nSubscriptionConfirmation\n"
        );
    }
}
