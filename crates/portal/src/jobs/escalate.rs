//! The `escalations` job: SLA notices and escalation steps due on the active incidents.
//!
//! Exactly once per (incident, step, repeat): each record is made in one transaction that first
//! inserts its key into `incident_notifications` (a second insert of the same key changes
//! nothing, and the run moves on), then appends the event to the timeline, queues the step's
//! webhooks and writes the audit event. SLA notices use the same table with their own keys
//! (below), so they too are recorded once whatever runs the job.

use crate::local::{json, store_err, LocalPortal};
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::incident::{self, Change};
use domain::model::{
    Due, EscalationPolicy, EscalationTarget, Incident, IncidentCommand, IncidentEvent, SlaClock,
};
use domain::{Actor, Timestamp};
use std::collections::HashMap;
use store::{AuditBatch, Delivery};
use uuid::Uuid;

/// The `step` of an SLA notice in `incident_notifications` (escalation steps are 0 to 19); its
/// `repeat` is the resolve cycle (0 for the response clock).
fn notice_key(cmd: &IncidentCommand, cycle: u32) -> Option<(u32, u32)> {
    match cmd {
        IncidentCommand::RecordSlaAtRisk {
            clock: SlaClock::Response,
        } => Some((10_000, 0)),
        IncidentCommand::RecordSlaBreached {
            clock: SlaClock::Response,
        } => Some((10_001, 0)),
        IncidentCommand::RecordSlaAtRisk {
            clock: SlaClock::Resolve,
        } => Some((10_002, cycle)),
        IncidentCommand::RecordSlaBreached {
            clock: SlaClock::Resolve,
        } => Some((10_003, cycle)),
        _ => None,
    }
}

/// The policy that covers an incident: its organisation's override, else the default.
fn policy_for<'a>(policies: &'a [EscalationPolicy], i: &Incident) -> Option<&'a EscalationPolicy> {
    policies
        .iter()
        .find(|p| p.org_id.is_some() && p.org_id == i.org_id)
        .or_else(|| policies.iter().find(|p| p.org_id.is_none()))
}

/// The JSON a webhook receiver gets (Standard Webhooks' `type`, `timestamp`, `data`).
fn payload(incident: &Incident, policy: &EscalationPolicy, due: &Due, now: Timestamp) -> String {
    serde_json::json!({
        "type": "incident.escalated",
        "timestamp": now.to_rfc3339(),
        "data": {
            "incident": incident,
            "policy": { "id": policy.id, "name": policy.name },
            "step": due.step,
            "repeat": due.repeat,
            "due_at": due.at.to_rfc3339(),
        }
    })
    .to_string()
}

struct Record<'a> {
    incident: &'a Incident,
    command: IncidentCommand,
    key: (u32, u32),
    due_at: Timestamp,
    deliveries: Vec<Delivery>,
}

