//! AWS SES v2 through the official SDK (`aws-sdk-sesv2`): creating and checking sender identities
//! (`CreateEmailIdentity`, `GetEmailIdentity`) and sending plain-text mail (`SendEmail`).
//! REST-JSON, SigV4 with signing name `ses`, `https://email.<region>.amazonaws.com` unless
//! `endpoint_url` overrides it (tests point it at wiremock).
//!
//! **Identities.** "Verified" is SES's `VerifiedForSendingStatus`. The status comes from
//! `VerificationStatus` (`SUCCESS` → `Verified`); `CreateEmailIdentity` does not answer one, so
//! there it is derived from `VerifiedForSendingStatus` and, for a domain, `DkimAttributes.Status`.
//! A domain's DKIM tokens are `DkimAttributes.Tokens`; address identities have none. Creating an
//! identity that exists (`AlreadyExistsException`) answers its current state from
//! `GetEmailIdentity`.
//!
//! **Sending.** `FromEmailAddress` is `"Display Name" <addr>` when a name is given: control
//! characters are dropped, `"` and `\` escaped, and a non-ASCII name is written as RFC 2047
//! encoded words, so a name can never add a header. Subject and text body are sent as UTF-8.
//!
//! **Credentials.** Static ones from the configuration, or else AWS's standard chain
//! (`aws-config`'s `DefaultCredentialsChain`: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`, profile files, web identity token, ECS task role, EC2 instance role),
//! built lazily on the first call. `aws-config` is linked without default features: no SSO
//! profiles and no `credential_process` (each would add clients or process spawning we do not
//! use), and no aws-lc TLS stack; this costs about 6 s of cold compile on top of the SDK.
//! Credentials that cannot be found are `Unauthorized`.
//!
//! **Retries.** The SDK's own retries are off (one attempt per call): like the other clients here,
//! a transient failure comes back as `Unavailable` and the calling service decides whether and
//! when to repeat. `timeout` bounds the whole call (connect included).
//!
//! **Errors** are keyed on SES's error code (header `x-amzn-ErrorType` or body `__type`/`code`,
//! parsed by the SDK), then on the HTTP status: `NotFoundException` → `NotFound`;
//! `TooManyRequestsException`, `ConcurrentModificationException`, 429, 5xx, timeouts and
//! connection failures → `Unavailable`; `LimitExceededException` → `Unavailable` when sending (a
//! rate or daily quota that frees up) but `Rejected` when creating an identity (the account's
//! identity quota does not free itself); signature/credential errors and 401/403 →
//! `Unauthorized` (without SES's message, which may quote the signed request); `MessageRejected`,
//! `MailFromDomainNotVerifiedException`, `BadRequestException` and other 4xx → `Rejected` with the
//! SES code.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{
    Body, Content, Destination, DkimAttributes, DkimStatus, EmailContent, IdentityType, Message,
    VerificationStatus as SesStatus,
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use switchboard_core::ProviderError;
use switchboard_email_identities::{
    EmailIdentityProvider, EmailSender, IdentityKind, IdentityState, OutgoingEmail, VerificationStatus,
};

use crate::{ConfigError, http, truncate};

const PROVIDER: &str = "ses";
/// Longest SES message we pass on.
const MESSAGE_MAX: usize = 300;
const UTF8: &str = "UTF-8";

#[derive(Debug, Clone)]
pub struct SesConfig {
    /// `eu-west-1`, …: picks the endpoint and goes into the signature.
    pub region: String,
    /// Overrides `https://email.<region>.amazonaws.com` (tests, VPC endpoints).
    pub endpoint_url: Option<String>,
    /// Access key id and secret; `None` reads the `AWS_*` environment variables at call time.
    pub credentials: Option<(String, SecretString)>,
    /// Whole-call timeout (connect + answer).
    pub timeout: Duration,
}

/// The live SES client.
#[derive(Debug, Clone)]
pub struct SesClient {
    client: aws_sdk_sesv2::Client,
}

impl SesClient {
    pub fn new(config: SesConfig) -> Result<Self, ConfigError> {
        let region = config.region.trim();
        if region.is_empty()
            || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            // The endpoint this region would give is the thing that is wrong.
            return Err(ConfigError::BaseUrl {
                provider: PROVIDER,
                url: format!("https://email.{region}.amazonaws.com"),
            });
        }
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut builder = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .http_client(http_client.clone())
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(config.timeout)
                    .connect_timeout(config.timeout)
                    .build(),
            );
        builder = match config.credentials {
            Some((access_key_id, secret)) => builder.credentials_provider(Credentials::new(
                access_key_id,
                secret.expose_secret(),
                None,
                None,
                "switchboard-config",
            )),
            None => builder.credentials_provider(DefaultChain {
                region: Region::new(region.to_owned()),
                http_client: http_client.clone(),
                chain: tokio::sync::OnceCell::new(),
            }),
        };
        if let Some(raw) = config.endpoint_url {
            let url = http::base_url(PROVIDER, &raw)?;
            builder = builder.endpoint_url(url.as_str().trim_end_matches('/'));
        }
        Ok(Self { client: aws_sdk_sesv2::Client::from_conf(builder.build()) })
    }
}

