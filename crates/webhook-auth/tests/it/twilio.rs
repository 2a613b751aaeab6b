use proptest::prelude::*;
use switchboard_webhook_auth::SignatureError;
use switchboard_webhook_auth::twilio::{request_url, signature, verify_form, verify_json};

use crate::secret;

const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The parameters of the vectors in providers.md §2.2 (twilio-python's unit tests).
fn sdk_params() -> Vec<(String, String)> {
    params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ])
}

#[test]
fn twilio_documentation_vector_is_accepted() {
    // twilio.com/docs/usage/webhooks/webhooks-security prints this signature for these fields.
    let p = params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]);
    assert_eq!(signature(&secret("12345"), URL, &p), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
    verify_form(&secret("12345"), URL, &p, Some("GvWf1cFY/Q7PnoempGyD5oXAezc=")).unwrap();
}

#[test]
fn older_documentation_numbers_give_their_own_signature() {
    // The same example with the caller +12349013030 (older docs and many SDK READMEs): the
    // documented `GvWf…` belongs to +14158675310, this is what HMAC-SHA1 gives for these fields,
    // as independent implementations agree.
    let p = params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]);
    assert_eq!(signature(&secret("12345"), URL, &p), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    let refused = verify_form(&secret("12345"), URL, &p, Some("GvWf1cFY/Q7PnoempGyD5oXAezc="));
    assert!(matches!(refused, Err(SignatureError::Mismatch(_))));
}

