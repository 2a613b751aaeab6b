//! `/v1/numbers`: search, provision, list, read, change, reconfigure, release.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use switchboard_core::{AgentId, NumberId};
use switchboard_numbers::{
    Number, NumberFilter, NumberPatch, NumberStatus, Offer, ProvisionRequest, Provisioned, SearchParams,
};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};
use utoipa::IntoParams;

use super::{List, ListParams};
use crate::AppState;
use crate::auth::Auth;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OfferList {
    pub data: Vec<Offer>,
}

/// Numbers for sale, with their monthly price from the price list.
#[utoipa::path(get, path = "/v1/numbers/available", tag = "numbers", params(SearchParams),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OfferList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the provider is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn available(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<OfferList>> {
    Ok(axum::Json(OfferList { data: state.numbers.search(&ctx, &params).await? }))
}

/// Provision a number for an agent. Send an `Idempotency-Key` header to make retries safe: the
/// same key answers the first result and buys nothing twice.
#[utoipa::path(post, path = "/v1/numbers", tag = "numbers", request_body = ProvisionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters")),
    security(("api_key" = [])),
    responses(
        (status = 201, body = Provisioned),
        (status = 402, description = "insufficient_funds", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no_numbers_available, idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn provision(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ProvisionRequest>,
) -> ApiResult<(StatusCode, axum::Json<Provisioned>)> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            switchboard_web::ApiError::invalid(vec![switchboard_core::FieldError::new(
                "Idempotency-Key",
                "must be 1–255 visible ASCII characters",
            )])
        })?),
        None => None,
    };
    let done = state.numbers.provision(&ctx, req, key).await?;
    Ok((StatusCode::CREATED, axum::Json(done)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NumberListParams {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Only numbers of this agent.
    #[param(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// `disabled`, `enabled` or `released`.
    #[param(value_type = Option<String>)]
    pub status: Option<NumberStatus>,
    /// Digits the number contains.
    pub q: Option<String>,
}

/// List numbers, oldest first.
#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", params(NumberListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<Number>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<NumberListParams>,
) -> ApiResult<axum::Json<List<Number>>> {
    let page = ListParams { limit: params.limit, cursor: params.cursor }.page()?;
    let digits =
        params.q.map(|q| q.chars().filter(|c| !matches!(c, ' ' | '+' | '-' | '(' | ')' | '.')).collect());
    let filter = NumberFilter { agent_id: params.agent_id, status: params.status, digits };
    Ok(axum::Json(state.numbers.list(&ctx, &filter, &page).await?.into()))
}

/// One number.
#[utoipa::path(get, path = "/v1/numbers/{id}", tag = "numbers",
    params(("id" = String, Path, description = "num_…")),
    security(("api_key" = [])),
    responses((status = 200, body = Number), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Number>> {
    let id: NumberId = path_id(&id, "number")?;
    Ok(axum::Json(state.numbers.get(&ctx, &id).await?))
}

/// Change name, agent, services, limits or status (the lifecycle rules of SPEC §4 apply).
#[utoipa::path(patch, path = "/v1/numbers/{id}", tag = "numbers", request_body = NumberPatch,
    params(("id" = String, Path, description = "num_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Number),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "enable_prerequisites_unmet (errors list what is missing), last_service_enabled, agent_required, number_released", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<NumberPatch>,
) -> ApiResult<axum::Json<Number>> {
    let id: NumberId = path_id(&id, "number")?;
    Ok(axum::Json(state.numbers.update(&ctx, &id, patch).await?))
}

/// Point the provider-side webhooks at the current public base URL again; changes nothing else.
#[utoipa::path(post, path = "/v1/numbers/{id}/reconfigure-webhooks", tag = "numbers",
    params(("id" = String, Path, description = "num_…")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Number),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reconfigure_webhooks(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Number>> {
    let id: NumberId = path_id(&id, "number")?;
    Ok(axum::Json(state.numbers.reconfigure_webhooks(&ctx, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseParams {
    /// The number itself (E.164), to confirm an irreversible release.
    pub confirm: Option<String>,
}

/// Release a disabled number: it goes back to Twilio and leaves Vapi; no further rental. The
/// record, its conversations and its ledger stay.
#[utoipa::path(delete, path = "/v1/numbers/{id}", tag = "numbers",
    params(("id" = String, Path, description = "num_…"), ReleaseParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "the released number", body = Number),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "number_enabled, number_released", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "confirmation missing or wrong", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn release(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ReleaseParams>,
) -> ApiResult<axum::Json<Number>> {
    let id: NumberId = path_id(&id, "number")?;
    Ok(axum::Json(state.numbers.release(&ctx, &id, params.confirm.as_deref()).await?))
}