/// AWS's standard credential chain (`aws_config`'s `DefaultCredentialsChain`: environment,
/// profile files, web identity token, ECS container, EC2 instance metadata), built on first use
/// because building it is async, and sharing our HTTP client.
struct DefaultChain {
    region: Region,
    http_client: SharedHttpClient,
    chain: tokio::sync::OnceCell<DefaultCredentialsChain>,
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultChain").field("region", &self.region).finish_non_exhaustive()
    }
}

impl ProvideCredentials for DefaultChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let chain = self
                .chain
                .get_or_init(|| async {
                    let conf = ProviderConfig::without_region()
                        .with_region(Some(self.region.clone()))
                        .with_http_client(self.http_client.clone());
                    DefaultCredentialsChain::builder()
                        .region(self.region.clone())
                        .configure(conf)
                        .build()
                        .await
                })
                .await;
            chain.provide_credentials().await
        })
    }
}

#[async_trait]
impl EmailIdentityProvider for SesClient {
    async fn create_identity(
        &self,
        identity: &str,
        kind: IdentityKind,
    ) -> Result<IdentityState, ProviderError> {
        let answer = self.client.create_email_identity().email_identity(identity).send().await;
        match answer {
            Ok(out) => {
                let kind = kind_of(out.identity_type(), identity).unwrap_or(kind);
                let verified = out.verified_for_sending_status();
                Ok(IdentityState {
                    identity: identity.to_owned(),
                    kind,
                    status: derived_status(verified, out.dkim_attributes()),
                    verified_for_sending: verified,
                    dkim_tokens: tokens(out.dkim_attributes()),
                })
            }
            Err(err) if err.as_service_error().is_some_and(|e| e.is_already_exists_exception()) => {
                tracing::debug!(provider = PROVIDER, "identity exists already, reading its state");
                self.get_identity(identity).await
            }
            Err(err) => Err(failed("create_identity", Op::CreateIdentity, err)),
        }
    }

    async fn get_identity(&self, identity: &str) -> Result<IdentityState, ProviderError> {
        let out = self
            .client
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
            .map_err(|err| failed("get_identity", Op::Other, err))?;
        let verified = out.verified_for_sending_status();
        let status = match out.verification_status() {
            Some(status) => {
                status_from(status).unwrap_or_else(|| derived_status(verified, out.dkim_attributes()))
            }
            None => derived_status(verified, out.dkim_attributes()),
        };
        Ok(IdentityState {
            identity: identity.to_owned(),
            kind: kind_of(out.identity_type(), identity).unwrap_or_else(|| guess_kind(identity)),
            status,
            verified_for_sending: verified,
            dkim_tokens: tokens(out.dkim_attributes()),
        })
    }
}

#[async_trait]
impl EmailSender for SesClient {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, ProviderError> {
        for address in std::iter::once(&email.from).chain(&email.to) {
            check_address(address)?;
        }
        let content = |data: &str| {
            Content::builder().data(data).charset(UTF8).build().map_err(|e| ProviderError::Rejected {
                provider: PROVIDER,
                code: "invalid_message".into(),
                message: e.to_string(),
            })
        };
        let message = Message::builder()
            .subject(content(&one_line(&email.subject))?)
            .body(Body::builder().text(content(&email.text)?).build())
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(mailbox(email.from_name.as_deref(), &email.from))
            .destination(Destination::builder().set_to_addresses(Some(email.to.clone())).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|err| failed("send", Op::Send, err))?;
        out.message_id().map(str::to_owned).ok_or_else(|| ProviderError::Unavailable {
            provider: PROVIDER,
            message: "SendEmail answered without a MessageId".into(),
        })
    }
}

// ---- wire → domain -------------------------------------------------------------------------

fn kind_of(identity_type: Option<&IdentityType>, identity: &str) -> Option<IdentityKind> {
    match identity_type? {
        IdentityType::EmailAddress => Some(IdentityKind::Address),
        IdentityType::Domain | IdentityType::ManagedDomain => Some(IdentityKind::Domain),
        _ => Some(guess_kind(identity)),
    }
}

