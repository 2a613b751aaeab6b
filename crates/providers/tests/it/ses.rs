//! The live SES client (official AWS SDK) against wiremock, with SES's REST-JSON shapes from
//! `fixtures/providers/ses/`. Errors carry the code in `x-amzn-ErrorType` as SES sends it
//! (`Code:namespace-url`), or only in the body's `__type`.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_core::ProviderError;
use switchboard_email_identities::{
    EmailIdentityProvider, EmailSender, IdentityKind, OutgoingEmail, VerificationStatus,
};
use switchboard_providers::{SesClient, SesConfig};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{closed_port_url, fixture};

const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "eu-west-1";
const TOKENS: [&str; 3] = [
    "k7h3qz2mxv5w9a4ndc6ry8tbpf2uejgs",
    "w2n8ckd4xq6vz3hm7brj5tsa9pgye1lf",
    "c9f5ta2kpm7xw4hq8znr3vjd6bse1ylg",
];
const MESSAGE_ID: &str = "0100019b7c4e2a1f-3d6e8b0a-5c2f-4e7d-9a1b-6f3c8d2e4a5b-000000";

fn config(endpoint: &str, timeout: Duration) -> SesConfig {
    SesConfig {
        region: REGION.to_owned(),
        endpoint_url: Some(endpoint.to_owned()),
        credentials: Some((ACCESS_KEY_ID.to_owned(), SecretString::from(SECRET))),
        timeout,
    }
}

fn client(server: &MockServer) -> SesClient {
    SesClient::new(config(&server.uri(), Duration::from_secs(5))).unwrap()
}

fn ses_json(name: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(&format!("ses/{name}")), "application/json")
}

/// An SES error as SES sends it: the code in `x-amzn-ErrorType`, the message in the body.
fn ses_error(code: &str, status: u16, body: &str) -> ResponseTemplate {
    ses_json(body, status)
        .insert_header(
            "x-amzn-ErrorType",
            format!("{code}:http://internal.amazon.com/coral/com.amazonaws.sesv2/"),
        )
        .insert_header("x-amzn-RequestId", "5b2a4c1e-8d3f-4e6a-9b7c-1d2e3f4a5b6c")
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

async fn only_request(server: &MockServer) -> Request {
    let mut all = requests(server).await;
    assert_eq!(all.len(), 1, "exactly one request expected (no SDK retries)");
    all.remove(0)
}

fn sent_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn assert_sigv4(request: &Request) {
    let auth = request.headers.get("authorization").expect("authorization header").to_str().unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"), "{auth}");
    assert!(auth.contains(&format!("/{REGION}/ses/aws4_request")), "{auth}");
    assert!(auth.contains("SignedHeaders=") && auth.contains("Signature="), "{auth}");
    assert!(!auth.contains(SECRET));
    assert!(request.headers.get("x-amz-date").is_some());
}

fn assert_no_secret(err: &ProviderError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET), "{text}");
}

// ---- CreateEmailIdentity -----------------------------------------------------------------------

