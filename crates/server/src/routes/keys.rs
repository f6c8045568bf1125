//! Federation keys: create (the full key is shown once), list, read, revoke, rotate and end a
//! rotation's overlap. Partners verify a key on the federation route (`federation.rs`).

use crate::extract::{Body, IdempotencyKey, IdempotencyKeyHeader, Path, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::model::{FederationKey, KeyFilter, Page};
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use portal::NewKey;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key))
        .routes(routes!(revoke_key))
        .routes(routes!(revoke_keys))
        .routes(routes!(rotate_key))
        .routes(routes!(end_overlap))
}

/// Lists federation keys, newest first, a page at a time (pass `next_cursor` back as `cursor`).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(KeyFilter),
    responses((status = 200, body = Page<FederationKey>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn list_keys(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<KeyFilter>,
) -> ApiResult<Json<Page<FederationKey>>> {
    Ok(Json(s.portal.list_keys(&actor, filter).await?))
}

/// Creates a federation key. The full key is in this response only: it is stored as a hash.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKey,
    params(IdempotencyKeyHeader),
    responses((status = 201, body = CreatedKeyBody), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn create_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(new): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<CreatedKeyBody>)> {
    let created = s.portal.create_key(&actor, new, idem.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One federation key.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys", params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)")),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn get_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(s.portal.get_key(&actor, &id).await?))
}

/// Revokes a key at once (every server instance stops accepting it within a second).
/// Revoking a revoked key returns it unchanged.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys",
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), IdempotencyKeyHeader),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn revoke_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    idem: IdempotencyKey,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(
        s.portal.revoke_key(&actor, &id, idem.as_deref()).await?,
    ))
}

/// Revokes several keys in one transaction: all or none.
#[utoipa::path(post, path = "/v1/keys/revoke", tag = "keys", request_body = RevokeKeysBody,
    params(IdempotencyKeyHeader),
    responses((status = 200, body = Vec<FederationKey>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn revoke_keys(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(body): Body<RevokeKeysBody>,
) -> ApiResult<Json<Vec<FederationKey>>> {
    Ok(Json(
        s.portal
            .revoke_keys(&actor, &body.ids, idem.as_deref())
            .await?,
    ))
}

/// Mints a successor; the old key keeps working for the overlap. The successor's full key is
/// in this response only.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", request_body = RotateBody,
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), IdempotencyKeyHeader),
    responses((status = 200, body = RotationBody), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn rotate_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    idem: IdempotencyKey,
    Body(body): Body<RotateBody>,
) -> ApiResult<Json<RotationBody>> {
    let rotation = s
        .portal
        .rotate_key(&actor, &id, &body.overlap, idem.as_deref())
        .await?;
    Ok(Json(rotation.into()))
}

/// Ends a rotated key's overlap now (idempotent: ending an ended overlap changes nothing).
#[utoipa::path(post, path = "/v1/keys/{id}/end-overlap", tag = "keys",
    params(("id" = domain::key::KeyId, Path, description = "The key id (16 characters)"), IdempotencyKeyHeader),
    responses((status = 200, body = FederationKey), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_keys"])))]
async fn end_overlap(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    // Idempotent by nature: the key is only checked, as on every route that declares it.
    _idem: IdempotencyKey,
) -> ApiResult<Json<FederationKey>> {
    Ok(Json(s.portal.end_overlap(&actor, &id).await?))
}
