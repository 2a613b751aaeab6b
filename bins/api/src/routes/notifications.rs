//! `/v1/notifications`: the workspace's inbox. Any role reads and marks read.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use switchboard_channels::notifications::Notification;
use switchboard_core::NotificationId;
use utoipa::{IntoParams, ToSchema};

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;
use switchboard_web::extract::{Query, path_id};
use switchboard_web::{ApiResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: only those not read yet.
    pub unread: Option<bool>,
}

/// List notifications, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(NotificationListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = List<Notification>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<NotificationListParams>,
) -> ApiResult<axum::Json<List<Notification>>> {
    let page = ListParams { limit: params.limit, cursor: params.cursor }.page()?;
    Ok(axum::Json(state.notifications.list(&ctx, params.unread.unwrap_or(false), &page).await?.into()))
}

/// One notification.
#[utoipa::path(get, path = "/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "ntf_…")),
    security(("api_key" = [])),
    responses((status = 200, body = Notification), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Notification>> {
    let id: NotificationId = path_id(&id, "notification")?;
    Ok(axum::Json(state.notifications.get(&ctx, &id).await?))
}

/// Mark one notification read (again is harmless: the first read time stays).
#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path, description = "ntf_…")),
    security(("api_key" = [])),
    responses((status = 200, body = Notification), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn read(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Notification>> {
    let id: NotificationId = path_id(&id, "notification")?;
    Ok(axum::Json(state.notifications.mark_read(&ctx, &id).await?))
}

/// How many notifications were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAll {
    pub updated: u64,
}

/// Mark every unread notification of the workspace read.
#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications",
    security(("api_key" = [])),
    responses((status = 200, body = ReadAll)))]
pub async fn read_all(Auth(ctx): Auth, State(state): State<AppState>) -> ApiResult<axum::Json<ReadAll>> {
    Ok(axum::Json(ReadAll { updated: state.notifications.mark_all_read(&ctx).await? }))
}
