//! Extractors whose rejections speak problem+json: a malformed body, query or path parameter
//! is an `invalid` problem naming what was wrong, never axum's plain-text default.

use crate::context::IDEMPOTENCY_KEY_HEADER;
use crate::problem::{rejection, ApiError};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;

/// A JSON body: a JSON object (every body of this API is one — serde alone would also read a
/// struct from an array such as `[null, null]`).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(rejection("body", "must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| rejection("body", e))
    }
}

/// Query parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        rejection("body", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        rejection("query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        rejection("path", r.body_text())
    }
}

/// The `Idempotency-Key` header as the API document states it (`params(IdempotencyKeyHeader)`):
/// the limits come from the same constants the portal checks.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    #[allow(dead_code)] // read by `IdempotencyKey`; this type only documents it
    #[param(rename = "Idempotency-Key", schema_with = domain::schema::idempotency_key)]
    idempotency_key: Option<String>,
}

/// The `Idempotency-Key` header, when sent.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(IDEMPOTENCY_KEY_HEADER) {
            None => Ok(IdempotencyKey(None)),
            Some(v) => {
                let key = v.to_str().unwrap_or("\u{0}");
                domain::validate::check_idempotency_key(key)
                    .map(|()| IdempotencyKey(Some(key.to_string())))
                    .map_err(|m| rejection("Idempotency-Key", m))
            }
        }
    }
}
