//! The live Twilio client against wiremock: exact paths, Basic auth, the fields sent, and how
//! answers and failures are read.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_core::{Country, NumberType, ProviderError};
use switchboard_numbers::{
    Capabilities, NumberInventory, SearchQuery, SenderStatus, WebhookTargets, WhatsappSenders,
};
use switchboard_providers::{TwilioClient, TwilioConfig};
use wiremock::matchers::{basic_auth, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{closed_port_url, e164, fixture};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok_9f8e7d6c5b4a_never_in_errors";
const PN: &str = "PN0d2c8b5e4f7a41c2b9e3a6d1f0c7b845";

fn config(base: &str, timeout: Duration) -> TwilioConfig {
    TwilioConfig {
        base_url: base.to_owned(),
        messaging_base_url: base.to_owned(),
        account_sid: SID.to_owned(),
        auth_token: SecretString::from(TOKEN),
        timeout,
    }
}

fn client(server: &MockServer) -> TwilioClient {
    TwilioClient::new(config(&server.uri(), Duration::from_secs(5))).unwrap()
}

fn account(rest: &str) -> String {
    format!("/2010-04-01/Accounts/{SID}{rest}")
}

fn json_body(name: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

fn query(country: &str, number_type: NumberType) -> SearchQuery {
    SearchQuery {
        country: country.parse().unwrap(),
        number_type,
        area_code: None,
        contains: None,
        voice: None,
        sms: None,
        mms: None,
        fax: None,
        limit: 10,
    }
}

fn hooks() -> WebhookTargets {
    WebhookTargets::under("https://hooks.example.com/")
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

fn query_of(request: &Request) -> BTreeMap<String, String> {
    request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
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

// ---- search ----------------------------------------------------------------------------------

#[tokio::test]
async fn search_sends_area_code_capabilities_and_page_size_for_us_numbers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(account("/AvailablePhoneNumbers/US/Local.json")))
        .and(basic_auth(SID, TOKEN))
        .respond_with(json_body("twilio/available_phone_numbers_us_local.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let q = SearchQuery {
        area_code: Some("415".into()),
        contains: Some("555".into()),
        voice: Some(true),
        sms: Some(true),
        mms: Some(false),
        ..query("US", NumberType::Local)
    };
    let found = client(&server).search(&q).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(
        query_of(&request),
        map(&[
            ("AreaCode", "415"),
            ("Contains", "555"),
            ("VoiceEnabled", "true"),
            ("SmsEnabled", "true"),
            ("MmsEnabled", "false"),
            ("PageSize", "10"),
        ])
    );

    // The third item's phone_number has no `+` and is skipped.
    assert_eq!(found.len(), 2);
    let first = &found[0];
    assert_eq!(first.phone_number, e164("+14155550142"));
    assert_eq!(first.friendly_name, "(415) 555-0142");
    assert_eq!(first.locality.as_deref(), Some("San Francisco"));
    assert_eq!(first.country, Country::US);
    assert_eq!(first.number_type, NumberType::Local);
    assert_eq!(
        first.capabilities,
        Capabilities { voice: true, sms: true, mms: true, fax: false },
        "upper-case SMS/MMS keys are read"
    );
    assert_eq!(
        found[1].capabilities,
        Capabilities { voice: true, sms: true, mms: false, fax: false },
        "missing keys are false"
    );
}

#[tokio::test]
async fn search_turns_a_german_area_code_into_an_anchored_contains_pattern() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(account("/AvailablePhoneNumbers/DE/Local.json")))
        .and(basic_auth(SID, TOKEN))
        .respond_with(json_body("twilio/available_phone_numbers_de_local.json", 200))
        .mount(&server)
        .await;

    let q = SearchQuery { area_code: Some("30".into()), ..query("DE", NumberType::Local) };
    let found = client(&server).search(&q).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(query_of(&request), map(&[("Contains", "+4930"), ("PageSize", "10")]));
    let numbers: Vec<_> = found.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(numbers, ["+493012345670", "+493077712345"], "the Munich number is not in area 30");
    assert_eq!(found[0].locality.as_deref(), Some("Berlin"));
    assert_eq!(found[0].capabilities, Capabilities { voice: true, ..Capabilities::default() });
}

#[tokio::test]
async fn search_filters_contains_locally_when_the_area_code_took_the_pattern() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(account("/AvailablePhoneNumbers/DE/Local.json")))
        .respond_with(json_body("twilio/available_phone_numbers_de_local.json", 200))
        .mount(&server)
        .await;

    let q = SearchQuery {
        area_code: Some("30".into()),
        contains: Some("777".into()),
        limit: 5,
        ..query("DE", NumberType::Local)
    };
    let found = client(&server).search(&q).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(query_of(&request), map(&[("Contains", "+4930"), ("PageSize", "100")]));
    let numbers: Vec<_> = found.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(numbers, ["+493077712345"]);
}

