//! `/v1/agents/{id}/forwarding-targets`: people or departments a call may be forwarded to.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::{AgentId, ForwardingTargetId};
use switchboard_forwarding::{ForwardingTarget, NewTarget, ResolvedTarget, TargetPatch, TargetStatus};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiError, ApiResult, Problem};
use utoipa::{IntoParams, ToSchema};

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;

fn agent_id(raw: &str) -> Result<AgentId, ApiError> {
    path_id(raw, "agent")
}

fn target_id(raw: &str) -> Result<ForwardingTargetId, ApiError> {
    path_id(raw, "forwarding target")
}

/// The agent's forwarding targets.
#[utoipa::path(get, path = "/v1/agents/{id}/forwarding-targets", tag = "forwarding",
    params(("id" = String, Path, description = "agt_…"), ListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<ForwardingTarget>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<List<ForwardingTarget>>> {
    Ok(axum::Json(state.forwarding.list(&ctx, &agent_id(&agent)?, &params.page()?).await?.into()))
}

/// Add a forwarding target.
#[utoipa::path(post, path = "/v1/agents/{id}/forwarding-targets", tag = "forwarding", request_body = NewTarget,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 201, body = ForwardingTarget),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Json(input): Json<NewTarget>,
) -> ApiResult<(StatusCode, axum::Json<ForwardingTarget>)> {
    Ok((StatusCode::CREATED, axum::Json(state.forwarding.create(&ctx, &agent_id(&agent)?, input).await?)))
}

/// One forwarding target.
#[utoipa::path(get, path = "/v1/agents/{id}/forwarding-targets/{target_id}", tag = "forwarding",
    params(("id" = String, Path, description = "agt_…"), ("target_id" = String, Path, description = "fwd_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ForwardingTarget), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, target)): Path<(String, String)>,
) -> ApiResult<axum::Json<ForwardingTarget>> {
    Ok(axum::Json(state.forwarding.get(&ctx, &agent_id(&agent)?, &target_id(&target)?).await?))
}

/// Change a forwarding target; `null` clears a field (`opening_hours: null` = around the clock).
#[utoipa::path(patch, path = "/v1/agents/{id}/forwarding-targets/{target_id}", tag = "forwarding", request_body = TargetPatch,
    params(("id" = String, Path, description = "agt_…"), ("target_id" = String, Path, description = "fwd_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ForwardingTarget),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, target)): Path<(String, String)>,
    Json(patch): Json<TargetPatch>,
) -> ApiResult<axum::Json<ForwardingTarget>> {
    Ok(axum::Json(state.forwarding.update(&ctx, &agent_id(&agent)?, &target_id(&target)?, patch).await?))
}

/// Remove a forwarding target.
#[utoipa::path(delete, path = "/v1/agents/{id}/forwarding-targets/{target_id}", tag = "forwarding",
    params(("id" = String, Path, description = "agt_…"), ("target_id" = String, Path, description = "fwd_…")),
    security(("api_key" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, target)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.forwarding.delete(&ctx, &agent_id(&agent)?, &target_id(&target)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AtParams {
    /// RFC 3339 instant; default now.
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusList {
    pub data: Vec<TargetStatus>,
}

/// The active targets open at an instant (default now), each with when it closes.
#[utoipa::path(get, path = "/v1/agents/{id}/forwarding-targets/available", tag = "forwarding",
    params(("id" = String, Path, description = "agt_…"), AtParams),
    security(("api_key" = [])),
    responses((status = 200, body = StatusList), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn available(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Query(params): Query<AtParams>,
) -> ApiResult<axum::Json<StatusList>> {
    let at = params.at.unwrap_or_else(switchboard_core::time::now);
    Ok(axum::Json(StatusList { data: state.forwarding.available(&ctx, &agent_id(&agent)?, at).await? }))
}

/// `POST …/forwarding-targets/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The name the caller said, e.g. "Herr Müller".
    pub query: String,
    /// RFC 3339 instant; default now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedList {
    pub data: Vec<ResolvedTarget>,
}

/// Ranked matches of a spoken name against names and aliases (case- and accent-insensitive:
/// Müller = Mueller = muller), each saying whether it is open, when it next opens, and its
/// fallback message.
#[utoipa::path(post, path = "/v1/agents/{id}/forwarding-targets/resolve", tag = "forwarding", request_body = ResolveRequest,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ResolvedList), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn resolve(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Json(req): Json<ResolveRequest>,
) -> ApiResult<axum::Json<ResolvedList>> {
    let at = req.at.unwrap_or_else(switchboard_core::time::now);
    Ok(axum::Json(ResolvedList {
        data: state.forwarding.resolve(&ctx, &agent_id(&agent)?, &req.query, at).await?,
    }))
}
