//! Encryption at rest: where the sealed secrets stand against the current master key, and
//! re-encrypting them under the newest one.

use crate::extract::{Body, IdempotencyKey, IdempotencyKeyHeader};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::MasterKeyStatus;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use portal::MasterKeyReport;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(master_key_status))
        .routes(routes!(rotate_master_key))
}

/// Where the sealed secrets stand against the current master key.
#[utoipa::path(get, path = "/v1/secrets/master-key", tag = "secrets",
    responses((status = 200, body = MasterKeyStatus), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_secrets"])))]
async fn master_key_status(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<MasterKeyStatus>> {
    Ok(Json(s.portal.master_key_status(&actor).await?))
}

/// Re-encrypts secrets under the newest master key, in resumable batches. The new key version
/// must already be in the server's key source. With an `Idempotency-Key`, a retry after the
/// rotation finished gets its report (24 h) instead of starting another one.
#[utoipa::path(post, path = "/v1/secrets/rotations", tag = "secrets", request_body = MasterKeyRotationBody,
    params(IdempotencyKeyHeader),
    responses((status = 200, body = MasterKeyReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_secrets"])))]
async fn rotate_master_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    idem: IdempotencyKey,
    Body(body): Body<MasterKeyRotationBody>,
) -> ApiResult<Json<MasterKeyReport>> {
    let report = s
        .portal
        .rotate_master_key(&actor, body.into(), &|_, _| {}, idem.as_deref())
        .await?;
    Ok(Json(report))
}
