//! Errors over HTTP: the portal's one error vocabulary as `application/problem+json`
//! (RFC 9457) with the matching status, `WWW-Authenticate` on 401 and `Retry-After` on 429 and 503.
//! Every problem carries the request id, which is also on every log line of the request.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::error::Error;
use portal::wire::{Problem, PROBLEM_JSON};

tokio::task_local! {
    /// The id of the request being served (set by the request-context middleware).
    pub static REQUEST_ID: String;
}

/// The current request's id, when called while serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// A failed request: any Portal error, rendered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem::from_error(&self.0, current_request_id());
        if problem.status >= 500 {
            // The cause (e.g. the database's own words) goes to the log, on the request's span
            // with its id; the client gets the fixed sentence and the request id to quote.
            let cause = self.0.cause().unwrap_or_default();
            tracing::error!(code = problem.code.as_str(), detail = %problem.detail, %cause, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self.0 {
            Error::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"provider-portal\", error=\"invalid_token\"",
                    ),
                );
            }
            Error::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            // Busy or briefly unable (a full hashing queue, a request cut off by its timeout):
            // worth retrying soon.
            Error::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1u32));
            }
            _ => {}
        }
        response
    }
}

/// Rejections of axum's extractors (bad JSON, wrong content type, bad path or query) as
/// `invalid` problems naming what was wrong.
pub fn rejection(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError(Error::invalid(field, message.to_string()))
}

/// `405 Method Not Allowed` for a method the path does not declare (RFC 9110 §15.5.6), as
/// problem+json. The router adds the `Allow` header listing the declared methods. The error
/// vocabulary has no kind of its own for it — no Portal operation can produce it — so its
/// `code` is `invalid` (the request is wrong) while its `type`, title and status say which.
pub fn method_not_allowed() -> Response {
    let mut problem = Problem::from_error(
        &Error::invalid(
            "method",
            "this route does not accept this method: the `Allow` header lists those it does (see /openapi.json)",
        ),
        current_request_id(),
    );
    problem.kind = "urn:provider-admin:problem:method_not_allowed".into();
    problem.title = "Method not allowed".into();
    problem.status = StatusCode::METHOD_NOT_ALLOWED.as_u16();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}
