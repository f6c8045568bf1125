//! `impl SyncApi for LocalPortal`: the upstream's push and pull, over the portal's store.

use super::push::{BatchView, DirectView};
use super::SyncApi;
use crate::incidents::local::{own_org, ENTITY};
use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::model::{
    Mutation, MutationOp, MutationOutcome, MutationResult, PullResponse, PushRequest, PushResponse,
    PULL_MAX,
};
use domain::sync::{check_batch, outcome_of};
use domain::{Actor, Permission, Timestamp};
use std::collections::HashSet;
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

pub(super) fn mutation_draft(
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
pub(super) fn provenance(client_id: Uuid, m: &Mutation) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id,
        "mutation_id": m.mutation_id,
        "occurred_at": m.occurred_at,
    })
}

/// A mutation's outcome and audit event.
type Decided = (MutationOutcome, AuditDraft);

/// The outcome of a mutation rejected for `e`.
fn rejected(client_id: Uuid, m: &Mutation, e: &Error) -> Decided {
    let detail = serde_json::json!({ "reason": e.to_string() });
    (
        outcome_of(e),
        mutation_draft(client_id, m, "rejected", detail),
    )
}

impl LocalPortal {
    /// Decides the batch over its state read up front and writes what it changed at once.
    async fn push_batch(
        &self,
        tx: &mut dyn WriteTx,
        actor: &Actor,
        client_id: Uuid,
        todo: &[Mutation],
        now: Timestamp,
    ) -> Result<Vec<Decided>> {
        let mut view = BatchView::prefetch(tx, client_id, todo).await?;
        let mut decided = Vec::with_capacity(todo.len());
        for m in todo {
            decided.push(
                match self.decide(&mut view, actor, client_id, m, now).await {
                    Ok(d) => d,
                    Err(e) if rejectable(&e) => rejected(client_id, m, &e),
                    Err(e) => return Err(e),
                },
            );
        }
        view.flush(now).await?;
        Ok(decided)
    }

    /// Decides and writes each mutation under its own savepoint.
    async fn push_each(
        &self,
        tx: &mut dyn WriteTx,
        actor: &Actor,
        client_id: Uuid,
        todo: &[Mutation],
        now: Timestamp,
    ) -> Result<Vec<Decided>> {
        let mut view = DirectView::new(tx);
        let mut decided = Vec::with_capacity(todo.len());
        for m in todo {
            view.tx.savepoint().await.map_err(store_err)?;
            let d = match self.decide(&mut view, actor, client_id, m, now).await {
                Ok(d) => d,
                Err(e) if rejectable(&e) => {
                    view.tx.rollback_to_savepoint().await.map_err(store_err)?;
                    rejected(client_id, m, &e)
                }
                Err(e) => return Err(e),
            };
            view.tx.release_savepoint().await.map_err(store_err)?;
            decided.push(d);
        }
        Ok(decided)
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
                let todo = &push.mutations[done..];
                // The batch decided in memory and written in a few statements; should writing
                // it fail (a rule only the database knows), every mutation again under its own
                // savepoint, so that one mutation's failure never takes the others down.
                tx.savepoint().await.map_err(store_err)?;
                let decided = match this.push_batch(&mut *tx, actor, client_id, todo, now).await {
                    Ok(decided) => {
                        tx.release_savepoint().await.map_err(store_err)?;
                        decided
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a pushed batch could not be written at once; applying it mutation by mutation");
                        tx.rollback_to_savepoint().await.map_err(store_err)?;
                        tx.release_savepoint().await.map_err(store_err)?;
                        this.push_each(&mut *tx, actor, client_id, todo, now).await?
                    }
                };
                let mut drafts = Vec::with_capacity(decided.len());
                let mut recorded = Vec::with_capacity(decided.len());
                for (m, (outcome, draft)) in todo.iter().zip(decided) {
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
