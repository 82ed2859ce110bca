//! Extractors whose rejections are [`ApiError`]s, so a bad path, query or body gets
//! the same typed JSON as every other refusal instead of axum's plain text.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;

use ecom_domain::prelude::*;

use super::error::ApiError;

/// JSON bodies whose rejections (malformed JSON, wrong types, too large) are typed errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Checks the content type, reads the body within the limit, then decodes it
        // with `Json::from_bytes`, as `decode_body` does.
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// Path parameters whose rejections (`/carts/abc`) are typed errors.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_path", rejection.body_text())
            })
    }
}

/// Query strings whose rejections (`?limit=-1`) are typed errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_query", rejection.body_text())
            })
    }
}

/// A raw body (a webhook's, whose signature covers its exact bytes) whose
/// rejections (too large) are typed errors.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| {
                let status = rejection.status();
                let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    "body_too_large"
                } else {
                    "bad_request"
                };
                ApiError::new(status, code, rejection.body_text())
            })
    }
}

/// The caller's session, from `Authorization: Bearer <token>`: a request without a
/// well-formed one is refused with `401` before anything else is read.
pub struct Bearer(pub SessionToken);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| SessionToken::parse(t).ok())
            .ok_or_else(unauthenticated)?;
        Ok(Bearer(token))
    }
}

/// The guest's session named in `Guest-Session`, for a user taking over its cart.
pub(super) fn guest_session_header(
    headers: &axum::http::HeaderMap,
) -> Result<SessionToken, ApiError> {
    headers
        .get("guest-session")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| SessionToken::parse(t).ok())
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "guest_session_required",
                "send the guest's session token in a Guest-Session header",
            )
        })
}

fn unauthenticated() -> ApiError {
    ApiError::from(DomainError::Unauthenticated)
}
