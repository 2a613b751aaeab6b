//! The languages a phone line (SPEC §5) or an agent (SPEC §3) can speak.

use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// One of the nine line languages; `de` unless said otherwise.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Language {
    #[default]
    #[sea_orm(string_value = "de")]
    De,
    #[sea_orm(string_value = "en")]
    En,
    #[sea_orm(string_value = "fr")]
    Fr,
    #[sea_orm(string_value = "es")]
    Es,
    #[sea_orm(string_value = "it")]
    It,
    #[sea_orm(string_value = "nl")]
    Nl,
    #[sea_orm(string_value = "pt")]
    Pt,
    #[sea_orm(string_value = "pl")]
    Pl,
    #[sea_orm(string_value = "tr")]
    Tr,
}

impl Language {
    pub const ALL: [Language; 9] = [
        Language::De,
        Language::En,
        Language::Fr,
        Language::Es,
        Language::It,
        Language::Nl,
        Language::Pt,
        Language::Pl,
        Language::Tr,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Language::De => "de",
            Language::En => "en",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::It => "it",
            Language::Nl => "nl",
            Language::Pt => "pt",
            Language::Pl => "pl",
            Language::Tr => "tr",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == s)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
