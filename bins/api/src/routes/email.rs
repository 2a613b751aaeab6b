//! `/v1/agents/{id}/email`: the agent's addresses, sender verification and whether it can send.

use axum::extract::{Path, State};
use switchboard_core::AgentId;
use switchboard_email_identities::{EmailView, VerifyRequest};
use switchboard_web::extract::{Json, path_id};
use switchboard_web::{ApiResult, Problem};

use crate::AppState;
use crate::auth::Auth;

/// The addresses, the effective sender, the SES identity and its DNS records, and `can_send`.
#[utoipa::path(get, path = "/v1/agents/{id}/email", tag = "email",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses((status = 200, body = EmailView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
) -> ApiResult<axum::Json<EmailView>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.email.get(&ctx, &agent).await?))
}

/// Create the SES identity of the sender address (SES mails a confirmation link) or of its whole
/// domain (publish the DKIM CNAME records returned), or re-check an existing one.
#[utoipa::path(post, path = "/v1/agents/{id}/email/verify", tag = "email", request_body = VerifyRequest,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = EmailView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no_sender", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "SES is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Json(req): Json<VerifyRequest>,
) -> ApiResult<axum::Json<EmailView>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.email.verify(&ctx, &agent, req.scope).await?))
}
