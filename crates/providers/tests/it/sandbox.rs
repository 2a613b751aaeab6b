//! The sandbox through the ports, as the numbers service uses it.

use switchboard_core::{Country, E164, NumberType, ProviderError};
use switchboard_numbers::{
    NumberInventory, SearchQuery, SenderStatus, VoiceGateway, WebhookTargets, WhatsappSenders,
};
use switchboard_providers::Sandbox;

use crate::e164;

fn sandbox() -> Sandbox {
    Sandbox::embedded().unwrap()
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
        limit: 50,
    }
}

fn in_area(country: &str, number_type: NumberType, area: &str) -> SearchQuery {
    SearchQuery { area_code: Some(area.into()), ..query(country, number_type) }
}

fn hooks() -> WebhookTargets {
    WebhookTargets::under("https://hooks.example.com")
}

async fn numbers(s: &Sandbox, q: &SearchQuery) -> Vec<E164> {
    s.search(q).await.unwrap().into_iter().map(|n| n.phone_number).collect()
}

/// Buys the first number of `q`.
async fn buy_first(s: &Sandbox, q: &SearchQuery) -> (E164, String) {
    let number = numbers(s, q).await.remove(0);
    let bought = s.purchase(&number, "Reception", &hooks()).await.unwrap();
    (number, bought.sid)
}

// ---- inventory -------------------------------------------------------------------------------

#[tokio::test]
async fn germany_has_local_numbers_and_luxembourg_has_none() {
    let s = sandbox();
    let de = s.search(&query("DE", NumberType::Local)).await.unwrap();
    assert!(!de.is_empty());
    assert!(de.iter().all(|n| n.country == Country::DE && n.number_type == NumberType::Local));
    assert!(de.iter().all(|n| n.phone_number.as_str().starts_with("+49")));
    for kind in [NumberType::Local, NumberType::Mobile, NumberType::TollFree] {
        assert!(s.search(&query("LU", kind)).await.unwrap().is_empty(), "LU {kind:?}");
    }
}

#[tokio::test]
async fn every_listed_country_sells_local_numbers_and_the_us_is_the_fallback() {
    let s = sandbox();
    for country in ["DE", "AT", "CH", "GB", "FR", "NL", "ES", "IT", "US"] {
        assert!(!s.search(&query(country, NumberType::Local)).await.unwrap().is_empty(), "{country}");
    }
    let us = s.search(&query("US", NumberType::Local)).await.unwrap();
    assert!(us.iter().all(|n| n.capabilities.voice && n.capabilities.sms));
    assert!(!s.search(&query("US", NumberType::TollFree)).await.unwrap().is_empty());
}

#[tokio::test]
async fn numbers_carry_a_national_friendly_name_and_locality() {
    let s = sandbox();
    let berlin = s.search(&in_area("DE", NumberType::Local, "30")).await.unwrap();
    assert_eq!(berlin[0].phone_number, e164("+49301234560"));
    assert_eq!(berlin[0].friendly_name, "030 1234560");
    assert_eq!(berlin[0].locality.as_deref(), Some("Berlin"));
    let sf = s.search(&in_area("US", NumberType::Local, "415")).await.unwrap();
    assert_eq!(sf[0].phone_number, e164("+14155550100"));
    assert_eq!(sf[0].friendly_name, "(415) 555-0100");
}

