//! E.164 phone numbers, normalised as SPEC §6 says: spaces, hyphens, dots and parentheses are
//! removed, then the rest must be `+` followed by 4–15 digits.
//!
//! Decision (spec silent): the first digit after `+` may not be `0`. No country code starts with 0,
//! and `+030…` is nearly always a national trunk prefix typed by mistake, so we say so instead of
//! storing a number no call will ever reach.

use std::fmt;
use std::str::FromStr;

use crate::string_form::string_form;

/// A normalised E.164 number such as `+49301234567`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
pub struct E164(String);

/// Why a string is not an E.164 number; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("is empty; expected an international number such as +49301234567")]
    Empty,
    #[error("must start with + and the country code, e.g. +49301234567")]
    MissingPlus,
    #[error("may contain only digits after the + (spaces, hyphens, dots and parentheses are ignored)")]
    NotDigits,
    #[error("must have 4 to 15 digits after the +, found {0}")]
    Length(usize),
    #[error("the country code cannot start with 0; drop the national trunk prefix")]
    LeadingZero,
}

impl E164 {
    /// Normalises and validates `input`.
    pub fn parse(input: &str) -> Result<Self, E164Error> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\t'))
            .collect();
        if compact.is_empty() {
            return Err(E164Error::Empty);
        }
        let digits = compact.strip_prefix('+').ok_or(E164Error::MissingPlus)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E164Error::NotDigits);
        }
        if !(4..=15).contains(&digits.len()) {
            return Err(E164Error::Length(digits.len()));
        }
        if digits.starts_with('0') {
            return Err(E164Error::LeadingZero);
        }
        Ok(Self(compact))
    }

    /// A number read back from storage, where it was validated on the way in. Not for input.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl FromStr for E164 {
    type Err = E164Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_form!(
    E164,
    example = "+49301234567",
    description = "E.164 number; spaces, hyphens, dots and parentheses are removed on input",
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_the_spec_example() {
        assert_eq!(E164::parse("+49 30 1234567").unwrap().as_str(), "+49301234567");
        assert_eq!(E164::parse(" +1 (415) 555-0100 ").unwrap().as_str(), "+14155550100");
        assert_eq!(E164::parse("+43.1.234.5678").unwrap().as_str(), "+4312345678");
    }

    #[test]
    fn refuses_what_is_not_e164() {
        assert_eq!(E164::parse(""), Err(E164Error::Empty));
        assert_eq!(E164::parse("  "), Err(E164Error::Empty));
        assert_eq!(E164::parse("030 1234567"), Err(E164Error::MissingPlus));
        assert_eq!(E164::parse("+49 30 CALL-ME"), Err(E164Error::NotDigits));
        assert_eq!(E164::parse("+123"), Err(E164Error::Length(3)));
        assert_eq!(E164::parse("+1234567890123456"), Err(E164Error::Length(16)));
        assert_eq!(E164::parse("+0301234567"), Err(E164Error::LeadingZero));
        assert_eq!(E164::parse("++49301234567"), Err(E164Error::NotDigits));
    }

    #[test]
    fn accepts_the_length_bounds() {
        assert!(E164::parse("+1234").is_ok());
        assert!(E164::parse("+123456789012345").is_ok());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(s in "[+]?[0-9 ().-]{0,24}") {
            if let Ok(n) = E164::parse(&s) {
                prop_assert_eq!(E164::parse(n.as_str()).unwrap(), n.clone());
                prop_assert!(n.as_str().starts_with('+'));
                prop_assert!((5..=16).contains(&n.as_str().len()));
            }
        }

        #[test]
        fn separators_never_change_the_number(d in "[1-9][0-9]{3,14}", seps in proptest::collection::vec(prop_oneof![Just(" "), Just("-"), Just("."), Just("("), Just(")")], 0..6)) {
            let mut decorated = String::from("+");
            for (i, c) in d.chars().enumerate() {
                decorated.push(c);
                if let Some(sep) = seps.get(i) { decorated.push_str(sep); }
            }
            let parsed = E164::parse(&decorated).unwrap();
            prop_assert_eq!(parsed.as_str(), format!("+{d}"));
        }
    }
}
