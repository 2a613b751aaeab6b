//! Addresses our servers may call on a user's behalf (webhooks): SSRF rules in one place.
//!
//! A [`PublicUrl`] is an absolute `https://` URL of at most 2048 characters, without credentials,
//! whose host is not obviously internal: not `localhost` / `*.localhost` / `*.local` /
//! `*.internal` or a single-label name, and — when it is an IP literal — a public address
//! ([`is_public_ip`]). Parsing follows the WHATWG URL standard, which turns numeric tricks such as
//! `2130706433`, `0177.0.0.1` or `0x7f.1` into the address they mean, so they are classified like
//! any other literal. A hostname still has to be resolved and every address checked at call time
//! (`switchboard-outbound` does that); this type is the first gate.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::string_form::string_form;

pub const MAX_URL_LEN: usize = 2048;

/// An https URL that passed the SSRF rules for its form.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

/// Why a URL may not be called; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must be an absolute URL such as https://example.com/webhook")]
    Syntax,
    #[error("must use https://")]
    NotHttps,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must name a public host; {0} is not reachable from the internet")]
    NotPublic(String),
}

impl PublicUrl {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let input = input.trim();
        if input.chars().count() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        let url = url::Url::parse(input).map_err(|_| UrlError::Syntax)?;
        check(&url)?;
        Ok(Self(url))
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Checks scheme, credentials and host of an already parsed URL (also used on redirects).
pub fn check(url: &url::Url) -> Result<(), UrlError> {
    if url.scheme() != "https" {
        return Err(UrlError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    match url.host() {
        None => Err(UrlError::Syntax),
        Some(url::Host::Ipv4(ip)) => public_or(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => public_or(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let internal = name == "localhost"
                || [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"]
                    .iter()
                    .any(|s| name.ends_with(s))
                || !name.contains('.');
            if internal { Err(UrlError::NotPublic(name)) } else { Ok(()) }
        }
    }
}

fn public_or(ip: IpAddr) -> Result<(), UrlError> {
    if is_public_ip(ip) { Ok(()) } else { Err(UrlError::NotPublic(ip.to_string())) }
}

/// Whether an address belongs to the public internet. Refuses loopback, private (10/8,
/// 172.16/12, 192.168/16), link-local and cloud metadata (169.254/16), CGNAT (100.64/10),
/// "this network" (0/8), broadcast, multicast, documentation, benchmarking and reserved ranges;
/// for IPv6 loopback, unspecified, unique-local (fc00::/7), link-local (fe80::/10), multicast,
/// documentation, and IPv4-mapped / -compatible / NAT64 forms of any refused IPv4 address.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96) embed an IPv4 address.
    if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return !ip.is_unspecified() && !ip.is_loopback() && is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]))
}

impl FromStr for PublicUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

string_form!(
    PublicUrl,
    example = "https://example.com/webhooks/switchboard",
    description = "https URL of a public host, at most 2048 characters, no credentials",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_pass() {
        for ok in [
            "https://example.com/webhook",
            "https://hooks.example.co.uk:8443/a?b=c",
            "https://93.184.216.34/x",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
            "  https://Example.COM/path  ",
        ] {
            assert!(PublicUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn the_ssrf_table_is_refused() {
        let refused = [
            ("http://example.com/", UrlError::NotHttps),
            ("ftp://example.com/", UrlError::NotHttps),
            ("example.com/webhook", UrlError::Syntax),
            ("https://user:pw@example.com/", UrlError::Credentials),
            ("https://user@example.com/", UrlError::Credentials),
        ];
        for (url, err) in refused {
            assert_eq!(PublicUrl::parse(url).unwrap_err(), err, "{url}");
        }
        for host in [
            "localhost",
            "LOCALHOST.",
            "api.localhost",
            "printer.local",
            "db.internal",
            "intranet",
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "2130706433",
            "0177.0.0.1",
            "0x7f.1",
            "127.1",
            "017700000001",
            "[::1]",
            "[::]",
            "[fc00::1]",
            "[fd12:3456::1]",
            "[fe80::1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:169.254.169.254]",
            "[::ffff:7f00:1]",
            "[::127.0.0.1]",
            "[64:ff9b::a9fe:a9fe]",
        ] {
            let url = format!("https://{host}/hook");
            assert!(matches!(PublicUrl::parse(&url), Err(UrlError::NotPublic(_))), "{url} was accepted");
        }
        assert_eq!(
            PublicUrl::parse(&format!("https://example.com/{}", "a".repeat(2048))),
            Err(UrlError::TooLong)
        );
    }

    #[test]
    fn neighbours_of_private_ranges_are_public() {
        for ip in ["172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "11.0.0.1", "192.169.0.1"]
        {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip}");
        }
    }
}
