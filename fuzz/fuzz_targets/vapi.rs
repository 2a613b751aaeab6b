//! Vapi server messages: the server secret check and every reading of the message.
//!
//! Properties: the secret check accepts exactly when `X-Vapi-Secret` or a `Bearer` credential
//! equals the configured secret (an independent reading of the rule); parsing any body and every
//! accessor on what parses is total; a duration is never negative or infinite; an event is keyed
//! by the call id and its stored payload reads back to the same fields; a called number is E.164.
//!
//! Input: `<2-byte selector><server secret>\n<X-Vapi-Secret>\n<Authorization>\n<body>`; an empty
//! header line stands for an absent header.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use switchboard_core::E164;
use switchboard_fuzz::split;
use switchboard_inbound::{EventKind, VapiMessage};
use switchboard_webhook_auth::vapi::verify_server_secret;

fuzz_target!(|data: &[u8]| {
    let Some((_selector, fields)) = split(data, 4) else { return };
    let (Ok(configured), Ok(header), Ok(authorization)) =
        (std::str::from_utf8(fields[0]), std::str::from_utf8(fields[1]), std::str::from_utf8(fields[2]))
    else {
        return;
    };
    let header = Some(header).filter(|h| !h.is_empty());
    let authorization = Some(authorization).filter(|h| !h.is_empty());
    let verdict = verify_server_secret(&SecretString::from(configured.to_owned()), header, authorization);
    let bearer = authorization.and_then(|a| {
        let (scheme, token) = a.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start_matches(' '))
    });
    let should = !configured.is_empty() && (header == Some(configured) || bearer == Some(configured));
    assert_eq!(verdict.is_ok(), should, "header={header:?} authorization={authorization:?}");

    let Ok(message) = VapiMessage::parse(fields[3]) else { return };
    let at = DateTime::<Utc>::from_timestamp(1_793_000_000, 0).expect("in range");
    let _ = (message.call_key(), message.vapi_phone_number_id(), message.customer(), message.ended_at());
    let _ = message.transfer_query();
    if let Some(number) = message.called_number() {
        assert_eq!(E164::parse(number.as_str()).as_ref(), Ok(&number));
    }
    let duration = message.duration();
    assert!(duration.as_secs() < u64::MAX);
    match message.event(at) {
        Ok(Some(event)) => {
            let call = message.call_id().expect("an event has a call id");
            assert!(event.external_id.starts_with(call), "{} / {call}", event.external_id);
            assert!(matches!(
                event.kind,
                EventKind::AssistantRequest
                    | EventKind::EndOfCallReport
                    | EventKind::TransferDestinationRequest
            ));
            // What processing reads from the stored payload is what the request said. (Not the
            // whole `Value`: serde_json's default float parsing is not correctly rounded, so a
            // float literal not in shortest form, e.g. `17930e0000123`, can come back 1 ulp off.)
            let stored = VapiMessage::from_stored(&event.payload).expect("the stored payload reads back");
            assert_eq!(stored.kind, message.kind);
            assert_eq!(stored.call_id(), message.call_id());
            assert_eq!(stored.call_key(), message.call_key());
            assert_eq!(stored.called_number(), message.called_number());
            assert_eq!(stored.vapi_phone_number_id(), message.vapi_phone_number_id());
            assert_eq!(stored.customer(), message.customer());
            assert_eq!(stored.ended_at(), message.ended_at());
            assert_eq!(stored.transfer_query(), message.transfer_query());
            assert!(stored.duration().abs_diff(duration) <= std::time::Duration::from_micros(1));
        }
        Ok(None) => {}
        Err(_) => assert!(message.call_id().is_none()),
    }
});
