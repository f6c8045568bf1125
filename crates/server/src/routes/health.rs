//! The public routes, without a principal: how apps sign in, liveness, readiness and this API's
//! OpenAPI document.

use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_info))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
}

/// How apps sign in: the identity provider, the public client id and the scopes to ask for.
#[utoipa::path(get, path = "/v1/sign-in", tag = "session",
    responses((status = 200, body = SignInInfo)), security(()))]
async fn sign_in_info(State(s): State<AppState>) -> Json<SignInInfo> {
    Json(SignInInfo {
        issuer: s.tokens.issuer().to_string(),
        client_id: s.tokens.settings().app_client_id.clone(),
        scopes: s.tokens.settings().app_scopes.clone(),
    })
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = String)), security(()))]
async fn healthz() -> &'static str {
    "ok"
}

/// The database (and Redis, when configured) answer.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = String), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(()))]
async fn readyz(State(s): State<AppState>) -> ApiResult<&'static str> {
    s.ready().await?;
    Ok("ready")
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, body = Object)), security(()))]
async fn openapi_json() -> impl IntoResponse {
    Json(crate::openapi())
}
