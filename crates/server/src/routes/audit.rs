//! The audit trail: events a page at a time, the hash chain's verification, and a CSV export.

use crate::extract::Query;
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use domain::audit::AuditEvent;
use domain::model::{AuditFilter, ChainReport, Page};
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
        .routes(routes!(export_audit))
}

/// Audit events, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditEvent>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn list_audit(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    Ok(Json(s.portal.list_audit(&actor, filter).await?))
}

/// Verifies the whole hash chain and reports the first broken link, if any.
#[utoipa::path(get, path = "/v1/audit/verification", tag = "audit",
    responses((status = 200, body = ChainReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn verify_audit(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<ChainReport>> {
    Ok(Json(s.portal.verify_audit(&actor).await?))
}

/// The matching events as CSV, newest first.
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(AuditFilter),
    responses((status = 200, body = String, content_type = "text/csv"), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn export_audit(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<impl IntoResponse> {
    let mut csv = Vec::new();
    s.portal.export_audit_csv(&actor, filter, &mut csv).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        csv,
    ))
}
