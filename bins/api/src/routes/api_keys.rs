//! `/v1/api-keys` (owner only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use switchboard_core::ApiKeyId;
use switchboard_tenancy::{ApiKey, IssuedApiKey, NewApiKey};

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};

/// List the workspace's API keys (never their secrets).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(ListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = List<ApiKey>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<List<ApiKey>>> {
    let page = state.tenancy.list_api_keys(&ctx, &params.page()?).await?;
    Ok(axum::Json(page.into()))
}

/// Issue an API key; its secret is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = NewApiKey,
    security(("api_key" = [])),
    responses(
        (status = 201, body = IssuedApiKey),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Json(input): Json<NewApiKey>,
) -> ApiResult<(StatusCode, axum::Json<IssuedApiKey>)> {
    let key = state.tenancy.create_api_key(&ctx, input).await?;
    Ok((StatusCode::CREATED, axum::Json(key)))
}

/// One API key.
#[utoipa::path(get, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "key_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ApiKey),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    let id: ApiKeyId = path_id(&id, "API key")?;
    Ok(axum::Json(state.tenancy.get_api_key(&ctx, &id).await?))
}

/// Revoke an API key at once. The last active owner key cannot be revoked (409 `last_owner_key`).
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "key_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "the revoked key", body = ApiKey),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiKey>> {
    let id: ApiKeyId = path_id(&id, "API key")?;
    Ok(axum::Json(state.tenancy.revoke_api_key(&ctx, &id).await?))
}
