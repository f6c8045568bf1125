//! The workspace as a whole: who the caller is (`/v1/me`), what needs attention, whether the
//! workspace is empty, and seeding an empty one with demo data.

use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::Overview;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use portal::SeedReport;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(overview))
        .routes(routes!(workspace_status))
        .routes(routes!(seed_demo))
}

/// Who the bearer of this token is, and what their role allows.
#[utoipa::path(get, path = "/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = [])))]
async fn me(State(s): State<AppState>, Extension(actor): Extension<Actor>) -> ApiResult<Json<Me>> {
    Ok(Json(s.portal.whoami(&actor).await?))
}

/// Counts that need attention, and 30 days of key activity.
#[utoipa::path(get, path = "/v1/overview", tag = "overview",
    responses((status = 200, body = Overview), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn overview(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Overview>> {
    Ok(Json(s.portal.overview(&actor).await?))
}

/// Whether the workspace is still empty (no client, key, OIDC configuration or integration).
#[utoipa::path(get, path = "/v1/workspace", tag = "overview",
    responses((status = 200, body = WorkspaceStatus), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_keys"])))]
async fn workspace_status(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<WorkspaceStatus>> {
    Ok(Json(s.portal.workspace_status(&actor).await?))
}

/// Fills an empty workspace with realistic demo data; a workspace holding data is a 409. The
/// seed runs to its end even if the request times out or the client goes away (a half-seeded
/// workspace is not empty, so it could not be seeded again).
#[utoipa::path(post, path = "/v1/workspace/seed", tag = "overview",
    responses((status = 200, body = SeedReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["seed"])))]
async fn seed_demo(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<SeedReport>> {
    let portal = s.portal.clone();
    let seeding = tokio::spawn(async move { portal.seed_demo(&actor, &|_, _| {}).await });
    let report = seeding
        .await
        .map_err(|e| domain::Error::internal(format!("the seed task failed: {e}")))??;
    Ok(Json(report))
}
