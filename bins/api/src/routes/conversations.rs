//! `/v1/conversations`: threads with contacts, their status, and replies through the provider.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use switchboard_channels::conversations::service::{
    ConversationDetail, ConversationPatch, ConversationView, NewConversation, NewReply,
};
use switchboard_channels::conversations::{ConversationFilter, ConversationStatus, Message};
use switchboard_channels::{Channel, Transition};
use switchboard_core::{AgentId, ConversationId, PageRequest};
use switchboard_web::extract::{Json, Query, path_id};
use switchboard_web::{ApiResult, Problem};
use utoipa::IntoParams;

use super::List;
use crate::AppState;
use crate::auth::Auth;

/// `?channel=&status=&agent_id=&limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationListParams {
    pub channel: Option<Channel>,
    pub status: Option<ConversationStatus>,
    pub agent_id: Option<AgentId>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn id(raw: &str) -> Result<ConversationId, switchboard_web::ApiError> {
    path_id(raw, "conversation")
}

/// The workspace's conversations, oldest first, each with its last message.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    params(ConversationListParams),
    security(("api_key" = [])),
    responses((status = 200, body = List<ConversationView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Query(params): Query<ConversationListParams>,
) -> ApiResult<axum::Json<List<ConversationView>>> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let filter =
        ConversationFilter { channel: params.channel, status: params.status, agent_id: params.agent_id };
    Ok(axum::Json(state.conversations.list(&ctx, &filter, &page).await?.into()))
}

/// Start a conversation the business opens (SMS from a number, WhatsApp through a connection);
/// sends nothing. 201, or 200 with the existing conversation of that contact and address.
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations", request_body = NewConversation,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ConversationDetail),
        (status = 200, description = "the existing conversation", body = ConversationDetail),
        (status = 409, description = "connection_inactive, channel_not_supported", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Json(input): Json<NewConversation>,
) -> ApiResult<(StatusCode, axum::Json<ConversationDetail>)> {
    let (c, created) = state.conversations.start(&ctx, input).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, axum::Json(c)))
}

/// One conversation with its messages, oldest first.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    Ok(axum::Json(state.conversations.get(&ctx, &id(&raw)?).await?))
}

/// Switch the AI on or off for this conversation (off: only humans answer).
#[utoipa::path(patch, path = "/v1/conversations/{id}", tag = "conversations", request_body = ConversationPatch,
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(patch): Json<ConversationPatch>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    Ok(axum::Json(state.conversations.update(&ctx, &id(&raw)?, patch).await?))
}

/// Delete the conversation and its messages (owner, admin).
#[utoipa::path(delete, path = "/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 204, description = "deleted"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    state.conversations.delete(&ctx, &id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn transition(
    ctx: &switchboard_core::Ctx,
    state: &AppState,
    raw: &str,
    t: Transition,
) -> ApiResult<axum::Json<ConversationDetail>> {
    Ok(axum::Json(state.conversations.transition(ctx, &id(raw)?, t).await?))
}

/// Close an open conversation (notifies).
#[utoipa::path(post, path = "/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json")))]
pub async fn close(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    transition(&ctx, &state, &raw, Transition::Close).await
}

/// Archive a closed conversation.
#[utoipa::path(post, path = "/v1/conversations/{id}/archive", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json")))]
pub async fn archive(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    transition(&ctx, &state, &raw, Transition::Archive).await
}

/// Reopen a closed or archived conversation.
#[utoipa::path(post, path = "/v1/conversations/{id}/reopen", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json")))]
pub async fn reopen(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    transition(&ctx, &state, &raw, Transition::Reopen).await
}

/// Mark the conversation escalated to a human and notify (once).
#[utoipa::path(post, path = "/v1/conversations/{id}/escalate", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…")),
    security(("api_key" = [])),
    responses((status = 200, body = ConversationDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn escalate(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ConversationDetail>> {
    Ok(axum::Json(state.conversations.escalate(&ctx, &id(&raw)?).await?))
}

/// Send a reply through the provider (SMS: Twilio, counted by billing; WhatsApp: Twilio or Meta).
/// Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations", request_body = NewReply,
    params(("id" = String, Path, description = "cnv_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters")),
    security(("api_key" = [])),
    responses(
        (status = 201, body = Message),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "recipient_opted_out, number_disabled, sms_disabled, limit_reached, whatsapp_window_closed, cannot_initiate, invalid_recipient, connection_inactive, idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn send(
    Auth(ctx): Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(reply): Json<NewReply>,
) -> ApiResult<(StatusCode, axum::Json<Message>)> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            switchboard_web::ApiError::invalid(vec![switchboard_core::FieldError::new(
                "Idempotency-Key",
                "must be 1–255 visible ASCII characters",
            )])
        })?),
        None => None,
    };
    let sent = state.conversations.send(&ctx, &id(&raw)?, reply, key).await?;
    Ok((StatusCode::CREATED, axum::Json(sent)))
}
