//! Incidents: opened, triaged and resolved against per-severity SLA targets, with escalation
//! policies the server runs. Every change appends one event to the incident's timeline and one
//! audit event, in one transaction. SLA clocks are computed from the timeline
//! (`domain::incident::sla_state`) on every read, never stored.
//!
//! Who sees what: staff roles with `read_incidents` see every incident; a client-role user sees,
//! opens and comments on its own organisation's incidents only (another one is `NotFound`).
//!
//! Ready for offline work (the outbox of the sync issue): an incident's id and each change's
//! event id may be chosen by the client, so a retried change is not applied twice; a change
//! carries the version it was based on and when it happened.

mod active;
pub(crate) mod local;
mod report;
mod settings;
pub mod wire;

use async_trait::async_trait;
use domain::error::Result;
use domain::incident::IncidentMetrics;
use domain::model::{
    EscalationPolicy, IncidentChange, IncidentCounts, IncidentDetail, IncidentFilter,
    IncidentPerson, IncidentSummary, MetricsQuery, OpenIncident, Page, PolicyInput, SlaTarget,
};
use domain::Actor;

pub(crate) use active::ActiveCache;
pub use wire::NewComment;

/// Incidents, SLA targets and escalation policies.
#[async_trait]
pub trait Incidents: Send + Sync {
    /// Newest first, with their SLA clocks now.
    async fn list_incidents(
        &self,
        actor: &Actor,
        filter: IncidentFilter,
    ) -> Result<Page<IncidentSummary>>;
    /// One incident, its timeline and its SLA clocks.
    async fn get_incident(&self, actor: &Actor, id: &str) -> Result<IncidentDetail>;
    /// Opens an incident. Opening again with the same id and the same fields returns it (a
    /// retry); with other fields it is a `Conflict`.
    async fn open_incident(&self, actor: &Actor, new: OpenIncident) -> Result<IncidentDetail>;
    async fn comment_incident(
        &self,
        actor: &Actor,
        id: &str,
        comment: NewComment,
    ) -> Result<IncidentDetail>;
    /// Acknowledge, assign, change severity, wait, resume, resolve, close or reopen (and, for
    /// the server's jobs, record escalations and SLA notices). A retry with the same
    /// `event_id` returns the incident without applying it again.
    async fn change_incident(
        &self,
        actor: &Actor,
        id: &str,
        change: IncidentChange,
    ) -> Result<IncidentDetail>;
    /// MTTA, MTTR and SLA compliance of the incidents opened in a period.
    async fn incident_metrics(&self, actor: &Actor, q: MetricsQuery) -> Result<IncidentMetrics>;
    /// Active incidents per severity, at risk and breached (the overview's cards).
    async fn incident_counts(&self, actor: &Actor) -> Result<IncidentCounts>;
    /// The people who worked on the incidents the caller may see (whom to assign one to), the
    /// most recently seen first, at most [`domain::model::PEOPLE_MAX`].
    async fn incident_people(&self, actor: &Actor) -> Result<Vec<IncidentPerson>>;

    /// The SLA target of every severity (configured or default), sev1 first.
    async fn sla_targets(&self, actor: &Actor) -> Result<Vec<SlaTarget>>;
    /// Sets the targets of the severities given (the others keep theirs); all or nothing.
    async fn set_sla_targets(
        &self,
        actor: &Actor,
        targets: Vec<SlaTarget>,
    ) -> Result<Vec<SlaTarget>>;

    /// The default policy first, then the organisations' overrides.
    async fn list_escalation_policies(&self, actor: &Actor) -> Result<Vec<EscalationPolicy>>;
    async fn create_escalation_policy(
        &self,
        actor: &Actor,
        input: PolicyInput,
    ) -> Result<EscalationPolicy>;
    async fn update_escalation_policy(
        &self,
        actor: &Actor,
        id: &str,
        input: PolicyInput,
    ) -> Result<EscalationPolicy>;
    async fn delete_escalation_policy(&self, actor: &Actor, id: &str) -> Result<()>;
}
