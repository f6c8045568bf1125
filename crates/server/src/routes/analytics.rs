//! Analytics: facts in (product events, subscription changes), the snapshots' refresh, and one
//! route per chart, each with a stable schema (`MrrSeries`, `GrowthSeries`, …; a change to one
//! is a new route version, never an edit).

use crate::extract::{Body, Path, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::analytics::Movement;
use domain::Actor;
use portal::analytics::{
    FunnelQuery, FunnelReport, GrowthSeries, IngestReport, MovementQuery, MrrQuery, MrrSeries,
    NewFunnel, RefreshReport, RetentionQuery, RetentionReport, SavedFunnel, SavedFunnelQuery,
    SavedFunnelReport, TopClients, TopFeatures, TopUsage, UsageQuery,
};
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_events))
        .routes(routes!(record_subscription_changes))
        .routes(routes!(refresh_analytics))
        .routes(routes!(analytics_mrr))
        .routes(routes!(analytics_movements))
        .routes(routes!(analytics_retention))
        .routes(routes!(top_clients_by_mrr))
        .routes(routes!(top_clients_by_usage))
        .routes(routes!(analytics_growth))
        .routes(routes!(top_features))
        .routes(routes!(run_funnel))
        .routes(routes!(save_funnel, saved_funnels))
        .routes(routes!(saved_funnel, delete_funnel))
}

/// Stores product events (at most 10,000; idempotent per event id). A batch with a bad row is
/// refused whole (422, every bad row named by its index) and stores nothing.
#[utoipa::path(post, path = "/v1/events", tag = "analytics", request_body = EventBatch,
    responses((status = 200, body = IngestReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["ingest_analytics"])))]
async fn ingest_events(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(batch): Body<EventBatch>,
) -> ApiResult<Json<IngestReport>> {
    Ok(Json(s.portal.ingest_events(&actor, batch.events).await?))
}

/// Stores subscription changes (the billing facts MRR is computed from; idempotent per change
/// id). A change that cannot happen to its subscription refuses the whole batch.
#[utoipa::path(post, path = "/v1/analytics/subscription-changes", tag = "analytics",
    request_body = SubscriptionChangeBatch,
    responses((status = 200, body = IngestReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["ingest_analytics"])))]
async fn record_subscription_changes(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(batch): Body<SubscriptionChangeBatch>,
) -> ApiResult<Json<IngestReport>> {
    Ok(Json(
        s.portal
            .record_subscription_changes(&actor, batch.changes)
            .await?,
    ))
}

/// Recomputes the snapshots: the days whose facts changed, or everything (`full`). A ledger day
/// that does not reconcile fails the refresh (500) and writes nothing.
#[utoipa::path(post, path = "/v1/analytics/refresh", tag = "analytics", request_body = RefreshRequest,
    responses((status = 200, body = RefreshReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["operate_jobs"])))]
async fn refresh_analytics(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(r): Body<RefreshRequest>,
) -> ApiResult<Json<RefreshReport>> {
    Ok(Json(s.portal.refresh_analytics(&actor, r.full).await?))
}

