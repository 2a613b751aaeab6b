//! Exact money. An [`Amount`] is a signed count of 1/10 000 of a currency unit, so per-minute rates
//! such as 0.0125 EUR are exact and sums never drift. Floating point never appears.
//!
//! On the wire an amount is a decimal string (`"12.34"`, `"-0.0375"`): at least two decimals, at
//! most four, trailing zeros beyond the second trimmed.

use std::fmt;
use std::str::FromStr;

use crate::string_form::string_form;

use serde::{Deserialize, Serialize};

/// Units of [`Amount`] per whole currency unit.
pub const SCALE: i64 = 10_000;
const SCALE_DIGITS: usize = 4;

/// A fixed-point decimal amount (four decimal places).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal number such as \"12.34\"")]
    Syntax,
    #[error("has more than {SCALE_DIGITS} decimal places")]
    TooPrecise,
    #[error("is too large")]
    Overflow,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// From ten-thousandths of a unit (the stored form).
    pub const fn from_units(units: i64) -> Self {
        Self(units)
    }

    /// From minor units (cents for EUR).
    pub const fn from_cents(cents: i64) -> Self {
        Self(cents * (SCALE / 100))
    }

    pub const fn units(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `self × quantity`, e.g. a per-minute rate times minutes.
    pub fn checked_mul(self, quantity: i64) -> Option<Amount> {
        self.0.checked_mul(quantity).map(Amount)
    }

    pub fn checked_neg(self) -> Option<Amount> {
        self.0.checked_neg().map(Amount)
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
            return Err(AmountError::Syntax);
        }
        if frac.len() > SCALE_DIGITS {
            return Err(AmountError::TooPrecise);
        }
        let whole: i64 = int.parse().map_err(|_| AmountError::Overflow)?;
        let mut fraction: i64 =
            if frac.is_empty() { 0 } else { frac.parse().map_err(|_| AmountError::Syntax)? };
        for _ in frac.len()..SCALE_DIGITS {
            fraction *= 10;
        }
        let units =
            whole.checked_mul(SCALE).and_then(|u| u.checked_add(fraction)).ok_or(AmountError::Overflow)?;
        Ok(Amount(if negative { -units } else { units }))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let mut frac = format!("{:04}", abs % SCALE as u64);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{whole}.{frac}")
    }
}

string_form!(
    Amount,
    example = "12.34",
    description = "Exact decimal amount as a string",
    pattern = r"^-?[0-9]+(\.[0-9]{1,4})?$",
);

/// An ISO 4217 currency code such as `EUR`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase)).then(|| Currency([b[0], b[1], b[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("`{s}` is not a three-letter ISO 4217 code such as EUR"))
    }
}

string_form!(Currency, example = "EUR", description = "ISO 4217 currency code", pattern = "^[A-Z]{3}$");

/// An amount in a currency: `{"amount": "12.34", "currency": "EUR"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub amount: Amount,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Amount, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Amount {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(a("12.34").units(), 123_400);
        assert_eq!(a("12.34").to_string(), "12.34");
        assert_eq!(a("100").to_string(), "100.00");
        assert_eq!(a("0.0125").to_string(), "0.0125");
        assert_eq!(a("0.0120").to_string(), "0.012");
        assert_eq!(a("-0.5").to_string(), "-0.50");
        assert_eq!(Amount::from_cents(-199).to_string(), "-1.99");
    }

    #[test]
    fn refuses_ambiguous_or_inexact_input() {
        for bad in ["", "-", "1.", ".5", "1,00", "1e3", "+1", " 1", "0x10", "1.2.3", "--1"] {
            assert_eq!(bad.parse::<Amount>(), Err(AmountError::Syntax), "{bad:?}");
        }
        assert_eq!("0.00001".parse::<Amount>(), Err(AmountError::TooPrecise));
        assert_eq!("99999999999999999999".parse::<Amount>(), Err(AmountError::Overflow));
    }

    #[test]
    fn rate_times_minutes_is_exact() {
        // 0.0125 €/min × 241 min = 3.0125 € — exact where f64 would not be.
        assert_eq!(a("0.0125").checked_mul(241).unwrap().to_string(), "3.0125");
    }

    #[test]
    fn money_serialises_as_the_spec_shape() {
        let m = Money::new(a("12.34"), Currency::EUR);
        assert_eq!(
            serde_json::to_value(m).unwrap(),
            serde_json::json!({"amount": "12.34", "currency": "EUR"})
        );
        assert!(
            serde_json::from_value::<Money>(serde_json::json!({"amount": "1", "currency": "eur"})).is_err()
        );
    }

    proptest! {
        #[test]
        fn display_round_trips(units in any::<i64>().prop_filter("not MIN", |u| *u != i64::MIN)) {
            let amount = Amount::from_units(units);
            prop_assert_eq!(amount.to_string().parse::<Amount>().unwrap(), amount);
        }
    }
}
