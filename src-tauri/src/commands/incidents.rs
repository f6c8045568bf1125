//! Incidents, their SLA targets and escalation policies: one command per `Incidents` operation.

use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::incident::IncidentMetrics;
use domain::model::{
    EscalationPolicy, IncidentChange, IncidentCounts, IncidentDetail, IncidentFilter,
    IncidentPerson, IncidentSummary, MetricsQuery, OpenIncident, Page, PolicyInput, SlaTarget,
};
use macro_rules_attribute::apply;
use portal::incidents::NewComment;
use tauri::State;
use uuid::Uuid;

/// Newest first, with their SLA clocks now.
#[apply(command!)]
pub async fn incidents_list(
    state: State<'_, AppState>,
    filter: IncidentFilter,
) -> CmdResult<Page<IncidentSummary>> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.list_incidents(&who, filter).await?)
}

/// One incident, its timeline and its SLA clocks.
#[apply(command!)]
pub async fn incident_get(state: State<'_, AppState>, id: String) -> CmdResult<IncidentDetail> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.get_incident(&who, &id).await?)
}

/// Opens an incident. Sending the same `id` again (a retry) returns it instead of opening another.
#[apply(command!)]
pub async fn incident_open(
    state: State<'_, AppState>,
    incident: OpenIncident,
) -> CmdResult<IncidentDetail> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.open_incident(&who, incident).await?)
}

/// Adds a comment. A retry with the same `event_id` adds nothing.
#[apply(command!)]
pub async fn incident_comment(
    state: State<'_, AppState>,
    id: String,
    text: String,
    event_id: Option<Uuid>,
) -> CmdResult<IncidentDetail> {
    let comment = NewComment {
        text,
        event_id,
        occurred_at: None,
    };
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.comment_incident(&who, &id, comment).await?)
}

/// Acknowledge, assign, change severity, wait, resume, resolve, close or reopen.
#[apply(command!)]
pub async fn incident_change(
    state: State<'_, AppState>,
    id: String,
    change: IncidentChange,
) -> CmdResult<IncidentDetail> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.change_incident(&who, &id, change).await?)
}

/// MTTA, MTTR and SLA compliance of the incidents opened in a period (default: the last 7 days).
#[apply(command!)]
pub async fn incident_metrics(
    state: State<'_, AppState>,
    query: MetricsQuery,
) -> CmdResult<IncidentMetrics> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.incident_metrics(&who, query).await?)
}

/// Active incidents per severity, at risk and breached.
#[apply(command!)]
pub async fn incident_counts(state: State<'_, AppState>) -> CmdResult<IncidentCounts> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.incident_counts(&who).await?)
}

/// Whom an incident can be assigned to: the people who worked on the incidents one may see
/// (from the replica on a portal or PostgreSQL profile: offline too).
#[apply(command!)]
pub async fn incident_people(state: State<'_, AppState>) -> CmdResult<Vec<IncidentPerson>> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.incident_people(&who).await?)
}

/// The SLA target of every severity, sev1 first.
#[apply(command!)]
pub async fn sla_targets_get(state: State<'_, AppState>) -> CmdResult<Vec<SlaTarget>> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.sla_targets(&who).await?)
}

/// Sets the targets of the severities given; all or nothing.
#[apply(command!)]
pub async fn sla_targets_set(
    state: State<'_, AppState>,
    targets: Vec<SlaTarget>,
) -> CmdResult<Vec<SlaTarget>> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.set_sla_targets(&who, targets).await?)
}

/// The default policy first, then the organisations' overrides.
#[apply(command!)]
pub async fn escalation_policies_list(
    state: State<'_, AppState>,
) -> CmdResult<Vec<EscalationPolicy>> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.list_escalation_policies(&who).await?)
}

#[apply(command!)]
pub async fn escalation_policy_create(
    state: State<'_, AppState>,
    input: PolicyInput,
) -> CmdResult<EscalationPolicy> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.create_escalation_policy(&who, input).await?)
}

#[apply(command!)]
pub async fn escalation_policy_update(
    state: State<'_, AppState>,
    id: String,
    input: PolicyInput,
) -> CmdResult<EscalationPolicy> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.update_escalation_policy(&who, &id, input).await?)
}

#[apply(command!)]
pub async fn escalation_policy_delete(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let (incidents, who) = state.incidents().await?;
    Ok(incidents.delete_escalation_policy(&who, &id).await?)
}
