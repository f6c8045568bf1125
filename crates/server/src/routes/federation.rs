//! The partner route: a partner system checks the federation key it presents. Authenticated by
//! the key itself (`context::partner`), not by an OIDC token.

use crate::context::PresentedKey;
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use domain::model::Verified;
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_federation_key))
}

/// Verifies the federation key presented as `Authorization: Bearer pak_…` (partners).
/// 200 with the key's id and name when it is valid; 401 when it is not, is revoked or expired.
#[utoipa::path(post, path = "/v1/federation/verify", tag = "partners",
    responses((status = 200, body = Verified), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("federation_key" = [])))]
async fn verify_federation_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Extension(key): Extension<PresentedKey>,
) -> ApiResult<Json<Verified>> {
    Ok(Json(s.portal.verify_key(&actor, key.0.expose()).await?))
}