#[tokio::test]
async fn create_identity_for_a_domain_posts_the_domain_and_answers_its_dkim_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/identities"))
        .and(header("content-type", "application/json"))
        .respond_with(ses_json("create_email_identity_domain.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let state = client(&server).create_identity("acme.example", IdentityKind::Domain).await.unwrap();
    assert_eq!(state.identity, "acme.example");
    assert_eq!(state.kind, IdentityKind::Domain);
    assert_eq!(state.status, VerificationStatus::Pending);
    assert!(!state.verified_for_sending);
    assert_eq!(state.dkim_tokens, TOKENS);

    let request = only_request(&server).await;
    assert_sigv4(&request);
    assert_eq!(sent_json(&request), json!({"EmailIdentity": "acme.example"}));
}

#[tokio::test]
async fn create_identity_for_an_address_posts_the_address_and_has_no_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/identities"))
        .respond_with(ses_json("create_email_identity_address.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let state = client(&server).create_identity("sender@acme.example", IdentityKind::Address).await.unwrap();
    assert_eq!(state.kind, IdentityKind::Address);
    assert_eq!(state.status, VerificationStatus::Pending);
    assert!(!state.verified_for_sending);
    assert!(state.dkim_tokens.is_empty());

    let request = only_request(&server).await;
    assert_sigv4(&request);
    assert_eq!(sent_json(&request), json!({"EmailIdentity": "sender@acme.example"}));
}

#[tokio::test]
async fn create_identity_that_already_exists_answers_its_current_state() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/identities"))
        .respond_with(ses_error("AlreadyExistsException", 400, "error_already_exists.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/email/identities/acme.example"))
        .respond_with(ses_json("get_email_identity_domain_success.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let state = client(&server).create_identity("acme.example", IdentityKind::Domain).await.unwrap();
    assert_eq!(state.status, VerificationStatus::Verified);
    assert!(state.verified_for_sending);
    assert_eq!(state.dkim_tokens, TOKENS);
    let methods: Vec<String> = requests(&server).await.iter().map(|r| r.method.to_string()).collect();
    assert_eq!(methods, ["POST", "GET"]);
}

// ---- GetEmailIdentity --------------------------------------------------------------------------

async fn get_domain(fixture_name: &str) -> (switchboard_email_identities::IdentityState, Request) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/email/identities/acme.example"))
        .respond_with(ses_json(fixture_name, 200))
        .expect(1)
        .mount(&server)
        .await;
    let state = client(&server).get_identity("acme.example").await.unwrap();
    (state, only_request(&server).await)
}

#[tokio::test]
async fn get_identity_maps_a_pending_domain_with_its_tokens() {
    let (state, request) = get_domain("get_email_identity_domain_pending.json").await;
    assert_sigv4(&request);
    assert!(request.body.is_empty());
    assert_eq!(state.kind, IdentityKind::Domain);
    assert_eq!(state.status, VerificationStatus::Pending);
    assert!(!state.verified_for_sending);
    assert_eq!(state.dkim_tokens, TOKENS);
}

#[tokio::test]
async fn get_identity_maps_success_to_verified_and_verified_for_sending() {
    let (state, _) = get_domain("get_email_identity_domain_success.json").await;
    assert_eq!(state.status, VerificationStatus::Verified);
    assert!(state.verified_for_sending);
}

#[tokio::test]
async fn get_identity_maps_failed_and_temporary_failure() {
    let (state, _) = get_domain("get_email_identity_domain_failed.json").await;
    assert_eq!(state.status, VerificationStatus::Failed);
    assert!(!state.verified_for_sending);
    let (state, _) = get_domain("get_email_identity_domain_temporary_failure.json").await;
    assert_eq!(state.status, VerificationStatus::TemporaryFailure);
    assert!(!state.verified_for_sending);
}

#[tokio::test]
async fn get_identity_of_an_address_encodes_the_at_sign_and_has_no_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/email/identities/sender%40acme.example"))
        .respond_with(ses_json("get_email_identity_address_pending.json", 200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/email/identities/verified%40acme.example"))
        .respond_with(ses_json("get_email_identity_address_success.json", 200))
        .mount(&server)
        .await;

    let pending = client(&server).get_identity("sender@acme.example").await.unwrap();
    assert_eq!(pending.kind, IdentityKind::Address);
    assert_eq!(pending.status, VerificationStatus::Pending);
    assert!(pending.dkim_tokens.is_empty());

    // No DkimAttributes at all in this answer.
    let verified = client(&server).get_identity("verified@acme.example").await.unwrap();
    assert_eq!(verified.status, VerificationStatus::Verified);
    assert!(verified.verified_for_sending);
    assert!(verified.dkim_tokens.is_empty());
}

#[tokio::test]
async fn get_identity_maps_not_found_from_the_error_type_header() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("NotFoundException", 404, "error_not_found.json"))
        .mount(&server)
        .await;
    let err = client(&server).get_identity("nobody@acme.example").await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::NotFound {
            provider: "ses",
            message: "NotFoundException: Email identity nobody@acme.example does not exist.".into()
        }
    );
}

