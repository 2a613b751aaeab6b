//! The agent's notification-webhook signing secret and the delivery log (SPEC §8).

use axum::extract::{Path, State};
use serde::Deserialize;
use switchboard_channels::webhooks::{DeliveryFilter, WebhookDelivery, WebhookSecret};
use switchboard_core::{AgentId, Error, WebhookDeliveryId};
use utoipa::IntoParams;

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;
use switchboard_web::extract::{Query, path_id};
use switchboard_web::{ApiResult, Problem};

/// The agent's Standard Webhooks signing secret (owners only), made on first use.
#[utoipa::path(get, path = "/v1/agents/{id}/webhook-secret", tag = "webhooks",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = WebhookSecret),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn secret(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
) -> ApiResult<axum::Json<WebhookSecret>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.webhooks.secret(&ctx, &agent).await?))
}

/// Replace the signing secret (owners only); later attempts are signed with the new one.
#[utoipa::path(post, path = "/v1/agents/{id}/webhook-secret/rotate", tag = "webhooks",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = WebhookSecret),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
) -> ApiResult<axum::Json<WebhookSecret>> {
    let agent: AgentId = path_id(&agent, "agent")?;
    Ok(axum::Json(state.webhooks.rotate_secret(&ctx, &agent).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only deliveries to this agent's webhook (`agt_…`).
    pub agent_id: Option<String>,
    /// `pending | succeeded | failed`
    pub status: Option<String>,
}

/// The delivery log, newest first, each delivery with its attempts.
#[utoipa::path(get, path = "/v1/webhook-deliveries", tag = "webhooks", params(DeliveryListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = List<WebhookDelivery>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<DeliveryListParams>,
) -> ApiResult<axum::Json<List<WebhookDelivery>>> {
    let page = ListParams { limit: params.limit, cursor: params.cursor }.page()?;
    let agent_id = match params.agent_id {
        Some(a) => Some(
            a.parse::<AgentId>().map_err(|_| Error::invalid("agent_id", "must be an agent id (agt_…)"))?,
        ),
        None => None,
    };
    let filter = DeliveryFilter { agent_id, status: params.status };
    Ok(axum::Json(state.webhooks.list(&ctx, filter, &page).await?.into()))
}

/// One delivery with its attempts.
#[utoipa::path(get, path = "/v1/webhook-deliveries/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "whd_…")),
    security(("api_key" = [])),
    responses((status = 200, body = WebhookDelivery), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookDelivery>> {
    let id: WebhookDeliveryId = path_id(&id, "webhook delivery")?;
    Ok(axum::Json(state.webhooks.get(&ctx, &id).await?))
}

/// Send a delivery again (same `webhook-id`, a fresh round of retries) at the next run of
/// billing-cron's `webhooks` job; enables the endpoint again if it was disabled. Owner, admin.
#[utoipa::path(post, path = "/v1/webhook-deliveries/{id}/replay", tag = "webhooks",
    params(("id" = String, Path, description = "whd_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = WebhookDelivery),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replay(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookDelivery>> {
    let id: WebhookDeliveryId = path_id(&id, "webhook delivery")?;
    Ok(axum::Json(state.webhooks.replay(&ctx, &id).await?))
}
