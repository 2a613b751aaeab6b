//! The agent's email card as the API shows it, its change, and the alias rule.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ports::{IdentityKind, VerificationStatus};

/// `GET /v1/agents/{id}/email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailView {
    /// The local part on the system domain, e.g. `support`.
    pub email_alias: Option<String>,
    /// The full inbound address (`alias@system-domain`, or the free-text legacy address).
    pub inbound_address: Option<String>,
    pub reply_from: Option<String>,
    pub reply_display_name: Option<String>,
    /// `reply_from`, or the inbound address when it is empty.
    pub effective_sender: Option<String>,
    /// The SES identity that decides whether the sender may send (its address, else its domain).
    pub identity: Option<IdentityView>,
    /// For a domain identity: the DKIM CNAME records to publish.
    pub dns_records: Vec<DnsRecord>,
    pub can_send: bool,
    /// Why `can_send` is false.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IdentityView {
    pub identity: String,
    pub scope: IdentityKind,
    pub status: VerificationStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DnsRecord {
    #[serde(rename = "type")]
    pub record_type: String,
    pub name: String,
    pub value: String,
}

/// The email fields of `PATCH /v1/agents/{id}/channels`; `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EmailPatch {
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub email_alias: Option<Option<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub inbound_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub reply_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub reply_display_name: Option<Option<String>>,
}

impl EmailPatch {
    pub fn is_empty(&self) -> bool {
        self.email_alias.is_none()
            && self.inbound_address.is_none()
            && self.reply_from.is_none()
            && self.reply_display_name.is_none()
    }
}

/// `POST /v1/agents/{id}/email/verify`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Verify the sender address itself, or its whole domain.
    pub scope: IdentityKind,
}

/// The alias rule of SPEC §7: trimmed and lowercased, then 1–64 of `a–z 0–9 . - _`, no leading,
/// trailing or doubled dot.
pub fn parse_alias(input: &str) -> Result<String, String> {
    let alias = input.trim().to_lowercase();
    let ok = (1..=64).contains(&alias.len())
        && alias.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && !alias.starts_with('.')
        && !alias.ends_with('.')
        && !alias.contains("..");
    if ok {
        Ok(alias)
    } else {
        Err("must be 1–64 of a–z, 0–9, `.`, `-`, `_`, without a leading, trailing or doubled dot".into())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_alias;

    #[test]
    fn alias_rule() {
        assert_eq!(parse_alias("  Support.Team_1-de ").unwrap(), "support.team_1-de");
        for bad in
            ["", " ", ".support", "support.", "sup..port", "sup port", "süpport", "a@b", &"a".repeat(65)]
        {
            assert!(parse_alias(bad).is_err(), "{bad:?}");
        }
        assert!(parse_alias(&"a".repeat(64)).is_ok());
    }
}
