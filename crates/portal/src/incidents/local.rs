//! `impl Incidents for LocalPortal`: the incident operations (`settings.rs` holds SLA targets
//! and escalation policies, `report.rs` the metrics and counts).

use super::{Incidents, NewComment};
use crate::local::{json, page_limit, parse_id, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::incident::IncidentMetrics;
use domain::incident::{self, Change};
use domain::model::{
    ClockStatus, EscalationPolicy, Incident, IncidentChange, IncidentCommand, IncidentCounts,
    IncidentDetail, IncidentEvent, IncidentFilter, IncidentPerson, IncidentSummary, MetricsQuery,
    NewIncident, OpenIncident, Page, PolicyInput, SlaFilter, SlaState, SlaTarget, PEOPLE_MAX,
    SEARCH_MAX,
};
use domain::{Actor, ActorType, Permission, Role, Timestamp};
use std::collections::HashMap;
use store::{AuditBatch, IncidentQuery};
use uuid::Uuid;

pub(crate) const ENTITY: &str = "incident";
/// How many incidents an SLA-filtered list examines at most per page (the filter needs each
/// one's timeline); the page ends there with a cursor to go on.
const SLA_SCAN_MAX: usize = 5_000;

pub(crate) fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no incident {id} exists"))
}

/// The organisation a client-role actor is bound to.
pub(crate) fn own_org(actor: &Actor) -> Option<Uuid> {
    match actor.role {
        Role::Client(own) => Some(own),
        _ => None,
    }
}

impl LocalPortal {
    /// May `actor` see `incident`? Staff with `read_incidents` see all; a client only its own
    /// organisation's. Anything else reads as absent.
    pub(crate) fn visible(&self, actor: &Actor, incident: &Incident) -> Result<()> {
        match actor.role {
            Role::Client(_)
                if !actor
                    .role
                    .allows(Permission::ReadIncidents, incident.org_id) =>
            {
                Err(not_found(incident.id))
            }
            _ => self.authorize(actor, Permission::ReadIncidents, incident.org_id),
        }
    }

    /// May `actor` apply `command` to `incident` (which it sees), and is the command well-formed?
    pub(crate) fn may_change(
        &self,
        actor: &Actor,
        incident: &Incident,
        command: &IncidentCommand,
    ) -> Result<()> {
        self.visible(actor, incident)?;
        let needed = match command {
            IncidentCommand::Comment { .. } => Permission::CommentIncidents,
            _ => Permission::ManageIncidents,
        };
        self.authorize(actor, needed, incident.org_id)?;
        if matches!(
            command,
            IncidentCommand::RecordEscalation { .. }
                | IncidentCommand::RecordSlaAtRisk { .. }
                | IncidentCommand::RecordSlaBreached { .. }
        ) && actor.actor_type != ActorType::System
        {
            return Err(Error::Forbidden(
                "escalations and SLA notices are recorded by the server's jobs, not by people"
                    .into(),
            ));
        }
        incident::check_command(command)
    }

    /// Every severity's target (configured, else default).
    pub(crate) async fn all_targets(&self) -> Result<Vec<SlaTarget>> {
        let stored = self.store.sla_targets().await.map_err(store_err)?;
        Ok(domain::model::Severity::ALL
            .into_iter()
            .map(|s| incident::target_for(&stored, s))
            .collect())
    }

    pub(crate) async fn detail(&self, incident: Incident) -> Result<IncidentDetail> {
        let timeline = self
            .store
            .incident_events(incident.id)
            .await
            .map_err(store_err)?;
        let target = incident::target_for(&self.all_targets().await?, incident.severity);
        let sla = incident::sla_state(&timeline, &target, self.now());
        Ok(IncidentDetail {
            incident,
            timeline: incident::in_timeline_order(&timeline)
                .into_iter()
                .cloned()
                .collect(),
            sla,
            target,
        })
    }

    /// The SLA state of each incident, from one query for all their timelines.
    pub(super) async fn sla_of(
        &self,
        incidents: &[Incident],
        targets: &[SlaTarget],
    ) -> Result<Vec<SlaState>> {
        let ids: Vec<Uuid> = incidents.iter().map(|i| i.id).collect();
        let mut events: HashMap<Uuid, Vec<IncidentEvent>> = HashMap::new();
        // Only the events that move the clocks: a page of long timelines is mostly comments.
        for e in self
            .store
            .incident_clock_events_of(&ids)
            .await
            .map_err(store_err)?
        {
            events.entry(e.incident_id).or_default().push(e);
        }
        let now = self.now();
        Ok(incidents
            .iter()
            .map(|i| {
                let timeline = events.get(&i.id).map(Vec::as_slice).unwrap_or(&[]);
                incident::sla_state(timeline, &incident::target_for(targets, i.severity), now)
            })
            .collect())
    }

    /// When the person did it: their clock when given, never later than now (a device whose
    /// clock runs ahead cannot date a change in the future).
    fn occurred(&self, given: Option<Timestamp>) -> (Timestamp, Timestamp) {
        let now = self.now();
        (given.map_or(now, |t| t.min(now)), now)
    }

