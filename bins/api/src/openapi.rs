//! The document's frame: title, security schemes, tags. Paths and schemas come from the routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        description = "Communication channels of AI agents: numbers, lines, forwarding, email, WhatsApp, usage billing.\n\nAuthenticate with `Authorization: Bearer sk_…` (an API key of your workspace). Errors are `application/problem+json` with a stable `code`.",
    ),
    modifiers(&Security),
    tags(
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "workspaces", description = "Tenants (platform admin) and the caller's workspace"),
        (name = "api-keys", description = "API keys of the workspace (owner only)"),
        (name = "agents", description = "AI agents"),
        (name = "numbers", description = "Phone numbers: search, provision, lifecycle, release"),
        (name = "phone-lines", description = "Multilingual hotlines: Vapi numbers with one language each"),
        (name = "channels", description = "The agent's channel settings: WhatsApp, Vapi assistant, webhooks, notification email"),
        (name = "email", description = "Inbound aliases, reply-from senders and their SES verification"),
        (name = "forwarding", description = "Call-forwarding targets with opening hours"),
        (name = "billing", description = "Wallet and ledger (owner, admin)"),
        (name = "whatsapp", description = "WhatsApp connections: Twilio senders and Meta phone numbers, with Verify"),
        (name = "conversations", description = "Conversations, replies through the provider, and opt-outs"),
        (name = "notifications", description = "The workspace's notification inbox (any role reads and marks read)"),
        (name = "webhooks", description = "Signed notification webhooks: the per-agent secret (owners) and the delivery log with replay"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_…")
                    .description(Some("An API key of the workspace"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The platform admin token (APP__AUTH__ADMIN_TOKEN)"))
                    .build(),
            ),
        );
    }
}
