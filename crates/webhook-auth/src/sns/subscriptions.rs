//! Confirming an SNS subscription: a GET to the `SubscribeURL` of a verified
//! `SubscriptionConfirmation` (providers.md §5 step 5).

use std::fmt;
use std::time::Duration;

use url::Url;

use super::host::genuine_sns_url;
use crate::CertificateError;

/// Confirms subscriptions; the binary's processing calls it for stored confirmations.
#[async_trait::async_trait]
pub trait SubscriptionConfirmer: Send + Sync {
    /// GETs `subscribe_url`, which must be a genuine SNS URL (checked again here).
    async fn confirm(&self, subscribe_url: &str) -> Result<(), CertificateError>;
}

/// Confirms over HTTPS with reqwest: genuine SNS hosts only, no redirects, a time limit.
pub struct HttpSubscriptionConfirmer {
    client: reqwest::Client,
}

impl HttpSubscriptionConfirmer {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    pub fn new(timeout: Duration) -> Result<Self, CertificateError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .build()
            .map_err(|e| CertificateError::with_source("cannot build the HTTP client", e))?;
        Ok(Self { client })
    }
}

impl fmt::Debug for HttpSubscriptionConfirmer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSubscriptionConfirmer").finish_non_exhaustive()
    }
}

/// The `SubscribeURL` parsed, if SNS may be asked to confirm through it.
pub fn subscribe_url(raw: &str) -> Option<Url> {
    genuine_sns_url(raw, "SubscribeURL").ok()
}

#[async_trait::async_trait]
impl SubscriptionConfirmer for HttpSubscriptionConfirmer {
    async fn confirm(&self, subscribe_url: &str) -> Result<(), CertificateError> {
        let url = genuine_sns_url(subscribe_url, "SubscribeURL")
            .map_err(|_| CertificateError::new("not a genuine SNS SubscribeURL"))?;
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| CertificateError::with_source("subscription confirmation failed", e))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!("SNS subscription confirmed");
            Ok(())
        } else {
            Err(CertificateError::new(format!("subscription confirmation answered {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_anything_but_a_genuine_sns_url() {
        let confirmer = HttpSubscriptionConfirmer::new(Duration::from_millis(50)).expect("client");
        for url in [
            "https://example.com/?Action=ConfirmSubscription",
            "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com.evil.com/",
        ] {
            assert!(confirmer.confirm(url).await.is_err(), "{url}");
            assert!(subscribe_url(url).is_none(), "{url}");
        }
        assert!(
            subscribe_url("https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription").is_some()
        );
    }
}
