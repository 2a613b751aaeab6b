//! `/v1/whatsapp/connections`: Twilio senders and Meta phone numbers, with Verify.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_channels::whatsapp::{ConnectionFilter, ConnectionPatch, NewConnection, WhatsappConnection};
use switchboard_core::{PageRequest, WhatsappConnectionId};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};
use utoipa::IntoParams;

use super::List;
use crate::AppState;
use crate::auth::Auth;

/// `?deleted=&limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConnectionListParams {
    /// `true`: the deleted connections (restorable) instead of the others.
    pub deleted: Option<bool>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn id(raw: &str) -> Result<WhatsappConnectionId, switchboard_web::ApiError> {
    path_id(raw, "WhatsApp connection")
}

/// The workspace's WhatsApp connections, oldest first.
#[utoipa::path(get, path = "/v1/whatsapp/connections", tag = "whatsapp",
    params(ConnectionListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<WhatsappConnection>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<ConnectionListParams>,
) -> ApiResult<axum::Json<List<WhatsappConnection>>> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let filter = ConnectionFilter { deleted: params.deleted.unwrap_or(false) };
    Ok(axum::Json(state.whatsapp.list(&ctx, filter, &page).await?.into()))
}

/// Create a connection. The Meta `access_token` is stored encrypted and never returned (only
/// `access_token_last4`).
#[utoipa::path(post, path = "/v1/whatsapp/connections", tag = "whatsapp", request_body = NewConnection,
    security(("api_key" = [])),
    responses(
        (status = 201, body = WhatsappConnection),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "agent_not_live, whatsapp_not_enabled", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Json(input): Json<NewConnection>,
) -> ApiResult<(StatusCode, axum::Json<WhatsappConnection>)> {
    Ok((StatusCode::CREATED, axum::Json(state.whatsapp.create(&ctx, input).await?)))
}

/// One connection (also a deleted one).
#[utoipa::path(get, path = "/v1/whatsapp/connections/{id}", tag = "whatsapp",
    params(("id" = String, Path, description = "wac_…")),
    security(("api_key" = [])),
    responses((status = 200, body = WhatsappConnection), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<WhatsappConnection>> {
    Ok(axum::Json(state.whatsapp.get(&ctx, &id(&raw)?).await?))
}

/// Change a connection (name, agent, active, credentials, `can_initiate`). New credentials clear
/// the last verification.
#[utoipa::path(patch, path = "/v1/whatsapp/connections/{id}", tag = "whatsapp", request_body = ConnectionPatch,
    params(("id" = String, Path, description = "wac_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = WhatsappConnection),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "agent_not_live, whatsapp_not_enabled, connection_deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(patch): Json<ConnectionPatch>,
) -> ApiResult<axum::Json<WhatsappConnection>> {
    Ok(axum::Json(state.whatsapp.update(&ctx, &id(&raw)?, patch).await?))
}

/// Soft delete: the connection stops serving and is listed under `?deleted=true`.
#[utoipa::path(delete, path = "/v1/whatsapp/connections/{id}", tag = "whatsapp",
    params(("id" = String, Path, description = "wac_…")),
    security(("api_key" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    state.whatsapp.delete(&ctx, &id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a deleted connection back (inactive: switch it on again with PATCH).
#[utoipa::path(post, path = "/v1/whatsapp/connections/{id}/restore", tag = "whatsapp",
    params(("id" = String, Path, description = "wac_…")),
    security(("api_key" = [])),
    responses((status = 200, body = WhatsappConnection), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn restore(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<WhatsappConnection>> {
    Ok(axum::Json(state.whatsapp.restore(&ctx, &id(&raw)?).await?))
}

/// Check the connection at its provider (Twilio: the sender exists and is online; Meta: the
/// phone number id answers with this token) and store the verdict in `verification`.
#[utoipa::path(post, path = "/v1/whatsapp/connections/{id}/verify", tag = "whatsapp",
    params(("id" = String, Path, description = "wac_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = WhatsappConnection),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "connection_deleted", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the provider gave no verdict; try again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<WhatsappConnection>> {
    Ok(axum::Json(state.whatsapp.verify(&ctx, &id(&raw)?).await?))
}
