//! Offline sync: a device pushes its outbox and pulls what changed. Each mutation is authorized
//! as if it were made on its own (a client-role user's edits of another organisation's incident
//! are rejected; its pulls never carry another organisation's data).

use crate::extract::{Body, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::{PullResponse, PushRequest, PushResponse};
use domain::Actor;
use portal::prelude::*;
use portal::sync::wire::PullQuery;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_push))
        .routes(routes!(sync_pull))
}

/// Applies a device's queued mutations in order, each exactly once. Idempotent by
/// `(client_id, mutation_id)`: mutations already applied are answered with their recorded
/// outcome; a batch that skips ids is a 409 whose `current_version` is the last id applied.
/// Each mutation is `applied` (audited as the caller, with when it was made), `rejected` (with
/// its reason) or a `conflict` (a field another device changed since the mutation's base
/// version, with both values); one never takes the others down.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn sync_push(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(push): Body<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    Ok(Json(s.portal.sync_push(&actor, push).await?))
}

/// The incidents changed after `cursor` that the caller may see, each with its whole timeline,
/// and the SLA targets and escalation policies when they changed. Pull again with the returned
/// cursor while `more` is true.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullQuery),
    responses((status = 200, body = PullResponse), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn sync_pull(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<PullQuery>,
) -> ApiResult<Json<PullResponse>> {
    Ok(Json(
        s.portal
            .sync_pull(&actor, q.cursor.unwrap_or(0), q.limit)
            .await?,
    ))
}
