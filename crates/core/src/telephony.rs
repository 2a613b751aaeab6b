//! Telephony vocabulary shared by numbers, billing and providers: countries and number types.

use std::fmt;
use std::str::FromStr;

use sea_orm::sea_query::StringLen;

use crate::string_form::string_form;

/// An ISO 3166-1 alpha-2 country code, uppercase (`DE`, `US`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    pub const US: Country = Country(*b"US");
    pub const DE: Country = Country(*b"DE");

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XX")
    }
}

impl FromStr for Country {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        let b = up.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Country([b[0], b[1]]))
        } else {
            Err(format!("`{s}` is not a two-letter ISO 3166 country code such as DE"))
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_form!(
    Country,
    example = "DE",
    description = "ISO 3166-1 alpha-2 country code",
    pattern = "^[A-Z]{2}$"
);

/// The kind of phone number.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum NumberType {
    #[default]
    #[sea_orm(string_value = "local")]
    Local,
    #[sea_orm(string_value = "mobile")]
    Mobile,
    #[sea_orm(string_value = "toll_free")]
    TollFree,
}

impl NumberType {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Local => "local",
            NumberType::Mobile => "mobile",
            NumberType::TollFree => "toll_free",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_parse_case_insensitively() {
        assert_eq!("de".parse::<Country>().unwrap(), Country::DE);
        assert_eq!(Country::US.to_string(), "US");
        for bad in ["", "D", "DEU", "1A", "D-"] {
            assert!(bad.parse::<Country>().is_err(), "{bad}");
        }
    }
}
