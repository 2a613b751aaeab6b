//! Twilio JSON posts: the `bodySHA256` variant. The URL carries the hex SHA-256 of the body and
//! the signature covers the URL alone.
//!
//! Properties: for any URL, token and body, the URL with the body's hash appended verifies with
//! its signature exactly when that is the URL's only `bodySHA256`; a changed body byte is refused
//! as a body mismatch, a changed signature character as a signature mismatch; any raw URL and
//! signature are judged without a panic; a JSON body reads into parameters whose events are
//! well-formed.
//!
//! Input: `<2-byte selector><auth token>\n<url>\n<signature>\n<body>`.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use switchboard_fuzz::{change_one_char, split};
use switchboard_inbound::TwilioParams;
use switchboard_webhook_auth::SignatureError;
use switchboard_webhook_auth::twilio::{signature, verify_json};

fuzz_target!(|data: &[u8]| {
    let Some((selector, fields)) = split(data, 4) else { return };
    let (Ok(token), Ok(url), Ok(presented)) =
        (std::str::from_utf8(fields[0]), std::str::from_utf8(fields[1]), std::str::from_utf8(fields[2]))
    else {
        return;
    };
    let body = fields[3];
    let selector = usize::from(selector);
    let secret = SecretString::from(token.to_owned());

    // Whatever arrives is judged without a panic.
    let _ = verify_json(&secret, url, body, Some(presented));

    if let Ok(params) = TwilioParams::from_json(body) {
        let at = DateTime::<Utc>::from_timestamp(1_793_000_000, 0).expect("in range");
        for event in [params.message_event(at), params.message_status_event(at), params.call_status_event(at)]
            .into_iter()
            .flatten()
        {
            assert_eq!(TwilioParams::from_stored(&event.payload).as_ref(), Ok(&params));
        }
    }

    if token.is_empty() {
        return;
    }
    // Put the body's hash into the query (before any fragment), as Twilio does.
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let query_before = before_fragment.split_once('?').map(|(_, q)| q);
    let already_has_hash = query_before
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(name, _)| name == "bodySHA256"));
    let separator = if query_before.is_some() { "&" } else { "?" };
    let hash = hex::encode(Sha256::digest(body));
    let mut signed_url = format!("{before_fragment}{separator}bodySHA256={hash}");
    if let Some(fragment) = fragment {
        signed_url.push('#');
        signed_url.push_str(fragment);
    }
    let sig = signature(&secret, &signed_url, &[]);
    let verdict = verify_json(&secret, &signed_url, body, Some(&sig));
    if already_has_hash {
        assert!(verdict.is_err(), "two bodySHA256 parameters accepted: {signed_url}");
        return;
    }
    assert!(verdict.is_ok(), "{signed_url}: {verdict:?}");

    let mut changed_body = body.to_vec();
    if changed_body.is_empty() {
        changed_body.push(b' ');
    } else {
        let i = selector % changed_body.len();
        changed_body[i] ^= 1 + (selector >> 8) as u8 % 255;
    }
    assert!(
        matches!(
            verify_json(&secret, &signed_url, &changed_body, Some(&sig)),
            Err(SignatureError::Mismatch("bodySHA256"))
        ),
        "a changed body verified"
    );
    if let Some(forged) = change_one_char(&sig, selector) {
        assert!(matches!(
            verify_json(&secret, &signed_url, body, Some(&forged)),
            Err(SignatureError::Mismatch("X-Twilio-Signature"))
        ));
    }
    assert!(matches!(verify_json(&secret, &signed_url, body, None), Err(SignatureError::Missing(_))));
});
