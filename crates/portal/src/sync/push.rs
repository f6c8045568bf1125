//! Deciding a pushed mutation, over one of two views of the upstream: straight through the
//! transaction ([`DirectView`]: one mutation under its savepoint), or a batch's state read in a
//! few statements with its writes kept for a few multi-row statements at the end
//! ([`BatchView`]). The rules are written once, in [`LocalPortal::decide`]; the push uses the
//! batch and falls back to the direct view, mutation by mutation, when writing the batch fails.

use crate::incidents::local::{not_found, own_org, ENTITY};
use crate::local::{json, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::model::{Incident, IncidentEvent, Mutation, MutationOp, MutationOutcome};
use domain::sync::{apply_mutation, edited_field, field_conflicts, touches_edited_field};
use domain::{Actor, Permission, Timestamp};
use std::collections::{HashMap, HashSet};
use store::WriteTx;
use uuid::Uuid;

use super::local::{mutation_draft, provenance};

/// What deciding a mutation reads of the upstream and writes to it.
#[async_trait]
pub(super) trait PushView: Send {
    /// The incident as this push has left it so far (locked).
    async fn incident(&mut self, id: Uuid) -> Result<Option<Incident>>;
    /// The incident an event id was recorded on, if any was.
    async fn event_owner(&mut self, event_id: Uuid) -> Result<Option<Uuid>>;
    /// The incident's events after version `after`, in recording order.
    async fn events_since(&mut self, id: Uuid, after: i64) -> Result<Vec<IncidentEvent>>;
    /// The events this device's applied mutations recorded on the incident.
    async fn own_events(&mut self, client_id: Uuid, id: Uuid) -> Result<HashSet<Uuid>>;
    async fn client_exists(&mut self, org: Uuid) -> Result<bool>;
    async fn insert(&mut self, incident: &Incident, opened: &IncidentEvent) -> Result<()>;
    async fn change(&mut self, next: &Incident, event: &IncidentEvent) -> Result<()>;
}

/// Straight through the transaction.
pub(super) struct DirectView<'a> {
    pub tx: &'a mut dyn WriteTx,
    /// Incidents an applied mutation of this push changed: locked (its savepoint was released)
    /// and as the push left them. (A read under a savepoint rolled back is not kept: its row
    /// lock went with it.)
    pub known: HashMap<Uuid, Incident>,
    /// Events this push applied, by incident (not in the results ledger until the end).
    pub applied: HashMap<Uuid, HashSet<Uuid>>,
}

impl<'a> DirectView<'a> {
    pub fn new(tx: &'a mut dyn WriteTx) -> Self {
        DirectView {
            tx,
            known: HashMap::new(),
            applied: HashMap::new(),
        }
    }
}

#[async_trait]
impl PushView for DirectView<'_> {
    async fn incident(&mut self, id: Uuid) -> Result<Option<Incident>> {
        match self.known.get(&id) {
            Some(i) => Ok(Some(i.clone())),
            None => self.tx.incident_for_update(id).await.map_err(store_err),
        }
    }
    async fn event_owner(&mut self, event_id: Uuid) -> Result<Option<Uuid>> {
        let e = self.tx.incident_event(event_id).await.map_err(store_err)?;
        Ok(e.map(|e| e.incident_id))
    }
    async fn events_since(&mut self, id: Uuid, after: i64) -> Result<Vec<IncidentEvent>> {
        self.tx
            .incident_events_since(id, after)
            .await
            .map_err(store_err)
    }
    async fn own_events(&mut self, client_id: Uuid, id: Uuid) -> Result<HashSet<Uuid>> {
        let mut own: HashSet<Uuid> = self
            .tx
            .own_sync_events(client_id, id)
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        own.extend(self.applied.get(&id).into_iter().flatten().copied());
        Ok(own)
    }
    async fn client_exists(&mut self, org: Uuid) -> Result<bool> {
        let c = self.tx.client_for_update(org).await.map_err(store_err)?;
        Ok(c.is_some())
    }
    async fn insert(&mut self, incident: &Incident, opened: &IncidentEvent) -> Result<()> {
        self.tx
            .insert_incident(incident, opened)
            .await
            .map_err(store_err)?;
        self.known.insert(incident.id, incident.clone());
        self.applied
            .entry(incident.id)
            .or_default()
            .insert(opened.id);
        Ok(())
    }
    async fn change(&mut self, next: &Incident, event: &IncidentEvent) -> Result<()> {
        self.tx
            .record_incident_change(next, event)
            .await
            .map_err(store_err)?;
        self.known.insert(next.id, next.clone());
        self.applied.entry(next.id).or_default().insert(event.id);
        Ok(())
    }
}