#[tokio::test]
async fn search_filters_by_type_area_code_contains_and_capabilities() {
    let s = sandbox();

    let munich = numbers(&s, &in_area("DE", NumberType::Local, "89")).await;
    assert_eq!(munich.len(), 6);
    assert!(munich.iter().all(|n| n.as_str().starts_with("+4989")));

    let mobile = numbers(&s, &query("DE", NumberType::Mobile)).await;
    assert!(!mobile.is_empty());
    assert!(mobile.iter().all(|n| n.as_str().starts_with("+4915") || n.as_str().starts_with("+4916")));

    let contains = SearchQuery { contains: Some("2100452".into()), ..query("DE", NumberType::Local) };
    assert_eq!(numbers(&s, &contains).await, [e164("+49892100452")]);

    // Frankfurt's numbers are voice and fax only.
    let sms = SearchQuery { sms: Some(true), ..in_area("DE", NumberType::Local, "69") };
    assert!(numbers(&s, &sms).await.is_empty());
    let fax = SearchQuery { fax: Some(true), voice: Some(true), ..query("DE", NumberType::Local) };
    let fax = s.search(&fax).await.unwrap();
    assert_eq!(fax.len(), 3);
    assert!(fax.iter().all(|n| n.locality.as_deref() == Some("Frankfurt am Main") && !n.capabilities.sms));
    let no_fax = SearchQuery { fax: Some(false), ..query("DE", NumberType::Local) };
    assert!(s.search(&no_fax).await.unwrap().iter().all(|n| !n.capabilities.fax));

    let nothing = in_area("DE", NumberType::Local, "12");
    assert!(numbers(&s, &nothing).await.is_empty());
}

#[tokio::test]
async fn search_returns_at_most_the_limit() {
    let s = sandbox();
    let q = SearchQuery { limit: 3, ..query("DE", NumberType::Local) };
    assert_eq!(numbers(&s, &q).await.len(), 3);
}

#[tokio::test]
async fn failure_ranges_are_listed_only_when_their_area_code_is_asked_for() {
    let s = sandbox();
    let plain = numbers(&s, &query("DE", NumberType::Local)).await;
    assert!(plain.iter().all(|n| !n.as_str().starts_with("+4999") && !n.as_str().starts_with("+4998")));
    assert_eq!(numbers(&s, &in_area("DE", NumberType::Local, "99")).await.len(), 3);
    assert_eq!(numbers(&s, &in_area("DE", NumberType::Local, "98")).await.len(), 3);
    assert_eq!(numbers(&s, &in_area("DE", NumberType::Mobile, "199")).await.len(), 3);
}

