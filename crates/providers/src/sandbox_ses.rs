//! The SES sandbox: sender identities and sending simulated in process. [`SandboxSes`]
//! implements [`EmailIdentityProvider`] and [`EmailSender`]; clones share state.
//!
//! Every `get_identity` is one "re-check" by SES, and moves the identity along:
//! - an **address** is `Pending` when created and `Verified` from the first re-check on (as if the
//!   link in SES's mail had been clicked meanwhile);
//! - a **domain** gets three DKIM tokens derived from the domain (32 lowercase alphanumerics each,
//!   the same on every run), is `Pending` when created and after the first re-check, and
//!   `Verified` from the second re-check on (as if the CNAMEs had been published meanwhile).
//!
//! Failures on demand, by domain (of a domain identity, or of an address):
//! - `fail.example` (and its subdomains) goes `Failed` on the first re-check and stays there;
//! - `tempfail.example` (and its subdomains) goes `TemporaryFailure` and stays there.
//!
//! Like SES: creating an identity twice answers its state; `get_identity` of an identity never
//! created is `NotFound`; `send` from an address that is neither a verified address identity nor
//! in a verified domain is `Rejected` with code `MessageRejected`, and without recipients is
//! `Rejected` with `BadRequestException`. Sent messages are kept in order, see
//! [`SandboxSes::sent`]; message ids are `sandbox-ses-000001`, `…02`, ….

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use switchboard_core::ProviderError;
use switchboard_email_identities::{
    EmailIdentityProvider, EmailSender, IdentityKind, IdentityState, OutgoingEmail, VerificationStatus,
};

const PROVIDER: &str = "ses";
/// Domains whose identities fail verification for good.
pub const FAIL_DOMAIN: &str = "fail.example";
/// Domains whose identities fail verification temporarily.
pub const TEMPFAIL_DOMAIN: &str = "tempfail.example";

/// A message the sandbox accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub message_id: String,
    pub email: OutgoingEmail,
}

/// The in-process SES. Cheap to clone; clones share state.
#[derive(Debug, Clone, Default)]
pub struct SandboxSes {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// By normalised identity (domain part lower-cased).
    identities: BTreeMap<String, Identity>,
    sent: Vec<SentEmail>,
}

#[derive(Debug, Clone)]
struct Identity {
    kind: IdentityKind,
    /// How many times it was re-checked (`get_identity`) since it was created.
    checks: u32,
    tokens: Vec<String>,
}

impl SandboxSes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentEmail> {
        self.lock().sent.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is a single insert or push).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `user@Example.COM` → `user@example.com`; `Example.COM` → `example.com`.
fn normalise(identity: &str) -> String {
    let identity = identity.trim();
    match identity.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => identity.to_ascii_lowercase(),
    }
}

fn domain_of(identity: &str) -> &str {
    identity.rsplit_once('@').map_or(identity, |(_, domain)| domain)
}

fn in_domain(domain: &str, parent: &str) -> bool {
    domain == parent || domain.strip_suffix(parent).is_some_and(|rest| rest.ends_with('.'))
}

/// Three tokens of 32 characters from `[a-z0-9]`, a function of the domain only.
fn dkim_tokens(domain: &str) -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (1..=3)
        .map(|i| {
            let digest = Sha256::digest(format!("switchboard-sandbox-dkim:{domain}:{i}"));
            digest.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
        })
        .collect()
}

fn state_of(identity: &str, entry: &Identity) -> IdentityState {
    let domain = domain_of(identity);
    let status = if entry.checks == 0 {
        VerificationStatus::Pending
    } else if in_domain(domain, FAIL_DOMAIN) {
        VerificationStatus::Failed
    } else if in_domain(domain, TEMPFAIL_DOMAIN) {
        VerificationStatus::TemporaryFailure
    } else {
        let needed = match entry.kind {
            IdentityKind::Address => 1,
            IdentityKind::Domain => 2,
        };
        if entry.checks >= needed { VerificationStatus::Verified } else { VerificationStatus::Pending }
    };
    IdentityState {
        identity: identity.to_owned(),
        kind: entry.kind,
        status,
        verified_for_sending: status == VerificationStatus::Verified,
        dkim_tokens: entry.tokens.clone(),
    }
}

fn bad_request(message: String) -> ProviderError {
    ProviderError::Rejected { provider: PROVIDER, code: "BadRequestException".into(), message }
}

#[async_trait]
impl EmailIdentityProvider for SandboxSes {
    async fn create_identity(
        &self,
        identity: &str,
        kind: IdentityKind,
    ) -> Result<IdentityState, ProviderError> {
        let key = normalise(identity);
        let is_address = key.contains('@');
        let valid = match kind {
            IdentityKind::Address => is_address && !key.starts_with('@') && !key.ends_with('@'),
            IdentityKind::Domain => !is_address && key.contains('.'),
        };
        if !valid || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad_request(format!("Invalid email identity for a {kind:?}: {identity:?}")));
        }
        let mut state = self.lock();
        let entry = state.identities.entry(key.clone()).or_insert_with(|| Identity {
            kind,
            checks: 0,
            tokens: match kind {
                IdentityKind::Domain => dkim_tokens(&key),
                IdentityKind::Address => Vec::new(),
            },
        });
        Ok(state_of(&key, entry))
    }

    async fn get_identity(&self, identity: &str) -> Result<IdentityState, ProviderError> {
        let key = normalise(identity);
        let mut state = self.lock();
        let entry = state.identities.get_mut(&key).ok_or_else(|| ProviderError::NotFound {
            provider: PROVIDER,
            message: format!("Email identity {identity} does not exist."),
        })?;
        entry.checks = entry.checks.saturating_add(1);
        Ok(state_of(&key, entry))
    }
}

#[async_trait]
impl EmailSender for SandboxSes {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, ProviderError> {
        if email.to.is_empty() {
            return Err(bad_request("Missing required field Destination".into()));
        }
        let from = normalise(&email.from);
        let mut state = self.lock();
        let verified = |key: &str| {
            state.identities.get(key).is_some_and(|entry| state_of(key, entry).verified_for_sending)
        };
        if !from.contains('@') || !(verified(&from) || verified(domain_of(&from))) {
            return Err(ProviderError::Rejected {
                provider: PROVIDER,
                code: "MessageRejected".into(),
                message: format!(
                    "Email address is not verified. The following identities failed the check in region SANDBOX: {}",
                    email.from
                ),
            });
        }
        let message_id = format!("sandbox-ses-{:06}", state.sent.len() + 1);
        state.sent.push(SentEmail { message_id: message_id.clone(), email: email.clone() });
        Ok(message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dkim_tokens_are_three_deterministic_lowercase_alphanumerics_of_32() {
        let tokens = dkim_tokens("acme.example");
        assert_eq!(tokens.len(), 3);
        for token in &tokens {
            assert_eq!(token.len(), 32);
            assert!(token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{token}");
        }
        assert_eq!(tokens, dkim_tokens("acme.example"));
        assert_ne!(tokens, dkim_tokens("other.example"));
        assert_ne!(tokens[0], tokens[1]);
    }

    #[test]
    fn failure_domains_match_subdomains_but_not_lookalikes() {
        assert!(in_domain("fail.example", FAIL_DOMAIN));
        assert!(in_domain("mail.fail.example", FAIL_DOMAIN));
        assert!(!in_domain("tempfail.example", FAIL_DOMAIN));
        assert!(in_domain("tempfail.example", TEMPFAIL_DOMAIN));
    }
}
