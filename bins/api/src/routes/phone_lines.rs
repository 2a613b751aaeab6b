//! `/v1/agents/{id}/phone-lines`: multilingual hotlines.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use switchboard_core::{AgentId, PhoneLineId};
use switchboard_phone_lines::{LinePatch, NewLine, PhoneLine};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;

fn ids(agent: &str, line: Option<&str>) -> Result<(AgentId, Option<PhoneLineId>), switchboard_web::ApiError> {
    let agent = path_id(agent, "agent")?;
    let line = line.map(|l| path_id(l, "phone line")).transpose()?;
    Ok((agent, line))
}

/// The agent's phone lines.
#[utoipa::path(get, path = "/v1/agents/{id}/phone-lines", tag = "phone-lines",
    params(("id" = String, Path, description = "agt_…"), ListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<PhoneLine>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<List<PhoneLine>>> {
    let (agent, _) = ids(&agent, None)?;
    Ok(axum::Json(state.phone_lines.list(&ctx, &agent, &params.page()?).await?.into()))
}

/// Link an existing Vapi number to the agent with one language. Creates nothing at a provider.
#[utoipa::path(post, path = "/v1/agents/{id}/phone-lines", tag = "phone-lines", request_body = NewLine,
    params(("id" = String, Path, description = "agt_…")),
    security(("api_key" = [])),
    responses(
        (status = 201, body = PhoneLine),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "vapi_id_taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(agent): Path<String>,
    Json(input): Json<NewLine>,
) -> ApiResult<(StatusCode, axum::Json<PhoneLine>)> {
    let (agent, _) = ids(&agent, None)?;
    Ok((StatusCode::CREATED, axum::Json(state.phone_lines.create(&ctx, &agent, input).await?)))
}

/// One phone line.
#[utoipa::path(get, path = "/v1/agents/{id}/phone-lines/{line_id}", tag = "phone-lines",
    params(("id" = String, Path, description = "agt_…"), ("line_id" = String, Path, description = "lin_…")),
    security(("api_key" = [])),
    responses((status = 200, body = PhoneLine), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, line)): Path<(String, String)>,
) -> ApiResult<axum::Json<PhoneLine>> {
    let (agent, line) = ids(&agent, Some(&line))?;
    let line = line.ok_or_else(|| switchboard_web::ApiError::not_found("phone line"))?;
    Ok(axum::Json(state.phone_lines.get(&ctx, &agent, &line).await?))
}

/// Change a phone line (language, label, number, Vapi id, active).
#[utoipa::path(patch, path = "/v1/agents/{id}/phone-lines/{line_id}", tag = "phone-lines", request_body = LinePatch,
    params(("id" = String, Path, description = "agt_…"), ("line_id" = String, Path, description = "lin_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = PhoneLine),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, line)): Path<(String, String)>,
    Json(patch): Json<LinePatch>,
) -> ApiResult<axum::Json<PhoneLine>> {
    let (agent, line) = ids(&agent, Some(&line))?;
    let line = line.ok_or_else(|| switchboard_web::ApiError::not_found("phone line"))?;
    Ok(axum::Json(state.phone_lines.update(&ctx, &agent, &line, patch).await?))
}

/// Unlink a phone line.
#[utoipa::path(delete, path = "/v1/agents/{id}/phone-lines/{line_id}", tag = "phone-lines",
    params(("id" = String, Path, description = "agt_…"), ("line_id" = String, Path, description = "lin_…")),
    security(("api_key" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path((agent, line)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (agent, line) = ids(&agent, Some(&line))?;
    let line = line.ok_or_else(|| switchboard_web::ApiError::not_found("phone line"))?;
    state.phone_lines.delete(&ctx, &agent, &line).await?;
    Ok(StatusCode::NO_CONTENT)
}
