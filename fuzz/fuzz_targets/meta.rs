//! Meta (WhatsApp Cloud API) deliveries: `X-Hub-Signature-256` and the body's events.
//!
//! Properties: the header we compute verifies, also in upper-case hex; a changed body byte or a
//! changed hex digit of the header fails; a raw header is judged without a panic; the body either
//! is refused as malformed or splits into exactly one event per message and per status of the
//! `messages` changes, each keyed by a well-formed id and carrying valid JSON; the subscription
//! challenge is echoed only for `subscribe` with our token.
//!
//! Input: `<2-byte selector><app secret>\n<presented header>\n<body>`.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use serde_json::Value;
use switchboard_fuzz::split;
use switchboard_inbound::EventKind;
use switchboard_inbound::payload::meta_events;
use switchboard_webhook_auth::meta::{signature_header, verify_challenge, verify_signature};

fuzz_target!(|data: &[u8]| {
    let Some((selector, fields)) = split(data, 3) else { return };
    let (Ok(app_secret), Ok(presented)) = (std::str::from_utf8(fields[0]), std::str::from_utf8(fields[1]))
    else {
        return;
    };
    let body = fields[2];
    let selector = usize::from(selector);
    let secret = SecretString::from(app_secret.to_owned());

    let _ = verify_signature(&secret, body, Some(presented));
    challenge(&secret, app_secret, presented);
    events(body);

    if app_secret.is_empty() {
        assert!(verify_signature(&secret, body, Some(presented)).is_err());
        return;
    }
    let header = signature_header(&secret, body);
    assert!(verify_signature(&secret, body, Some(&header)).is_ok());
    let upper = format!("sha256={}", header["sha256=".len()..].to_ascii_uppercase());
    assert!(verify_signature(&secret, body, Some(&upper)).is_ok());
    assert!(verify_signature(&secret, body, None).is_err());

    let mut changed = body.to_vec();
    if changed.is_empty() {
        changed.push(b'{');
    } else {
        let i = selector % changed.len();
        changed[i] ^= 1 + (selector >> 8) as u8 % 255;
    }
    assert!(verify_signature(&secret, &changed, Some(&header)).is_err(), "a changed body verified");

    // A different hex digit (not merely another case of the same one).
    let mut digits: Vec<u8> = header.as_bytes().to_vec();
    let i = "sha256=".len() + selector % 64;
    digits[i] = if digits[i] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(digits).expect("ascii");
    assert!(verify_signature(&secret, body, Some(&forged)).is_err(), "a changed signature verified");
});

fn challenge(secret: &SecretString, configured: &str, presented: &str) {
    let (mode, rest) = presented.split_once('&').unwrap_or((presented, ""));
    let (token, challenge) = rest.split_once('&').unwrap_or((rest, ""));
    let answer = verify_challenge(secret, Some(mode), Some(token), Some(challenge));
    let should = !configured.is_empty() && mode == "subscribe" && token == configured;
    assert_eq!(answer.is_ok(), should, "challenge mode={mode:?} token={token:?}");
    if let Ok(echo) = answer {
        assert_eq!(echo, challenge);
    }
}

fn events(body: &[u8]) {
    let at = DateTime::<Utc>::from_timestamp(1_793_000_000, 0).expect("in range");
    let Ok(events) = meta_events(body, at) else { return };
    let root: Value = serde_json::from_slice(body).expect("accepted bodies are JSON");
    let mut expected = 0;
    if root.get("object").and_then(Value::as_str) == Some("whatsapp_business_account") {
        for entry in root["entry"].as_array().expect("accepted: entry is a list") {
            for change in entry["changes"].as_array().expect("accepted: changes is a list") {
                if change.get("field").and_then(Value::as_str) == Some("messages") {
                    for list in ["messages", "statuses"] {
                        expected += change["value"].get(list).and_then(Value::as_array).map_or(0, Vec::len);
                    }
                }
            }
        }
    }
    assert_eq!(events.len(), expected, "one event per message and status");
    for event in &events {
        assert!(matches!(event.kind, EventKind::WhatsappMessage | EventKind::WhatsappStatus));
        assert!(!event.external_id.is_empty() && event.external_id.bytes().all(|b| b.is_ascii_graphic()));
        let payload: Value = serde_json::from_str(&event.payload).expect("payload is JSON");
        assert!(payload.is_object());
    }
}
