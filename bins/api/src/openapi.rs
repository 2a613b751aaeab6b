//! The document's frame: title, security schemes, tags. Paths and schemas come from the routes.

use utoipa::openapi::Ref;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
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

/// The answers the shared plumbing gives on any operation, added where a route does not name
/// them itself, so the document lists every status a client can get: 401 without a valid
/// credential (403 when the admin API is off), 404 for an id that is not one, 422 for bad query
/// parameters, and for a JSON body 400 (malformed), 413 (too large), 415 (not JSON) and 422.
pub fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;

    let components = api.components.get_or_insert_with(Default::default);
    for (name, description) in COMMON {
        components.responses.insert((*name).to_owned(), problem(description).into());
    }
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            let schemes: Vec<String> = op
                .security
                .iter()
                .flatten()
                .filter_map(|req| serde_json::to_value(req).ok())
                .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                .flatten()
                .collect();
            let params = op.parameters.as_deref().unwrap_or_default();
            let has = |at: ParameterIn| params.iter().any(|p| p.parameter_in == at);
            let mut wanted = Vec::new();
            if !schemes.is_empty() {
                wanted.push(("401", "Unauthenticated"));
            }
            if schemes.iter().any(|s| s == "admin_token") {
                wanted.push(("403", "AdminApiDisabled"));
            }
            if has(ParameterIn::Path) {
                wanted.push(("404", "NotFound"));
            }
            if has(ParameterIn::Query) {
                wanted.push(("422", "InvalidInput"));
            }
            if op.request_body.is_some() {
                wanted.extend([
                    ("400", "MalformedJson"),
                    ("413", "BodyTooLarge"),
                    ("415", "UnsupportedMediaType"),
                    ("422", "InvalidInput"),
                ]);
            }
            for (status, name) in wanted {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| Ref::from_response_name(name).into());
            }
        }
    }
}

const COMMON: &[(&str, &str)] = &[
    ("Unauthenticated", "`unauthenticated`, `invalid_api_key` or `invalid_admin_token`"),
    ("AdminApiDisabled", "`admin_api_disabled`: APP__AUTH__ADMIN_TOKEN is unset"),
    ("NotFound", "`not_found`: no such resource in the workspace (or not an id of its kind)"),
    ("InvalidInput", "`validation_failed`, with the fields at fault in `errors`"),
    ("MalformedJson", "`malformed_json`: the body is not valid JSON"),
    ("BodyTooLarge", "`body_too_large`: the body is over APP__HTTP__BODY_LIMIT_BYTES"),
    ("UnsupportedMediaType", "`unsupported_media_type`: the body is not `application/json`"),
];

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
}