#[tokio::test]
async fn two_fresh_sandboxes_give_the_same_results_and_ids() {
    let (a, b) = (sandbox(), sandbox());
    for (country, kind) in [("DE", NumberType::Local), ("US", NumberType::Local), ("GB", NumberType::Mobile)]
    {
        assert_eq!(
            a.search(&query(country, kind)).await.unwrap(),
            b.search(&query(country, kind)).await.unwrap()
        );
    }
    let (number, sid_a) = buy_first(&a, &query("DE", NumberType::Local)).await;
    let (_, sid_b) = buy_first(&b, &query("DE", NumberType::Local)).await;
    assert_eq!(sid_a, sid_b);
    assert!(sid_a.starts_with("PN") && sid_a.len() == 34);
    assert!(sid_a[2..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let id_a = a.import_number(&number, "x", "https://h/vapi").await.unwrap();
    let id_b = b.import_number(&number, "x", "https://h/vapi").await.unwrap();
    assert_eq!(id_a, id_b);
    assert_eq!(id_a.len(), 36);
}

// ---- purchase and release ---------------------------------------------------------------------

#[tokio::test]
async fn purchase_twice_is_not_available() {
    let s = sandbox();
    let (number, _) = buy_first(&s, &query("DE", NumberType::Local)).await;
    let err = s.purchase(&number, "again", &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotAvailable { provider: "twilio", .. }), "{err:?}");
}

#[tokio::test]
async fn purchase_of_a_number_not_for_sale_is_not_available() {
    let s = sandbox();
    for number in ["+35220123456", "+49301111111"] {
        let err = s.purchase(&e164(number), "x", &hooks()).await.unwrap_err();
        assert!(matches!(err, ProviderError::NotAvailable { .. }), "{number}: {err:?}");
    }
}

#[tokio::test]
async fn a_purchase_records_the_number_and_its_webhooks() {
    let s = sandbox();
    let number = e164("+49301234561");
    let bought = s.purchase(&number, "Front desk", &hooks()).await.unwrap();
    assert_eq!(bought.phone_number, number);
    assert_eq!(bought.friendly_name, "Front desk");
    assert!(bought.capabilities.voice && bought.capabilities.sms);
    assert!(s.is_held(&number));
    assert_eq!(s.sid_of(&number), Some(bought.sid.clone()));
    assert_eq!(s.webhooks_of(&bought.sid), Some(hooks()));

    let moved = WebhookTargets::under("https://new.example.com");
    s.configure_webhooks(&bought.sid, &moved).await.unwrap();
    assert_eq!(s.webhooks_of(&bought.sid), Some(moved));
}

#[tokio::test]
async fn a_bought_number_leaves_the_search_and_release_returns_it() {
    let s = sandbox();
    let berlin = in_area("DE", NumberType::Local, "30");
    let before = numbers(&s, &berlin).await;
    let (number, sid) = buy_first(&s, &berlin).await;
    assert!(!numbers(&s, &berlin).await.contains(&number));

    s.release(&sid).await.unwrap();
    assert!(!s.is_held(&number));
    assert_eq!(s.released_sids(), std::slice::from_ref(&sid));
    assert_eq!(numbers(&s, &berlin).await, before);

    let again = s.purchase(&number, "again", &hooks()).await.unwrap();
    assert_ne!(again.sid, sid, "a new purchase gets a new sid");
}

#[tokio::test]
async fn release_of_an_unknown_sid_is_not_found() {
    let s = sandbox();
    let err = s.release("PN00000000000000000000000000000000").await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { provider: "twilio", .. }), "{err:?}");
    let err = s.configure_webhooks("PNnope", &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn releasing_twice_is_not_found_the_second_time() {
    let s = sandbox();
    let (_, sid) = buy_first(&s, &query("AT", NumberType::Local)).await;
    s.release(&sid).await.unwrap();
    assert!(matches!(s.release(&sid).await, Err(ProviderError::NotFound { .. })));
}

// ---- Vapi and WhatsApp ------------------------------------------------------------------------

#[tokio::test]
async fn vapi_import_update_and_remove_follow_the_number() {
    let s = sandbox();
    let (number, _) = buy_first(&s, &query("GB", NumberType::Local)).await;
    let id = s.import_number(&number, "Reception", "https://a.example/vapi/events").await.unwrap();
    assert!(s.is_imported(&number));
    assert_eq!(s.server_url_of(&id).as_deref(), Some("https://a.example/vapi/events"));

    s.update_server_url(&id, "https://b.example/vapi/events").await.unwrap();
    assert_eq!(s.server_url_of(&id).as_deref(), Some("https://b.example/vapi/events"));

    let again = s.import_number(&number, "Reception", "https://a.example/vapi/events").await.unwrap_err();
    assert!(matches!(again, ProviderError::Rejected { provider: "vapi", .. }), "{again:?}");

    s.remove_number(&id).await.unwrap();
    assert!(!s.is_imported(&number));
    assert_eq!(s.removed_vapi_ids(), std::slice::from_ref(&id));
    assert!(matches!(s.remove_number(&id).await, Err(ProviderError::NotFound { provider: "vapi", .. })));
    assert!(matches!(s.update_server_url(&id, "https://c").await, Err(ProviderError::NotFound { .. })));
}

#[tokio::test]
async fn vapi_import_of_a_number_not_bought_is_rejected() {
    let s = sandbox();
    let err = s.import_number(&e164("+49301234560"), "x", "https://h/vapi").await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { provider: "vapi", .. }), "{err:?}");
}

