//! The sandbox's messaging through its ports: what it records, and its failures on demand
//! (`[messaging]` in fixtures/sandbox.toml) with the providers' own codes.

use secrecy::SecretString;
use switchboard_channels::conversations::MessageStatus;
use switchboard_channels::ports::{
    MessageChannel, MessageSender, MetaMessenger, OutgoingMessage, SendRefusal, Verification,
    VerificationStatus, WhatsappSenderDirectory,
};
use switchboard_core::{NumberType, ProviderError};
use switchboard_numbers::{NumberInventory, SearchQuery, WebhookTargets, WhatsappSenders};
use switchboard_providers::{Sandbox, SandboxMessage};

use crate::e164;

fn sandbox() -> Sandbox {
    Sandbox::embedded().unwrap()
}

fn message(channel: MessageChannel, to: &str) -> OutgoingMessage {
    OutgoingMessage {
        channel,
        from: e164("+493012345600"),
        to: e164(to),
        body: "Ihr Termin ist bestätigt.".into(),
        status_callback: Some("https://hooks.example.com/twilio/messages/status".into()),
    }
}

fn token(t: &str) -> SecretString {
    SecretString::from(t)
}

fn code_of(err: &ProviderError) -> &str {
    match err {
        ProviderError::Rejected { code, .. } => code,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

// ---- Twilio sends ------------------------------------------------------------------------------

#[tokio::test]
async fn sms_and_whatsapp_sends_are_recorded_in_order_with_ids_unique_across_processes() {
    let s = sandbox();
    let first = s.send(&message(MessageChannel::Sms, "+4915123456789")).await.unwrap();
    let second = s.send(&message(MessageChannel::Whatsapp, "+4915123456789")).await.unwrap();

    for sent in [&first, &second] {
        assert_eq!(sent.status, MessageStatus::Queued);
        assert!(sent.provider_message_id.starts_with("SM"), "{}", sent.provider_message_id);
        assert_eq!(sent.provider_message_id.len(), 34);
    }
    assert_ne!(first.provider_message_id, second.provider_message_id);
    assert_eq!(
        s.sent_messages(),
        vec![
            SandboxMessage {
                provider: "twilio",
                provider_message_id: first.provider_message_id.clone(),
                channel: MessageChannel::Sms,
                from: "+493012345600".into(),
                to: e164("+4915123456789"),
                body: "Ihr Termin ist bestätigt.".into(),
                status_callback: Some("https://hooks.example.com/twilio/messages/status".into()),
            },
            SandboxMessage {
                provider: "twilio",
                provider_message_id: second.provider_message_id.clone(),
                channel: MessageChannel::Whatsapp,
                from: "whatsapp:+493012345600".into(),
                to: e164("+4915123456789"),
                body: "Ihr Termin ist bestätigt.".into(),
                status_callback: Some("https://hooks.example.com/twilio/messages/status".into()),
            },
        ]
    );

    // Another sandbox (another process, or this one restarted) sending the same message mints
    // another id, as Twilio would: equal ids would merge two replies into one stored message.
    let again = sandbox();
    let other = again.send(&message(MessageChannel::Sms, "+4915123456789")).await.unwrap();
    assert_ne!(other.provider_message_id, first.provider_message_id);
}

#[tokio::test]
async fn a_recipient_ending_0000_is_opted_out_like_twilio_21610() {
    let s = sandbox();
    for channel in [MessageChannel::Sms, MessageChannel::Whatsapp] {
        let err = s.send(&message(channel, "+4915123450000")).await.unwrap_err();
        assert_eq!(code_of(&err), "21610");
        assert_eq!(SendRefusal::of(&err), Some(SendRefusal::RecipientOptedOut));
    }
    assert!(s.sent_messages().is_empty(), "nothing refused is recorded");
}

#[tokio::test]
async fn the_other_recipient_failures_carry_twilios_codes() {
    let s = sandbox();
    let err = s.send(&message(MessageChannel::Sms, "+4915123450011")).await.unwrap_err();
    assert_eq!(code_of(&err), "21211");
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::InvalidRecipient));

    let err = s.send(&message(MessageChannel::Sms, "+4915123450012")).await.unwrap_err();
    assert_eq!(code_of(&err), "21612");
    assert_eq!(SendRefusal::of(&err), None);

    let err = s.send(&message(MessageChannel::Whatsapp, "+4915123450047")).await.unwrap_err();
    assert_eq!(code_of(&err), "63016");
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::WindowClosed));
    // The window is WhatsApp's: an SMS to the same number goes out.
    s.send(&message(MessageChannel::Sms, "+4915123450047")).await.unwrap();

    let err = s.send(&message(MessageChannel::Sms, "+4915123450503")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { provider: "twilio", .. }), "{err:?}");
}

