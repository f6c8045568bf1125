//! OIDC configurations: list, read, create, change, enable or disable, delete, test the
//! connection. Client secrets are write-only.

use crate::extract::{Body, IdempotencyKey, IdempotencyKeyHeader, Path};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::model::OidcConfig;
use domain::oidc::OidcProbeReport;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_oidc, create_oidc))
        .routes(routes!(get_oidc, update_oidc, delete_oidc))
        .routes(routes!(set_oidc_enabled))
        .routes(routes!(test_oidc))
}

/// Lists OIDC configurations. Secrets are never returned, only whether one is set.
#[utoipa::path(get, path = "/v1/oidc", tag = "oidc",
    responses((status = 200, body = Vec<OidcConfig>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_oidc"])))]
async fn list_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<OidcConfig>>> {
    Ok(Json(s.portal.list_oidc(&actor).await?))
}

/// Creates an OIDC configuration; the client secret is stored encrypted and never returned.
#[utoipa::path(post, path = "/v1/oidc", tag = "oidc", request_body = NewOidcBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn create_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(body): Body<NewOidcBody>,
) -> ApiResult<(StatusCode, Json<OidcConfig>)> {
    let created = s
        .portal
        .create_oidc(&actor, body.into(), idem.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One OIDC configuration.
#[utoipa::path(get, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_oidc"])))]
async fn get_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(s.portal.get_oidc(&actor, &id).await?))
}

/// Changes the fields given.
#[utoipa::path(patch, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = OidcChangesBody,
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn update_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(body): Body<OidcChangesBody>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(s.portal.update_oidc(&actor, &id, body.into()).await?))
}

/// Enables or disables a configuration.
#[utoipa::path(put, path = "/v1/oidc/{id}/enabled", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = EnabledBody,
    responses((status = 200, body = OidcConfig), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn set_oidc_enabled(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(body): Body<EnabledBody>,
) -> ApiResult<Json<OidcConfig>> {
    Ok(Json(
        s.portal.set_oidc_enabled(&actor, &id, body.enabled).await?,
    ))
}

/// Deletes a configuration.
#[utoipa::path(delete, path = "/v1/oidc/{id}", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_oidc"])))]
async fn delete_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_oidc(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// *Test connection*: fetches the issuer's discovery document and key set from this server and
/// reports what was found and what is wrong (a failed test is a 200 with `problems`). Only
/// public documents are read; the client secret is never sent.
#[utoipa::path(post, path = "/v1/oidc/{id}/test", tag = "oidc", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = OidcProbeReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_oidc"])))]
async fn test_oidc(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<OidcProbeReport>> {
    Ok(Json(s.portal.test_oidc(&actor, &id).await?))
}