#[tokio::test]
async fn whatsapp_registers_mobile_numbers_and_leaves_others_pending() {
    let s = sandbox();
    let mobile = numbers(&s, &query("DE", NumberType::Mobile)).await.remove(0);
    let local = numbers(&s, &query("DE", NumberType::Local)).await.remove(0);
    let registered = s.register(&mobile, "Acme", "https://h/twilio/messages").await.unwrap();
    assert_eq!(registered.status, SenderStatus::Registered);
    assert!(registered.sid.starts_with("XE") && registered.sid.len() == 34);
    assert_eq!(s.sender_of(&mobile), Some(registered));
    let pending = s.register(&local, "Acme", "https://h/twilio/messages").await.unwrap();
    assert_eq!(pending.status, SenderStatus::Pending);
}

// ---- failures on demand -------------------------------------------------------------------------

#[tokio::test]
async fn area_99_fails_at_vapi_import_and_the_compensation_releases_the_number() {
    let s = sandbox();
    let (number, sid) = buy_first(&s, &in_area("DE", NumberType::Local, "99")).await;
    assert!(s.is_held(&number), "the purchase itself succeeds");

    let err = s.import_number(&number, "Reception", "https://h/vapi/events").await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { provider: "vapi", .. }), "{err:?}");
    assert!(!err.is_transient(), "a permanent failure, so the caller compensates");

    // What the provisioning's compensation does:
    s.release(&sid).await.unwrap();
    assert!(!s.is_held(&number));
    assert_eq!(s.released_sids(), [sid]);
}

#[tokio::test]
async fn mobile_prefix_199_fails_whatsapp_registration() {
    let s = sandbox();
    let (number, _) = buy_first(&s, &in_area("DE", NumberType::Mobile, "199")).await;
    let id = s.import_number(&number, "x", "https://h/vapi").await.unwrap();
    assert!(!id.is_empty(), "voice works for these numbers");
    let err = s.register(&number, "Acme", "https://h/twilio/messages").await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { provider: "twilio", .. }), "{err:?}");
    assert_eq!(s.sender_of(&number), None);
}

#[tokio::test]
async fn area_98_purchase_is_an_outage() {
    let s = sandbox();
    let number = numbers(&s, &in_area("DE", NumberType::Local, "98")).await.remove(0);
    let err = s.purchase(&number, "x", &hooks()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { provider: "twilio", .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(!s.is_held(&number), "nothing was bought");
}

// ---- loading and wiring -------------------------------------------------------------------------

#[tokio::test]
async fn from_toml_loads_a_custom_inventory() {
    let s = Sandbox::from_toml(
        r#"
        [failures]
        purchase_unavailable = ["+35220"]

        [countries.LU]
        calling_code = "352"
        trunk_prefix = ""

        [[countries.LU.ranges]]
        type = "local"
        prefix = "2"
        first = "0123400"
        count = 2
        locality = "Luxembourg"
        capabilities = ["voice"]
        "#,
    )
    .unwrap();
    assert_eq!(
        numbers(&s, &query("LU", NumberType::Local)).await,
        [e164("+35220123400"), e164("+35220123401")]
    );
    assert!(numbers(&s, &query("DE", NumberType::Local)).await.is_empty());
    let err = s.purchase(&e164("+35220123400"), "x", &hooks()).await.unwrap_err();
    assert!(err.is_transient());
}

#[tokio::test]
async fn the_sandbox_bundle_shares_one_state_between_the_ports() {
    let s = sandbox();
    let providers = switchboard_providers::sandbox(s.clone());
    let number =
        providers.inventory.search(&query("CH", NumberType::Local)).await.unwrap().remove(0).phone_number;
    let bought = providers.inventory.purchase(&number, "x", &hooks()).await.unwrap();
    providers.voice.import_number(&number, "x", "https://h/vapi").await.unwrap();
    providers.whatsapp.register(&number, "Acme", "https://h/m").await.unwrap();
    assert!(s.is_held(&number) && s.is_imported(&number));
    providers.inventory.release(&bought.sid).await.unwrap();
    assert_eq!(s.released_sids(), [bought.sid]);
}
