//! The live Vapi client against wiremock.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_core::ProviderError;
use switchboard_numbers::VoiceGateway;
use switchboard_providers::{VapiClient, VapiConfig};
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{closed_port_url, e164, fixture};

const API_KEY: &str = "vapi_private_key_never_in_errors";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio_token_never_in_errors";
const SERVER_SECRET: &str = "server-secret-for-webhooks";
const ID: &str = "3f5a9c1e-7b2d-4e8f-a6c4-1d2e3f4a5b6c";
const SERVER_URL: &str = "https://hooks.example.com/vapi/events";

fn config(base: &str, timeout: Duration) -> VapiConfig {
    VapiConfig {
        base_url: base.to_owned(),
        api_key: SecretString::from(API_KEY),
        twilio_account_sid: TWILIO_SID.to_owned(),
        twilio_auth_token: SecretString::from(TWILIO_TOKEN),
        server_secret: SecretString::from(SERVER_SECRET),
        timeout,
    }
}

fn client(server: &MockServer) -> VapiClient {
    VapiClient::new(config(&server.uri(), Duration::from_secs(5))).unwrap()
}

fn json_body(name: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

fn sent_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn server_object(url: &str) -> Value {
    json!({"url": url, "headers": {"X-Vapi-Secret": SERVER_SECRET}})
}

#[tokio::test]
async fn import_number_posts_a_twilio_import_without_an_assistant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/phone-number"))
        .and(bearer_token(API_KEY))
        .and(header("content-type", "application/json"))
        .respond_with(json_body("vapi/phone_number_twilio.json", 201))
        .expect(1)
        .mount(&server)
        .await;

    let id = client(&server).import_number(&e164("+14155550142"), "Reception", SERVER_URL).await.unwrap();
    assert_eq!(id, ID);

    let sent = sent_json(&only_request(&server).await);
    assert_eq!(
        sent,
        json!({
            "provider": "twilio",
            "number": "+14155550142",
            "twilioAccountSid": TWILIO_SID,
            "twilioAuthToken": TWILIO_TOKEN,
            "name": "Reception",
            "smsEnabled": false,
            "server": server_object(SERVER_URL),
        })
    );
    assert!(sent.get("assistantId").is_none());
}

#[tokio::test]
async fn import_number_cuts_the_name_to_40_characters() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body("vapi/phone_number_twilio.json", 201))
        .mount(&server)
        .await;
    client(&server).import_number(&e164("+14155550142"), &"x".repeat(60), SERVER_URL).await.unwrap();
    let sent = sent_json(&only_request(&server).await);
    assert_eq!(sent["name"].as_str().unwrap().len(), 40);
}

#[tokio::test]
async fn update_server_url_patches_the_server_object() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/phone-number/{ID}")))
        .and(bearer_token(API_KEY))
        .respond_with(json_body("vapi/phone_number_twilio.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let new_url = "https://hooks2.example.com/vapi/events";
    client(&server).update_server_url(ID, new_url).await.unwrap();

    let sent = sent_json(&only_request(&server).await);
    assert_eq!(sent, json!({"provider": "twilio", "server": server_object(new_url)}));
}

#[tokio::test]
async fn remove_number_deletes_and_accepts_the_deleted_object() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/phone-number/{ID}")))
        .and(bearer_token(API_KEY))
        .respond_with(json_body("vapi/phone_number_twilio.json", 200))
        .expect(1)
        .mount(&server)
        .await;
    client(&server).remove_number(ID).await.unwrap();
}

// ---- errors ------------------------------------------------------------------------------------

async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any()).respond_with(response).mount(&server).await;
    server
}

fn assert_no_secret(err: &ProviderError) {
    let text = format!("{err} {err:?}");
    for secret in [API_KEY, TWILIO_TOKEN, SERVER_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn remove_number_maps_404_to_not_found() {
    let server = answering(json_body("vapi/error_404.json", 404)).await;
    let err = client(&server).remove_number(ID).await.unwrap_err();
    assert_eq!(err, ProviderError::NotFound { provider: "vapi", message: "Phone Number not found".into() });
}

#[tokio::test]
async fn import_number_maps_401_to_unauthorized() {
    let server = answering(json_body("vapi/error_401.json", 401)).await;
    let err = client(&server).import_number(&e164("+14155550142"), "x", SERVER_URL).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "vapi", .. }), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn import_number_maps_a_400_with_a_message_list_to_rejected() {
    let server = answering(json_body("vapi/error_400.json", 400)).await;
    let err = client(&server).import_number(&e164("+14155550142"), "x", SERVER_URL).await.unwrap_err();
    match &err {
        ProviderError::Rejected { provider, code, message } => {
            assert_eq!(*provider, "vapi");
            assert_eq!(code, "400");
            assert!(message.contains("E.164") && message.contains("; name must"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert_no_secret(&err);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_unavailable() {
    for response in [
        json_body("vapi/error_500.json", 500),
        ResponseTemplate::new(503),
        ResponseTemplate::new(429)
            .set_body_raw(r#"{"message":"Too Many Requests","statusCode":429}"#, "application/json"),
    ] {
        let server = answering(response).await;
        let err = client(&server).update_server_url(ID, SERVER_URL).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable { provider: "vapi", .. }), "{err:?}");
    }
}

#[tokio::test]
async fn a_non_json_error_body_falls_back_to_the_http_status() {
    let server = answering(ResponseTemplate::new(422).set_body_raw("unprocessable", "text/plain")).await;
    let err = client(&server).remove_number(ID).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "vapi",
            code: "422".into(),
            message: "HTTP 422 Unprocessable Entity".into()
        }
    );
}

#[tokio::test]
async fn a_timeout_is_unavailable() {
    let server =
        answering(json_body("vapi/phone_number_twilio.json", 201).set_delay(Duration::from_secs(3))).await;
    let vapi = VapiClient::new(config(&server.uri(), Duration::from_millis(300))).unwrap();
    let err = vapi.import_number(&e164("+14155550142"), "x", SERVER_URL).await.unwrap_err();
    assert_eq!(err, ProviderError::Unavailable { provider: "vapi", message: "request timed out".into() });
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let vapi = VapiClient::new(config(&closed_port_url(), Duration::from_secs(2))).unwrap();
    let err = vapi.remove_number(ID).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
    assert_no_secret(&err);
}