/// MRR per day, week or month with its movements (each row reconciles), churn rates, and the
/// snapshot's freshness.
#[utoipa::path(get, path = "/v1/analytics/mrr", tag = "analytics", params(MrrQuery),
    responses((status = 200, body = MrrSeries), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_revenue"])))]
async fn analytics_mrr(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<MrrQuery>,
) -> ApiResult<Json<MrrSeries>> {
    Ok(Json(s.portal.mrr(&actor, q).await?))
}

/// Net and gross revenue retention over a period (the organisations paying at its start) and by
/// monthly cohort of the organisations that first paid in it.
#[utoipa::path(get, path = "/v1/analytics/retention", tag = "analytics", params(RetentionQuery),
    responses((status = 200, body = RetentionReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_revenue"])))]
async fn analytics_retention(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<RetentionQuery>,
) -> ApiResult<Json<RetentionReport>> {
    Ok(Json(s.portal.retention(&actor, q).await?))
}

/// The organisations' movements behind MRR (the drill-down), optionally of one kind.
#[utoipa::path(get, path = "/v1/analytics/movements", tag = "analytics", params(MovementQuery),
    responses((status = 200, body = Vec<Movement>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_revenue"])))]
async fn analytics_movements(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<MovementQuery>,
) -> ApiResult<Json<Vec<Movement>>> {
    Ok(Json(s.portal.mrr_movements(&actor, q).await?))
}

/// The organisations paying the most at the end of a day, with their share of MRR.
#[utoipa::path(get, path = "/v1/analytics/top-clients", tag = "analytics", params(TopClientsQuery),
    responses((status = 200, body = TopClients), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_revenue"])))]
async fn top_clients_by_mrr(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<TopClientsQuery>,
) -> ApiResult<Json<TopClients>> {
    Ok(Json(
        s.portal
            .top_clients_by_mrr(&actor, q.currency, q.at, q.limit)
            .await?,
    ))
}

/// The organisations using the product the most over a period (a client: its own).
#[utoipa::path(get, path = "/v1/analytics/top-clients/usage", tag = "analytics", params(UsageQuery),
    responses((status = 200, body = TopUsage), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn top_clients_by_usage(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<TopUsage>> {
    Ok(Json(s.portal.top_clients_by_usage(&actor, q).await?))
}

/// Sign-ups and daily, weekly and monthly actives (a client: its own organisation's).
#[utoipa::path(get, path = "/v1/analytics/growth", tag = "analytics", params(UsageQuery),
    responses((status = 200, body = GrowthSeries), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn analytics_growth(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<GrowthSeries>> {
    Ok(Json(s.portal.growth(&actor, q).await?))
}

/// The most used features, by uses or by organisations (a client: its own use).
#[utoipa::path(get, path = "/v1/analytics/top-features", tag = "analytics", params(UsageQuery),
    responses((status = 200, body = TopFeatures), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn top_features(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<TopFeatures>> {
    Ok(Json(s.portal.top_features(&actor, q).await?))
}

/// Runs a funnel over the events of a period (2 to 10 steps, a conversion window, optional
/// step windows and exclusions); refused (422) when it would read more than 2,000,000 events.
#[utoipa::path(post, path = "/v1/analytics/funnels/run", tag = "analytics", request_body = FunnelQuery,
    responses((status = 200, body = FunnelReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn run_funnel(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(q): Body<FunnelQuery>,
) -> ApiResult<Json<FunnelReport>> {
    Ok(Json(s.portal.funnel(&actor, q).await?))
}

/// Saves a funnel (staff): every refresh snapshots it — each subject's progress per day it
/// entered, from its first event up to a year back the first time — so it is read in
/// milliseconds. A name already used is a 409.
#[utoipa::path(post, path = "/v1/analytics/funnels", tag = "analytics", request_body = NewFunnel,
    responses((status = 201, body = SavedFunnel), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_funnels"])))]
async fn save_funnel(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(f): Body<NewFunnel>,
) -> ApiResult<(StatusCode, Json<SavedFunnel>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.portal.save_funnel(&actor, f).await?),
    ))
}

/// The saved funnels, by name.
#[utoipa::path(get, path = "/v1/analytics/funnels", tag = "analytics",
    responses((status = 200, body = Vec<SavedFunnel>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn saved_funnels(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<SavedFunnel>>> {
    Ok(Json(s.portal.saved_funnels(&actor).await?))
}

/// A saved funnel over a period (by default the 30 days up to its snapshot's last day), from its
/// daily snapshot: per-step counts, conversion, drop-off and time to convert, and its
/// conversion day by day (a client: its own organisation's subjects).
#[utoipa::path(get, path = "/v1/analytics/funnels/{id}", tag = "analytics",
    params(("id" = uuid::Uuid, Path, description = "The id (a UUID)"), SavedFunnelQuery),
    responses((status = 200, body = SavedFunnelReport), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_usage"])))]
async fn saved_funnel(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Query(q): Query<SavedFunnelQuery>,
) -> ApiResult<Json<SavedFunnelReport>> {
    Ok(Json(s.portal.saved_funnel(&actor, &id, q).await?))
}

/// Forgets a saved funnel and its snapshot (staff).
#[utoipa::path(delete, path = "/v1/analytics/funnels/{id}", tag = "analytics",
    params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_funnels"])))]
async fn delete_funnel(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_funnel(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