impl LocalPortal {
    pub(super) async fn run_escalations(&self) -> Result<String> {
        let now = self.now();
        let actor = Actor::system("escalations");
        let targets = self.all_targets().await?;
        let policies = self.store.escalation_policies().await.map_err(store_err)?;
        let active = self.store.active_incidents(None).await.map_err(store_err)?;
        let ids: Vec<Uuid> = active.iter().map(|i| i.id).collect();
        let mut timelines: HashMap<Uuid, Vec<IncidentEvent>> = HashMap::new();
        for e in self
            .store
            .incident_events_of(&ids)
            .await
            .map_err(store_err)?
        {
            timelines.entry(e.incident_id).or_default().push(e);
        }
        let (mut notices, mut escalations, mut queued, mut skipped) = (0, 0, 0, 0);
        for i in &active {
            let events = timelines.remove(&i.id).unwrap_or_default();
            let target = incident::target_for(&targets, i.severity);
            let cycle = incident::sla_state(&events, &target, now)
                .cycles
                .len()
                .saturating_sub(1) as u32;
            let mut records = Vec::new();
            for command in incident::sla_notices_due(&events, &target, now) {
                if let Some(key) = notice_key(&command, cycle) {
                    records.push(Record {
                        incident: i,
                        command,
                        key,
                        due_at: now,
                        deliveries: vec![],
                    });
                }
            }
            if let Some(policy) = policy_for(&policies, i) {
                for due in incident::due_notifications(policy, i, &events, now) {
                    let Some(step) = policy.rules.get(due.step) else {
                        continue;
                    };
                    let body = payload(i, policy, &due, now);
                    let deliveries = step
                        .targets
                        .iter()
                        .filter_map(|t| match t {
                            EscalationTarget::Webhook { url } => Some(Delivery {
                                id: Uuid::now_v7(),
                                incident_id: i.id,
                                step: due.step as u32,
                                repeat: due.repeat,
                                url: url.clone(),
                                payload: body.clone(),
                                attempts: 0,
                                next_attempt_at: now,
                            }),
                            _ => None,
                        })
                        .collect();
                    records.push(Record {
                        incident: i,
                        command: IncidentCommand::RecordEscalation {
                            step: due.step,
                            repeat: due.repeat,
                            targets: step.targets.clone(),
                        },
                        key: (due.step as u32, due.repeat),
                        due_at: due.at,
                        deliveries,
                    });
                }
            }
            // Each record moves the incident one version on: the next expects that version.
            let mut expected = i.version;
            for r in records {
                let is_notice = r.key.0 >= 10_000;
                let n = r.deliveries.len();
                match self.record(&actor, r, expected, now).await? {
                    true => {
                        expected += 1;
                        if is_notice {
                            notices += 1;
                        } else {
                            escalations += 1;
                            queued += n;
                        }
                    }
                    false => skipped += 1,
                }
            }
        }
        Ok(format!(
            "{} active incidents: {notices} SLA notices and {escalations} escalations recorded, {queued} webhooks queued{}",
            active.len(),
            if skipped > 0 {
                format!(", {skipped} left for the next run (recorded elsewhere, or the incident changed meanwhile)")
            } else {
                String::new()
            }
        ))
    }

    /// Records one notice or escalation, exactly once; `false` when it was recorded already or
    /// the incident is no longer at the `expected` version (someone changed it since the run
    /// read it: the next run decides again).
    async fn record(
        &self,
        actor: &Actor,
        r: Record<'_>,
        expected: i64,
        now: Timestamp,
    ) -> Result<bool> {
        let seen = r.incident.clone();
        let event_id = Uuid::now_v7();
        let outcome = self
            .write(actor, |mut tx| async move {
                let Some(current) = tx.incident_for_update(seen.id).await.map_err(store_err)?
                else {
                    return Ok((tx, false, None));
                };
                if current.version != expected {
                    return Ok((tx, false, None));
                }
                let fresh = tx
                    .record_notification(seen.id, r.key.0, r.key.1, event_id, r.due_at, now)
                    .await
                    .map_err(store_err)?;
                if !fresh {
                    return Ok((tx, false, None));
                }
                let change = Change {
                    event_id,
                    actor_id: actor.id.clone(),
                    actor_name: actor.name.clone(),
                    occurred_at: now,
                    recorded_at: now,
                    base_version: current.version,
                };
                let (next, event) = incident::apply(&current, &r.command, &change)?;
                tx.record_incident_change(&next, &event)
                    .await
                    .map_err(store_err)?;
                for d in &r.deliveries {
                    tx.queue_delivery(d, now).await.map_err(store_err)?;
                }
                let mut after = json(&next);
                after["event"] = json(&event.kind);
                let audit = AuditDraft::change(
                    crate::incidents::local::ENTITY,
                    &seen.id.to_string(),
                    event.kind.name(),
                    Some(&json(&current)),
                    Some(&after),
                );
                Ok((tx, true, Some(AuditBatch::one(audit))))
            })
            .await;
        match outcome {
            // Another instance changed the incident between our read and our write.
            Err(Error::NotFound(_)) | Err(Error::Conflict(_)) => Ok(false),
            other => other,
        }
    }
}