#[tokio::test]
async fn search_uses_the_type_path_and_an_empty_list_is_not_an_error() {
    let server = MockServer::start().await;
    for kind in ["Mobile", "TollFree"] {
        Mock::given(method("GET"))
            .and(path(account(&format!("/AvailablePhoneNumbers/LU/{kind}.json"))))
            .and(basic_auth(SID, TOKEN))
            .respond_with(json_body("twilio/available_phone_numbers_empty.json", 200))
            .expect(1)
            .mount(&server)
            .await;
    }
    let twilio = client(&server);
    assert!(twilio.search(&query("LU", NumberType::Mobile)).await.unwrap().is_empty());
    assert!(twilio.search(&query("LU", NumberType::TollFree)).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_respects_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_body("twilio/available_phone_numbers_us_local.json", 200))
        .mount(&server)
        .await;
    let found =
        client(&server).search(&SearchQuery { limit: 1, ..query("US", NumberType::Local) }).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(query_of(&only_request(&server).await).get("PageSize").map(String::as_str), Some("1"));
}

// ---- purchase, webhooks, release ----------------------------------------------------------------

#[tokio::test]
async fn purchase_posts_the_form_and_returns_the_purchased_number() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(account("/IncomingPhoneNumbers.json")))
        .and(basic_auth(SID, TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(json_body("twilio/incoming_phone_number_created.json", 201))
        .expect(1)
        .mount(&server)
        .await;

    let bought = client(&server).purchase(&e164("+14155550142"), "Reception", &hooks()).await.unwrap();

    assert_eq!(
        form_of(&only_request(&server).await),
        map(&[
            ("PhoneNumber", "+14155550142"),
            ("FriendlyName", "Reception"),
            ("SmsUrl", "https://hooks.example.com/twilio/messages"),
            ("SmsMethod", "POST"),
            ("StatusCallback", "https://hooks.example.com/twilio/voice/status"),
            ("StatusCallbackMethod", "POST"),
        ])
    );
    assert_eq!(bought.sid, PN);
    assert_eq!(bought.phone_number, e164("+14155550142"));
    assert_eq!(bought.friendly_name, "Reception");
    assert_eq!(bought.capabilities, Capabilities { voice: true, sms: true, mms: true, fax: false });
}

#[tokio::test]
async fn purchase_cuts_the_friendly_name_to_64_characters() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_body("twilio/incoming_phone_number_created.json", 201))
        .mount(&server)
        .await;
    let long = "Ä".repeat(70);
    client(&server).purchase(&e164("+14155550142"), &long, &hooks()).await.unwrap();
    let sent = form_of(&only_request(&server).await);
    assert_eq!(sent["FriendlyName"].chars().count(), 64);
}

#[tokio::test]
async fn configure_webhooks_posts_to_the_number_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(account(&format!("/IncomingPhoneNumbers/{PN}.json"))))
        .and(basic_auth(SID, TOKEN))
        .respond_with(json_body("twilio/incoming_phone_number_updated.json", 200))
        .expect(1)
        .mount(&server)
        .await;

    let targets = WebhookTargets::under("https://hooks2.example.com");
    client(&server).configure_webhooks(PN, &targets).await.unwrap();

    assert_eq!(
        form_of(&only_request(&server).await),
        map(&[
            ("SmsUrl", "https://hooks2.example.com/twilio/messages"),
            ("SmsMethod", "POST"),
            ("StatusCallback", "https://hooks2.example.com/twilio/voice/status"),
            ("StatusCallbackMethod", "POST"),
        ])
    );
}

#[tokio::test]
async fn release_deletes_the_number_and_accepts_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(account(&format!("/IncomingPhoneNumbers/{PN}.json"))))
        .and(basic_auth(SID, TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client(&server).release(PN).await.unwrap();
}

#[tokio::test]
async fn a_sid_cannot_escape_its_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    client(&server).release("../../Calls/CA1").await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), account("/IncomingPhoneNumbers/..%2F..%2FCalls%2FCA1.json"));
}

// ---- WhatsApp senders --------------------------------------------------------------------------

#[tokio::test]
async fn whatsapp_register_posts_the_sender_and_creating_is_pending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/Channels/Senders"))
        .and(basic_auth(SID, TOKEN))
        .and(header("content-type", "application/json"))
        .respond_with(json_body("twilio/channels_sender_created.json", 202))
        .expect(1)
        .mount(&server)
        .await;

    let registration = client(&server)
        .register(&e164("+14155550142"), "Acme Reception", "https://hooks.example.com/twilio/messages")
        .await
        .unwrap();

    let sent: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(
        sent,
        json!({
            "sender_id": "whatsapp:+14155550142",
            "profile": {"name": "Acme Reception"},
            "webhook": {"callback_url": "https://hooks.example.com/twilio/messages", "callback_method": "POST"}
        })
    );
    assert_eq!(registration.sid, "XE5b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e");
    assert_eq!(registration.status, SenderStatus::Pending);
}

