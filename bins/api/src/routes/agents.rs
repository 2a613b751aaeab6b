//! `/v1/agents`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_agents::{Agent, AgentFilter, AgentPatch, AgentStatus, NewAgent};
use switchboard_core::AgentId;
use utoipa::IntoParams;

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only agents with this status.
    pub status: Option<AgentStatus>,
}

/// List agents, oldest first.
#[utoipa::path(get, path = "/v1/agents", tag = "agents", params(AgentListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = List<Agent>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<AgentListParams>,
) -> ApiResult<axum::Json<List<Agent>>> {
    let page = ListParams { limit: params.limit, cursor: params.cursor }.page()?;
    let filter = AgentFilter { status: params.status };
    Ok(axum::Json(state.agents.list(&ctx, &filter, &page).await?.into()))
}

/// Create an agent.
#[utoipa::path(post, path = "/v1/agents", tag = "agents", request_body = NewAgent,
    security(("api_key" = [])),
    responses(
        (status = 201, body = Agent),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Json(input): Json<NewAgent>,
) -> ApiResult<(StatusCode, axum::Json<Agent>)> {
    Ok((StatusCode::CREATED, axum::Json(state.agents.create(&ctx, input).await?)))
}

/// One agent.
#[utoipa::path(get, path = "/v1/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Agent),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Agent>> {
    let id: AgentId = path_id(&id, "agent")?;
    Ok(axum::Json(state.agents.get(&ctx, &id).await?))
}

/// Change an agent; only the fields sent change.
#[utoipa::path(patch, path = "/v1/agents/{id}", tag = "agents", request_body = AgentPatch,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Agent),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<AgentPatch>,
) -> ApiResult<axum::Json<Agent>> {
    let id: AgentId = path_id(&id, "agent")?;
    Ok(axum::Json(state.agents.update(&ctx, &id, patch).await?))
}

/// Delete an agent.
#[utoipa::path(delete, path = "/v1/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`agent_in_use`: numbers or channels still point at the agent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: AgentId = path_id(&id, "agent")?;
    state.agents.delete(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
