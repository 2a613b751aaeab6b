//! Extractors that turn every kind of bad input into a precise 4xx problem, never a 5xx:
//! [`Json`] (415 not JSON, 413 too large, 400 malformed, 422 wrong type / unknown value with the
//! field's path) and [`Query`] (422 naming the parameter).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use switchboard_core::{ErrorKind, FieldError};

use crate::error::ApiError;

/// A JSON request body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                "send a JSON body with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorKind::PayloadTooLarge,
                    "body_too_large",
                    "the request body is larger than this endpoint accepts",
                )
            } else {
                ApiError::new(ErrorKind::BadRequest, "unreadable_body", rejection.body_text())
            }
        })?;
        // Every body this API takes is an object; serde would also read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{')
            && serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
        {
            return Err(ApiError::invalid(vec![FieldError::new("body", "must be a JSON object")]));
        }
        parse_json(&bytes).map(Json)
    }
}

/// Deserialises `bytes`, naming the field at fault when the JSON is well-formed but wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if has_nul_escape(bytes)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = nul_path(&value, String::new())
    {
        return Err(nul_error(if field.is_empty() { "body".to_owned() } else { field }));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = strip_position(&inner.to_string());
                // The path already ends at an unknown field; at the root it is empty.
                let field = match (path.as_str(), unknown_field(&message)) {
                    (".", Some(f)) => f.to_owned(),
                    (".", None) => "body".to_owned(),
                    _ => path,
                };
                ApiError::invalid(vec![FieldError::new(field, message)])
            }
            _ => malformed(&inner),
        }
    })?;
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

// PostgreSQL cannot store U+0000 in text (SQLite can), so a NUL that reached the database would
// be a 500 on one engine and stored on the other; no field of this API has a use for it.
fn nul_error(field: String) -> ApiError {
    ApiError::invalid(vec![FieldError::new(field, "must not contain the NUL character (U+0000)")])
}

/// Whether the JSON text holds a `\u0000` escape — the only way JSON carries a NUL — outside an
/// escaped backslash. A cheap scan, so only such bodies pay for finding the field.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// The path (as serde_path_to_error writes it: `a.b[0].c`) of the first string or key with a NUL.
fn nul_path(value: &serde_json::Value, at: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| nul_path(v, format!("{at}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if k.contains('\0') { Some(here) } else { nul_path(v, here) }
        }),
        _ => None,
    }
}

fn malformed(err: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorKind::BadRequest, "malformed_json", format!("the body is not valid JSON: {err}"))
}

/// serde_json appends " at line 1 column 9" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// Query parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((key, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_error(key.into_owned()));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|err| {
            let field = err.path().to_string();
            let field = if field == "." { "query".to_owned() } else { field };
            ApiError::invalid(vec![FieldError::new(field, err.into_inner().to_string())])
        })
    }
}

/// Parses a path id; anything that is not an id of the kind is simply not found.
pub fn path_id<T: std::str::FromStr>(raw: &str, resource: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_in_the_body_names_its_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            name: String,
            tags: Vec<String>,
        }
        let rejected = |json: &str| match parse_json::<Body>(json.as_bytes()) {
            Ok(b) => panic!("accepted {b:?}"),
            Err(e) => format!("{e:?}"),
        };
        assert!(rejected(r#"{"name": "a\u0000b", "tags": []}"#).contains(r#"field: "name""#));
        assert!(rejected(r#"{"name": "a", "tags": ["x", "\u0000"]}"#).contains(r#"field: "tags[1]""#));
        // An escaped backslash followed by `u0000` is text, not a NUL.
        assert_eq!(parse_json::<Body>(br#"{"name": "a\\u0000", "tags": []}"#).unwrap().name, "a\\u0000");
        assert!(!has_nul_escape(br#"{"a": "\\"}"#));
    }
}
