//! Where SNS signing certificates come from.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use url::Url;
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;

use super::host::signing_cert_url;
use crate::CertificateError;

/// Gives the PEM certificate at a `SigningCertURL` that has already passed the host check.
#[async_trait::async_trait]
pub trait CertificateSource: Send + Sync {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, CertificateError>;
}

/// Fetches certificates over HTTPS with reqwest and keeps them in memory by URL.
///
/// AWS rotates the certificate by publishing a new URL, so an entry never needs refreshing; the
/// cache holds at most [`Self::MAX_CACHED`] URLs (it is emptied when full — only genuine SNS
/// URLs are ever fetched, so this bounds memory, not correctness). Only a response that parses
/// as an RSA certificate is cached. Redirects are not followed and plain http is refused.
pub struct HttpCertificateSource {
    client: reqwest::Client,
    cache: Mutex<HashMap<Url, Vec<u8>>>,
}

impl HttpCertificateSource {
    /// The time limit of one fetch, connect included, unless told otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How many certificate URLs are kept.
    pub const MAX_CACHED: usize = 32;
    /// A certificate is about 2 KiB; anything beyond this is not one.
    const MAX_BYTES: usize = 64 * 1024;

    pub fn new(timeout: Duration) -> Result<Self, CertificateError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .build()
            .map_err(|e| CertificateError::with_source("cannot build the HTTP client", e))?;
        Ok(Self { client, cache: Mutex::new(HashMap::new()) })
    }

    fn cached(&self, url: &Url) -> Option<Vec<u8>> {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(url).cloned()
    }

    fn remember(&self, url: &Url, pem: &[u8]) {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= Self::MAX_CACHED {
            cache.clear();
        }
        cache.insert(url.clone(), pem.to_vec());
    }

    async fn download(&self, url: &Url) -> Result<Vec<u8>, CertificateError> {
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| CertificateError::with_source("certificate request failed", e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(CertificateError::new(format!("certificate request answered {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| CertificateError::with_source("certificate download failed", e))?
        {
            if body.len() + chunk.len() > Self::MAX_BYTES {
                return Err(CertificateError::new("certificate response too large"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl fmt::Debug for HttpCertificateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.cache.lock().map_or(0, |cache| cache.len());
        f.debug_struct("HttpCertificateSource").field("cached", &cached).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl CertificateSource for HttpCertificateSource {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, CertificateError> {
        if let Some(pem) = self.cached(url) {
            return Ok(pem);
        }
        // The verifier has checked the URL already; checking again keeps this type safe to use
        // on its own.
        if signing_cert_url(url.as_str()).is_err() {
            return Err(CertificateError::new("not a genuine SNS certificate URL"));
        }
        let pem = self.download(url).await?;
        rsa_public_key(&pem)?;
        tracing::debug!(%url, "fetched an SNS signing certificate");
        self.remember(url, &pem);
        Ok(pem)
    }
}

/// The RSA public key (PKCS#1 `RSAPublicKey`, DER) of the first certificate in `pem` — the form
/// `ring` verifies with.
pub(crate) fn rsa_public_key(pem: &[u8]) -> Result<Vec<u8>, CertificateError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| CertificateError::with_source("not a PEM document", e.to_string()))?;
    if pem.label != "CERTIFICATE" {
        return Err(CertificateError::new("the PEM document is not a certificate"));
    }
    let certificate = pem
        .parse_x509()
        .map_err(|e| CertificateError::with_source("not an X.509 certificate", e.to_string()))?;
    let key_info = certificate.public_key();
    if key_info.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return Err(CertificateError::new("the certificate's key is not RSA"));
    }
    Ok(key_info.subject_public_key.data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_to_fetch_from_anywhere_but_sns() {
        let source = HttpCertificateSource::new(Duration::from_millis(50)).expect("client");
        for url in ["https://example.com/cert.pem", "https://sns.us-east-1.amazonaws.com/cert.txt"] {
            let url = Url::parse(url).expect("url");
            assert!(source.fetch(&url).await.is_err(), "{url}");
        }
    }

    #[test]
    fn cache_is_keyed_by_url_and_bounded() {
        let source = HttpCertificateSource::new(Duration::from_secs(1)).expect("client");
        let url =
            |n: usize| Url::parse(&format!("https://sns.us-east-1.amazonaws.com/{n}.pem")).expect("url");
        source.remember(&url(0), b"zero");
        assert_eq!(source.cached(&url(0)).as_deref(), Some(&b"zero"[..]));
        assert_eq!(source.cached(&url(1)), None);
        for n in 1..=HttpCertificateSource::MAX_CACHED {
            source.remember(&url(n), b"pem");
        }
        assert!(source.cache.lock().expect("lock").len() <= HttpCertificateSource::MAX_CACHED);
        assert!(source.cached(&url(HttpCertificateSource::MAX_CACHED)).is_some());
    }

    #[test]
    fn rejects_what_is_not_an_rsa_certificate() {
        assert!(rsa_public_key(b"hello").is_err());
        let key = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert!(rsa_public_key(key).is_err());
    }
}