#[tokio::test]
async fn whatsapp_register_reads_online_as_registered() {
    let server = MockServer::start().await;
    let mut online: Value = serde_json::from_str(&fixture("twilio/channels_sender_created.json")).unwrap();
    online["status"] = json!("ONLINE");
    Mock::given(method("POST"))
        .and(path("/v2/Channels/Senders"))
        .respond_with(ResponseTemplate::new(202).set_body_json(online))
        .mount(&server)
        .await;
    let registration =
        client(&server).register(&e164("+14155550142"), "Acme", "https://h.example/m").await.unwrap();
    assert_eq!(registration.status, SenderStatus::Registered);
}

// ---- errors ------------------------------------------------------------------------------------

/// A server answering everything with `response`.
async fn answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any()).respond_with(response).mount(&server).await;
    server
}

fn assert_no_token(err: &ProviderError) {
    assert!(!err.to_string().contains(TOKEN) && !format!("{err:?}").contains(TOKEN), "{err:?}");
}

#[tokio::test]
async fn purchase_maps_21422_to_not_available() {
    let server = answering(json_body("twilio/error_21422.json", 400)).await;
    let err = client(&server).purchase(&e164("+14155550142"), "x", &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotAvailable { provider: "twilio", .. }), "{err:?}");
    assert!(err.to_string().contains("not available"), "{err}");
    assert_no_token(&err);
}

#[tokio::test]
async fn release_maps_20404_to_not_found() {
    let server = answering(json_body("twilio/error_20404.json", 404)).await;
    let err = client(&server).release(PN).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { provider: "twilio", .. }), "{err:?}");
}

#[tokio::test]
async fn a_bare_404_is_not_found() {
    let server = answering(ResponseTemplate::new(404)).await;
    let err = client(&server).configure_webhooks(PN, &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn search_maps_401_to_unauthorized() {
    let server = answering(json_body("twilio/error_20003.json", 401)).await;
    let err = client(&server).search(&query("US", NumberType::Local)).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "twilio", .. }), "{err:?}");
    assert_no_token(&err);
}

#[tokio::test]
async fn a_403_is_unauthorized() {
    let server = answering(ResponseTemplate::new(403)).await;
    let err = client(&server).release(PN).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn purchase_maps_a_400_with_a_code_to_rejected_with_that_code() {
    let server = answering(json_body("twilio/error_21421.json", 400)).await;
    let err = client(&server).purchase(&e164("+14155550142"), "x", &hooks()).await.unwrap_err();
    match err {
        ProviderError::Rejected { provider, code, message } => {
            assert_eq!(provider, "twilio");
            assert_eq!(code, "21421");
            assert!(message.contains("PhoneNumber is invalid"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn whatsapp_maps_an_rfc9457_problem_to_rejected() {
    let server = answering(json_body("twilio/error_rfc9457.json", 400)).await;
    let err = client(&server).register(&e164("+14155550142"), "", "https://h.example/m").await.unwrap_err();
    match err {
        ProviderError::Rejected { code, message, .. } => {
            assert_eq!(code, "20001");
            assert!(message.contains("profile.name must not be empty"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_unavailable() {
    for response in [
        json_body("twilio/error_20500.json", 500),
        ResponseTemplate::new(503).set_body_string("Service Unavailable"),
        json_body("twilio/error_20429.json", 429),
    ] {
        let server = answering(response).await;
        let err = client(&server).search(&query("US", NumberType::Local)).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(matches!(err, ProviderError::Unavailable { provider: "twilio", .. }));
    }
}

#[tokio::test]
async fn a_non_json_error_body_falls_back_to_the_http_status() {
    let server =
        answering(ResponseTemplate::new(400).set_body_raw("<html>Bad Request</html>", "text/html")).await;
    let err = client(&server).release(PN).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: "twilio",
            code: "400".into(),
            message: "HTTP 400 Bad Request".into()
        }
    );
    let server =
        answering(ResponseTemplate::new(502).set_body_raw("<html>Bad Gateway</html>", "text/html")).await;
    let err = client(&server).release(PN).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreadable_success_body_is_unavailable() {
    let server =
        answering(ResponseTemplate::new(201).set_body_raw("{\"nope\": true}", "application/json")).await;
    let err = client(&server).purchase(&e164("+14155550142"), "x", &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_timeout_is_unavailable() {
    let server = answering(
        json_body("twilio/available_phone_numbers_us_local.json", 200).set_delay(Duration::from_secs(3)),
    )
    .await;
    let twilio = TwilioClient::new(config(&server.uri(), Duration::from_millis(300))).unwrap();
    let err = twilio.search(&query("US", NumberType::Local)).await.unwrap_err();
    assert_eq!(err, ProviderError::Unavailable { provider: "twilio", message: "request timed out".into() });
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let twilio = TwilioClient::new(config(&closed_port_url(), Duration::from_secs(2))).unwrap();
    let err = twilio.release(PN).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
    assert_no_token(&err);
}

#[test]
fn a_base_url_that_is_not_http_is_refused() {
    assert!(TwilioClient::new(config("api.twilio.com", Duration::from_secs(1))).is_err());
}
