//! Twilio form posts: `X-Twilio-Signature` over the URL and the sorted parameters, and the
//! parameters' reading into inbound events.
//!
//! Properties: the signature equals an independent HMAC-SHA1 over `url + sorted(name + value)`;
//! it verifies whatever the parameter order and with the default port added; changing one
//! character of a parameter, of the URL or of the signature makes it fail (unless the signed
//! string is unchanged, e.g. a duplicate made equal to its twin); events read from the form carry
//! well-formed ids and a payload that reads back to the same parameters.
//!
//! Input: `<2-byte selector><auth token>\n<url>\n<form body>`.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use switchboard_fuzz::{change_one_char, split};
use switchboard_inbound::{EventKind, TwilioParams};
use switchboard_webhook_auth::SignatureError;
use switchboard_webhook_auth::twilio::{signature, verify_form};

fuzz_target!(|data: &[u8]| {
    let Some((selector, fields)) = split(data, 3) else { return };
    let (Ok(token), Ok(url)) = (std::str::from_utf8(fields[0]), std::str::from_utf8(fields[1])) else {
        return;
    };
    let body = fields[2];
    let params: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let selector = usize::from(selector);

    read_events(&params);

    let secret = SecretString::from(token.to_owned());
    let sig = signature(&secret, url, &params);
    assert_eq!(sig, reference_signature(token, url, &params));

    if token.is_empty() {
        assert!(matches!(
            verify_form(&secret, url, &params, Some(&sig)),
            Err(SignatureError::NotConfigured(_))
        ));
        return;
    }
    assert!(verify_form(&secret, url, &params, Some(&sig)).is_ok());
    assert!(matches!(verify_form(&secret, url, &params, None), Err(SignatureError::Missing(_))));
    let reversed: Vec<_> = params.iter().rev().cloned().collect();
    assert!(verify_form(&secret, url, &reversed, Some(&sig)).is_ok(), "order must not matter");

    // Twilio may sign the URL with the default port that we do not have, or the other way round.
    if let Some(rest) = url.strip_prefix("https://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if !authority.is_empty() && !authority.contains([':', '@', '[']) {
            let with_port = format!("https://{authority}:443{}", &rest[end..]);
            assert!(
                verify_form(&secret, url, &params, Some(&signature(&secret, &with_port, &params))).is_ok()
            );
            assert!(verify_form(&secret, &with_port, &params, Some(&sig)).is_ok());
        }
    }

    // One changed character of the signature.
    if let Some(forged) = change_one_char(&sig, selector) {
        assert!(verify_form(&secret, url, &params, Some(&forged)).is_err(), "forged signature accepted");
    }

    // One changed character of a parameter name or value.
    if !params.is_empty() {
        let mut changed = params.clone();
        let (name, value) = &mut changed[selector % params.len()];
        let field = if selector / params.len() % 2 == 0 { name } else { value };
        if let Some(new) = change_one_char(field, selector / 7) {
            *field = new;
            if signed_string(url, &changed) != signed_string(url, &params) {
                assert!(
                    verify_form(&secret, url, &changed, Some(&sig)).is_err(),
                    "a changed parameter verified: {changed:?}"
                );
            }
        }
    }

    // One changed character of the URL (the default-port variant aside).
    if let Some(changed_url) = change_one_char(url, selector) {
        let strip = |u: &str| u.replace(":443", "").replace(":80", "");
        if strip(&changed_url) != strip(url) {
            assert!(verify_form(&secret, &changed_url, &params, Some(&sig)).is_err(), "changed URL verified");
        }
    }
});

/// What Twilio signs: the URL, then `name + value` of each distinct parameter sorted by name
/// and value (exact duplicates once, as twilio-python does).
fn signed_string(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out = url.as_bytes().to_vec();
    for (name, value) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn reference_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(&signed_string(url, params));
    STANDARD.encode(mac.finalize().into_bytes())
}

fn read_events(pairs: &[(String, String)]) {
    let at = DateTime::<Utc>::from_timestamp(1_793_000_000, 0).expect("in range");
    let params = TwilioParams::from_pairs(pairs);
    assert!(params.media_urls().len() <= 10);
    let events = [
        (params.message_event(at), EventKind::Message),
        (params.message_status_event(at), EventKind::MessageStatus),
        (params.call_status_event(at), EventKind::CallStatus),
    ];
    for (event, kind) in events {
        let Ok(event) = event else { continue };
        assert_eq!(event.kind, kind);
        assert!(!event.external_id.is_empty());
        assert!(!event.external_id.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()));
        let stored = TwilioParams::from_stored(&event.payload).expect("the stored payload reads back");
        assert_eq!(stored, params);
    }
    if let Some(sid) = params.message_sid() {
        assert!(!sid.is_empty());
    }
}
