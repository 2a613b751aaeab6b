//! `POST /v1/workspaces` (platform admin) and `GET /v1/workspace` (the caller's).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use switchboard_billing::{LedgerEntry, NewCredit, Recorded};
use switchboard_core::WorkspaceId;
use switchboard_tenancy::{IssuedApiKey, NewWorkspace, Workspace};
use switchboard_web::extract::path_id;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Admin, Auth};
use switchboard_web::extract::Json;
use switchboard_web::{ApiResult, Problem};

/// A new workspace and its first owner key — the key is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWorkspace {
    pub workspace: Workspace,
    pub api_key: IssuedApiKey,
}

/// Create a workspace (platform admin).
#[utoipa::path(post, path = "/v1/workspaces", tag = "workspaces",
    request_body = NewWorkspace,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = CreatedWorkspace),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "admin API off", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    _: Admin,
    State(state): State<AppState>,
    Json(input): Json<NewWorkspace>,
) -> ApiResult<(StatusCode, axum::Json<CreatedWorkspace>)> {
    let (workspace, api_key) = state.tenancy.create_workspace(input).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedWorkspace { workspace, api_key })))
}

/// The caller's workspace.
#[utoipa::path(get, path = "/v1/workspace", tag = "workspaces",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Workspace),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn current(Auth(ctx): Auth, State(state): State<AppState>) -> ApiResult<axum::Json<Workspace>> {
    Ok(axum::Json(state.tenancy.workspace(&ctx).await?))
}

/// Credit a workspace's wallet (platform admin). Idempotent by `reference`: 201 when recorded,
/// 200 with the same entry when that reference was already credited with the same amount,
/// 409 `reference_reused` when it was credited with another amount.
#[utoipa::path(post, path = "/v1/workspaces/{id}/credits", tag = "workspaces",
    request_body = NewCredit,
    params(("id" = String, Path, description = "ws_…")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "credited", body = LedgerEntry),
        (status = 200, description = "this reference was already credited", body = LedgerEntry),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn credit(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<NewCredit>,
) -> ApiResult<(StatusCode, axum::Json<LedgerEntry>)> {
    let id: WorkspaceId = path_id(&id, "workspace")?;
    let recorded = state.billing.credit(&id, input).await?;
    let status = if recorded.is_new() { StatusCode::CREATED } else { StatusCode::OK };
    let entry = match recorded {
        Recorded::New(e) | Recorded::Existing(e) => e,
    };
    Ok((status, axum::Json(entry)))
}
