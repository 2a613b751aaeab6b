//! Every error leaves the API as `application/problem+json` (RFC 9457) with a stable `code`, the
//! request id, and for invalid input the fields at fault. 5xx bodies say nothing internal: the
//! cause chain is logged once, with the request id, where the error is rendered.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_core::{DomainError, ErrorKind, FieldError};
use utoipa::ToSchema;

use crate::middleware::current_request_id;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:switchboard:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    /// Stable snake_case code to match on.
    pub code: &'static str,
    /// What went wrong and, where it helps, what to do.
    pub detail: String,
    pub request_id: Option<String>,
    /// The fields at fault (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorKind,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Self {
        Self { kind, code, detail: detail.into(), errors: Vec::new(), headers: Vec::new(), source: None }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self { errors, ..Self::new(ErrorKind::InvalidInput, "validation_failed", detail) }
    }

    pub fn not_found(resource: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("{resource} not found"))
    }

    pub fn with_header(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.headers.push((name, HeaderValue::from_static(value)));
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl<E: DomainError> From<E> for ApiError {
    fn from(err: E) -> Self {
        let kind = err.kind();
        Self {
            kind,
            code: err.code(),
            detail: err.to_string(),
            errors: err.field_errors().to_vec(),
            headers: Vec::new(),
            source: Some(Box::new(err)),
        }
    }
}

fn title(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadRequest => "Bad request",
        ErrorKind::Unauthenticated => "Unauthenticated",
        ErrorKind::PaymentRequired => "Payment required",
        ErrorKind::Forbidden => "Forbidden",
        ErrorKind::NotFound => "Not found",
        ErrorKind::MethodNotAllowed => "Method not allowed",
        ErrorKind::Conflict => "Conflict",
        ErrorKind::PayloadTooLarge => "Payload too large",
        ErrorKind::UnsupportedMediaType => "Unsupported media type",
        ErrorKind::InvalidInput => "Invalid input",
        ErrorKind::Upstream => "Provider error",
        ErrorKind::Unavailable => "Service unavailable",
        ErrorKind::Internal => "Internal error",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let request_id = current_request_id();
        let detail = if status.is_server_error() {
            let chain = error_chain(self.source.as_deref());
            tracing::error!(code = self.code, request_id = request_id.as_deref().unwrap_or("-"), error = %self.detail, cause = %chain, "request failed");
            match self.kind {
                // Provider and timeout messages name who failed and hold no secrets; database
                // errors may carry internals.
                ErrorKind::Unavailable if self.code == "database_unavailable" => {
                    "the database is unavailable; retry shortly".to_owned()
                }
                ErrorKind::Unavailable => self.detail,
                ErrorKind::Upstream => self.detail,
                _ => format!(
                    "an internal error occurred; quote request id {} when reporting it",
                    request_id.as_deref().unwrap_or("-")
                ),
            }
        } else {
            self.detail
        };
        let body = Problem {
            type_: format!("urn:switchboard:problem:{}", self.code),
            title: title(self.kind),
            status: status.as_u16(),
            code: self.code,
            detail,
            request_id,
            errors: self.errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

fn error_chain(err: Option<&(dyn std::error::Error + Send + Sync)>) -> String {
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = err.map(|e| e as &dyn std::error::Error);
    while let Some(e) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

pub type ApiResult<T> = Result<T, ApiError>;
