//! Twilio Messages and the WhatsApp sender check against wiremock: the exact request, how
//! answers are read, and how each failure maps — the auth token never in an error or log line.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{
    MessageChannel, MessageSender, OutgoingMessage, SendRefusal, VerificationStatus, WhatsappSenderDirectory,
};
use switchboard_core::ProviderError;
use switchboard_providers::{TwilioClient, TwilioConfig};
use wiremock::matchers::{any, basic_auth, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{capture_logs, closed_port_url, e164, fixture};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok_5e4d3c2b1a_messaging_never_in_errors";

fn client_with(base: &str, timeout: Duration) -> TwilioClient {
    TwilioClient::new(TwilioConfig {
        base_url: base.to_owned(),
        messaging_base_url: base.to_owned(),
        account_sid: SID.to_owned(),
        auth_token: SecretString::from(TOKEN),
        timeout,
    })
    .unwrap()
}

fn client(server: &MockServer) -> TwilioClient {
    client_with(&server.uri(), Duration::from_secs(5))
}

fn messages_path() -> String {
    format!("/2010-04-01/Accounts/{SID}/Messages.json")
}

fn json_body(name: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

fn sms(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        channel: MessageChannel::Sms,
        from: e164("+14155550142"),
        to: e164(to),
        body: "Your table for two is booked for 19:30. Reply STOP to opt out.".into(),
        status_callback: Some("https://hooks.example.com/twilio/messages/status".into()),
    }
}

fn form_of(request: &Request) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).unwrap();
    let map: BTreeMap<_, _> = pairs.iter().cloned().collect();
    assert_eq!(map.len(), pairs.len(), "no field sent twice");
    map
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

/// A server answering everything with `response`.
async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(response).mount(&server).await;
    server
}

fn assert_no_token(err: &ProviderError) {
    assert!(!err.to_string().contains(TOKEN) && !format!("{err:?}").contains(TOKEN), "{err:?}");
}

// ---- send --------------------------------------------------------------------------------------

#[tokio::test]
async fn an_sms_posts_to_from_body_and_status_callback_and_answers_the_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(basic_auth(SID, TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(json_body("twilio/message_created_sms.json", 201))
        .expect(1)
        .mount(&server)
        .await;

    let sent = client(&server).send(&sms("+4915123456789")).await.unwrap();

    assert_eq!(
        form_of(&only_request(&server).await),
        map(&[
            ("To", "+4915123456789"),
            ("From", "+14155550142"),
            ("Body", "Your table for two is booked for 19:30. Reply STOP to opt out."),
            ("StatusCallback", "https://hooks.example.com/twilio/messages/status"),
        ])
    );
    assert_eq!(sent.provider_message_id, "SM3f9a1c0e7b2d4e6f8a0b1c2d3e4f5a6b");
    assert_eq!(sent.status, MessageStatus::Queued);
}

#[tokio::test]
async fn whatsapp_addresses_carry_the_channel_prefix_and_unicode_survives() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(basic_auth(SID, TOKEN))
        .respond_with(json_body("twilio/message_created_whatsapp.json", 201))
        .expect(1)
        .mount(&server)
        .await;

    let message = OutgoingMessage {
        channel: MessageChannel::Whatsapp,
        body: "Hallo! Wie können wir helfen? 👋".into(),
        ..sms("+4915123456789")
    };
    let sent = client(&server).send(&message).await.unwrap();

    let request = only_request(&server).await;
    let form = form_of(&request);
    assert_eq!(form["To"], "whatsapp:+4915123456789");
    assert_eq!(form["From"], "whatsapp:+14155550142");
    assert_eq!(form["Body"], "Hallo! Wie können wir helfen? 👋");
    let raw = String::from_utf8(request.body).unwrap();
    assert!(raw.contains("To=whatsapp%3A%2B4915123456789"), "form-encoded: {raw}");
    assert_eq!(sent.provider_message_id, "SM8e7d6c5b4a39281706f5e4d3c2b1a098");
    assert_eq!(sent.status, MessageStatus::Queued, "`accepted` is queued");
}

#[tokio::test]
async fn without_a_status_callback_none_is_sent() {
    let server = answering(json_body("twilio/message_created_sms.json", 201)).await;
    client(&server).send(&OutgoingMessage { status_callback: None, ..sms("+4915123456789") }).await.unwrap();
    let form = form_of(&only_request(&server).await);
    assert!(!form.contains_key("StatusCallback"), "{form:?}");
}

