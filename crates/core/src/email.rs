//! Email addresses, checked the practical way: a local part of 1–64 characters (letters, digits
//! and ``!#$%&'*+/=?^_`{|}~.-``, no leading, trailing or doubled dot), `@`, a domain of dot-separated
//! labels (letters, digits, inner hyphens; at least two labels), at most 254 characters in all.
//! The domain is lowercased; the local part is kept as typed. Quoted local parts and IP-literal
//! domains are refused: no mailbox we send notifications to needs them.

use std::fmt;
use std::str::FromStr;

use crate::string_form::string_form;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an email address such as owner@example.com")]
pub struct EmailError;

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let input = input.trim();
        let (local, domain) = input.rsplit_once('@').ok_or(EmailError)?;
        let local_ok = (1..=64).contains(&local.len())
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                (1..=63).contains(&l.len())
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !local_ok || !domain_ok || local.len() + 1 + domain.len() > 254 {
            return Err(EmailError);
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// An address read back from storage, where it was validated on the way in.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }
}

impl FromStr for EmailAddress {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_form!(EmailAddress, example = "owner@example.com", description = "Email address");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        assert_eq!(
            EmailAddress::parse(" Owner.Name+tag@Example.COM ").unwrap().as_str(),
            "Owner.Name+tag@example.com"
        );
        assert_eq!(EmailAddress::parse("a@b.co").unwrap().domain(), "b.co");
    }

    #[test]
    fn refuses_what_no_notification_should_go_to() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@example",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@-example.com",
            "a@example-.com",
            "a@[127.0.0.1]",
            "\"quoted\"@example.com",
            "a@example.com\r\nBcc: x@y.z",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
