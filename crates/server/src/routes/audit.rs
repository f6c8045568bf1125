//! The audit trail: events a page at a time, the hash chain's verification (whole, or against a
//! checkpoint kept outside the database), signed checkpoints, and a streamed CSV export.

use crate::extract::{Body as JsonBody, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use domain::audit::AuditEvent;
use domain::model::{AuditCheckpoint, AuditFilter, ChainReport, Page, VerifyAgainst};
use domain::Actor;
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit, verify_audit_against))
        .routes(routes!(audit_checkpoint))
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

/// Verifies the whole hash chain and reports the first broken link, if any. Admins only: it
/// reads the whole trail.
#[utoipa::path(get, path = "/v1/audit/verification", tag = "audit",
    responses((status = 200, body = ChainReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["verify_audit"])))]
async fn verify_audit(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<ChainReport>> {
    Ok(Json(s.portal.verify_audit(&actor, None).await?))
}

/// Verifies the whole hash chain, and that the event a checkpoint names still has the hash the
/// checkpoint recorded (a history rewritten with recomputed hashes fails there). The report's
/// `checkpoint` says `holds`, `rewritten`, or `not_authentic` for a checkpoint this portal did
/// not sign (which then proves nothing).
#[utoipa::path(post, path = "/v1/audit/verification", tag = "audit", request_body = VerifyAgainst,
    responses((status = 200, body = ChainReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["verify_audit"])))]
async fn verify_audit_against(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body): JsonBody<VerifyAgainst>,
) -> ApiResult<Json<ChainReport>> {
    Ok(Json(s.portal.verify_audit(&actor, body.against).await?))
}

/// The chain's tip now, signed by the portal: keep it outside the database (a file, a log
/// sink) and verify against it later.
#[utoipa::path(get, path = "/v1/audit/checkpoint", tag = "audit",
    responses((status = 200, body = AuditCheckpoint), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["verify_audit"])))]
async fn audit_checkpoint(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<AuditCheckpoint>> {
    Ok(Json(s.portal.audit_checkpoint(&actor).await?))
}

/// The matching events as CSV, newest first, streamed: rows are sent a page (500) at a time as
/// they are read, so the server holds one page whatever the trail's size. A failure before the
/// first byte is a problem+json answer; one midway ends the transfer without its final chunk,
/// which HTTP clients report as an incomplete body (never a silently short file).
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(AuditFilter),
    responses((status = 200, body = String, content_type = "text/csv"), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_audit"])))]
async fn export_audit(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<impl IntoResponse> {
    use tokio::io::AsyncBufReadExt;
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let portal = s.portal.clone();
    let export =
        tokio::spawn(async move { portal.export_audit_csv(&actor, filter, &mut writer).await });
    let mut reader = tokio::io::BufReader::new(reader);
    // The header row is written after the checks: no bytes means the export was refused.
    let started = !reader
        .fill_buf()
        .await
        .map_err(|e| domain::Error::internal(format!("reading the export: {e}")))?
        .is_empty();
    if !started {
        export
            .await
            .map_err(|e| domain::Error::internal(format!("the export stopped: {e}")))??;
        return Err(
            domain::Error::internal("the export wrote nothing, not even its header").into(),
        );
    }
    let body =
        futures_util::stream::unfold((reader, Some(export)), |(mut reader, export)| async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 32 * 1024];
            match reader.read(&mut buf).await {
                Ok(0) => match export?.await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some((
                        Err(std::io::Error::other(format!(
                            "the export stopped midway: {e}"
                        ))),
                        (reader, None),
                    )),
                    Err(e) => Some((Err(std::io::Error::other(e)), (reader, None))),
                },
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), (reader, export)))
                }
                Err(e) => Some((Err(e), (reader, None))),
            }
        });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        Body::from_stream(body),
    ))
}
