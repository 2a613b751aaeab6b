//! `/v1/opt-outs`: contacts who must not be messaged on a channel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_channels::Channel;
use switchboard_channels::opt_outs::{NewOptOut, OptOut, OptOutFilter};
use switchboard_core::{OptOutId, PageRequest};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};
use utoipa::IntoParams;

use super::List;
use crate::AppState;
use crate::auth::Auth;

/// `?channel=&contact=&limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OptOutListParams {
    pub channel: Option<Channel>,
    /// E.164 or an email address.
    pub contact: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The workspace's opt-outs, oldest first.
#[utoipa::path(get, path = "/v1/opt-outs", tag = "conversations",
    params(OptOutListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<OptOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<OptOutListParams>,
) -> ApiResult<axum::Json<List<OptOut>>> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let filter = OptOutFilter { channel: params.channel, contact: params.contact };
    Ok(axum::Json(state.opt_outs.list(&ctx, &filter, &page).await?.into()))
}

/// Opt a contact out of a channel (201; an existing opt-out answers 200 as it is).
#[utoipa::path(post, path = "/v1/opt-outs", tag = "conversations", request_body = NewOptOut,
    security(("api_key" = [])),
    responses(
        (status = 201, body = OptOut),
        (status = 200, description = "already opted out", body = OptOut),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Json(input): Json<NewOptOut>,
) -> ApiResult<(StatusCode, axum::Json<OptOut>)> {
    let (opt_out, new) = state.opt_outs.add(&ctx, input).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, axum::Json(opt_out)))
}

/// Remove an opt-out: the contact may be messaged again (owner, admin).
#[utoipa::path(delete, path = "/v1/opt-outs/{id}", tag = "conversations",
    params(("id" = String, Path, description = "opt_…")),
    security(("api_key" = [])),
    responses((status = 204, description = "removed"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let id: OptOutId = path_id(&raw, "opt-out")?;
    state.opt_outs.remove(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
