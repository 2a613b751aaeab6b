//! The live Meta Cloud API client against wiremock: the exact requests (version in the path,
//! the connection's bearer token, the JSON body), how answers are read, how Graph errors map —
//! and that the token appears in no error, `Debug` output or log line, even when Meta quotes it.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{MetaMessenger, SendRefusal, Verification, VerificationStatus};
use switchboard_core::ProviderError;
use switchboard_providers::{MetaClient, MetaConfig};
use wiremock::matchers::{any, bearer_token, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{capture_logs, closed_port_url, e164, fixture};

const PHONE_ID: &str = "106540352242922";
/// Shaped like a system-user token; must never leave the Authorization header.
const TOKEN: &str = "EAAGm0PX4ZCpsBAKZB9mZCvQ7xY2cV9pL0mN4rT8sWnever_in_errors";

fn token() -> SecretString {
    SecretString::from(TOKEN)
}

fn client_with(base: &str, version: &str, timeout: Duration) -> MetaClient {
    MetaClient::new(MetaConfig { base_url: base.to_owned(), api_version: version.to_owned(), timeout })
        .unwrap()
}

fn client(server: &MockServer) -> MetaClient {
    client_with(&server.uri(), "v23.0", Duration::from_secs(5))
}

fn json_body(name: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(response).mount(&server).await;
    server
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

fn assert_no_token(err: &ProviderError) {
    assert!(!err.to_string().contains(TOKEN) && !format!("{err:?}").contains(TOKEN), "{err:?}");
}

async fn send(meta: &MetaClient) -> Result<switchboard_channels::SentMessage, ProviderError> {
    meta.send_text(PHONE_ID, &token(), &e164("+4915123456789"), "Hallo! Wie können wir helfen?").await
}

// ---- send --------------------------------------------------------------------------------------

#[tokio::test]
async fn send_posts_a_text_message_with_the_connections_token_and_answers_the_wamid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/json"))
        .respond_with(json_body("meta/send_text_message.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let sent = send(&client(&server)).await.unwrap();

    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(
        body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "4915123456789",
            "type": "text",
            "text": {"body": "Hallo! Wie können wir helfen?", "preview_url": false}
        })
    );
    assert_eq!(sent.provider_message_id, "wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEjQ1QjY3RDg5MEFCQ0RFRjAxMgA=");
    assert_eq!(sent.status, MessageStatus::Queued);
}

#[tokio::test]
async fn the_configured_version_and_a_base_path_prefix_are_used() {
    let server = answering(json_body("meta/send_text_message.json", 200)).await;
    let meta = client_with(&format!("{}/graph/", server.uri()), "v24.0", Duration::from_secs(5));
    send(&meta).await.unwrap();
    assert_eq!(only_request(&server).await.url.path(), format!("/graph/v24.0/{PHONE_ID}/messages"));
}

#[tokio::test]
async fn a_closed_window_is_rejected_with_131047_and_reads_as_window_closed() {
    let server = answering(json_body("meta/error_131047.json", 400)).await;
    let err = send(&client(&server)).await.unwrap_err();
    match &err {
        ProviderError::Rejected { provider, code, message } => {
            assert_eq!((*provider, code.as_str()), ("meta", "131047"));
            assert!(message.contains("Re-engagement message"), "{message}");
            assert!(message.contains("more than 24 hours"), "the details are kept: {message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::WindowClosed));
    assert_no_token(&err);
}

#[tokio::test]
async fn an_invalid_parameter_on_send_is_rejected_with_its_details() {
    let server = answering(json_body("meta/error_100_invalid_parameter.json", 400)).await;
    let err = send(&client(&server)).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "meta",
            code: "100".into(),
            message: "(#100) Invalid parameter: Parameter 'to' is not a valid phone number. (Meta error 100)"
                .into(),
        }
    );
}

#[tokio::test]
async fn an_expired_token_is_unauthorized_on_send_and_verify() {
    let server = answering(json_body("meta/error_190_expired.json", 401)).await;
    let meta = client(&server);
    let err = send(&meta).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "meta", .. }), "{err:?}");
    assert!(err.to_string().contains("Meta error 190, subcode 463"), "{err}");
    let err = meta.verify(PHONE_ID, &token()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
    assert_no_token(&err);
    // Even when Graph answers 400 for it, 190 is a refused token.
    let server = answering(json_body("meta/error_190_expired.json", 400)).await;
    assert!(matches!(send(&client(&server)).await.unwrap_err(), ProviderError::Unauthorized { .. }));
}

#[tokio::test]
async fn missing_permissions_are_unauthorized() {
    let server = answering(json_body("meta/error_200_permission.json", 403)).await;
    let err = client(&server).verify(PHONE_ID, &token()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn rate_limits_transient_errors_and_5xx_are_unavailable() {
    for response in [
        json_body("meta/error_130429_rate_limit.json", 400),
        json_body("meta/error_2_transient.json", 500),
        json_body("meta/error_2_transient.json", 400),
        ResponseTemplate::new(502).set_body_raw("<html>502 Bad Gateway</html>", "text/html"),
        ResponseTemplate::new(429),
    ] {
        let server = answering(response).await;
        let err = send(&client(&server)).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable { provider: "meta", .. }), "{err:?}");
    }
}