#[test]
fn sdk_vector_is_accepted_and_matches_the_string_to_sign() {
    assert_eq!(signature(&secret("12345"), URL, &sdk_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    verify_form(&secret("12345"), URL, &sdk_params(), Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).unwrap();
}

#[test]
fn reordered_params_still_validate() {
    let mut p = sdk_params();
    p.reverse();
    p.swap(0, 2);
    verify_form(&secret("12345"), URL, &p, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).unwrap();
}

#[test]
fn repeated_names_are_sorted_by_value() {
    let p = params(&[("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]);
    verify_form(&secret("12345"), URL, &p, Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")).unwrap();
    let mut swapped = p.clone();
    swapped.swap(2, 3);
    verify_form(&secret("12345"), URL, &swapped, Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")).unwrap();
}

#[test]
fn an_exact_duplicate_pair_counts_once_like_twilio_python() {
    let mut p = sdk_params();
    p.push(("Digits".into(), "1234".into()));
    verify_form(&secret("12345"), URL, &p, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).unwrap();
}

#[test]
fn signature_over_the_url_with_or_without_the_default_port_is_accepted() {
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    let signed_with_port = "kvajT1Ptam85bY51eRf/AJRuM3w=";
    assert_eq!(signature(&secret("12345"), with_port, &sdk_params()), signed_with_port);
    // Twilio signed with the port, we rebuilt the URL without it — and the other way round.
    verify_form(&secret("12345"), URL, &sdk_params(), Some(signed_with_port)).unwrap();
    verify_form(&secret("12345"), with_port, &sdk_params(), Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).unwrap();
    verify_form(&secret("12345"), with_port, &sdk_params(), Some(signed_with_port)).unwrap();

    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    verify_form(&secret("12345"), http, &sdk_params(), Some("0ZXoZLH/DfblKGATFgpif+LLRf4=")).unwrap();
}

#[test]
fn a_non_default_port_or_another_scheme_is_not_interchangeable() {
    let on_8443 = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
    let signed = signature(&secret("12345"), on_8443, &sdk_params());
    assert!(verify_form(&secret("12345"), URL, &sdk_params(), Some(&signed)).is_err());
    // https :443 and http :80 are different URLs.
    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    assert!(
        verify_form(&secret("12345"), http, &sdk_params(), Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).is_err()
    );
}

#[test]
fn tampered_param_value_added_or_removed_param_fails() {
    let sig = Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    let mut tampered = sdk_params();
    tampered[2].1 = "1235".into();
    assert!(matches!(verify_form(&secret("12345"), URL, &tampered, sig), Err(SignatureError::Mismatch(_))));

    let mut renamed = sdk_params();
    renamed[2].0 = "digits".into();
    assert!(verify_form(&secret("12345"), URL, &renamed, sig).is_err());

    let mut added = sdk_params();
    added.push(("Body".into(), "STOP".into()));
    assert!(verify_form(&secret("12345"), URL, &added, sig).is_err());

    let mut removed = sdk_params();
    removed.pop();
    assert!(verify_form(&secret("12345"), URL, &removed, sig).is_err());
}

#[test]
fn tampered_url_fails() {
    let sig = Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    for url in [
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/myapp.php?bar=2&foo=1",
        "https://mycompany.com/other.php?foo=1&bar=2",
        "https://evil.com/myapp.php?foo=1&bar=2",
    ] {
        assert!(verify_form(&secret("12345"), url, &sdk_params(), sig).is_err(), "{url}");
    }
}

#[test]
fn wrong_token_missing_header_and_unset_token_are_refused() {
    let sig = Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    let wrong = verify_form(&secret("54321"), URL, &sdk_params(), sig).unwrap_err();
    assert!(matches!(wrong, SignatureError::Mismatch("X-Twilio-Signature")));
    assert_eq!(wrong.status(), 401);

    let missing = verify_form(&secret("12345"), URL, &sdk_params(), None).unwrap_err();
    assert!(matches!(missing, SignatureError::Missing("X-Twilio-Signature")));
    assert_eq!(missing.status(), 401);

    for garbage in ["", "not base64!", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "rsoydt4t1cutdk1pdd93/vvr8b8="] {
        assert!(verify_form(&secret("12345"), URL, &sdk_params(), Some(garbage)).is_err(), "{garbage}");
    }

    let unset = verify_form(&secret(""), URL, &sdk_params(), sig).unwrap_err();
    assert!(matches!(unset, SignatureError::NotConfigured(_)));
}

#[test]
fn get_requests_sign_the_url_only() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2&From=%2B14158675309";
    let sig = signature(&secret("12345"), url, &[]);
    verify_form(&secret("12345"), url, &[], Some(&sig)).unwrap();
}

const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

fn json_url() -> String {
    format!("{URL}&bodySHA256={JSON_HASH}")
}

#[test]
fn json_body_vector_is_accepted() {
    assert_eq!(signature(&secret("12345"), &json_url(), &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
    verify_json(&secret("12345"), &json_url(), JSON_BODY, Some("a9nBmqA0ju/hNViExpshrM61xv4=")).unwrap();
}

#[test]
fn json_body_tampered_body_url_or_token_fails() {
    let sig = Some("a9nBmqA0ju/hNViExpshrM61xv4=");
    let body = br#"{"property": "value", "boolean": false}"#;
    let tampered = verify_json(&secret("12345"), &json_url(), body, sig).unwrap_err();
    assert!(matches!(tampered, SignatureError::Mismatch("bodySHA256")));

    // A body hash made to match the tampered body breaks the signature over the URL instead.
    let rehashed = format!("{URL}&bodySHA256={}", hex_sha256(body));
    let resigned = verify_json(&secret("12345"), &rehashed, body, sig).unwrap_err();
    assert!(matches!(resigned, SignatureError::Mismatch("X-Twilio-Signature")));

    assert!(verify_json(&secret("54321"), &json_url(), JSON_BODY, sig).is_err());
    assert!(matches!(
        verify_json(&secret("12345"), &json_url(), JSON_BODY, None),
        Err(SignatureError::Missing("X-Twilio-Signature"))
    ));
}

#[test]
fn json_body_without_a_body_hash_in_the_url_is_refused() {
    let sig = signature(&secret("12345"), URL, &[]);
    let refused = verify_json(&secret("12345"), URL, JSON_BODY, Some(&sig)).unwrap_err();
    assert!(matches!(refused, SignatureError::Missing("bodySHA256")));
    assert_eq!(refused.status(), 401);
}

#[test]
fn json_body_signature_accepts_the_default_port_variant() {
    let with_port = format!("https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256={JSON_HASH}");
    let sig = signature(&secret("12345"), &with_port, &[]);
    verify_json(&secret("12345"), &json_url(), JSON_BODY, Some(&sig)).unwrap();
}

#[test]
fn url_is_rebuilt_from_the_public_base_url() {
    let url = request_url("https://mycompany.com/", "/myapp.php?foo=1&bar=2");
    verify_form(&secret("12345"), &url, &sdk_params(), Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).unwrap();
}

fn hex_sha256(body: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(body))
}

fn param_map() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[A-Z][A-Za-z0-9]{0,11}", "[ -~]{1,24}", 1..12)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn any_change_to_any_value_byte_fails(
        p in param_map(),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        replacement in 0x20u8..0x7f,
    ) {
        let token = secret("a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5");
        let sig = signature(&token, URL, &p);
        let mut tampered = p.clone();
        let value = &mut tampered[which.index(p.len())].1;
        let i = at.index(value.len());
        prop_assume!(value.as_bytes()[i] != replacement);
        let mut bytes = value.clone().into_bytes();
        bytes[i] = replacement;
        *value = String::from_utf8(bytes).unwrap();
        prop_assert!(verify_form(&token, URL, &tampered, Some(&sig)).is_err());
    }

    #[test]
    fn any_order_of_the_params_validates(p in param_map(), seed in any::<u64>()) {
        let token = secret("a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5");
        let sig = signature(&token, URL, &p);
        let mut shuffled = p.clone();
        // A cheap deterministic shuffle (no rand needed).
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert!(verify_form(&token, URL, &shuffled, Some(&sig)).is_ok());
    }
}
