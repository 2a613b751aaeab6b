//! The price list of a deployment: `APP__BILLING__PRICE_LIST` when set, else the embedded
//! `fixtures/pricing.toml`.

use switchboard_billing::PriceList;

use crate::settings::Settings;

/// Why the configured price list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PricesError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("APP__BILLING__PRICE_LIST ({path}): {message}")]
    Invalid { path: String, message: String },
    #[error("fixtures/pricing.toml: {0}")]
    Embedded(String),
}

/// Loads the configured price list.
pub fn price_list(settings: &Settings) -> Result<PriceList, PricesError> {
    match &settings.price_list {
        Some(path) => {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|source| PricesError::Read { path: shown.clone(), source })?;
            PriceList::from_toml(&text)
                .map_err(|e| PricesError::Invalid { path: shown, message: e.to_string() })
        }
        None => PriceList::embedded().map_err(|e| PricesError::Embedded(e.to_string())),
    }
}