#[tokio::test]
async fn empty_and_overlong_bodies_are_refused_like_twilio() {
    let s = sandbox();
    let empty = OutgoingMessage { body: "  ".into(), ..message(MessageChannel::Sms, "+4915123456789") };
    assert_eq!(code_of(&s.send(&empty).await.unwrap_err()), "21602");
    let long = OutgoingMessage { body: "é".repeat(1601), ..message(MessageChannel::Sms, "+4915123456789") };
    assert_eq!(code_of(&s.send(&long).await.unwrap_err()), "21617");
    let limit = OutgoingMessage { body: "é".repeat(1600), ..message(MessageChannel::Sms, "+4915123456789") };
    s.send(&limit).await.unwrap();
}

// ---- Meta --------------------------------------------------------------------------------------

#[tokio::test]
async fn meta_sends_are_recorded_with_wamids() {
    let s = sandbox();
    let sent =
        s.send_text("106540352242922", &token("EAAsandbox"), &e164("+4915123456789"), "Hallo").await.unwrap();
    assert!(sent.provider_message_id.starts_with("wamid."), "{}", sent.provider_message_id);
    assert_eq!(sent.status, MessageStatus::Queued);
    let recorded = s.sent_messages();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].provider, "meta");
    assert_eq!(recorded[0].from, "106540352242922");
    assert_eq!(recorded[0].channel, MessageChannel::Whatsapp);
    assert_eq!(recorded[0].status_callback, None);
    // WhatsApp has no provider-side STOP list: …0000 goes out through Meta.
    s.send_text("106540352242922", &token("EAAsandbox"), &e164("+4915123450000"), "Hallo").await.unwrap();
}

#[tokio::test]
async fn meta_failures_on_demand() {
    let s = sandbox();
    let to = e164("+4915123456789");
    let err = s.send_text("106540352242922", &token("invalid"), &to, "Hallo").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { provider: "meta", .. }), "{err:?}");
    let err = s.send_text("106540352242922", &token(""), &to, "Hallo").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized { .. }), "{err:?}");
    let err = s.send_text("000000", &token("EAAsandbox"), &to, "Hallo").await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { provider: "meta", .. }), "{err:?}");

    let err = s
        .send_text("106540352242922", &token("EAAsandbox"), &e164("+4915123450047"), "Hallo")
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "131047");
    assert_eq!(SendRefusal::of(&err), Some(SendRefusal::WindowClosed));
    let err = s
        .send_text("106540352242922", &token("EAAsandbox"), &e164("+4915123450012"), "Hallo")
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "131026");
    let err = s.send_text("106540352242922", &token("EAAsandbox"), &to, "").await.unwrap_err();
    assert_eq!(code_of(&err), "100");
    assert!(s.sent_messages().is_empty());
}

#[tokio::test]
async fn meta_verify_answers_a_number_or_fails_on_demand() {
    let s = sandbox();
    let number = s.verify("106540352242922", &token("EAAsandbox")).await.unwrap();
    assert_eq!(number.id, "106540352242922");
    assert_eq!(number.display_phone_number.as_deref(), Some("+1 555-224-2922"));
    assert_eq!(number.verified_name.as_deref(), Some("Sandbox Business"));
    assert_eq!(Verification::of_meta(Ok(number)).unwrap().status, VerificationStatus::Verified);

    let short = s.verify("42", &token("EAAsandbox")).await.unwrap();
    assert_eq!(short.display_phone_number.as_deref(), Some("+1 555-000-0042"));

    for (id, t) in [("106540352242922", "invalid"), ("000000", "EAAsandbox"), ("not-digits", "EAAsandbox")] {
        let err = s.verify(id, &token(t)).await.unwrap_err();
        assert!(
            matches!(err, ProviderError::Unauthorized { .. } | ProviderError::NotFound { .. }),
            "{err:?}"
        );
        let verdict = Verification::of_meta(Err(err.clone())).unwrap();
        assert_eq!(verdict.status, VerificationStatus::Failed, "{id} {t}");
        assert!(!err.to_string().contains("EAAsandbox"), "{err}");
    }
}

