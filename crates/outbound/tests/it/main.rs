//! The SSRF table against a real local listener: every hostile destination is refused before a
//! connection is made, and allowed destinations are connected to at exactly the checked address.

#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use switchboard_core::net::PublicUrl;
use switchboard_outbound::{Lookup, OutboundError, SafeClient};

/// Answers every name with the given addresses.
struct FixedLookup(Vec<IpAddr>);

impl Lookup for FixedLookup {
    fn lookup(
        &self,
        _: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'static>> {
        let addrs = self.0.clone();
        Box::pin(async move { Ok(addrs) })
    }
}

/// A loopback listener that counts the connections it accepts (and never answers).
async fn listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (port, accepted)
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn names_resolving_to_non_public_addresses_are_refused_without_connecting() {
    let (port, accepted) = listener().await;
    let url: PublicUrl = format!("https://hooks.customer.example:{port}/webhook").parse().unwrap();
    for resolved in [
        vec!["127.0.0.1"],
        vec!["10.1.2.3"],
        vec!["172.20.0.5"],
        vec!["192.168.0.10"],
        vec!["169.254.169.254"],
        vec!["100.64.1.1"],
        vec!["0.0.0.0"],
        vec!["::1"],
        vec!["fd00::1"],
        vec!["fe80::1"],
        vec!["::ffff:127.0.0.1"],
        vec!["93.184.216.34", "127.0.0.1"],
    ] {
        let client = SafeClient::builder()
            .lookup(FixedLookup(ips(&resolved)))
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let err = client.post_json(&url, &[], b"{}".to_vec()).await.unwrap_err();
        assert!(matches!(err, OutboundError::Refused(_)), "{resolved:?}: {err:?}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "a hostile destination was connected to");
}

#[tokio::test]
async fn literal_addresses_and_internal_names_never_become_urls() {
    let (port, accepted) = listener().await;
    for host in [
        "127.0.0.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
        "intranet",
    ] {
        assert!(PublicUrl::parse(&format!("https://{host}:{port}/hook")).is_err(), "{host}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_allowed_destination_is_connected_to_at_the_checked_address() {
    let (port, accepted) = listener().await;
    let url: PublicUrl = format!("https://hooks.customer.example:{port}/webhook").parse().unwrap();
    // The test allows loopback, so the request proceeds to the address the resolver checked.
    let client = SafeClient::builder()
        .lookup(FixedLookup(ips(&["127.0.0.1"])))
        .allow_addresses(|ip| ip.is_loopback())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = client.post_json(&url, &[], b"{}".to_vec()).await.unwrap_err();
    assert!(matches!(err, OutboundError::Timeout(_)), "the silent listener times the request out: {err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_name_without_addresses_is_a_clear_error() {
    let url: PublicUrl = "https://nothing.example/hook".parse().unwrap();
    let client = SafeClient::builder().lookup(FixedLookup(vec![])).build().unwrap();
    assert!(client.post_json(&url, &[], Vec::new()).await.is_err());
}
