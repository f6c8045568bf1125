//! Tenant organisations: list, read, create, rename. A client-role principal sees only its own.

use crate::extract::{Body, IdempotencyKey, IdempotencyKeyHeader, Path, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::model::{Client, ClientFilter, Page};
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use portal::NewClient;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, rename_client))
}

/// Lists tenant organisations. A client-role principal sees only its own.
#[utoipa::path(get, path = "/v1/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = Page<Client>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_clients"])))]
async fn list_clients(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<ClientFilter>,
) -> ApiResult<Json<Page<Client>>> {
    Ok(Json(s.portal.list_clients(&actor, filter).await?))
}

/// Creates a tenant organisation.
#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = NewClient,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_clients"])))]
async fn create_client(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(new): Body<NewClient>,
) -> ApiResult<(StatusCode, Json<Client>)> {
    let created = s.portal.create_client(&actor, new, idem.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One organisation. Another tenant's organisation is a 404, as if it did not exist.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_clients"])))]
async fn get_client(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.portal.get_client(&actor, &id).await?))
}

/// Renames an organisation.
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = RenameBody,
    responses((status = 200, body = Client), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_clients"])))]
async fn rename_client(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(body): Body<RenameBody>,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.portal.rename_client(&actor, &id, &body.name).await?))
}
