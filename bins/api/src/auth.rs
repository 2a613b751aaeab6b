//! Who is calling: [`Auth`] (an API key of a workspace, 401 otherwise) and [`Admin`] (the platform
//! admin token; 403 when the admin API is off).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_core::{Ctx, ErrorKind};
use switchboard_web::ApiError;

use crate::AppState;

/// The caller's context, from `Authorization: Bearer sk_…`.
#[derive(Debug, Clone)]
pub struct Auth(pub Ctx);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(secret) = bearer(parts) else {
            return Err(ApiError::new(
                ErrorKind::Unauthenticated,
                "unauthenticated",
                "send your API key as `Authorization: Bearer sk_…`",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer"));
        };
        match state.tenancy.authenticate(secret).await? {
            Some(ctx) => Ok(Auth(ctx)),
            None => Err(ApiError::new(
                ErrorKind::Unauthenticated,
                "invalid_api_key",
                "the API key is unknown or revoked",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")),
        }
    }
}

/// The platform admin, from `Authorization: Bearer <auth.admin_token>`.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.admin_token_hash else {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "admin_api_disabled",
                "the admin API is off; set APP__AUTH__ADMIN_TOKEN to enable it",
            ));
        };
        // Compare digests in constant time: neither content nor length of the token leaks.
        let given = bearer(parts).map(|t| Sha256::digest(t.as_bytes()));
        match given {
            Some(digest) if bool::from(digest.as_slice().ct_eq(&expected)) => Ok(Admin),
            _ => Err(ApiError::new(
                ErrorKind::Unauthenticated,
                "invalid_admin_token",
                "send the platform admin token as `Authorization: Bearer <token>`",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer")),
        }
    }
}
