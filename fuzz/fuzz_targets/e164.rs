//! E.164 parsing: never panics, and what parses is canonical — `+`, 4–15 ASCII digits, no
//! leading 0 — formats to itself, re-parses equal (also through serde), and survives the
//! separators the parser promises to ignore.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::E164;
use switchboard_core::phone::E164Error;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    match E164::parse(input) {
        Ok(number) => {
            let text = number.as_str();
            assert_eq!(number.to_string(), text);
            assert!(text.starts_with('+'), "{text:?}");
            let digits = number.digits();
            assert_eq!(&text[1..], digits);
            assert!((4..=15).contains(&digits.len()), "{text:?}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
            assert!(!digits.starts_with('0'), "{text:?}");
            assert_eq!(E164::parse(text).as_ref(), Ok(&number), "re-parse of {text:?}");
            let decorated = format!(" ({}) {}-{} ", &text[..2], &digits[1..2], &digits[2..]);
            assert_eq!(E164::parse(&decorated).as_ref(), Ok(&number), "{decorated:?}");
            let json = serde_json::to_string(&number).expect("a string serialises");
            assert_eq!(serde_json::from_str::<E164>(&json).ok().as_ref(), Some(&number), "{json}");
            // The inbound contact form keeps a number as its E.164 form.
            assert_eq!(switchboard_inbound::payload::contact(input), text);
        }
        Err(error) => {
            // A refused input never becomes valid by being parsed again through serde.
            let json = serde_json::Value::String(input.to_owned());
            assert!(serde_json::from_value::<E164>(json).is_err());
            if error == E164Error::Empty {
                assert!(input.chars().all(|c| c.is_whitespace() || " -.()".contains(c)), "{input:?}");
            }
            if let E164Error::Length(n) = error {
                assert!(!(4..=15).contains(&n));
            }
        }
    }
});
