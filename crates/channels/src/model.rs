//! The channel settings as the API shows them, and the change a PATCH asks for.

use serde::{Deserialize, Serialize};
use switchboard_core::email::EmailAddress;
use switchboard_core::net::PublicUrl;
use switchboard_core::{AgentId, E164};
use utoipa::ToSchema;

/// `GET /v1/agents/{id}/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelSettings {
    pub agent_id: AgentId,
    /// The number customers write to on WhatsApp; filled in by provisioning.
    pub whatsapp_number: Option<E164>,
    pub whatsapp_enabled: bool,
    /// Vapi assistant id (UUID form).
    pub vapi_assistant_id: Option<String>,
    /// Receives calls of the agent's custom tools.
    pub tool_webhook_url: Option<PublicUrl>,
    /// Receives notifications (escalated, closed, …).
    pub notification_webhook_url: Option<PublicUrl>,
    pub notification_email: Option<EmailAddress>,
    /// The inbound alias on the system domain (see `GET /v1/agents/{id}/email` for verification).
    pub email_alias: Option<String>,
    /// The full inbound address.
    pub inbound_address: Option<String>,
    pub reply_from: Option<String>,
    pub reply_display_name: Option<String>,
}

/// `PATCH /v1/agents/{id}/channels`: only the fields sent change; `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelsPatch {
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub whatsapp_number: Option<Option<E164>>,
    pub whatsapp_enabled: Option<bool>,
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub vapi_assistant_id: Option<Option<String>>,
    /// Absolute https URL of a public host, at most 2048 characters, no credentials.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub tool_webhook_url: Option<Option<PublicUrl>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub notification_webhook_url: Option<Option<PublicUrl>>,
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub notification_email: Option<Option<EmailAddress>>,
    // The email fields repeat `EmailPatch`'s: serde cannot `flatten` under `deny_unknown_fields`,
    // and refusing unknown fields matters more here. `email()` hands them over.
    /// Local part on the system domain: 1–64 of a–z 0–9 `.` `-` `_`; unique on the domain.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub email_alias: Option<Option<String>>,
    /// A full inbound address, when no system domain is configured.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub inbound_address: Option<Option<String>>,
    /// Sender address for outbound mail; empty: the inbound address.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub reply_from: Option<Option<String>>,
    /// Up to 100 characters, no control characters.
    #[serde(default, deserialize_with = "switchboard_core::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub reply_display_name: Option<Option<String>>,
}

impl ChannelsPatch {
    /// The email part, for the email service.
    pub(crate) fn email(&self) -> switchboard_email_identities::EmailPatch {
        switchboard_email_identities::EmailPatch {
            email_alias: self.email_alias.clone(),
            inbound_address: self.inbound_address.clone(),
            reply_from: self.reply_from.clone(),
            reply_display_name: self.reply_display_name.clone(),
        }
    }
}

/// A Vapi id in UUID form, lowercased.
pub(crate) fn parse_uuid(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (groups.len() == 5
        && groups.iter().zip(lens).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit())))
    .then_some(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_form() {
        assert_eq!(
            super::parse_uuid(" 550E8400-e29b-41d4-a716-446655440000 ").as_deref(),
            Some("550e8400-e29b-41d4-a716-446655440000")
        );
        for bad in [
            "550e8400e29b41d4a716446655440000",
            "550e8400-e29b-41d4-a716-44665544000",
            "zzzzzzzz-e29b-41d4-a716-446655440000",
            "",
        ] {
            assert!(super::parse_uuid(bad).is_none(), "{bad}");
        }
    }
}
