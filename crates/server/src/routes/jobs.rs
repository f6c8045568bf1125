//! The scheduled jobs: their schedule and last run, a run by hand, and the webhooks' signing
//! secret.

use crate::extract::Path;
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::{JobReport, JobStatus};
use domain::Actor;
use portal::jobs::SigningSecret;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(run_job))
        .routes(routes!(signing_secret))
}

/// Every scheduled job, its schedule, its last run (by any instance) and its next.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs",
    responses((status = 200, body = Vec<JobStatus>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["operate_jobs"])))]
async fn list_jobs(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<JobStatus>>> {
    Ok(Json(s.portal.list_jobs(&actor).await?))
}

/// Runs a job now on this instance (safe beside the scheduler: what a job records is keyed, so
/// nothing is recorded twice).
#[utoipa::path(post, path = "/v1/jobs/{name}/runs", tag = "jobs",
    params(("name" = portal::jobs::JobName, Path, description = "The job")),
    responses((status = 200, body = JobReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["operate_jobs"])))]
async fn run_job(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> ApiResult<Json<JobReport>> {
    Ok(Json(s.portal.run_job(&actor, &name).await?))
}

/// The secret escalation webhooks are signed with (Standard Webhooks, `whsec_…`).
#[utoipa::path(get, path = "/v1/webhook-signing-secret", tag = "jobs",
    responses((status = 200, body = SigningSecret), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_sla"])))]
async fn signing_secret(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<SigningSecret>> {
    let secret = s.portal.webhook_signing_secret(&actor).await?;
    Ok(Json(SigningSecret {
        secret: secret.expose().clone(),
    }))
}