/// A batch's state, read up front; its writes kept for [`BatchView::flush`]. Anything not read
/// up front is read through the transaction.
pub(super) struct BatchView<'a> {
    tx: &'a mut dyn WriteTx,
    /// Every incident the batch names that exists, as the batch has left it so far.
    incidents: HashMap<Uuid, Incident>,
    /// The version each existing incident was read at.
    read_at: HashMap<Uuid, i64>,
    /// The incidents the batch opened, in order.
    opened: Vec<Uuid>,
    /// Event id → incident, for the batch's event ids that exist (and those it records).
    owners: HashMap<Uuid, Uuid>,
    /// Per incident with a field edit: its events after `since_from`, with their versions.
    since: HashMap<Uuid, Vec<(IncidentEvent, i64)>>,
    since_from: HashMap<Uuid, i64>,
    own: HashMap<Uuid, HashSet<Uuid>>,
    clients: HashMap<Uuid, bool>,
    /// Every event the batch records, with the version it makes.
    events: Vec<(IncidentEvent, i64)>,
}

impl<'a> BatchView<'a> {
    /// Reads what deciding `mutations` needs, in a few statements.
    pub async fn prefetch(
        tx: &'a mut dyn WriteTx,
        client_id: Uuid,
        mutations: &[Mutation],
    ) -> Result<Self> {
        let ids: Vec<Uuid> = mutations.iter().map(|m| m.incident_id).collect();
        let incidents: HashMap<Uuid, Incident> = tx
            .incidents_for_update(&ids)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        let read_at = incidents.iter().map(|(id, i)| (*id, i.version)).collect();
        let event_ids: Vec<Uuid> = mutations.iter().map(|m| m.event_id).collect();
        let owners = tx
            .event_incidents(&event_ids)
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let mut since_from: HashMap<Uuid, i64> = HashMap::new();
        for m in mutations {
            if let MutationOp::ChangeIncident(c) = &m.op {
                if edited_field(c).is_some() && incidents.contains_key(&m.incident_id) {
                    let from = since_from.entry(m.incident_id).or_insert(i64::MAX);
                    *from = (*from).min(m.base_version.max(0));
                }
            }
        }
        let pairs: Vec<(Uuid, i64)> = since_from.iter().map(|(id, v)| (*id, *v)).collect();
        let mut since: HashMap<Uuid, Vec<(IncidentEvent, i64)>> = HashMap::new();
        for (e, version) in tx.incident_events_after(&pairs).await.map_err(store_err)? {
            since.entry(e.incident_id).or_default().push((e, version));
        }
        let edited: Vec<Uuid> = since_from.keys().copied().collect();
        let mut own: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for (incident, event) in tx
            .own_sync_events_of(client_id, &edited)
            .await
            .map_err(store_err)?
        {
            own.entry(incident).or_default().insert(event);
        }
        Ok(BatchView {
            tx,
            incidents,
            read_at,
            opened: Vec::new(),
            owners,
            since,
            since_from,
            own,
            clients: HashMap::new(),
            events: Vec::new(),
        })
    }

    /// Writes what the batch changed: its new incidents, its events, the changed incidents.
    pub async fn flush(self, now: Timestamp) -> Result<()> {
        let new: Vec<&Incident> = self
            .opened
            .iter()
            .filter_map(|id| self.incidents.get(id))
            .collect();
        let changed: Vec<(&Incident, i64)> = self
            .read_at
            .iter()
            .filter_map(|(id, v)| {
                let i = self.incidents.get(id)?;
                (i.version != *v).then_some((i, *v))
            })
            .collect();
        let events: Vec<(&IncidentEvent, i64)> = self.events.iter().map(|(e, v)| (e, *v)).collect();
        self.tx
            .write_incident_batch(&new, &events, &changed, now)
            .await
            .map_err(store_err)
    }

