//! `impl SyncApi for LocalPortal`: the upstream's push and pull, over the portal's store.

use super::SyncApi;
use crate::incidents::local::{not_found, own_org, ENTITY};
use crate::local::{json, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::model::{
    Incident, Mutation, MutationOp, MutationOutcome, MutationResult, PullResponse, PushRequest,
    PushResponse, PULL_MAX,
};
use domain::sync::{
    apply_mutation, check_batch, edited_field, field_conflicts, outcome_of, touches_edited_field,
};
use domain::{Actor, Permission, Timestamp};
use std::collections::{HashMap, HashSet};
use store::{AuditBatch, SyncClient, WriteTx};
use uuid::Uuid;

/// The audit entity of a pushed mutation that was not applied.
const MUTATION: &str = "sync_mutation";

/// The errors a mutation is rejected for; any other (the database failing) fails the push,
/// which the device retries.
fn rejectable(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict(_) | Error::Invalid(_) | Error::Forbidden(_) | Error::NotFound(_)
    )
}

fn mutation_draft(
    client_id: Uuid,
    m: &Mutation,
    action: &str,
    detail: serde_json::Value,
) -> AuditDraft {
    AuditDraft::change(
        MUTATION,
        &format!("{client_id}:{}", m.mutation_id),
        action,
        None,
        Some(&serde_json::json!({
            "incident_id": m.incident_id,
            "name": m.op.name(),
            "occurred_at": m.occurred_at,
            "detail": detail,
        })),
    )
}

/// What the audit trail says of an applied mutation besides the incident's change.
fn provenance(client_id: Uuid, m: &Mutation) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id,
        "mutation_id": m.mutation_id,
        "occurred_at": m.occurred_at,
    })
}

impl LocalPortal {
    /// Applies one mutation inside the push's transaction: its outcome and audit event, or the
    /// error it is rejected for (the caller rolls back to the savepoint).
    async fn apply_pushed(
        &self,
        tx: &mut dyn WriteTx,
        actor: &Actor,
        client_id: Uuid,
        m: &Mutation,
        now: Timestamp,
        known: &mut HashMap<Uuid, Incident>,
    ) -> Result<(MutationOutcome, AuditDraft)> {
        let id = m.incident_id;
        // An incident an applied mutation of this push changed is locked (its savepoint was
        // released) and as the push left it. (A read under a savepoint rolled back is not
        // kept: its row lock went with it.)
        let current = match known.get(&id) {
            Some(i) => Some(i.clone()),
            None => tx.incident_for_update(id).await.map_err(store_err)?,
        };
        let already = |i: &Incident| {
            let outcome = MutationOutcome::Applied { version: i.version };
            let draft = mutation_draft(client_id, m, "already_applied", serde_json::json!({}));
            Ok((outcome, draft))
        };
        match (&m.op, current) {
            (MutationOp::OpenIncident(new), existing) => {
                let org = match own_org(actor) {
                    Some(own) => Some(new.org_id.unwrap_or(own)),
                    None => new.org_id,
                };
                self.authorize(actor, Permission::OpenIncidents, org)?;
                if let Some(existing) = existing {
                    let same = existing.created_by == actor.id
                        && existing.title == new.title.trim()
                        && existing.severity == new.severity
                        && existing.org_id == org;
                    return if same {
                        already(&existing)
                    } else {
                        Err(Error::conflict(format!(
                            "an incident with the id {id} already exists"
                        )))
                    };
                }
                if let Some(o) = org {
                    if tx.client_for_update(o).await.map_err(store_err)?.is_none() {
                        return Err(Error::invalid(
                            "org_id",
                            format!("no client organisation {o} exists"),
                        ));
                    }
                }
                let mut m = m.clone();
                if let MutationOp::OpenIncident(n) = &mut m.op {
                    n.org_id = org;
                }
                let (incident, opened) = apply_mutation(None, &m, &actor.id, &actor.name, now)?;
                tx.insert_incident(&incident, &opened)
                    .await
                    .map_err(store_err)?;
                known.insert(id, incident.clone());
                let mut after = json(&incident);
                after["sync"] = provenance(client_id, &m);
                let draft = AuditDraft::change(ENTITY, &id.to_string(), "open", None, Some(&after));
                Ok((MutationOutcome::Applied { version: 1 }, draft))
            }
            (MutationOp::ChangeIncident(_), None) => Err(not_found(id)),
            (MutationOp::ChangeIncident(command), Some(current)) => {
                self.may_change(actor, &current, command)?;
                if let Some(done) = tx.incident_event(m.event_id).await.map_err(store_err)? {
                    return if done.incident_id == id {
                        already(&current)
                    } else {
                        Err(Error::conflict(format!(
                            "the change id {} was already used for another incident",
                            m.event_id
                        )))
                    };
                }
                // Only a field edit needs what happened since its base, and only when that
                // touched its field does it matter which events were this device's own.
                let since = match edited_field(command) {
                    Some(_) => tx
                        .incident_events_since(id, m.base_version.max(0))
                        .await
                        .map_err(store_err)?,
                    None => Vec::new(),
                };
                let own: HashSet<Uuid> = if touches_edited_field(&since, command) {
                    tx.own_sync_events(client_id, id)
                        .await
                        .map_err(store_err)?
                        .into_iter()
                        .collect()
                } else {
                    HashSet::new()
                };
                let fields = field_conflicts(&current, &since, command, |e| own.contains(&e));
                if !fields.is_empty() {
                    let detail = serde_json::json!({ "fields": fields });
                    let draft = mutation_draft(client_id, m, "conflict", detail);
                    let outcome = MutationOutcome::Conflict {
                        fields,
                        current_version: current.version,
                    };
                    return Ok((outcome, draft));
                }
                let (next, event) = apply_mutation(Some(&current), m, &actor.id, &actor.name, now)?;
                tx.record_incident_change(&next, &event)
                    .await
                    .map_err(store_err)?;
                known.insert(id, next.clone());
                let mut after = json(&next);
                after["event"] = json(&event.kind);
                after["sync"] = provenance(client_id, m);
                let draft = AuditDraft::change(
                    ENTITY,
                    &id.to_string(),
                    event.kind.name(),
                    Some(&json(&current)),
                    Some(&after),
                );
                Ok((
                    MutationOutcome::Applied {
                        version: next.version,
                    },
                    draft,
                ))
            }
        }
    }
}

