//! Typed, prefixed ids: `ws_01jd3k…`. The body is a ULID in lowercase Crockford base32, so ids sort
//! by creation time — cursor pagination orders by id and needs no second column.
//!
//! A foreign or malformed id must be indistinguishable from a missing one (SPEC §2), so callers map
//! [`IdParseError`] to `not_found` for path parameters.

use std::fmt;
use std::str::FromStr;

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind} id (expected `{prefix}_` followed by 26 base32 characters)")]
pub struct IdParseError {
    pub kind: &'static str,
    pub prefix: &'static str,
}

fn parse_prefixed(s: &str, prefix: &'static str, kind: &'static str) -> Result<String, IdParseError> {
    let err = || IdParseError { kind, prefix };
    let body = s.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('_')).ok_or_else(err)?;
    let ulid = ulid::Ulid::from_string(body).map_err(|_| err())?;
    Ok(format!("{prefix}_{}", ulid.to_string().to_ascii_lowercase()))
}

/// Ids made in one process are strictly increasing, even within one millisecond (the ULID
/// generator increments the random part), so "oldest first" holds for rows made in a burst.
fn new_body() -> String {
    static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());
    let next = GENERATOR.lock().ok().and_then(|mut g| g.generate().ok());
    // `Ulid::default()` is the nil id; a fresh random one is the right fallback.
    let ulid = match next {
        Some(u) => u,
        None => ulid::Ulid::new(),
    };
    ulid.to_string().to_ascii_lowercase()
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id, later-sorting than every id made before it in this millisecond's past.
            pub fn new() -> Self {
                Self(format!("{}_{}", $prefix, new_body()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_prefixed(s, $prefix, $kind).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        $crate::string_form::string_form!(
            $name,
            example = concat!($prefix, "_01jd3kq7z8m2v5x9c4b6n0p1r8"),
            description = concat!($kind, " id"),
            pattern = concat!("^", $prefix, "_[0-9a-hjkmnp-tv-z]{26}$"),
        );
    };
}

define_id!(
    /// A workspace: the tenant that owns everything.
    WorkspaceId, "ws", "workspace"
);
define_id!(
    /// An API key (the id, never the secret).
    ApiKeyId, "key", "API key"
);
define_id!(
    /// An AI agent of a workspace.
    AgentId, "agt", "agent"
);
define_id!(
    /// A provisioned phone number.
    NumberId, "num", "number"
);
define_id!(
    /// An entry of a workspace's ledger.
    LedgerEntryId, "led", "ledger entry"
);
define_id!(
    /// A phone line: a Vapi number linked to an agent with one language.
    PhoneLineId, "lin", "phone line"
);
define_id!(
    /// A call-forwarding target of an agent.
    ForwardingTargetId, "fwd", "forwarding target"
);
define_id!(
    /// A notification in a workspace's inbox.
    NotificationId, "ntf", "notification"
);
define_id!(
    /// One notification's delivery to an agent's notification webhook (all its attempts).
    WebhookDeliveryId, "whd", "webhook delivery"
);
define_id!(
    /// A provider webhook event as webhook-ingest stored it.
    InboundEventId, "evt", "inbound event"
);
define_id!(
    /// A conversation: one business address and one contact on one channel.
    ConversationId, "cnv", "conversation"
);
define_id!(
    /// A message of a conversation.
    MessageId, "msg", "message"
);
define_id!(
    /// A contact's opt-out of a channel.
    OptOutId, "opt", "opt-out"
);
define_id!(
    /// A WhatsApp connection: a Twilio sender or a Meta phone number id, and its agent.
    WhatsappConnectionId, "wac", "WhatsApp connection"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_carry_their_prefix_and_round_trip() {
        let id = AgentId::new();
        assert!(id.as_str().starts_with("agt_"));
        assert_eq!(id.as_str().len(), 4 + 26);
        assert_eq!(id.as_str().parse::<AgentId>().unwrap(), id);
    }

    #[test]
    fn parsing_canonicalises_case() {
        let id = AgentId::new();
        let upper = format!("agt_{}", id.as_str()[4..].to_ascii_uppercase());
        assert_eq!(upper.parse::<AgentId>().unwrap(), id);
    }

    #[test]
    fn wrong_prefix_or_body_is_refused() {
        let ws = WorkspaceId::new();
        assert!(ws.as_str().parse::<AgentId>().is_err());
        assert!("agt_".parse::<AgentId>().is_err());
        assert!("agt_not-a-ulid-at-all-really-no".parse::<AgentId>().is_err());
        assert!("agt01jd3kq7z8m2v5x9c4b6n0p1r8".parse::<AgentId>().is_err());
    }

    #[test]
    fn ids_made_in_a_burst_are_strictly_increasing() {
        let ids: Vec<AgentId> = (0..1000).map(|_| AgentId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let a = AgentId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = AgentId::new();
        assert!(a < b);
    }
}