    fn record(&mut self, next: &Incident, event: &IncidentEvent) {
        let id = next.id;
        self.incidents.insert(id, next.clone());
        self.owners.insert(event.id, id);
        self.own.entry(id).or_default().insert(event.id);
        if self.since_from.contains_key(&id) || !self.read_at.contains_key(&id) {
            self.since
                .entry(id)
                .or_default()
                .push((event.clone(), next.version));
        }
        self.events.push((event.clone(), next.version));
    }
}

#[async_trait]
impl PushView for BatchView<'_> {
    async fn incident(&mut self, id: Uuid) -> Result<Option<Incident>> {
        Ok(self.incidents.get(&id).cloned())
    }
    async fn event_owner(&mut self, event_id: Uuid) -> Result<Option<Uuid>> {
        Ok(self.owners.get(&event_id).copied())
    }
    async fn events_since(&mut self, id: Uuid, after: i64) -> Result<Vec<IncidentEvent>> {
        let covered = !self.read_at.contains_key(&id)
            || self.since_from.get(&id).is_some_and(|from| *from <= after);
        if !covered {
            // Not read up front (cannot happen for a batch's own field edits): read it now,
            // then add what this batch recorded on it.
            let mut events = self
                .tx
                .incident_events_since(id, after)
                .await
                .map_err(store_err)?;
            let read = self.read_at.get(&id).copied().unwrap_or_default();
            events.extend(
                self.events
                    .iter()
                    .filter(|(e, v)| e.incident_id == id && *v > read && *v > after)
                    .map(|(e, _)| e.clone()),
            );
            return Ok(events);
        }
        Ok(self
            .since
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|(_, v)| *v > after)
            .map(|(e, _)| e.clone())
            .collect())
    }
    async fn own_events(&mut self, client_id: Uuid, id: Uuid) -> Result<HashSet<Uuid>> {
        if self.read_at.contains_key(&id) && !self.since_from.contains_key(&id) {
            let mut own: HashSet<Uuid> = self
                .tx
                .own_sync_events(client_id, id)
                .await
                .map_err(store_err)?
                .into_iter()
                .collect();
            own.extend(self.own.get(&id).into_iter().flatten().copied());
            return Ok(own);
        }
        Ok(self.own.get(&id).cloned().unwrap_or_default())
    }
    async fn client_exists(&mut self, org: Uuid) -> Result<bool> {
        if let Some(known) = self.clients.get(&org) {
            return Ok(*known);
        }
        let exists = self
            .tx
            .client_for_update(org)
            .await
            .map_err(store_err)?
            .is_some();
        self.clients.insert(org, exists);
        Ok(exists)
    }
    async fn insert(&mut self, incident: &Incident, opened: &IncidentEvent) -> Result<()> {
        self.opened.push(incident.id);
        self.record(incident, opened);
        Ok(())
    }
    async fn change(&mut self, next: &Incident, event: &IncidentEvent) -> Result<()> {
        self.record(next, event);
        Ok(())
    }
}

impl LocalPortal {
    /// Decides one pushed mutation over `view`: its outcome and audit event, or the error it
    /// is rejected for (nothing was written for it then).
    pub(super) async fn decide(
        &self,
        view: &mut dyn PushView,
        actor: &Actor,
        client_id: Uuid,
        m: &Mutation,
        now: Timestamp,
    ) -> Result<(MutationOutcome, AuditDraft)> {
        let id = m.incident_id;
        let current = view.incident(id).await?;
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
                    if !view.client_exists(o).await? {
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
                view.insert(&incident, &opened).await?;
                let mut after = json(&incident);
                after["sync"] = provenance(client_id, &m);
                let draft = AuditDraft::change(ENTITY, &id.to_string(), "open", None, Some(&after));
                Ok((MutationOutcome::Applied { version: 1 }, draft))
            }
            (MutationOp::ChangeIncident(_), None) => Err(not_found(id)),
            (MutationOp::ChangeIncident(command), Some(current)) => {
                self.may_change(actor, &current, command)?;
                if let Some(owner) = view.event_owner(m.event_id).await? {
                    return if owner == id {
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
                    Some(_) => view.events_since(id, m.base_version.max(0)).await?,
                    None => Vec::new(),
                };
                let own = if touches_edited_field(&since, command) {
                    view.own_events(client_id, id).await?
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
                view.change(&next, &event).await?;
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

#[cfg(test)]
#[path = "push_tests.rs"]
mod tests;