fn check_shape(push: &PushRequest) -> Result<Vec<i64>> {
    if push.client_id.is_nil() {
        return Err(Error::invalid("client_id", "must not be the nil UUID"));
    }
    for (k, m) in push.mutations.iter().enumerate() {
        if m.event_id.is_nil() || m.incident_id.is_nil() {
            return Err(Error::invalid(
                format!("mutations[{k}]"),
                "incident_id and event_id must not be the nil UUID",
            ));
        }
        if let MutationOp::OpenIncident(n) = &m.op {
            if n.id != m.incident_id {
                return Err(Error::invalid(
                    format!("mutations[{k}].args.id"),
                    "must be the mutation's incident_id",
                ));
            }
        }
    }
    Ok(push.mutations.iter().map(|m| m.mutation_id).collect())
}

#[async_trait]
impl SyncApi for LocalPortal {
    async fn sync_push(&self, actor: &Actor, push: PushRequest) -> Result<PushResponse> {
        self.authorize(actor, Permission::ReadIncidents, own_org(actor))?;
        let ids = check_shape(&push)?;
        check_batch(0, &ids).or_else(|e| match e {
            // Only the shape here; the gap is checked against the ledger below.
            Error::Conflict(_) => Ok(0),
            e => Err(e),
        })?;
        let client_id = push.client_id;
        let this = self;
        let response = self
            .write(actor, |mut tx| async move {
                let known = tx
                    .sync_client_for_update(client_id)
                    .await
                    .map_err(store_err)?;
                if known.as_ref().is_some_and(|k| k.actor_id != actor.id) {
                    return Err(Error::Forbidden(
                        "this device id is another person's: sign in again to rebuild the replica"
                            .into(),
                    ));
                }
                let now = this.now();
                let last = known.as_ref().map_or(0, |k| k.last_mutation_id);
                let done = check_batch(last, &ids)?;
                let mut results = Vec::with_capacity(ids.len());
                if done > 0 {
                    results = tx
                        .sync_results(client_id, ids[0], ids[done - 1])
                        .await
                        .map_err(store_err)?;
                }
                let mut ledger = SyncClient {
                    actor_id: actor.id.clone(),
                    last_mutation_id: last,
                };
                if known.is_none() {
                    tx.put_sync_client(client_id, &ledger, now)
                        .await
                        .map_err(store_err)?;
                }
                let mut drafts = Vec::new();
                let mut recorded = Vec::new();
                let mut known = HashMap::new();
                for m in &push.mutations[done..] {
                    tx.savepoint().await.map_err(store_err)?;
                    let (outcome, draft) = match this
                        .apply_pushed(&mut *tx, actor, client_id, m, now, &mut known)
                        .await
                    {
                        Ok(done) => done,
                        Err(e) if rejectable(&e) => {
                            tx.rollback_to_savepoint().await.map_err(store_err)?;
                            let detail = serde_json::json!({ "reason": e.to_string() });
                            (
                                outcome_of(&e),
                                mutation_draft(client_id, m, "rejected", detail),
                            )
                        }
                        Err(e) => return Err(e),
                    };
                    tx.release_savepoint().await.map_err(store_err)?;
                    let result = MutationResult {
                        mutation_id: m.mutation_id,
                        incident_id: m.incident_id,
                        outcome,
                    };
                    recorded.push((result.clone(), m.event_id));
                    results.push(result);
                    drafts.push(draft);
                    ledger.last_mutation_id = m.mutation_id;
                }
                tx.record_sync_results(client_id, &recorded, now)
                    .await
                    .map_err(store_err)?;
                if !drafts.is_empty() {
                    tx.put_sync_client(client_id, &ledger, now)
                        .await
                        .map_err(store_err)?;
                }
                let response = PushResponse {
                    last_mutation_id: ledger.last_mutation_id,
                    results,
                };
                Ok((tx, response, AuditBatch::from_vec(drafts)))
            })
            .await?;
        Ok(response)
    }

