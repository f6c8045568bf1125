//! Incidents, their SLA targets and escalation policies. A client-role principal sees, opens and
//! comments on its own organisation's incidents only; another one is a 404.

use crate::extract::{Body, Path, Query};
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::incident::IncidentMetrics;
use domain::model::{
    EscalationPolicy, IncidentChange, IncidentCounts, IncidentDetail, IncidentFilter,
    IncidentPerson, IncidentSummary, MetricsQuery, OpenIncident, Page, PolicyInput, SlaTarget,
};
use domain::Actor;
use portal::incidents::wire::{NewComment, SlaTargetsBody};
use portal::prelude::*;
use portal::wire::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents, open_incident))
        .routes(routes!(incident_metrics))
        .routes(routes!(incident_counts))
        .routes(routes!(incident_people))
        .routes(routes!(get_incident))
        .routes(routes!(comment_incident))
        .routes(routes!(change_incident))
        .routes(routes!(sla_targets, set_sla_targets))
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(update_policy, delete_policy))
}

/// Lists incidents, newest first, each with its SLA clocks now. Filters combine.
#[utoipa::path(get, path = "/v1/incidents", tag = "incidents", params(IncidentFilter),
    responses((status = 200, body = Page<IncidentSummary>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn list_incidents(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(filter): Query<IncidentFilter>,
) -> ApiResult<Json<Page<IncidentSummary>>> {
    Ok(Json(s.portal.list_incidents(&actor, filter).await?))
}

/// Opens an incident. The id may be chosen by the client (a UUIDv7): opening again with the
/// same id and fields returns the incident (200), with other fields it is a 409.
#[utoipa::path(post, path = "/v1/incidents", tag = "incidents", request_body = OpenIncident,
    responses((status = 201, body = IncidentDetail), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["open_incidents"])))]
async fn open_incident(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(new): Body<OpenIncident>,
) -> ApiResult<(StatusCode, Json<IncidentDetail>)> {
    let opened = s.portal.open_incident(&actor, new).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

/// One incident with its timeline (oldest first) and its SLA clocks.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 200, body = IncidentDetail), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn get_incident(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(s.portal.get_incident(&actor, &id).await?))
}

/// Adds a comment to the timeline. A retry with the same `event_id` adds nothing.
#[utoipa::path(post, path = "/v1/incidents/{id}/comments", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = NewComment,
    responses((status = 200, body = IncidentDetail), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["comment_incidents"])))]
async fn comment_incident(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(comment): Body<NewComment>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(s.portal.comment_incident(&actor, &id, comment).await?))
}

/// Acknowledges, assigns, changes severity, waits on the customer, resumes, resolves, closes or
/// reopens. A transition the current status does not allow is a 409 naming it; a change based
/// on a version the incident has not reached is a 409 with `current_version`.
#[utoipa::path(post, path = "/v1/incidents/{id}/changes", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = IncidentChange,
    responses((status = 200, body = IncidentDetail), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_incidents"])))]
async fn change_incident(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(change): Body<IncidentChange>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(s.portal.change_incident(&actor, &id, change).await?))
}

/// MTTA, MTTR and SLA compliance of the incidents opened in a period (default: the last 7
/// days), overall, per severity and per organisation.
#[utoipa::path(get, path = "/v1/incidents/metrics", tag = "incidents", params(MetricsQuery),
    responses((status = 200, body = IncidentMetrics), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn incident_metrics(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Json<IncidentMetrics>> {
    Ok(Json(s.portal.incident_metrics(&actor, q).await?))
}

/// Active incidents per severity, and how many are at risk or breached.
#[utoipa::path(get, path = "/v1/incidents/counts", tag = "incidents",
    responses((status = 200, body = IncidentCounts), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn incident_counts(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<IncidentCounts>> {
    Ok(Json(s.portal.incident_counts(&actor).await?))
}

/// The people who worked on the incidents the caller may see (whom to assign one to): whoever
/// acted on a timeline, or was assigned an incident; jobs left out; the most recently seen
/// first, at most 500. A client-role user sees its own organisation's.
#[utoipa::path(get, path = "/v1/incidents/people", tag = "incidents",
    responses((status = 200, body = Vec<IncidentPerson>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn incident_people(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<IncidentPerson>>> {
    Ok(Json(s.portal.incident_people(&actor).await?))
}

/// The SLA target of every severity, sev1 first.
#[utoipa::path(get, path = "/v1/sla", tag = "incidents",
    responses((status = 200, body = Vec<SlaTarget>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_incidents"])))]
async fn sla_targets(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<SlaTarget>>> {
    Ok(Json(s.portal.sla_targets(&actor).await?))
}

/// Sets the targets of the severities given (the others keep theirs); all or nothing.
#[utoipa::path(put, path = "/v1/sla", tag = "incidents", request_body = SlaTargetsBody,
    responses((status = 200, body = Vec<SlaTarget>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_sla"])))]
async fn set_sla_targets(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<SlaTargetsBody>,
) -> ApiResult<Json<Vec<SlaTarget>>> {
    Ok(Json(s.portal.set_sla_targets(&actor, body.targets).await?))
}

/// Escalation policies: the default first, then the organisations' overrides.
#[utoipa::path(get, path = "/v1/escalation-policies", tag = "incidents",
    responses((status = 200, body = Vec<EscalationPolicy>), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["read_escalation"])))]
async fn list_policies(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<Vec<EscalationPolicy>>> {
    Ok(Json(s.portal.list_escalation_policies(&actor).await?))
}

/// Creates a policy (the default one when `org_id` is absent). Bad rules are 422 with one
/// field error per problem, naming the step (`rules[1].after_mins`).
#[utoipa::path(post, path = "/v1/escalation-policies", tag = "incidents", request_body = PolicyInput,
    responses((status = 201, body = EscalationPolicy), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_sla"])))]
async fn create_policy(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<(StatusCode, Json<EscalationPolicy>)> {
    let created = s.portal.create_escalation_policy(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replaces a policy.
#[utoipa::path(put, path = "/v1/escalation-policies/{id}", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    request_body = PolicyInput,
    responses((status = 200, body = EscalationPolicy), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_sla"])))]
async fn update_policy(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Json<EscalationPolicy>> {
    Ok(Json(
        s.portal
            .update_escalation_policy(&actor, &id, input)
            .await?,
    ))
}

/// Deletes a policy.
#[utoipa::path(delete, path = "/v1/escalation-policies/{id}", tag = "incidents", params(("id" = uuid::Uuid, Path, description = "The id (a UUID)")),
    responses((status = 204), (status = "default", body = Problem, content_type = PROBLEM_JSON)),
    security(("bearer" = ["manage_sla"])))]
async fn delete_policy(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.portal.delete_escalation_policy(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
