//! Provider integrations: list, read, create, change, pause or resume, record a
//! synchronisation run, delete. Configurations are write-only.

use crate::extract::{Body, IdempotencyKey, IdempotencyKeyHeader, Path};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::model::Integration;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations, create_integration))
        .routes(routes!(
            get_integration,
            update_integration,
            delete_integration
        ))
        .routes(routes!(set_integration_paused))
        .routes(routes!(record_integration_sync))
}

/// Lists integrations: configuration field names only, never values.
#[utoipa::path(get, path = "/v1/integrations", tag = "integrations",
    responses((status = 200, body = Vec<Integration>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_integrations"])))]
async fn list_integrations(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<Integration>>> {
    Ok(Json(s.portal.list_integrations(&actor).await?))
}

/// Creates an integration; its configuration (a JSON object) is stored encrypted.
#[utoipa::path(post, path = "/v1/integrations", tag = "integrations", request_body = NewIntegrationBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn create_integration(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(body): Body<NewIntegrationBody>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let created = s
        .portal
        .create_integration(&actor, body.into(), idem.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One integration.
#[utoipa::path(get, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_integrations"])))]
async fn get_integration(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(s.portal.get_integration(&actor, &id).await?))
}

/// Renames an integration or replaces its configuration.
#[utoipa::path(patch, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = IntegrationChangesBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn update_integration(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(body): Body<IntegrationChangesBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .update_integration(&actor, &id, body.into())
            .await?,
    ))
}

/// Pauses or resumes an integration.
#[utoipa::path(put, path = "/v1/integrations/{id}/paused", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = PausedBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn set_integration_paused(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(body): Body<PausedBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .set_integration_paused(&actor, &id, body.paused)
            .await?,
    ))
}

/// Records the outcome of a synchronisation run.
#[utoipa::path(post, path = "/v1/integrations/{id}/syncs", tag = "integrations",
    params(("id" = uuid::Uuid, Path, description = "The id (a UUID)"), IdempotencyKeyHeader),
    request_body = SyncBody,
    responses((status = 200, body = Integration), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn record_integration_sync(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    Body(body): Body<SyncBody>,
) -> ApiResult<Json<Integration>> {
    Ok(Json(
        s.portal
            .record_integration_sync(&actor, &id, body.error, idem.as_deref())
            .await?,
    ))
}

/// Deletes an integration.
#[utoipa::path(delete, path = "/v1/integrations/{id}", tag = "integrations", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_integrations"])))]
async fn delete_integration(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_integration(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