    async fn sync_pull(
        &self,
        actor: &Actor,
        cursor: i64,
        limit: Option<u32>,
    ) -> Result<PullResponse> {
        let own = own_org(actor);
        self.authorize(actor, Permission::ReadIncidents, own)?;
        if cursor < 0 {
            return Err(Error::invalid("cursor", "must be 0 or more"));
        }
        let limit = match limit {
            None => PULL_MAX,
            Some(l) if (1..=PULL_MAX).contains(&l) => l,
            Some(_) => return Err(Error::invalid("limit", format!("must be 1 to {PULL_MAX}"))),
        };
        let changes = self
            .store
            .changes_after(cursor, limit)
            .await
            .map_err(store_err)?;
        let more = changes.len() == limit as usize;
        let next = changes.last().map_or(cursor, |c| c.seq);
        let mut seen = HashSet::new();
        let ids: Vec<Uuid> = changes
            .iter()
            .filter(|c| c.entity_type == ENTITY)
            .filter_map(|c| Uuid::parse_str(&c.entity_id).ok())
            .filter(|id| seen.insert(*id))
            .collect();
        let settings = cursor == 0
            || changes
                .iter()
                .any(|c| c.entity_type == "sla_targets" || c.entity_type == "escalation_policy");
        let mut incidents = self.store.incidents_by_ids(&ids).await.map_err(store_err)?;
        incidents.retain(|i| self.visible(actor, i).is_ok());
        incidents.sort_by_key(|i| i.id);
        let visible: Vec<Uuid> = incidents.iter().map(|i| i.id).collect();
        let events = self
            .store
            .incident_events_of(&visible)
            .await
            .map_err(store_err)?;
        let sla_targets = if settings {
            Some(self.all_targets().await?)
        } else {
            None
        };
        let policies = if settings && actor.role.allows(Permission::ReadEscalation, None) {
            Some(self.store.escalation_policies().await.map_err(store_err)?)
        } else {
            None
        };
        Ok(PullResponse {
            cursor: next,
            more,
            incidents,
            events,
            sla_targets,
            policies,
        })
    }
}
