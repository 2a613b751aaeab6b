//! # switchboard-outbound
//!
//! Every request Switchboard makes to an address a user typed in (tool and notification webhooks)
//! goes through [`SafeClient`], which enforces SPEC §8 at call time:
//!
//! 1. the URL is a [`PublicUrl`] (https, no credentials, no internal host or literal);
//! 2. the host name is resolved by our own resolver, and if **any** address it returns is not
//!    public ([`is_public_ip`]) the request is refused — no connection is made;
//! 3. the connection goes to exactly the addresses that were checked (reqwest connects to what
//!    the resolver returned; nothing resolves the name a second time);
//! 4. redirects are followed at most three times, each target checked as in 1 (and resolved
//!    through the same resolver, so 2 and 3 apply again);
//! 5. connect and total timeouts bound every request.
//!
//! The resolver and the address rule can be replaced ([`SafeClient::builder`]) so tests can
//! prove each refusal against a local listener without touching real DNS, and
//! [`SafeClientBuilder::plain_http_for_tests`] lets a test reach a plain-http mock server. These
//! are builder calls in code only: no setting of any binary reaches them, so a deployment cannot
//! turn the checks off.
//!
//! [`PublicUrl`]: switchboard_core::net::PublicUrl
//! [`is_public_ip`]: switchboard_core::net::is_public_ip

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use switchboard_core::net::{PublicUrl, is_public_ip};

/// Resolves a host name to addresses.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(
        &self,
        host: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'static>>;
}

/// The system resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'static>> {
        let host = host.to_owned();
        Box::pin(
            async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) },
        )
    }
}

type AddressRule = Arc<dyn Fn(IpAddr) -> bool + Send + Sync>;

/// Why an outgoing request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The destination is not on the public internet (or redirected there); nothing was sent.
    #[error("refused: {0}")]
    Refused(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// The answer to a request that reached the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
    pub latency: Duration,
}

struct CheckingResolver {
    lookup: Arc<dyn Lookup>,
    allowed: AddressRule,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        let allowed = self.allowed.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = lookup.lookup(&host).await?;
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) = addrs.iter().find(|ip| !allowed(**ip)) {
                tracing::warn!(host = %host, address = %bad, "refused an outgoing request to a non-public address");
                return Err(
                    Box::new(NotPublic(format!("{host} resolves to {bad}, which is not public"))) as _
                );
            }
            let addrs: Addrs =
                Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

#[derive(Debug)]
struct NotPublic(String);

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotPublic {}

/// Builds a [`SafeClient`].
pub struct SafeClientBuilder {
    lookup: Arc<dyn Lookup>,
    allowed: AddressRule,
    timeout: Duration,
    connect_timeout: Duration,
    plain_http: bool,
}

impl std::fmt::Debug for SafeClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeClientBuilder").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl SafeClientBuilder {
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Replaces the resolver (tests).
    pub fn lookup(mut self, lookup: impl Lookup) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    /// Replaces the rule for which resolved addresses may be called (tests; default: public only).
    pub fn allow_addresses(mut self, rule: impl Fn(IpAddr) -> bool + Send + Sync + 'static) -> Self {
        self.allowed = Arc::new(rule);
        self
    }

    /// Tests only: send to `http://` what the (https-only) URL names, so a wiremock server on
    /// loopback can answer. Combine with [`Self::lookup`] and [`Self::allow_addresses`].
    pub fn plain_http_for_tests(mut self) -> Self {
        self.plain_http = true;
        self
    }

    pub fn build(self) -> Result<SafeClient, OutboundError> {
        let allowed = self.allowed.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            match redirect_verdict(attempt.url(), attempt.previous().len(), allowed.as_ref()) {
                Ok(()) => attempt.follow(),
                Err(reason) => attempt.error(reason),
            }
        });
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckingResolver { lookup: self.lookup, allowed: self.allowed.clone() }))
            .redirect(redirects)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .no_proxy()
            .build()
            .map_err(|e| OutboundError::Other(e.to_string()))?;
        Ok(SafeClient { http, allowed: self.allowed, timeout: self.timeout, plain_http: self.plain_http })
    }
}

/// The SSRF-safe client (see the crate doc).
#[derive(Clone)]
pub struct SafeClient {
    http: reqwest::Client,
    allowed: AddressRule,
    timeout: Duration,
    plain_http: bool,
}

impl std::fmt::Debug for SafeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeClient").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl SafeClient {
    pub fn builder() -> SafeClientBuilder {
        SafeClientBuilder {
            lookup: Arc::new(SystemLookup),
            allowed: Arc::new(is_public_ip),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            plain_http: false,
        }
    }

    /// POSTs a JSON body with extra headers; the answer's status and latency, or why there was none.
    pub async fn post_json(
        &self,
        url: &PublicUrl,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Delivered, OutboundError> {
        if let Some(ip) = literal_ip(url.as_url())
            && !(self.allowed)(ip)
        {
            return Err(OutboundError::Refused(format!("{ip} is not public")));
        }
        let mut target = url.as_url().clone();
        if self.plain_http {
            // Only reachable through `plain_http_for_tests`.
            let _ = target.set_scheme("http");
        }
        let mut request = self.http.post(target).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let started = Instant::now();
        match request.send().await {
            Ok(res) => Ok(Delivered { status: res.status().as_u16(), latency: started.elapsed() }),
            Err(e) => Err(classify(&e, self.timeout)),
        }
    }
}

/// Whether a redirect to `url` may be followed after `hops` redirects: at most three, each to an
/// https URL without credentials or internal names, and any literal address allowed by the rule.
/// (A host name is resolved through the checking resolver, which applies the rule again.)
fn redirect_verdict(
    url: &url::Url,
    hops: usize,
    allowed: &(dyn Fn(IpAddr) -> bool + Send + Sync),
) -> Result<(), String> {
    if hops >= 3 {
        return Err("more than 3 redirects".into());
    }
    match (switchboard_core::net::check(url), literal_ip(url)) {
        (_, Some(ip)) if !allowed(ip) => Err(format!("redirect to {ip} refused: not public")),
        // A literal the rule allows is judged by the rule alone (tests allow loopback).
        (Err(switchboard_core::net::UrlError::NotPublic(_)), Some(_)) | (Ok(()), _) => Ok(()),
        (Err(e), _) => Err(format!("redirect to {url} refused: {e}")),
    }
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(np) = s.downcast_ref::<NotPublic>() {
            return OutboundError::Refused(np.0.clone());
        }
        source = s.source();
    }
    if e.is_redirect() {
        return OutboundError::Refused(e.to_string());
    }
    if e.is_timeout() {
        return OutboundError::Timeout(timeout);
    }
    if e.is_connect() {
        return OutboundError::Connect(e.to_string());
    }
    OutboundError::Other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(url: &str, hops: usize) -> Result<(), String> {
        redirect_verdict(&url::Url::parse(url).unwrap(), hops, &is_public_ip)
    }

    #[test]
    fn redirects_into_private_space_are_refused() {
        assert!(verdict("https://example.com/next", 0).is_ok());
        assert!(verdict("https://example.com/next", 3).is_err(), "at most three hops");
        for bad in [
            "https://127.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://2130706433/",
            "https://localhost/",
            "https://metadata.internal/",
            "http://example.com/",
            "https://user:pw@example.com/",
        ] {
            assert!(verdict(bad, 0).is_err(), "{bad} was followed");
        }
    }
}