/// SES itself tells an address from a domain by the `@`.
fn guess_kind(identity: &str) -> IdentityKind {
    if identity.contains('@') { IdentityKind::Address } else { IdentityKind::Domain }
}

fn status_from(status: &SesStatus) -> Option<VerificationStatus> {
    Some(match status {
        SesStatus::Pending => VerificationStatus::Pending,
        SesStatus::Success => VerificationStatus::Verified,
        SesStatus::Failed => VerificationStatus::Failed,
        SesStatus::TemporaryFailure => VerificationStatus::TemporaryFailure,
        SesStatus::NotStarted => VerificationStatus::NotStarted,
        _ => return None,
    })
}

/// For answers without `VerificationStatus` (CreateEmailIdentity).
fn derived_status(verified: bool, dkim: Option<&DkimAttributes>) -> VerificationStatus {
    if verified {
        return VerificationStatus::Verified;
    }
    match dkim.and_then(DkimAttributes::status) {
        Some(DkimStatus::Failed) => VerificationStatus::Failed,
        Some(DkimStatus::TemporaryFailure) => VerificationStatus::TemporaryFailure,
        Some(DkimStatus::Success) => VerificationStatus::Verified,
        _ => VerificationStatus::Pending,
    }
}

fn tokens(dkim: Option<&DkimAttributes>) -> Vec<String> {
    dkim.map(|d| d.tokens().to_vec()).unwrap_or_default()
}

// ---- the sender ----------------------------------------------------------------------------

/// Refuses an address that could break out of its header (SES would refuse most of these too,
/// but not all of them with a clear message).
fn check_address(address: &str) -> Result<(), ProviderError> {
    let bad = address.is_empty()
        || !address.contains('@')
        || address.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"' | ','));
    if bad {
        return Err(ProviderError::Rejected {
            provider: PROVIDER,
            code: "invalid_address".into(),
            message: format!(
                "`{}` is not a plain email address",
                truncate(&address.escape_debug().to_string(), 100)
            ),
        });
    }
    Ok(())
}

/// Line breaks and other control characters become spaces (a subject is one header line).
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `addr`, or `"Name" <addr>` / `=?UTF-8?B?…?= <addr>` when a display name is given.
fn mailbox(name: Option<&str>, addr: &str) -> String {
    let name = name.map(one_line);
    let name = name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return addr.to_owned();
    }
    if name.is_ascii() {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("\"{escaped}\" <{addr}>");
    }
    format!("{} <{addr}>", encoded_words(name))
}

/// RFC 2047 `B` encoding, split on character boundaries so no encoded word exceeds 75 characters
/// (45 bytes of UTF-8 → 60 base64 characters + 12 of framing).
fn encoded_words(text: &str) -> String {
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() - start > CHUNK {
            words.push(&text[start..end]);
            start = i;
        }
        end = i + c.len_utf8();
    }
    words.push(&text[start..end]);
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- errors --------------------------------------------------------------------------------

/// Which call failed, where it changes the meaning of a code.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    CreateIdentity,
    Send,
    Other,
}

fn failed<E>(
    op_name: &'static str,
    op: Op,
    err: SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let mapped = map_error(op, &err);
    tracing::warn!(provider = PROVIDER, op = op_name, error = %mapped, "provider call failed");
    mapped
}

fn map_error<E>(op: Op, err: &SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    let unavailable = |message: String| ProviderError::Unavailable { provider: PROVIDER, message };
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().map(str::to_owned);
            let message = service.err().message().map(|m| truncate(m, MESSAGE_MAX).to_owned());
            by_code(op, status, code, message)
        }
        SdkError::TimeoutError(_) => unavailable("request timed out".into()),
        SdkError::DispatchFailure(failure) => {
            if has_source::<CredentialsError>(err) {
                ProviderError::Unauthorized {
                    provider: PROVIDER,
                    message:
                        "no usable AWS credentials (neither configured nor found by the AWS credential chain)"
                            .into(),
                }
            } else if failure.is_timeout() {
                unavailable("request timed out".into())
            } else if failure.is_io() {
                unavailable("could not connect".into())
            } else {
                unavailable(format!("request failed: {}", Chain(err)))
            }
        }
        SdkError::ResponseError(response) => {
            unavailable(format!("unexpected response (HTTP {})", response.raw().status().as_u16()))
        }
        // Building the request failed before anything was sent (e.g. a missing required field).
        SdkError::ConstructionFailure(_) => ProviderError::Rejected {
            provider: PROVIDER,
            code: "invalid_request".into(),
            message: format!("request could not be built: {}", Chain(err)),
        },
        _ => unavailable(format!("request failed: {}", Chain(err))),
    }
}

