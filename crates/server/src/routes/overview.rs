//! What a signed-in user lands on: who they are (`/v1/me`) and what needs attention.

use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::Overview;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(overview))
}

/// Who the bearer of this token is, and what their role allows.
#[utoipa::path(get, path = "/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = [])))]
async fn me(Extension(actor): Extension<Actor>) -> Json<Me> {
    // Built here from the verified actor; issue 8 moves "who am I" into the Portal (`whoami`).
    Json(Me {
        id: actor.id.clone(),
        name: actor.name.clone(),
        role: actor.role.name().to_string(),
        org_id: match actor.role {
            domain::Role::Client(org) => Some(org),
            _ => None,
        },
        permissions: actor
            .role
            .permissions()
            .into_iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    })
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
