//! How a provider call failed, in terms the domain can act on. Every provider client (live or
//! sandbox) maps its wire errors into this, so services decide retries and compensation without
//! knowing which provider answered.

use crate::error::{DomainError, ErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The thing asked for is no longer available (e.g. Twilio 21422: the number was sold
    /// meanwhile). Trying another candidate may succeed.
    #[error("{provider}: not available: {message}")]
    NotAvailable { provider: &'static str, message: String },
    /// The resource does not exist at the provider (404 / Twilio 20404).
    #[error("{provider}: not found: {message}")]
    NotFound { provider: &'static str, message: String },
    /// The provider refused the request for good (4xx other than the above); `code` is the
    /// provider's own error code when it gave one.
    #[error("{provider} refused the request ({code}): {message}")]
    Rejected { provider: &'static str, code: String, message: String },
    /// Our credentials were refused (401/403): an operator must fix the configuration.
    #[error("{provider} refused our credentials: {message}")]
    Unauthorized { provider: &'static str, message: String },
    /// Timeout, connection failure, 5xx or 429: worth retrying later.
    #[error("{provider} is unavailable: {message}")]
    Unavailable { provider: &'static str, message: String },
}

impl ProviderError {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Unavailable { .. })
    }
}

impl DomainError for ProviderError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::NotAvailable { .. } | ProviderError::NotFound { .. } => ErrorKind::Conflict,
            ProviderError::Rejected { .. } | ProviderError::Unauthorized { .. } => ErrorKind::Upstream,
            ProviderError::Unavailable { .. } => ErrorKind::Unavailable,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ProviderError::NotAvailable { .. } => "provider_not_available",
            ProviderError::NotFound { .. } => "provider_not_found",
            ProviderError::Rejected { .. } => "provider_rejected",
            ProviderError::Unauthorized { .. } => "provider_unauthorized",
            ProviderError::Unavailable { .. } => "provider_unavailable",
        }
    }
}