// ---- Twilio WhatsApp senders -------------------------------------------------------------------

fn mobile_de() -> SearchQuery {
    SearchQuery {
        country: "DE".parse().unwrap(),
        number_type: NumberType::Mobile,
        area_code: None,
        contains: None,
        voice: None,
        sms: None,
        mms: None,
        fax: None,
        limit: 1,
    }
}

#[tokio::test]
async fn a_sender_registered_while_provisioning_answers_its_registration() {
    let s = sandbox();
    let hooks = WebhookTargets::under("https://hooks.example.com");
    let mobile = s.search(&mobile_de()).await.unwrap().remove(0).phone_number;
    s.purchase(&mobile, "Reception", &hooks).await.unwrap();
    s.register(&mobile, "Acme", &hooks.sms_url).await.unwrap();
    let verdict = s.verify_sender(&mobile).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Verified, "mobile numbers register at once");

    let local = s
        .search(&SearchQuery { number_type: NumberType::Local, ..mobile_de() })
        .await
        .unwrap()
        .remove(0)
        .phone_number;
    s.purchase(&local, "Reception", &hooks).await.unwrap();
    s.register(&local, "Acme", &hooks.sms_url).await.unwrap();
    assert_eq!(s.verify_sender(&local).await.unwrap().status, VerificationStatus::Pending);
}

#[tokio::test]
async fn sender_failures_on_demand() {
    let s = sandbox();
    let verdict = s.verify_sender(&e164("+4915123450404")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Failed);
    assert_eq!(verdict.message, "whatsapp:+4915123450404 is not a WhatsApp sender of this Twilio account");
    // Registration is refused for +49199…, so such a number is never a sender.
    assert_eq!(s.verify_sender(&e164("+4919910000000")).await.unwrap().status, VerificationStatus::Failed);
    let offline = s.verify_sender(&e164("+4915123450410")).await.unwrap();
    assert_eq!(offline.status, VerificationStatus::Failed);
    assert!(offline.message.contains("offline"), "{}", offline.message);
    assert_eq!(s.verify_sender(&e164("+4915123450202")).await.unwrap().status, VerificationStatus::Pending);
    let err = s.verify_sender(&e164("+4915123450503")).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    // Any other sender counts as registered elsewhere (seeded demo numbers were not bought here).
    let verdict = s.verify_sender(&e164("+14155550142")).await.unwrap();
    assert_eq!(verdict.status, VerificationStatus::Verified);
    assert_eq!(verdict.message, "whatsapp:+14155550142 is online");
}

// ---- the bundle and the file -------------------------------------------------------------------

#[tokio::test]
async fn the_messaging_bundle_shares_the_sandbox_state() {
    let s = sandbox();
    let providers = switchboard_providers::sandbox_messaging(s.clone());
    providers.sender.send(&message(MessageChannel::Sms, "+4915123456789")).await.unwrap();
    providers.meta.send_text("1", &token("EAAsandbox"), &e164("+4915123456789"), "x").await.unwrap();
    assert_eq!(s.sent_messages().len(), 2);
    assert_eq!(
        providers.whatsapp_senders.verify_sender(&e164("+4915123450404")).await.unwrap().status,
        VerificationStatus::Failed
    );
}

#[tokio::test]
async fn without_a_messaging_section_nothing_fails_on_demand() {
    let s = Sandbox::from_toml("[countries]").unwrap();
    s.send(&message(MessageChannel::Sms, "+4915123450000")).await.unwrap();
    s.verify("000000", &token("invalid")).await.unwrap();
}

#[test]
fn a_bad_messaging_section_says_what_is_wrong() {
    for (text, needle) in [
        ("[messaging]\nopted_out = [\"00a\"]\n[countries]", "messaging.opted_out"),
        ("[messaging]\nmeta_invalid_tokens = [\"\"]\n[countries]", "meta_invalid_tokens"),
        ("[messaging]\nunknown = 1\n[countries]", "unknown"),
    ] {
        let err = Sandbox::from_toml(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
}