#[tokio::test]
async fn a_non_json_4xx_falls_back_to_the_http_status() {
    let server = answering(ResponseTemplate::new(400).set_body_raw("Bad Request", "text/plain")).await;
    let err = send(&client(&server)).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "meta",
            code: "400".into(),
            message: "HTTP 400 Bad Request".into()
        }
    );
}

#[tokio::test]
async fn a_send_answer_without_a_message_id_is_unavailable() {
    let server = answering(
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"messaging_product":"whatsapp","messages":[]}"#, "application/json"),
    )
    .await;
    let err = send(&client(&server)).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_timeout_and_a_refused_connection_are_unavailable() {
    let server =
        answering(json_body("meta/send_text_message.json", 200).set_delay(Duration::from_secs(3))).await;
    let slow = client_with(&server.uri(), "v23.0", Duration::from_millis(300));
    let err = send(&slow).await.unwrap_err();
    assert_eq!(err, ProviderError::Unavailable { provider: "meta", message: "request timed out".into() });

    let closed = client_with(&closed_port_url(), "v23.0", Duration::from_secs(2));
    let err = closed.verify(PHONE_ID, &token()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_no_token(&err);
}

// ---- verify ------------------------------------------------------------------------------------

#[tokio::test]
async fn verify_gets_the_phone_number_with_the_token_and_reads_its_details() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{PHONE_ID}")))
        .and(bearer_token(TOKEN))
        .respond_with(json_body("meta/phone_number.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let number = client(&server).verify(PHONE_ID, &token()).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(request.url.query(), None, "the default fields are enough");
    assert_eq!(number.id, PHONE_ID);
    assert_eq!(number.display_phone_number.as_deref(), Some("+1 555-078-3881"));
    assert_eq!(number.verified_name.as_deref(), Some("Acme Reception"));
    assert_eq!(number.quality_rating.as_deref(), Some("GREEN"));
    let verdict = Verification::of_meta(Ok(number)).unwrap();
    assert_eq!(verdict.status, VerificationStatus::Verified);
    assert_eq!(verdict.message, "+1 555-078-3881 (Acme Reception) answers with this access token");
}

#[tokio::test]
async fn verify_of_an_unknown_id_is_not_found() {
    for response in [
        json_body("meta/error_100_unknown_id.json", 400),
        json_body("meta/error_803_phone_not_found.json", 404),
        json_body("meta/error_100_invalid_parameter.json", 400),
    ] {
        let server = answering(response).await;
        let err = client(&server).verify("106540352242999", &token()).await.unwrap_err();
        assert!(matches!(err, ProviderError::NotFound { provider: "meta", .. }), "{err:?}");
        let verdict = Verification::of_meta(Err(err)).unwrap();
        assert_eq!(verdict.status, VerificationStatus::Failed);
    }
}

#[tokio::test]
async fn send_from_an_unknown_id_is_not_found() {
    let server = answering(json_body("meta/error_100_unknown_id.json", 400)).await;
    let err = send(&client(&server)).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_id_that_is_not_digits_is_not_found_without_a_request() {
    let server = answering(json_body("meta/phone_number.json", 200)).await;
    let meta = client(&server);
    for bad in ["", "../me", "1065 4035", "me"] {
        let err = meta.verify(bad, &token()).await.unwrap_err();
        assert!(matches!(err, ProviderError::NotFound { .. }), "{bad}: {err:?}");
        let err = meta.send_text(bad, &token(), &e164("+4915123456789"), "hi").await.unwrap_err();
        assert!(matches!(err, ProviderError::NotFound { .. }), "{bad}: {err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---- the token ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_quoted_back_by_meta_appears_in_no_error_debug_or_log_line() {
    let quoted = json!({"error": {
        "message": format!("Malformed access token {TOKEN}"),
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": "AVm3kQ8zP1xL0cN7bR2tY5w"
    }});
    let server = answering(ResponseTemplate::new(400).set_body_json(quoted)).await;
    let meta = client(&server);
    let (logs, errors) = {
        let mut errors = Vec::new();
        let logs = capture_logs(async {
            errors.push(send(&meta).await.unwrap_err());
            errors.push(meta.verify(PHONE_ID, &token()).await.unwrap_err());
        })
        .await;
        (logs, errors)
    };
    for err in &errors {
        assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
        assert!(err.to_string().contains("Malformed access token [redacted]"), "{err}");
        assert_no_token(err);
    }
    assert!(logs.contains("provider call failed") && logs.contains("AVm3kQ8zP1xL0cN7bR2tY5w"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
    assert!(!format!("{meta:?}").contains(TOKEN));
    assert!(!format!("{:?}", token()).contains(TOKEN));
}

#[test]
fn a_bad_version_or_base_url_is_refused_at_start() {
    let err = MetaClient::new(MetaConfig {
        base_url: switchboard_providers::meta::DEFAULT_BASE_URL.into(),
        api_version: "23.0".into(),
        timeout: Duration::from_secs(1),
    })
    .unwrap_err();
    assert!(err.to_string().contains("23.0") && err.to_string().contains("v23.0"), "{err}");
    assert!(
        MetaClient::new(MetaConfig {
            base_url: "graph.facebook.com".into(),
            api_version: switchboard_providers::meta::DEFAULT_API_VERSION.into(),
            timeout: Duration::from_secs(1),
        })
        .is_err()
    );
}