#[tokio::test]
async fn get_identity_maps_not_found_from_the_body_type_alone() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ses_json("error_not_found_typed.json", 404)).mount(&server).await;
    let err = client(&server).get_identity("nobody@acme.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
}

// ---- SendEmail ---------------------------------------------------------------------------------

fn email(from_name: Option<&str>) -> OutgoingEmail {
    OutgoingEmail {
        from: "sender@acme.example".into(),
        from_name: from_name.map(str::to_owned),
        to: vec!["ana@customer.example".into(), "bo@customer.example".into()],
        subject: "Your code: 123 – ✓".into(),
        text: "Hello Zoë,\nyour code is 123.\n".into(),
    }
}

#[tokio::test]
async fn send_posts_a_simple_utf8_message_and_answers_the_message_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/outbound-emails"))
        .and(header("content-type", "application/json"))
        .respond_with(ses_json("send_email.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let id = client(&server).send(&email(None)).await.unwrap();
    assert_eq!(id, MESSAGE_ID);

    let request = only_request(&server).await;
    assert_sigv4(&request);
    assert_eq!(
        sent_json(&request),
        json!({
            "FromEmailAddress": "sender@acme.example",
            "Destination": {"ToAddresses": ["ana@customer.example", "bo@customer.example"]},
            "Content": {"Simple": {
                "Subject": {"Data": "Your code: 123 – ✓", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": "Hello Zoë,\nyour code is 123.\n", "Charset": "UTF-8"}}
            }}
        })
    );
}

#[tokio::test]
async fn send_quotes_the_display_name_in_the_from_address() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ses_json("send_email.json", 200)).mount(&server).await;
    let ses = client(&server);

    ses.send(&email(Some("Acme \"Support\", Inc.\r\nBcc: x@evil.example"))).await.unwrap();
    ses.send(&email(Some("Zoë"))).await.unwrap();

    let sent: Vec<Value> = requests(&server).await.iter().map(sent_json).collect();
    assert_eq!(
        sent[0]["FromEmailAddress"],
        r#""Acme \"Support\", Inc.  Bcc: x@evil.example" <sender@acme.example>"#
    );
    assert_eq!(sent[1]["FromEmailAddress"], "=?UTF-8?B?Wm/Dqw==?= <sender@acme.example>");
}

#[tokio::test]
async fn send_refuses_an_address_with_a_line_break_without_calling_ses() {
    let server = MockServer::start().await;
    let mut bad = email(None);
    bad.to.push("c@customer.example\r\nBcc: x@evil.example".into());
    let err = client(&server).send(&bad).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { ref code, .. } if code == "invalid_address"), "{err:?}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn send_from_an_unverified_sender_is_rejected_with_the_ses_code() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("MessageRejected", 400, "error_message_rejected.json"))
        .mount(&server)
        .await;
    let err = client(&server).send(&email(None)).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "ses",
            code: "MessageRejected".into(),
            message: "MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: sender@acme.example".into()
        }
    );
}

#[tokio::test]
async fn send_maps_mail_from_not_verified_and_bad_request_to_rejected() {
    for code in ["MailFromDomainNotVerifiedException", "BadRequestException"] {
        let server = MockServer::start().await;
        Mock::given(any()).respond_with(ses_error(code, 400, "error_bad_request.json")).mount(&server).await;
        let err = client(&server).send(&email(None)).await.unwrap_err();
        assert!(matches!(err, ProviderError::Rejected { code: ref c, .. } if c == code), "{err:?}");
    }
}

// ---- transient and credential failures ---------------------------------------------------------

#[tokio::test]
async fn too_many_requests_is_unavailable_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("TooManyRequestsException", 429, "error_too_many_requests.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).send(&email(None)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(
        err,
        ProviderError::Unavailable {
            provider: "ses",
            message: "TooManyRequestsException: Maximum sending rate exceeded.".into()
        }
    );
}

