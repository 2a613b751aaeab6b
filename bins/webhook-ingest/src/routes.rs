//! The provider routes: authenticate, read, store, answer (see the crate docs).

use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_inbound::payload::{meta_events, sns_event};
use switchboard_inbound::{Malformed, NewEvent, Persisted, TwilioParams, VapiMessage};
use switchboard_web::ApiError;
use switchboard_webhook_auth::{SignatureError, meta, twilio, vapi};

use crate::IngestState;

/// An empty TwiML document: "no reply".
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// The raw request body, size-limited like every body (413 beyond the limit).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorKind::PayloadTooLarge,
                    "body_too_large",
                    "the request body is larger than this endpoint accepts",
                )
            } else {
                ApiError::new(ErrorKind::BadRequest, "unreadable_body", rejection.body_text())
            }
        })
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A failed authentication: its status, its stable code, nothing stored.
fn refused(provider: &'static str, e: &SignatureError) -> ApiError {
    let kind = match e.status() {
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorKind::Forbidden,
        StatusCode::BAD_REQUEST => ErrorKind::BadRequest,
        _ => ErrorKind::Unavailable,
    };
    tracing::warn!(provider, code = e.code(), reason = %e, "webhook not authenticated");
    metrics::counter!("webhook_refused_total", "provider" => provider, "code" => e.code()).increment(1);
    ApiError::new(kind, e.code(), format!("{provider} webhook not authenticated: {e}"))
}

fn malformed(provider: &'static str, e: &switchboard_inbound::Malformed) -> ApiError {
    tracing::warn!(provider, what = e.0, "malformed webhook payload");
    ApiError::new(ErrorKind::BadRequest, e.code(), format!("{provider}: {e}"))
}

/// Stores `events` (the request waits for the commit) and queues the new ones for processing.
async fn store(state: &IngestState, provider: &'static str, events: Vec<NewEvent>) -> Result<(), ApiError> {
    let stored = state.persister.persist(events).await.map_err(|e| {
        tracing::error!(provider, error = %e, "inbound events not stored");
        ApiError::new(
            ErrorKind::Unavailable,
            "storage_unavailable",
            "the event could not be stored; retry shortly",
        )
    })?;
    for persisted in stored {
        match persisted {
            Persisted::New(event) => {
                metrics::counter!("webhook_events_total", "provider" => provider, "outcome" => "stored")
                    .increment(1);
                if event.kind.is_answered_at_once() {
                    continue;
                }
                state.processor.enqueue(event).await;
            }
            Persisted::Duplicate => {
                metrics::counter!("webhook_events_total", "provider" => provider, "outcome" => "duplicate")
                    .increment(1);
            }
        }
    }
    Ok(())
}

fn twiml() -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], EMPTY_TWIML).into_response()
}

// ------------------------------------------------------------------------------------ Twilio