    fn change_of(
        &self,
        actor: &Actor,
        event_id: Option<Uuid>,
        base: i64,
        at: Option<Timestamp>,
    ) -> Change {
        let (occurred_at, recorded_at) = self.occurred(at);
        Change {
            event_id: event_id.unwrap_or_else(Uuid::now_v7),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            occurred_at,
            recorded_at,
            base_version: base,
        }
    }

    /// Applies one change in one transaction with its audit event; a retried event id returns
    /// the incident as it is.
    async fn apply_change(
        &self,
        actor: &Actor,
        id: Uuid,
        command: IncidentCommand,
        event_id: Option<Uuid>,
        base_version: Option<i64>,
        occurred_at: Option<Timestamp>,
    ) -> Result<IncidentDetail> {
        let current = self
            .store
            .incident(id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(id))?;
        self.may_change(actor, &current, &command)?;
        let this = self;
        let updated = self
            .write(actor, |mut tx| async move {
                let incident = tx
                    .incident_for_update(id)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| not_found(id))?;
                if let Some(eid) = event_id {
                    if let Some(done) = tx.incident_event(eid).await.map_err(store_err)? {
                        if done.incident_id != id {
                            return Err(Error::conflict(format!(
                                "the change id {eid} was already used for another incident"
                            )));
                        }
                        return Ok((tx, incident, None));
                    }
                }
                let mut change = this.change_of(
                    actor,
                    event_id,
                    base_version.unwrap_or(incident.version),
                    occurred_at,
                );
                // A change made offline counts when it was made, bounded to [opened, received].
                change.occurred_at = change.occurred_at.max(incident.opened_at);
                let (next, event) = incident::apply(&incident, &command, &change)?;
                tx.record_incident_change(&next, &event)
                    .await
                    .map_err(store_err)?;
                let mut after = json(&next);
                after["event"] = json(&event.kind);
                let audit = AuditDraft::change(
                    ENTITY,
                    &id.to_string(),
                    event.kind.name(),
                    Some(&json(&incident)),
                    Some(&after),
                );
                Ok((tx, next, Some(AuditBatch::one(audit))))
            })
            .await?;
        self.detail(updated).await
    }

    /// A list filtered by SLA standing: incidents are examined newest first, a page of the
    /// store at a time, until the page is full or [`SLA_SCAN_MAX`] were examined.
    async fn list_by_sla(
        &self,
        mut q: IncidentQuery,
        wanted: SlaFilter,
        limit: u32,
        targets: &[SlaTarget],
    ) -> Result<Page<IncidentSummary>> {
        let keep = |s: &SlaState| {
            let statuses = [s.response.status, s.resolve.status];
            let breached = statuses.contains(&ClockStatus::Breached);
            let at_risk = statuses.contains(&ClockStatus::AtRisk);
            match wanted {
                SlaFilter::Breached => breached,
                SlaFilter::AtRisk => at_risk && !breached,
                SlaFilter::Attention => at_risk || breached,
            }
        };
        let mut items = Vec::new();
        let mut examined = 0;
        loop {
            // Asking for no more than the page still needs keeps the store's cursor exact: every
            // incident fetched is examined, so the next page starts after the last one.
            let need = limit - items.len() as u32;
            let page = self.store.incidents(&q, need).await.map_err(store_err)?;
            examined += page.items.len();
            let states = self.sla_of(&page.items, targets).await?;
            for (incident, sla) in page.items.into_iter().zip(states) {
                if keep(&sla) {
                    items.push(IncidentSummary { incident, sla });
                }
            }
            match page.next_cursor {
                Some(next) if items.len() < limit as usize && examined < SLA_SCAN_MAX => {
                    q.cursor = Some(next);
                }
                next => {
                    let next_cursor = if items.len() < limit as usize && examined < SLA_SCAN_MAX {
                        None
                    } else {
                        next
                    };
                    return Ok(Page { items, next_cursor });
                }
            }
        }
    }
}

