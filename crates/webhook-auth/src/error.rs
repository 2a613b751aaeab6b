use http::StatusCode;

/// Why a webhook was not authenticated.
///
/// The variants name the piece of the request at fault (a header, a field), never a secret, a
/// computed signature or the value that was received. [`SignatureError::status`] is the answer
/// the binary gives; [`SignatureError::code`] is a stable name for logs and metrics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The credential or signature is absent (a header, `bodySHA256`, …).
    #[error("missing {0}")]
    Missing(&'static str),
    /// The credential or signature is there but wrong — in value or in form.
    #[error("{0} does not match")]
    Mismatch(&'static str),
    /// The body is not a message of the provider's format, so there is nothing to check.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The message is genuine but older than the accepted age (SNS `Timestamp`).
    #[error("message is {age_secs} s old, more than the accepted age")]
    Stale { age_secs: i64 },
    /// A URL in the message (`SigningCertURL`, `SubscribeURL`) is not a genuine AWS SNS endpoint.
    #[error("{0} is not a genuine AWS SNS address")]
    UntrustedHost(&'static str),
    /// A genuine SNS message of a topic we did not subscribe to.
    #[error("topic {topic_arn} is not one of ours")]
    UnexpectedTopic { topic_arn: String },
    /// Meta's verification GET with the wrong mode or verify token.
    #[error("verification challenge refused")]
    ChallengeRefused,
    /// The SNS signing certificate could not be fetched or read; the sender should retry.
    #[error("signing certificate unavailable")]
    CertificateUnavailable(#[source] CertificateError),
    /// The secret to check against is empty: no request can authenticate until it is configured.
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}

impl SignatureError {
    /// The HTTP status to answer with.
    ///
    /// 401 when the request does not prove who sent it, 403 when it names an origin or topic we do
    /// not accept, 400 when the body is not a message at all, 503 when the failure is ours (a
    /// certificate we could not get, a secret not configured) so the provider retries later.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing(_) | Self::Mismatch(_) | Self::Stale { .. } => StatusCode::UNAUTHORIZED,
            Self::UntrustedHost(_) | Self::UnexpectedTopic { .. } | Self::ChallengeRefused => {
                StatusCode::FORBIDDEN
            }
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::CertificateUnavailable(_) | Self::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable snake_case name of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing(_) => "signature_missing",
            Self::Mismatch(_) => "signature_mismatch",
            Self::Malformed(_) => "malformed_message",
            Self::Stale { .. } => "stale_message",
            Self::UntrustedHost(_) => "untrusted_host",
            Self::UnexpectedTopic { .. } => "unexpected_topic",
            Self::ChallengeRefused => "challenge_refused",
            Self::CertificateUnavailable(_) => "certificate_unavailable",
            Self::NotConfigured(_) => "webhook_secret_not_configured",
        }
    }
}

/// Why a [`CertificateSource`](crate::sns::CertificateSource) gave no certificate.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CertificateError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CertificateError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { message: message.into(), source: Some(source.into()) }
    }
}
