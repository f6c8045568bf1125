//! The device's replica: every incident read is served from it, every incident edit is
//! applied to it and appended to its outbox in one local transaction — before the front end
//! says "saved". `Incidents` for the replica is in `replica_reads.rs`; pushing and pulling in
//! `engine.rs`.

use crate::local::{store_err, LocalPortal};
use crate::{Incidents, Portal};
use domain::error::{Error, Result};
use domain::model::{
    IncidentCommand, IncidentDetail, Mutation, MutationOp, NewIncident, OutboxState,
};
use domain::sync::{apply_mutation, rebase};
use domain::{Actor, Clock, Permission};
use std::path::Path;
use std::sync::Arc;
use store::{ReplicaKey, ReplicaState, ReplicaTx, SqlStore, StoreError};
use tokio::sync::{Mutex, Notify};
use uuid::Uuid;

/// A device's replica of what one person may see of incidents, and its outbox.
pub struct Replica {
    pub(super) store: SqlStore,
    /// The portal's incident reads over the replica's tables.
    pub(super) reader: LocalPortal,
    pub(super) upstream: Arc<dyn Portal>,
    /// The signed-in person: the only one whose edits this replica takes.
    pub(super) actor: Actor,
    pub(super) clock: Arc<dyn Clock>,
    /// One sync at a time.
    pub(super) syncing: Mutex<()>,
    /// Wakes the background loop (an edit, *Sync now*).
    pub(super) wake: Notify,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("store", &self.store)
            .field("actor", &self.actor.id)
            .finish_non_exhaustive()
    }
}

/// Who a replica belongs to, as stored: the person (id, name, role).
fn principal(actor: &Actor) -> String {
    let mut who = actor.clone();
    who.ip = None;
    who.request_id = None;
    serde_json::to_string(&who).unwrap_or_default()
}

/// Whether a stored principal is `actor`: the same person with the same role (another role
/// sees other incidents).
fn is_principal(stored: &str, actor: &Actor) -> bool {
    serde_json::from_str::<Actor>(stored).is_ok_and(|s| s.id == actor.id && s.role == actor.role)
}

/// Opens the encrypted replica file. One this device's key does not open (its key was lost
/// from the keychain) is unreadable to anyone holding only this device: it is moved aside
/// (`<name>.unreadable-<millis>`, kept in case the key comes back) and a new replica starts.
async fn open_file(path: &Path, key: &ReplicaKey, clock: &dyn Clock) -> Result<SqlStore> {
    match SqlStore::open_replica(path, key).await {
        Err(StoreError::WrongKey) => {
            let stamp = clock.now().millis();
            let aside = |suffix: &str| {
                let mut from = path.as_os_str().to_owned();
                from.push(suffix);
                let mut to = path.as_os_str().to_owned();
                to.push(format!(".unreadable-{stamp}{suffix}"));
                (std::path::PathBuf::from(from), std::path::PathBuf::from(to))
            };
            // The sidecars first: the file must never be left beside another key's log.
            for suffix in ["-wal", "-shm", ""] {
                let (from, to) = aside(suffix);
                if from.exists() {
                    std::fs::rename(&from, &to).map_err(|e| {
                        Error::Unavailable(format!(
                            "the replica {} cannot be read with this device's key and cannot be moved aside: {e}",
                            path.display()
                        ))
                    })?;
                }
            }
            tracing::warn!(
                replica = %path.display(),
                kept_as = %aside("").1.display(),
                "the replica cannot be read with this device's key from the OS keychain; it was moved aside and a new one starts"
            );
            SqlStore::open_replica(path, key).await.map_err(store_err)
        }
        other => other.map_err(store_err),
    }
}

impl Replica {
    /// Opens the replica at `path` for `actor` (creating it). A replica that holds another
    /// person's data is emptied first, outbox included: their edits are theirs to push.
    /// The file is encrypted with `key` (see [`crate::os::replica_key`]).
    pub async fn open(
        path: &Path,
        key: &ReplicaKey,
        actor: Actor,
        upstream: Arc<dyn Portal>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let store = open_file(path, key, clock.as_ref()).await?;
        Self::with_store(store, actor, upstream, clock).await
    }

    /// Opens the replica at `path` for the person who last used it, when who is signed in
    /// cannot be asked (offline). `None` when there is no replica there yet.
    pub async fn open_as_last(
        path: &Path,
        key: &ReplicaKey,
        upstream: Arc<dyn Portal>,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let store = open_file(path, key, clock.as_ref()).await?;
        let Some(state) = store.replica_state().await.map_err(store_err)? else {
            return Ok(None);
        };
        let Ok(actor) = serde_json::from_str::<Actor>(&state.principal) else {
            return Ok(None);
        };
        Self::with_store(store, actor, upstream, clock)
            .await
            .map(Some)
    }

    /// A replica over an open store (tests use an in-memory one).
    pub async fn with_store(
        store: SqlStore,
        actor: Actor,
        upstream: Arc<dyn Portal>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let mut tx = store.begin_replica().await.map_err(store_err)?;
        let who = principal(&actor);
        match tx.state().await.map_err(store_err)? {
            Some(s) if is_principal(&s.principal, &actor) => {}
            other => {
                if other.is_some() {
                    tx.clear(true).await.map_err(store_err)?;
                }
                tx.put_state(&ReplicaState {
                    client_id: Uuid::new_v4(),
                    principal: who,
                    cursor: 0,
                    next_mutation_id: 1,
                    last_synced_at: None,
                    last_attempt_at: None,
                    failures: 0,
                    offline: false,
                    last_error: None,
                })
                .await
                .map_err(store_err)?;
            }
        }
        tx.commit().await.map_err(store_err)?;
        let reader = LocalPortal::replica_reader(Arc::new(store.clone()), clock.clone());
        Ok(Replica {
            store,
            reader,
            upstream,
            actor,
            clock,
            syncing: Mutex::new(()),
            wake: Notify::new(),
        })
    }