#[async_trait]
impl Incidents for LocalPortal {
    async fn list_incidents(
        &self,
        actor: &Actor,
        mut filter: IncidentFilter,
    ) -> Result<Page<IncidentSummary>> {
        let limit = page_limit(filter.limit)?;
        for (field, value) in [("search", &filter.search), ("assignee", &filter.assignee)] {
            if value
                .as_ref()
                .is_some_and(|s| s.chars().count() > SEARCH_MAX)
            {
                return Err(Error::invalid(
                    field,
                    format!("must be at most {SEARCH_MAX} characters"),
                ));
            }
            if let Some(Err(m)) = value.as_deref().map(domain::validate::check_text) {
                return Err(Error::invalid(field, m));
            }
        }
        if let Some(own) = own_org(actor) {
            self.authorize(actor, Permission::ReadIncidents, Some(own))?;
            if filter.org_id.is_some_and(|o| o != own) {
                // Another organisation's incidents do not exist for this user.
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            filter.org_id = Some(own);
        } else {
            self.authorize(actor, Permission::ReadIncidents, None)?;
        }
        let targets = self.all_targets().await?;
        let q = IncidentQuery::from_filter(&filter);
        if let Some(wanted) = filter.sla {
            return self.list_by_sla(q, wanted, limit, &targets).await;
        }
        let page = self.store.incidents(&q, limit).await.map_err(store_err)?;
        let states = self.sla_of(&page.items, &targets).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .zip(states)
                .map(|(incident, sla)| IncidentSummary { incident, sla })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn get_incident(&self, actor: &Actor, id: &str) -> Result<IncidentDetail> {
        let id = parse_id("id", id)?;
        let incident = self
            .store
            .incident(id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(id))?;
        self.visible(actor, &incident)?;
        self.detail(incident).await
    }

    async fn open_incident(&self, actor: &Actor, new: OpenIncident) -> Result<IncidentDetail> {
        let org_id = match own_org(actor) {
            Some(own) => Some(new.org_id.unwrap_or(own)),
            None => new.org_id,
        };
        self.authorize(actor, Permission::OpenIncidents, org_id)?;
        if let Some(org) = org_id {
            if self.store.client(org).await.map_err(store_err)?.is_none() {
                return Err(Error::invalid(
                    "org_id",
                    format!("no client organisation {org} exists"),
                ));
            }
        }
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        let input = NewIncident {
            id,
            title: new.title.clone(),
            severity: new.severity,
            org_id,
            impact_started_at: new.impact_started_at,
        };
        let change = self.change_of(actor, Some(Uuid::now_v7()), 0, new.occurred_at);
        let (incident, opened) = incident::open(&input, &change)?;
        let opened_incident = self
            .write(actor, |mut tx| async move {
                if let Some(existing) = tx.incident_for_update(id).await.map_err(store_err)? {
                    // A retry of the same opening returns it; anything else is a clash of ids.
                    let same = existing.title == incident.title
                        && existing.severity == incident.severity
                        && existing.org_id == incident.org_id
                        && existing.created_by == incident.created_by;
                    if same {
                        return Ok((tx, existing, None));
                    }
                    return Err(Error::conflict(format!(
                        "an incident with the id {id} already exists; open it with a new id"
                    )));
                }
                tx.insert_incident(&incident, &opened)
                    .await
                    .map_err(store_err)?;
                let audit = AuditDraft::change(
                    ENTITY,
                    &id.to_string(),
                    "open",
                    None,
                    Some(&json(&incident)),
                );
                Ok((tx, incident, Some(AuditBatch::one(audit))))
            })
            .await?;
        self.visible(actor, &opened_incident)?;
        self.detail(opened_incident).await
    }

    async fn comment_incident(
        &self,
        actor: &Actor,
        id: &str,
        comment: NewComment,
    ) -> Result<IncidentDetail> {
        let id = parse_id("id", id)?;
        let command = IncidentCommand::Comment { text: comment.text };
        self.apply_change(
            actor,
            id,
            command,
            comment.event_id,
            None,
            comment.occurred_at,
        )
        .await
    }

    async fn change_incident(
        &self,
        actor: &Actor,
        id: &str,
        change: IncidentChange,
    ) -> Result<IncidentDetail> {
        let id = parse_id("id", id)?;
        self.apply_change(
            actor,
            id,
            change.command,
            change.event_id,
            change.base_version,
            change.occurred_at,
        )
        .await
    }

    async fn incident_metrics(&self, actor: &Actor, q: MetricsQuery) -> Result<IncidentMetrics> {
        self.metrics(actor, q).await
    }

    async fn incident_counts(&self, actor: &Actor) -> Result<IncidentCounts> {
        self.counts(actor).await
    }

    async fn incident_people(&self, actor: &Actor) -> Result<Vec<IncidentPerson>> {
        let org = own_org(actor);
        self.authorize(actor, Permission::ReadIncidents, org)?;
        self.store
            .incident_people(org, PEOPLE_MAX)
            .await
            .map_err(store_err)
    }

    async fn sla_targets(&self, actor: &Actor) -> Result<Vec<SlaTarget>> {
        self.authorize(actor, Permission::ReadIncidents, own_org(actor))?;
        self.all_targets().await
    }

    async fn set_sla_targets(
        &self,
        actor: &Actor,
        targets: Vec<SlaTarget>,
    ) -> Result<Vec<SlaTarget>> {
        self.save_targets(actor, targets).await
    }

    async fn list_escalation_policies(&self, actor: &Actor) -> Result<Vec<EscalationPolicy>> {
        self.authorize(actor, Permission::ReadEscalation, None)?;
        self.store.escalation_policies().await.map_err(store_err)
    }

    async fn create_escalation_policy(
        &self,
        actor: &Actor,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        self.save_policy(actor, None, input).await
    }

    async fn update_escalation_policy(
        &self,
        actor: &Actor,
        id: &str,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        let id = parse_id("id", id)?;
        self.save_policy(actor, Some(id), input).await
    }

    async fn delete_escalation_policy(&self, actor: &Actor, id: &str) -> Result<()> {
        let id = parse_id("id", id)?;
        self.remove_policy(actor, id).await
    }
}