#[tokio::test]
async fn an_opted_out_recipient_is_rejected_with_21610_and_reads_as_opted_out() {
    let server = answering(json_body("twilio/error_21610.json", 400)).await;
    let err = client(&server).send(&sms("+4915123450000")).await.unwrap_err();
    match &err {
        ProviderError::Rejected { provider, code, message } => {
            assert_eq!((*provider, code.as_str()), ("twilio", "21610"));
            assert!(message.contains("unsubscribed recipient"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::RecipientOptedOut));
    assert_eq!(SendRefusal::of(&err).unwrap().code(), "recipient_opted_out");
    assert_no_token(&err);
}

#[tokio::test]
async fn an_invalid_to_is_21211_and_reads_as_an_invalid_recipient() {
    let server = answering(json_body("twilio/error_21211.json", 400)).await;
    let err = client(&server).send(&sms("+49151234")).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Rejected { code, .. } if code == "21211"), "{err:?}");
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::InvalidRecipient));
}

#[tokio::test]
async fn region_and_routing_refusals_are_plain_rejections_with_their_code() {
    for (name, code) in [("twilio/error_21408.json", "21408"), ("twilio/error_21612.json", "21612")] {
        let server = answering(json_body(name, 400)).await;
        let err = client(&server).send(&sms("+4915123456789")).await.unwrap_err();
        assert!(matches!(&err, ProviderError::Rejected { code: c, .. } if c == code), "{err:?}");
        assert_eq!(SendRefusal::of(&err), None, "{code} keeps its own kind");
    }
}

#[tokio::test]
async fn a_closed_whatsapp_window_reads_as_window_closed() {
    let server = answering(json_body("twilio/error_63016.json", 400)).await;
    let message = OutgoingMessage { channel: MessageChannel::Whatsapp, ..sms("+4915123456789") };
    let err = client(&server).send(&message).await.unwrap_err();
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::WindowClosed));
}

#[tokio::test]
async fn rate_limits_server_errors_and_non_json_bodies_map_by_status() {
    for response in [
        json_body("twilio/error_20429.json", 429),
        json_body("twilio/error_20500.json", 500),
        ResponseTemplate::new(503).set_body_raw("<html>Service Unavailable</html>", "text/html"),
    ] {
        let server = answering(response).await;
        let err = client(&server).send(&sms("+4915123456789")).await.unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable { provider: "twilio", .. }), "{err:?}");
        assert_eq!(SendRefusal::of(&err), None);
    }
    let server = answering(ResponseTemplate::new(400).set_body_raw("Bad Request", "text/plain")).await;
    let err = client(&server).send(&sms("+4915123456789")).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "twilio",
            code: "400".into(),
            message: "HTTP 400 Bad Request".into()
        }
    );
}

#[tokio::test]
async fn refused_credentials_are_unauthorized_without_the_token() {
    let server = answering(json_body("twilio/error_20003.json", 401)).await;
    let err = client(&server).send(&sms("+4915123456789")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "twilio", .. }), "{err:?}");
    assert_no_token(&err);
}

#[tokio::test]
async fn a_timeout_and_a_refused_connection_are_unavailable() {
    let server =
        answering(json_body("twilio/message_created_sms.json", 201).set_delay(Duration::from_secs(3))).await;
    let slow = client_with(&server.uri(), Duration::from_millis(300));
    let err = slow.send(&sms("+4915123456789")).await.unwrap_err();
    assert_eq!(err, ProviderError::Unavailable { provider: "twilio", message: "request timed out".into() });

    let closed = client_with(&closed_port_url(), Duration::from_secs(2));
    let err = closed.send(&sms("+4915123456789")).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_no_token(&err);
}

