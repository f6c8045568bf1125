//! `impl Incidents for RemotePortal`: `/v1/incidents`, `/v1/sla`, `/v1/escalation-policies`.

use crate::{q, seg, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::incident::IncidentMetrics;
use domain::model::{
    EscalationPolicy, IncidentChange, IncidentCounts, IncidentDetail, IncidentFilter,
    IncidentPerson, IncidentSummary, MetricsQuery, OpenIncident, Page, PolicyInput, SlaTarget,
};
use domain::Actor;
use portal::incidents::wire::*;
use portal::Incidents;
use reqwest::Method;

#[async_trait]
impl Incidents for RemotePortal {
    async fn list_incidents(
        &self,
        actor: &Actor,
        f: IncidentFilter,
    ) -> Result<Page<IncidentSummary>> {
        let query: Vec<(&str, String)> = [
            q("status", &f.status),
            q("severity", &f.severity),
            q("org_id", &f.org_id),
            q("assignee", &f.assignee),
            q("sla", &f.sla),
            q("search", &f.search),
            q("limit", &f.limit),
            q("cursor", &f.cursor),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.call(actor, Method::GET, "v1/incidents", None, NO_BODY, &query)
            .await
    }

    async fn get_incident(&self, actor: &Actor, id: &str) -> Result<IncidentDetail> {
        self.get(actor, &format!("v1/incidents/{}", seg(id))).await
    }

    async fn open_incident(&self, actor: &Actor, new: OpenIncident) -> Result<IncidentDetail> {
        self.call(actor, Method::POST, "v1/incidents", None, Some(&new), &[])
            .await
    }

    async fn comment_incident(
        &self,
        actor: &Actor,
        id: &str,
        comment: NewComment,
    ) -> Result<IncidentDetail> {
        let path = format!("v1/incidents/{}/comments", seg(id));
        self.call(actor, Method::POST, &path, None, Some(&comment), &[])
            .await
    }

    async fn change_incident(
        &self,
        actor: &Actor,
        id: &str,
        change: IncidentChange,
    ) -> Result<IncidentDetail> {
        let path = format!("v1/incidents/{}/changes", seg(id));
        self.call(actor, Method::POST, &path, None, Some(&change), &[])
            .await
    }

    async fn incident_metrics(&self, actor: &Actor, m: MetricsQuery) -> Result<IncidentMetrics> {
        let query: Vec<(&str, String)> = [
            m.from.map(|t| ("from", t.to_rfc3339())),
            m.to.map(|t| ("to", t.to_rfc3339())),
            q("org_id", &m.org_id),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.call(
            actor,
            Method::GET,
            "v1/incidents/metrics",
            None,
            NO_BODY,
            &query,
        )
        .await
    }

    async fn incident_counts(&self, actor: &Actor) -> Result<IncidentCounts> {
        self.get(actor, "v1/incidents/counts").await
    }

    async fn incident_people(&self, actor: &Actor) -> Result<Vec<IncidentPerson>> {
        self.get(actor, "v1/incidents/people").await
    }

    async fn sla_targets(&self, actor: &Actor) -> Result<Vec<SlaTarget>> {
        self.get(actor, "v1/sla").await
    }

    async fn set_sla_targets(
        &self,
        actor: &Actor,
        targets: Vec<SlaTarget>,
    ) -> Result<Vec<SlaTarget>> {
        let body = SlaTargetsBody { targets };
        self.call(actor, Method::PUT, "v1/sla", None, Some(&body), &[])
            .await
    }

    async fn list_escalation_policies(&self, actor: &Actor) -> Result<Vec<EscalationPolicy>> {
        self.get(actor, "v1/escalation-policies").await
    }

    async fn create_escalation_policy(
        &self,
        actor: &Actor,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        self.call(
            actor,
            Method::POST,
            "v1/escalation-policies",
            None,
            Some(&input),
            &[],
        )
        .await
    }

    async fn update_escalation_policy(
        &self,
        actor: &Actor,
        id: &str,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        let path = format!("v1/escalation-policies/{}", seg(id));
        self.call(actor, Method::PUT, &path, None, Some(&input), &[])
            .await
    }

    async fn delete_escalation_policy(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/escalation-policies/{}", seg(id));
        self.send(actor, Method::DELETE, &path, None, NO_BODY, &[])
            .await
            .map(|_| ())
    }
}
