//! `/v1/agents/{id}/channels`: the agent's "Channels & Integrations" card.

use axum::extract::{Path, State};
use switchboard_channels::{ChannelSettings, ChannelsPatch};
use switchboard_core::AgentId;
use switchboard_web::extract::{Json, path_id};
use switchboard_web::{ApiResult, Problem};

use crate::AppState;
use crate::auth::Auth;

/// The agent's channel settings.
#[utoipa::path(get, path = "/v1/agents/{id}/channels", tag = "channels",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ChannelSettings), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
) -> ApiResult<axum::Json<ChannelSettings>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.channels.get(&ctx, &agent).await?))
}

/// Change channel settings; `null` clears a field. Webhook addresses must be https URLs of public
/// hosts (no localhost, private, link-local, CGNAT or metadata addresses, no credentials).
#[utoipa::path(patch, path = "/v1/agents/{id}/channels", tag = "channels", request_body = ChannelsPatch,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ChannelSettings),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "whatsapp_number_required", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Json(patch): Json<ChannelsPatch>,
) -> ApiResult<axum::Json<ChannelSettings>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.channels.update(&ctx, &agent, patch).await?))
}