#[tokio::test]
async fn a_created_message_without_a_sid_is_unavailable() {
    let server =
        answering(ResponseTemplate::new(201).set_body_raw(r#"{"status": "queued"}"#, "application/json"))
            .await;
    let err = client(&server).send(&sms("+4915123456789")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn no_log_line_carries_the_auth_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(json_body("twilio/error_21610.json", 400))
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(json_body("twilio/error_20003.json", 401)).mount(&server).await;
    let twilio = client(&server);
    let logs = capture_logs(async {
        twilio.send(&sms("+4915123450000")).await.unwrap_err();
        twilio.verify_sender(&e164("+14155550142")).await.unwrap_err();
    })
    .await;
    assert!(logs.contains("provider call failed"), "the failures are logged: {logs}");
    assert!(logs.contains("21610"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
}

// ---- WhatsApp sender check ------------------------------------------------------------------

#[tokio::test]
async fn the_sender_check_pages_until_the_sender_and_reads_online_as_verified() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/Channels/Senders"))
        .and(basic_auth(SID, TOKEN))
        .and(query_param("Channel", "whatsapp"))
        .and(query_param("Page", "1"))
        .and(query_param("PageToken", "PTXE22222222222222222222222222222222"))
        .respond_with(json_body("twilio/channels_senders_page2.json", 200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Channels/Senders"))
        .and(basic_auth(SID, TOKEN))
        .respond_with(json_body("twilio/channels_senders_page1.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let verdict = client(&server).verify_sender(&e164("+14155550142")).await.unwrap();

    assert_eq!(verdict.status, VerificationStatus::Verified);
    assert_eq!(verdict.message, "whatsapp:+14155550142 is online (quality HIGH, limit 10K Customers/24hr)");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let first: BTreeMap<String, String> = requests[0].url.query_pairs().into_owned().collect();
    assert_eq!(first, map(&[("Channel", "whatsapp"), ("PageSize", "1000")]));
    // The next page went to our server (not messaging.twilio.com), with Twilio's path and query.
    assert_eq!(requests[1].url.path(), "/v2/Channels/Senders");
}

#[tokio::test]
async fn a_sender_still_in_verification_is_pending() {
    let server = answering(json_body("twilio/channels_senders_page1.json", 200)).await;
    // Page 1 has +14155550199 as PENDING_VERIFICATION; its next page is never needed.
    let verdict = client(&server).verify_sender(&e164("+14155550199")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Pending);
    assert!(verdict.message.contains("PENDING_VERIFICATION"), "{}", verdict.message);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_offline_sender_fails_with_twilios_reasons() {
    let server = answering(json_body("twilio/channels_senders_offline.json", 200)).await;
    let verdict = client(&server).verify_sender(&e164("+14155550142")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Failed);
    assert_eq!(verdict.message, "whatsapp:+14155550142 is offline: No delivery (30008)");
}

#[tokio::test]
async fn a_number_that_is_no_sender_of_the_account_fails() {
    let server = answering(json_body("twilio/channels_senders_empty.json", 200)).await;
    let verdict = client(&server).verify_sender(&e164("+14155550142")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Failed);
    assert_eq!(verdict.message, "whatsapp:+14155550142 is not a WhatsApp sender of this Twilio account");
}

#[tokio::test]
async fn the_sender_check_stops_after_a_bounded_number_of_pages() {
    // Every page points at a next one: a misbehaving API must not keep us looping.
    let server = answering(json_body("twilio/channels_senders_page1.json", 200)).await;
    let verdict = client(&server).verify_sender(&e164("+4915199999999")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Failed);
    let pages = server.received_requests().await.unwrap().len();
    assert_eq!(pages, switchboard_providers::twilio::messaging::MAX_SENDER_PAGES);
}

#[tokio::test]
async fn the_sender_check_gives_no_verdict_when_twilio_cannot_answer() {
    for (response, unauthorized) in [
        (json_body("twilio/error_20003.json", 401), true),
        (json_body("twilio/error_20500.json", 500), false),
        (ResponseTemplate::new(200).set_body_raw("<html></html>", "text/html"), false),
    ] {
        let server = answering(response).await;
        let err = client(&server).verify_sender(&e164("+14155550142")).await.unwrap_err();
        if unauthorized {
            assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
        } else {
            assert!(err.is_transient(), "{err:?}");
        }
        assert_no_token(&err);
    }
}

#[tokio::test]
async fn a_next_page_elsewhere_is_fetched_from_the_configured_host_only() {
    let server = MockServer::start().await;
    let mut page: Value = serde_json::from_str(&fixture("twilio/channels_senders_empty.json")).unwrap();
    page["meta"]["next_page_url"] =
        json!("https://evil.example.net/v2/Channels/Senders?Channel=whatsapp&PageSize=1000&Page=1");
    Mock::given(query_param("Page", "1"))
        .respond_with(json_body("twilio/channels_senders_empty.json", 200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(page)).mount(&server).await;
    let verdict = client(&server).verify_sender(&e164("+14155550142")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Failed);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "both pages came from the configured base");
}