#[tokio::test]
async fn limit_exceeded_while_sending_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("LimitExceededException", 400, "error_too_many_requests.json"))
        .mount(&server)
        .await;
    let err = client(&server).send(&email(None)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn a_500_is_unavailable_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("InternalFailure", 500, "error_internal_failure.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).create_identity("acme.example", IdentityKind::Domain).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_unavailable() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_json("send_email.json", 200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let ses = SesClient::new(config(&server.uri(), Duration::from_millis(300))).unwrap();
    let started = std::time::Instant::now();
    let err = ses.send(&email(None)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(err, ProviderError::Unavailable { provider: "ses", message: "request timed out".into() });
}

#[tokio::test]
async fn a_closed_port_is_unavailable() {
    let ses = SesClient::new(config(&closed_port_url(), Duration::from_secs(2))).unwrap();
    let err = ses.get_identity("acme.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn refused_signatures_are_unauthorized_and_never_show_the_secret() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ses_error("SignatureDoesNotMatch", 403, "error_signature_does_not_match.json"))
        .mount(&server)
        .await;
    let ses = client(&server);
    for err in [
        ses.get_identity("acme.example").await.unwrap_err(),
        ses.create_identity("acme.example", IdentityKind::Domain).await.unwrap_err(),
        ses.send(&email(None)).await.unwrap_err(),
    ] {
        assert_eq!(
            err,
            ProviderError::Unauthorized { provider: "ses", message: "SignatureDoesNotMatch".into() }
        );
        assert_no_secret(&err);
    }
}

#[tokio::test]
async fn a_bare_403_is_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(403)).mount(&server).await;
    let err = client(&server).get_identity("acme.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
}

#[test]
fn config_refuses_a_bad_region_or_endpoint() {
    let mut bad_region = config("http://127.0.0.1:9", Duration::from_secs(1));
    bad_region.region = "eu west 1".into();
    assert!(SesClient::new(bad_region).is_err());
    let bad_endpoint = config("not a url", Duration::from_secs(1));
    let err = SesClient::new(bad_endpoint).unwrap_err();
    assert!(err.to_string().contains("ses"), "{err}");
}

#[test]
fn config_without_credentials_or_endpoint_builds() {
    let ses = SesClient::new(SesConfig {
        region: REGION.into(),
        endpoint_url: None,
        credentials: None,
        timeout: Duration::from_secs(5),
    });
    assert!(ses.is_ok());
}

const NO_CREDENTIALS_CHILD: &str = "SWITCHBOARD_TEST_NO_AWS_CREDENTIALS";

/// Runs in a child process with an empty environment and no home folder, so the AWS credential
/// chain finds nothing whatever this machine has — the check always runs, it never skips.
#[test]
fn without_credentials_anywhere_calls_are_unauthorized_and_nothing_is_sent() {
    if std::env::var_os(NO_CREDENTIALS_CHILD).is_some() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        return rt.block_on(no_credentials_case());
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "ses::without_credentials_anywhere_calls_are_unauthorized_and_nothing_is_sent",
            "--exact",
            "--nocapture",
        ])
        .env_clear()
        .env(NO_CREDENTIALS_CHILD, "1")
        .env("HOME", "/nonexistent-switchboard-home")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn no_credentials_case() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ses_json("send_email.json", 200)).mount(&server).await;
    let ses = SesClient::new(SesConfig {
        region: REGION.into(),
        endpoint_url: Some(server.uri()),
        credentials: None,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    let err = ses.get_identity("acme.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "ses", .. }), "{err:?}");
    assert!(requests(&server).await.is_empty());
}

#[test]
fn debug_output_never_shows_the_secret() {
    let config = config("http://127.0.0.1:9", Duration::from_secs(1));
    let ses = SesClient::new(config.clone()).unwrap();
    let text = format!("{config:?} {ses:?}");
    assert!(!text.contains(SECRET), "{text}");
}