fn by_code(op: Op, status: u16, code: Option<String>, message: Option<String>) -> ProviderError {
    let code_str = code.as_deref().unwrap_or_default();
    let text = match (&code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, Some(m)) => m,
        (None, None) => format!("HTTP {status}"),
    };
    let auth = matches!(
        code_str,
        "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "InvalidClientTokenId"
            | "MissingAuthenticationToken"
            | "MissingAuthenticationTokenException"
            | "ExpiredToken"
            | "ExpiredTokenException"
    );
    if auth || status == 401 || status == 403 {
        // SES's text for signature errors can quote the canonical request (and a session token).
        let message = if code_str.is_empty() { format!("HTTP {status}") } else { code_str.to_owned() };
        return ProviderError::Unauthorized { provider: PROVIDER, message };
    }
    match code_str {
        "NotFoundException" => ProviderError::NotFound { provider: PROVIDER, message: text },
        "TooManyRequestsException"
        | "ConcurrentModificationException"
        | "Throttling"
        | "ThrottlingException" => ProviderError::Unavailable { provider: PROVIDER, message: text },
        "LimitExceededException" if op == Op::Send => {
            ProviderError::Unavailable { provider: PROVIDER, message: text }
        }
        "LimitExceededException" if op == Op::CreateIdentity => {
            ProviderError::Rejected { provider: PROVIDER, code: code_str.to_owned(), message: text }
        }
        _ => match reqwest::StatusCode::from_u16(status) {
            Ok(status) => http::by_status(PROVIDER, status, code, text),
            Err(_) => ProviderError::Unavailable { provider: PROVIDER, message: text },
        },
    }
}

fn has_source<T: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// An error and its causes on one line.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_display_name_is_quoted_and_escaped() {
        assert_eq!(mailbox(Some("Acme, Inc."), "a@acme.example"), "\"Acme, Inc.\" <a@acme.example>");
        assert_eq!(
            mailbox(Some("Say \"hi\" \\ bye"), "a@acme.example"),
            r#""Say \"hi\" \\ bye" <a@acme.example>"#
        );
        assert_eq!(mailbox(Some("  "), "a@acme.example"), "a@acme.example");
        assert_eq!(mailbox(None, "a@acme.example"), "a@acme.example");
    }

    #[test]
    fn a_display_name_cannot_add_a_header() {
        let from = mailbox(Some("Acme\r\nBcc: victim@evil.example"), "a@acme.example");
        assert!(!from.contains('\r') && !from.contains('\n'), "{from}");
        assert_eq!(from, "\"Acme  Bcc: victim@evil.example\" <a@acme.example>");
    }

    #[test]
    fn a_non_ascii_display_name_becomes_short_encoded_words() {
        assert_eq!(mailbox(Some("Café"), "a@acme.example"), "=?UTF-8?B?Q2Fmw6k=?= <a@acme.example>");
        let long = "Ünïcödé ".repeat(20);
        let from = mailbox(Some(&long), "a@acme.example");
        let words: Vec<&str> = from.trim_end_matches(" <a@acme.example>").split(' ').collect();
        assert!(words.len() > 1);
        let mut decoded = Vec::new();
        for word in words {
            assert!(word.len() <= 75, "{word}");
            let b64 = word.strip_prefix("=?UTF-8?B?").unwrap().strip_suffix("?=").unwrap();
            decoded.extend(base64::engine::general_purpose::STANDARD.decode(b64).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), long.trim());
    }

    #[test]
    fn addresses_that_could_break_a_header_are_refused() {
        for bad in
            ["a@b.example\r\nBcc: x@y.example", "Name <a@b.example>", "no-at-sign", "", "a b@c.example"]
        {
            assert!(matches!(check_address(bad), Err(ProviderError::Rejected { .. })), "{bad:?}");
        }
        assert!(check_address("first.last+tag@sub.example.com").is_ok());
    }

    #[test]
    fn limit_exceeded_is_transient_when_sending_but_final_when_creating() {
        let send = by_code(Op::Send, 400, Some("LimitExceededException".into()), None);
        assert!(send.is_transient(), "{send:?}");
        let create = by_code(Op::CreateIdentity, 400, Some("LimitExceededException".into()), None);
        assert!(
            matches!(create, ProviderError::Rejected { ref code, .. } if code == "LimitExceededException")
        );
    }

    #[test]
    fn signature_errors_are_unauthorized_without_the_quoted_request() {
        let err = by_code(
            Op::Other,
            403,
            Some("SignatureDoesNotMatch".into()),
            Some(
                "The Canonical String for this request should have been 'x-amz-security-token:SECRET'".into(),
            ),
        );
        assert_eq!(
            err,
            ProviderError::Unauthorized { provider: PROVIDER, message: "SignatureDoesNotMatch".into() }
        );
    }
}