    /// The person this replica takes edits from.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub(super) async fn state_in(tx: &mut ReplicaTx) -> Result<ReplicaState> {
        tx.state()
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::internal("the replica has no sync state"))
    }

    pub(super) fn same_person(&self, actor: &Actor) -> Result<()> {
        if actor.id == self.actor.id {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "this replica belongs to another person: sign in again".into(),
            ))
        }
    }

    /// Rewrites what the device shows of incident `id`: its synced copy with the pending (and
    /// applied, not yet pulled) mutations on top.
    pub(super) async fn rebase_in(&self, tx: &mut ReplicaTx, id: Uuid) -> Result<()> {
        let base = tx.base(id).await.map_err(store_err)?;
        let queued: Vec<Mutation> = tx
            .outbox_of(Some(id))
            .await
            .map_err(store_err)?
            .into_iter()
            .filter(|r| matches!(r.state, OutboxState::Pending | OutboxState::Applied))
            .map(|r| r.mutation)
            .collect();
        let (incident, events) = match &base {
            Some((i, e)) => (Some(i), e.as_slice()),
            None => (None, &[][..]),
        };
        let view = rebase(
            incident,
            events,
            &queued,
            &self.actor.id,
            &self.actor.name,
            self.clock.now(),
        );
        tx.put_view(id, view.as_ref().map(|(i, e)| (i, e.as_slice())))
            .await
            .map_err(store_err)
    }

    /// Records one edit: checked against the device's view, applied to it and appended to the
    /// outbox in one local transaction. Returns the incident as the device now shows it.
    pub(super) async fn record(
        &self,
        actor: &Actor,
        incident_id: Uuid,
        op: MutationOp,
        event_id: Option<Uuid>,
    ) -> Result<IncidentDetail> {
        self.same_person(actor)?;
        let now = self.clock.now();
        let mut tx = self.store.begin_replica().await.map_err(store_err)?;
        if let Some(eid) = event_id {
            // A retried edit (its answer never reached the front end) is saved once and
            // answered again, as upstream does: whether it still waits in the outbox, or was
            // pushed, pulled back and left the outbox — then it is on the timeline shown.
            let retried = tx.outbox_has_event(eid).await.map_err(store_err)?
                || match tx.view_event_incident(eid).await.map_err(store_err)? {
                    Some(other) if other != incident_id => {
                        return Err(Error::conflict(format!(
                            "the change id {eid} was already used for another incident"
                        )));
                    }
                    Some(_) => true,
                    None => false,
                };
            if retried {
                drop(tx);
                return self
                    .reader
                    .get_incident(actor, &incident_id.to_string())
                    .await;
            }
        }
        // What the device shows is the synced copy with the queued edits on it: the edit
        // applies to that.
        let current = tx.view_incident(incident_id).await.map_err(store_err)?;
        match (&op, &current) {
            (MutationOp::ChangeIncident(command), Some(current)) => {
                self.reader.may_change(actor, current, command)?;
            }
            (MutationOp::OpenIncident(new), _) => {
                self.reader
                    .authorize(actor, Permission::OpenIncidents, new.org_id)?;
            }
            (MutationOp::ChangeIncident(_), None) => {
                return Err(crate::incidents::local::not_found(incident_id));
            }
        }
        if matches!(op, MutationOp::ChangeIncident(_))
            && tx
                .outbox_of(Some(incident_id))
                .await
                .map_err(store_err)?
                .is_empty()
        {
            // The first edit of an incident with nothing queued: its view is the synced copy.
            tx.base_from_view(incident_id).await.map_err(store_err)?;
        }
        let base_version = tx.base_version(incident_id).await.map_err(store_err)?;
        let mut state = Self::state_in(&mut tx).await?;
        let m = Mutation {
            mutation_id: state.next_mutation_id,
            incident_id,
            event_id: event_id.unwrap_or_else(Uuid::now_v7),
            base_version: match (&op, base_version) {
                (MutationOp::OpenIncident(_), _) => 0,
                (_, Some(v)) => v,
                (_, None) => 1,
            },
            op,
            occurred_at: now,
        };
        let (next, event) = apply_mutation(current.as_ref(), &m, &actor.id, &actor.name, now)?;
        tx.outbox_append(&m, now).await.map_err(store_err)?;
        state.next_mutation_id += 1;
        tx.put_state(&state).await.map_err(store_err)?;
        tx.append_view(&next, &event).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        self.reader.active.forget();
        self.wake.notify_one();
        self.reader.visible(actor, &next)?;
        self.reader.detail(next).await
    }

    /// Opens an incident on the device.
    pub(super) async fn record_open(
        &self,
        actor: &Actor,
        new: NewIncident,
    ) -> Result<IncidentDetail> {
        let id = new.id;
        self.record(actor, id, MutationOp::OpenIncident(new), None)
            .await
    }

    /// Changes an incident on the device.
    pub(super) async fn record_change(
        &self,
        actor: &Actor,
        id: Uuid,
        command: IncidentCommand,
        event_id: Option<Uuid>,
    ) -> Result<IncidentDetail> {
        self.record(actor, id, MutationOp::ChangeIncident(command), event_id)
            .await
    }
}

#[cfg(test)]
#[path = "replica_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "replica_file_tests.rs"]
mod file_tests;
