//! The price list: per country and number type, monthly rental, per-minute and per-SMS rates.
//! Loaded once at start (embedded `fixtures/pricing.toml`, or a file named by configuration);
//! a country without a row uses the `[default]` row of the number type.

use std::collections::HashMap;

use serde::Deserialize;
use switchboard_core::{Amount, Country, NumberType};

const EMBEDDED: &str = include_str!("../../../fixtures/pricing.toml");

/// The prices of one country and number type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub monthly: Amount,
    pub per_minute: Amount,
    pub per_sms: Amount,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    local: Option<Prices>,
    mobile: Option<Prices>,
    toll_free: Option<Prices>,
}

impl Row {
    fn get(&self, t: NumberType) -> Option<Prices> {
        match t {
            NumberType::Local => self.local,
            NumberType::Mobile => self.mobile,
            NumberType::TollFree => self.toll_free,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default: Row,
    #[serde(default)]
    countries: HashMap<String, Row>,
}

/// A validated price list.
#[derive(Debug, Clone)]
pub struct PriceList {
    default: Row,
    countries: HashMap<Country, Row>,
}

#[derive(Debug, thiserror::Error)]
#[error("the price list is invalid: {0}")]
pub struct PriceListError(String);

impl PriceList {
    /// The price list shipped in `fixtures/pricing.toml`.
    pub fn embedded() -> Result<Self, PriceListError> {
        Self::from_toml(EMBEDDED)
    }

    pub fn from_toml(text: &str) -> Result<Self, PriceListError> {
        let file: File = toml::from_str(text).map_err(|e| PriceListError(e.to_string()))?;
        for t in [NumberType::Local, NumberType::Mobile, NumberType::TollFree] {
            if file.default.get(t).is_none() {
                return Err(PriceListError(format!("[default] has no `{}` row", t.as_str())));
            }
        }
        let mut countries = HashMap::new();
        for (code, row) in file.countries {
            let country: Country = code.parse().map_err(PriceListError)?;
            countries.insert(country, row);
        }
        let list = Self { default: file.default, countries };
        for prices in list.all_rows() {
            if prices.monthly.is_negative() || prices.per_minute.is_negative() || prices.per_sms.is_negative()
            {
                return Err(PriceListError("prices cannot be negative".into()));
            }
        }
        Ok(list)
    }

    fn all_rows(&self) -> impl Iterator<Item = Prices> + '_ {
        std::iter::once(&self.default)
            .chain(self.countries.values())
            .flat_map(|r| [r.local, r.mobile, r.toll_free].into_iter().flatten())
    }

    /// The prices for a number of `number_type` in `country`.
    pub fn prices(&self, country: Country, number_type: NumberType) -> Prices {
        self.countries
            .get(&country)
            .and_then(|row| row.get(number_type))
            .or_else(|| self.default.get(number_type))
            // from_toml guarantees every default row exists.
            .unwrap_or(Prices { monthly: Amount::ZERO, per_minute: Amount::ZERO, per_sms: Amount::ZERO })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_prices_every_country_and_falls_back_to_default() {
        let list = PriceList::embedded().unwrap();
        assert_eq!(list.prices(Country::DE, NumberType::Local).monthly.to_string(), "1.50");
        assert_eq!(list.prices(Country::US, NumberType::TollFree).per_minute.to_string(), "0.022");
        // AT has no toll-free row, LU no row at all: both use the default.
        assert_eq!(list.prices("AT".parse().unwrap(), NumberType::TollFree).monthly.to_string(), "15.00");
        assert_eq!(list.prices("LU".parse().unwrap(), NumberType::Local).monthly.to_string(), "3.00");
    }

    #[test]
    fn an_incomplete_or_negative_list_is_refused() {
        assert!(
            PriceList::from_toml(
                "[default]\nlocal = { monthly = \"1\", per_minute = \"0\", per_sms = \"0\" }"
            )
            .is_err()
        );
        let negative = "[default]\nlocal = { monthly = \"-1\", per_minute = \"0\", per_sms = \"0\" }\nmobile = { monthly = \"1\", per_minute = \"0\", per_sms = \"0\" }\ntoll_free = { monthly = \"1\", per_minute = \"0\", per_sms = \"0\" }";
        assert!(PriceList::from_toml(negative).is_err());
        assert!(
            PriceList::from_toml("[default]\nlocal = { monthly = 1.5 }").is_err(),
            "floats are not amounts"
        );
    }
}
