//! `impl Incidents for Replica`: reads from the replica (the same offline as online), edits
//! into the outbox; SLA targets and escalation policies are changed upstream only (a provider's
//! settings, not triage) and come back with the next pull.

use super::Replica;
use crate::incidents::local::own_org;
use crate::incidents::NewComment;
use crate::local::parse_id;
use crate::Incidents;
use async_trait::async_trait;
use domain::error::Result;
use domain::incident::IncidentMetrics;
use domain::model::{
    EscalationPolicy, IncidentChange, IncidentCommand, IncidentCounts, IncidentDetail,
    IncidentFilter, IncidentPerson, IncidentSummary, MetricsQuery, NewIncident, OpenIncident, Page,
    PolicyInput, SlaTarget,
};
use domain::Actor;
use uuid::Uuid;

#[async_trait]
impl Incidents for Replica {
    async fn list_incidents(
        &self,
        actor: &Actor,
        filter: IncidentFilter,
    ) -> Result<Page<IncidentSummary>> {
        self.same_person(actor)?;
        self.reader.list_incidents(actor, filter).await
    }

    async fn get_incident(&self, actor: &Actor, id: &str) -> Result<IncidentDetail> {
        self.same_person(actor)?;
        self.reader.get_incident(actor, id).await
    }

    async fn open_incident(&self, actor: &Actor, new: OpenIncident) -> Result<IncidentDetail> {
        let org_id = match own_org(actor) {
            Some(own) => Some(new.org_id.unwrap_or(own)),
            None => new.org_id,
        };
        let input = NewIncident {
            id: new.id.unwrap_or_else(Uuid::now_v7),
            title: new.title,
            severity: new.severity,
            org_id,
            impact_started_at: new.impact_started_at,
        };
        self.record_open(actor, input).await
    }

    async fn comment_incident(
        &self,
        actor: &Actor,
        id: &str,
        comment: NewComment,
    ) -> Result<IncidentDetail> {
        let id = parse_id("id", id)?;
        let command = IncidentCommand::Comment { text: comment.text };
        self.record_change(actor, id, command, comment.event_id)
            .await
    }

    async fn change_incident(
        &self,
        actor: &Actor,
        id: &str,
        change: IncidentChange,
    ) -> Result<IncidentDetail> {
        let id = parse_id("id", id)?;
        self.record_change(actor, id, change.command, change.event_id)
            .await
    }

    async fn incident_metrics(&self, actor: &Actor, q: MetricsQuery) -> Result<IncidentMetrics> {
        self.same_person(actor)?;
        self.reader.incident_metrics(actor, q).await
    }

    async fn incident_counts(&self, actor: &Actor) -> Result<IncidentCounts> {
        self.same_person(actor)?;
        self.reader.active.forget();
        self.reader.incident_counts(actor).await
    }

    async fn incident_people(&self, actor: &Actor) -> Result<Vec<IncidentPerson>> {
        self.same_person(actor)?;
        self.reader.incident_people(actor).await
    }

    async fn sla_targets(&self, actor: &Actor) -> Result<Vec<SlaTarget>> {
        self.same_person(actor)?;
        self.reader.sla_targets(actor).await
    }

    async fn set_sla_targets(
        &self,
        actor: &Actor,
        targets: Vec<SlaTarget>,
    ) -> Result<Vec<SlaTarget>> {
        let saved = self.upstream.set_sla_targets(actor, targets).await?;
        self.wake.notify_one();
        Ok(saved)
    }

    async fn list_escalation_policies(&self, actor: &Actor) -> Result<Vec<EscalationPolicy>> {
        self.same_person(actor)?;
        self.reader.list_escalation_policies(actor).await
    }

    async fn create_escalation_policy(
        &self,
        actor: &Actor,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        let p = self.upstream.create_escalation_policy(actor, input).await?;
        self.wake.notify_one();
        Ok(p)
    }

    async fn update_escalation_policy(
        &self,
        actor: &Actor,
        id: &str,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        let p = self
            .upstream
            .update_escalation_policy(actor, id, input)
            .await?;
        self.wake.notify_one();
        Ok(p)
    }

    async fn delete_escalation_policy(&self, actor: &Actor, id: &str) -> Result<()> {
        self.upstream.delete_escalation_policy(actor, id).await?;
        self.wake.notify_one();
        Ok(())
    }
}