/// Authenticates a Twilio request and reads its parameters: form-encoded (the signature covers
/// every parameter), or JSON (the signature covers the URL with `bodySHA256`).
fn twilio_params(
    state: &IngestState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TwilioParams, ApiError> {
    let creds = &state.credentials;
    let path_and_query = uri.0.path_and_query().map_or("/", |pq| pq.as_str());
    let url = twilio::request_url(&creds.public_base_url, path_and_query);
    let signature = header(headers, twilio::SIGNATURE_HEADER);
    let is_json = header(headers, "content-type").is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if is_json {
        twilio::verify_json(&creds.twilio_auth_token, &url, body, signature)
            .map_err(|e| refused("twilio", &e))?;
        TwilioParams::from_json(body).map_err(|e| malformed("twilio", &e))
    } else {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        twilio::verify_form(&creds.twilio_auth_token, &url, &pairs, signature)
            .map_err(|e| refused("twilio", &e))?;
        Ok(TwilioParams::from_pairs(&pairs))
    }
}

/// A Twilio callback: authenticate, read one event with `read`, store it, answer empty TwiML.
async fn twilio_callback(
    state: &IngestState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &Bytes,
    read: fn(&TwilioParams, chrono::DateTime<Utc>) -> Result<NewEvent, Malformed>,
) -> Result<Response, ApiError> {
    let params = twilio_params(state, uri, headers, body)?;
    let event = read(&params, Utc::now()).map_err(|e| malformed("twilio", &e))?;
    store(state, "twilio", vec![event]).await?;
    Ok(twiml())
}

/// `POST /twilio/messages`: inbound SMS and WhatsApp.
pub async fn twilio_message(
    State(state): State<IngestState>,
    uri: OriginalUri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    twilio_callback(&state, &uri, &headers, &body, TwilioParams::message_event).await
}

/// `POST /twilio/messages/status`: outbound message status callbacks.
pub async fn twilio_message_status(
    State(state): State<IngestState>,
    uri: OriginalUri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    twilio_callback(&state, &uri, &headers, &body, TwilioParams::message_status_event).await
}

/// `POST /twilio/voice/status`: call status callbacks.
pub async fn twilio_call_status(
    State(state): State<IngestState>,
    uri: OriginalUri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    twilio_callback(&state, &uri, &headers, &body, TwilioParams::call_status_event).await
}

// -------------------------------------------------------------------------------------- Vapi

/// `POST /vapi/events`: Vapi's server messages.
pub async fn vapi_event(
    State(state): State<IngestState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    vapi::verify_server_secret(
        &state.credentials.vapi_server_secret,
        header(&headers, vapi::SECRET_HEADER),
        header(&headers, "authorization"),
    )
    .map_err(|e| refused("vapi", &e))?;
    let message = VapiMessage::parse(&body).map_err(|e| malformed("vapi", &e))?;
    let now = Utc::now();
    let event = message.event(now).map_err(|e| malformed("vapi", &e))?;
    let answer = match message.kind.as_str() {
        "assistant-request" => Some(state.inbound.answer_assistant_request(&message, now).await),
        "transfer-destination-request" => Some(state.inbound.answer_transfer_request(&message, now).await),
        _ => None,
    };
    match (answer, event) {
        (Some(answer), _) => {
            let answer = answer?;
            store(&state, "vapi", vec![answer.event]).await?;
            Ok(axum::Json(answer.body).into_response())
        }
        (None, Some(event)) => {
            store(&state, "vapi", vec![event]).await?;
            Ok(axum::Json(json!({})).into_response())
        }
        // Messages nothing here acts on (status updates, transcripts, …): acknowledged.
        (None, None) => Ok(axum::Json(json!({})).into_response()),
    }
}

// -------------------------------------------------------------------------------------- Meta

/// `GET /meta/whatsapp`: the subscription challenge, echoed as plain text.
pub async fn meta_challenge(
    State(state): State<IngestState>,
    uri: OriginalUri,
) -> Result<Response, ApiError> {
    let query = uri.0.query().unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let challenge = meta::verify_challenge(
        &state.credentials.meta_verify_token,
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
    )
    .map_err(|e| refused("meta", &e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge.to_owned()).into_response())
}

/// `POST /meta/whatsapp`: inbound WhatsApp messages and statuses.
pub async fn meta_event(
    State(state): State<IngestState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    meta::verify_signature(
        &state.credentials.meta_app_secret,
        &body,
        header(&headers, meta::SIGNATURE_HEADER),
    )
    .map_err(|e| refused("meta", &e))?;
    let events = meta_events(&body, Utc::now()).map_err(|e| malformed("meta", &e))?;
    store(&state, "meta", events).await?;
    Ok(StatusCode::OK.into_response())
}

// --------------------------------------------------------------------------------------- SNS

/// `POST /ses/notifications`: SES feedback through SNS (the body is JSON whatever its type).
pub async fn sns_message(
    State(state): State<IngestState>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let message = state.sns.verify(&body).await.map_err(|e| refused("sns", &e))?;
    store(&state, "sns", vec![sns_event(&message, Utc::now())]).await?;
    Ok(StatusCode::OK.into_response())
}
