//! The error scheme. Every error of every crate has a [`ErrorKind`] (which becomes the HTTP status),
//! a stable snake_case `code` clients may match on, a human message, and for invalid input the
//! fields at fault. Crates with errors of their own implement [`DomainError`]; the common cases
//! live in the shared [`Error`].

use crate::ctx::Permission;

/// The class of an error; binaries map it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request could not be read at all.
    BadRequest,
    /// 401: no or unknown credentials.
    Unauthenticated,
    /// 402: the wallet does not cover it.
    PaymentRequired,
    /// 403: authenticated, but the role lacks the permission.
    Forbidden,
    /// 404: missing — or belonging to another workspace.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: conflicts with the current state.
    Conflict,
    /// 413: body too large.
    PayloadTooLarge,
    /// 415: not JSON.
    UnsupportedMediaType,
    /// 422: well-formed, but a field breaks a rule.
    InvalidInput,
    /// 502: a provider failed.
    Upstream,
    /// 503: a dependency (the database) is unavailable; retry later.
    Unavailable,
    /// 500: a bug.
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::PaymentRequired => 402,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::InvalidInput => 422,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// One field at fault: `{"field": "name", "message": "must be 1–120 characters"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `name` or `aliases[3]`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// What the API layer needs of any error to render it.
pub trait DomainError: std::error::Error + Send + Sync + 'static {
    fn kind(&self) -> ErrorKind;
    fn code(&self) -> &'static str;
    fn field_errors(&self) -> &[FieldError] {
        &[]
    }
}

/// The shared errors: invalid input, not found, conflicts, permissions, the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", summarize(.0))]
    Invalid(Vec<FieldError>),
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    #[error("{message}")]
    Conflict { code: &'static str, message: String, fields: Vec<FieldError> },
    #[error("this API key's role lacks the permission `{}`", .0.as_str())]
    Forbidden(Permission),
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    #[error(transparent)]
    Provider(#[from] crate::provider::ProviderError),
    #[error("the database is unavailable")]
    Unavailable(#[source] sea_orm::DbErr),
    #[error("database error")]
    Database(#[source] sea_orm::DbErr),
    #[error("{0}")]
    Internal(String),
}

fn summarize(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        many => format!("{} fields are invalid", many.len()),
    }
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(resource: &'static str) -> Self {
        Error::NotFound { resource }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into(), fields: Vec::new() }
    }

    /// A conflict that lists what is missing, field by field.
    pub fn conflict_with(code: &'static str, message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        Error::Conflict { code, message: message.into(), fields }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&err) { Error::Unavailable(err) } else { Error::Database(err) }
    }
}

impl<E> From<sea_orm::TransactionError<E>> for Error
where
    E: Into<Error> + std::error::Error,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

impl DomainError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::PaymentRequired { .. } => ErrorKind::PaymentRequired,
            Error::Provider(e) => e.kind(),
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Database(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "validation_failed",
            Error::NotFound { .. } => "not_found",
            Error::Conflict { code, .. } | Error::PaymentRequired { code, .. } => code,
            Error::Forbidden(_) => "forbidden",
            Error::Provider(e) => e.code(),
            Error::Unavailable(_) => "database_unavailable",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Invalid(fields) | Error::Conflict { fields, .. } => fields,
            _ => &[],
        }
    }
}

/// Collects field errors while validating an input, so one response lists every mistake.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the parsed value, or records the error under `field`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else [`Error::Invalid`] with all of it.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Invalid(self.0)) }
    }
}

/// Counts Unicode scalar values, which is what "characters" means in the spec's length rules.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}
