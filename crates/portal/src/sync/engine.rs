//! Sync's I/O: push the outbox in order, pull from the cursor, rebase; the retry schedule;
//! what the sync panel shows and the person's choices on rejections and conflicts.
//!
//! Why an acknowledged edit is never lost: it is in the outbox (committed with the view) before
//! the front end says saved; an entry leaves the outbox only (a) after the upstream answered
//! `applied` *and* a pull that started after that answer reached the head (so the synced copy
//! holds it), or (b) when the person dismisses a rejection or a conflict. A push whose answer
//! is lost is sent again and answered from the upstream's ledger, never applied twice.

use super::Replica;
use crate::local::store_err;
use domain::error::{Error, Result};
use domain::model::{
    Incident, IncidentEvent, Mutation, MutationOp, MutationOutcome, OutboxEntry, OutboxState,
    PullResponse, SyncStatus, PUSH_MAX,
};
use domain::sync::{backoff_ms, health, state_after, summary};
use domain::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often a healthy replica pulls when nothing wakes it.
pub const POLL_MS: i64 = 15_000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub pushed: u32,
    pub applied: u32,
    pub rejected: u32,
    pub conflicts: u32,
    /// Incidents brought up to date by the pull.
    pub pulled: u32,
    pub cursor: i64,
}

impl Replica {
    /// Pushes the outbox, then pulls everything new. Records the attempt (its time, and the
    /// error and whether the upstream was unreachable) for the status.
    pub async fn sync_now(&self) -> Result<SyncReport> {
        let _one = self.syncing.lock().await;
        let mut report = SyncReport::default();
        let result = match self.push_all(&mut report).await {
            Ok(()) => self.pull_all(&mut report, false).await,
            Err(e) => Err(e),
        };
        self.record_attempt(result.as_ref().err()).await?;
        result.map(|()| report)
    }

    /// Empties the synced copy and pulls everything again, keeping the outbox. Nothing is
    /// cleared until the upstream answered the first pull.
    pub async fn rebuild(&self) -> Result<SyncReport> {
        let _one = self.syncing.lock().await;
        let mut report = SyncReport::default();
        let result = self.pull_all(&mut report, true).await;
        self.record_attempt(result.as_ref().err()).await?;
        result.map(|()| report)
    }

    /// Forgets everything (sign-out): the synced copy, the outbox and the sync state.
    pub async fn wipe(&self) -> Result<()> {
        let _one = self.syncing.lock().await;
        let mut tx = self.store.begin_replica().await.map_err(store_err)?;
        tx.clear(true).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        // Freed pages still hold the deleted rows until the file is rewritten.
        self.store.vacuum().await.map_err(store_err)?;
        self.reader.active.forget();
        Ok(())
    }

    async fn record_attempt(&self, error: Option<&Error>) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.store.begin_replica().await.map_err(store_err)?;
        let mut s = Self::state_in(&mut tx).await?;
        s.last_attempt_at = Some(now);
        match error {
            None => {
                s.failures = 0;
                s.offline = false;
                s.last_error = None;
                s.last_synced_at = Some(now);
            }
            Some(e) => {
                s.failures = s.failures.saturating_add(1);
                s.offline = matches!(e, Error::Unavailable(_));
                s.last_error = Some(e.to_string());
            }
        }
        tx.put_state(&s).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn push_all(&self, report: &mut SyncReport) -> Result<()> {
        loop {
            let batch: Vec<Mutation> = {
                let mut tx = self.store.begin_replica().await.map_err(store_err)?;
                tx.pending(PUSH_MAX as u32).await.map_err(store_err)?
            };
            if batch.is_empty() {
                return Ok(());
            }
            let client_id = self
                .store
                .replica_state()
                .await
                .map_err(store_err)?
                .ok_or_else(|| Error::internal("the replica has no sync state"))?
                .client_id;
            let sent = batch.len();
            let push = domain::model::PushRequest {
                client_id,
                mutations: batch,
            };
            let response = self.upstream.sync_push(&self.actor, push).await?;
            report.pushed += sent as u32;
            let mut tx = self.store.begin_replica().await.map_err(store_err)?;
            let mut touched = BTreeSet::new();
            for r in &response.results {
                match &r.outcome {
                    MutationOutcome::Applied { .. } => report.applied += 1,
                    MutationOutcome::Rejected { .. } => report.rejected += 1,
                    MutationOutcome::Conflict { .. } => report.conflicts += 1,
                }
                if !matches!(r.outcome, MutationOutcome::Applied { .. }) {
                    touched.insert(r.incident_id);
                }
                tx.outbox_settle(r.mutation_id, state_after(&r.outcome), Some(&r.outcome))
                    .await
                    .map_err(store_err)?;
            }
            for id in touched {
                self.rebase_in(&mut tx, id).await?;
            }
            tx.commit().await.map_err(store_err)?;
            if response.results.is_empty() {
                return Err(Error::internal(
                    "the upstream answered a push with no result",
                ));
            }
        }
    }

    /// Pulls page after page from the cursor. The next page is asked for while the last one is
    /// written to the replica (the upstream's work and the round trip overlap the device's).
    async fn pull_all(&self, report: &mut SyncReport, rebuild: bool) -> Result<()> {
        let cursor = if rebuild {
            0
        } else {
            self.store
                .replica_state()
                .await
                .map_err(store_err)?
                .ok_or_else(|| Error::internal("the replica has no sync state"))?
                .cursor
        };
        let mut page = self.upstream.sync_pull(&self.actor, cursor, None).await?;
        let mut first = true;
        loop {
            let next = async {
                match page.more {
                    true => Some(
                        self.upstream
                            .sync_pull(&self.actor, page.cursor, None)
                            .await,
                    ),
                    false => None,
                }
            };
            let (applied, next) = tokio::join!(self.apply_page(&page, rebuild && first), next);
            applied?;
            first = false;
            report.pulled += page.incidents.len() as u32;
            report.cursor = page.cursor;
            match next {
                Some(next) => page = next?,
                None => return Ok(()),
            }
        }
    }

    /// Writes one pulled page to the replica in one local transaction: the views of incidents
    /// with nothing queued, the synced copies of the others (then rebased), the settings, the
    /// cursor. `clear` first empties the synced copy (a rebuild's first page).
    async fn apply_page(&self, page: &PullResponse, clear: bool) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.store.begin_replica().await.map_err(store_err)?;
        let mut touched: BTreeSet<Uuid> = BTreeSet::new();
        // The incidents with outbox entries are rebased; the others show what was pulled.
        let queued: HashSet<Uuid> = tx
            .outbox_of(None)
            .await
            .map_err(store_err)?
            .iter()
            .map(|r| r.mutation.incident_id)
            .collect();
        if clear {
            tx.clear(false).await.map_err(store_err)?;
            touched.extend(queued.iter().copied());
        }
        let mut timelines: HashMap<Uuid, Vec<&IncidentEvent>> = HashMap::new();
        for e in &page.events {
            timelines.entry(e.incident_id).or_default().push(e);
        }
        let pulled: Vec<(&Incident, Vec<IncidentEvent>)> = page
            .incidents
            .iter()
            .map(|i| {
                let events = timelines.remove(&i.id).unwrap_or_default();
                (i, events.into_iter().cloned().collect())
            })
            .collect();
        let all: Vec<(&Incident, &[IncidentEvent])> =
            pulled.iter().map(|(i, e)| (*i, e.as_slice())).collect();
        // A synced copy apart from the view only where edits wait to be rebased on it.
        let (waiting, quiet): (Vec<_>, Vec<_>) =
            all.iter().partition(|(i, _)| queued.contains(&i.id));
        tx.put_bases(&waiting).await.map_err(store_err)?;
        let quiet_ids: Vec<String> = quiet.iter().map(|(i, _)| i.id.to_string()).collect();
        tx.forget_bases(&quiet_ids).await.map_err(store_err)?;
        tx.put_views(&quiet).await.map_err(store_err)?;
        touched.extend(
            all.iter()
                .map(|(i, _)| i.id)
                .filter(|id| queued.contains(id)),
        );
        if let Some(t) = &page.sla_targets {
            tx.put_sla_targets(t, now).await.map_err(store_err)?;
        }
        if let Some(p) = &page.policies {
            tx.put_policies(p, now).await.map_err(store_err)?;
        }
        if !page.more {
            // The pull reached the head after every applied answer: their effects are in
            // the synced copy now.
            for r in tx.outbox_of(None).await.map_err(store_err)? {
                if r.state == OutboxState::Applied {
                    tx.outbox_remove(r.mutation.mutation_id)
                        .await
                        .map_err(store_err)?;
                    touched.insert(r.mutation.incident_id);
                }
            }
        }
        for id in &touched {
            self.rebase_in(&mut tx, *id).await?;
        }
        let mut s = Self::state_in(&mut tx).await?;
        s.cursor = page.cursor;
        tx.put_state(&s).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        self.reader.active.forget();
        Ok(())
    }

    /// The sync state, with every outbox entry.
    pub async fn status(&self) -> Result<SyncStatus> {
        let s = self
            .store
            .replica_state()
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::internal("the replica has no sync state"))?;
        let rows = self.store.outbox().await.map_err(store_err)?;
        let (mut pending, mut rejected, mut conflicts) = (0u32, 0u32, 0u32);
        let mut titles: HashMap<Uuid, Option<String>> = HashMap::new();
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            match r.state {
                OutboxState::Pending | OutboxState::Applied => pending += 1,
                OutboxState::Rejected => rejected += 1,
                OutboxState::Conflict => conflicts += 1,
            }
            let id = r.mutation.incident_id;
            if let std::collections::hash_map::Entry::Vacant(slot) = titles.entry(id) {
                let title = self
                    .reader
                    .store()
                    .incident(id)
                    .await
                    .map_err(store_err)?
                    .map(|i| i.title);
                slot.insert(title);
            }
            let (reason, fields) = match &r.outcome {
                Some(MutationOutcome::Rejected { reason, .. }) => (Some(reason.clone()), vec![]),
                Some(MutationOutcome::Conflict { fields, .. }) => (None, fields.clone()),
                _ => (None, vec![]),
            };
            entries.push(OutboxEntry {
                summary: summary(&r.mutation.op),
                incident_title: titles.get(&id).cloned().flatten().or_else(|| {
                    match &r.mutation.op {
                        MutationOp::OpenIncident(n) => Some(n.title.clone()),
                        MutationOp::ChangeIncident(_) => None,
                    }
                }),
                mutation: r.mutation,
                state: r.state,
                reason,
                conflicts: fields,
            });
        }
        let next_attempt_at = s.last_attempt_at.map(|t| {
            let wait = if s.failures > 0 {
                backoff_ms(s.failures)
            } else {
                POLL_MS
            };
            Timestamp::from_millis(t.millis() + wait)
        });
        Ok(SyncStatus {
            health: health(
                pending,
                rejected + conflicts,
                s.offline,
                s.last_error.is_some() && !s.offline,
                s.last_synced_at.is_some(),
            ),
            client_id: s.client_id,
            cursor: s.cursor,
            last_synced_at: s.last_synced_at,
            last_attempt_at: s.last_attempt_at,
            next_attempt_at,
            last_error: s.last_error,
            pending,
            rejected,
            conflicts,
            entries,
        })
    }

    /// The person's answer to a rejected or conflicting entry: `keep_mine` queues the same edit
    /// again as a new mutation based on the current synced version ("retry as new", "keep
    /// mine"); otherwise it is dismissed ("dismiss", "take theirs"). Either way the entry
    /// leaves the outbox.
    pub async fn settle(&self, mutation_id: i64, keep_mine: bool) -> Result<()> {
        let row = self
            .store
            .outbox()
            .await
            .map_err(store_err)?
            .into_iter()
            .find(|r| r.mutation.mutation_id == mutation_id)
            .ok_or_else(|| Error::NotFound(format!("no sync entry {mutation_id} is waiting")))?;
        if !matches!(row.state, OutboxState::Rejected | OutboxState::Conflict) {
            return Err(Error::conflict(
                "only a rejected or conflicting entry waits for a choice",
            ));
        }
        if keep_mine {
            let m = row.mutation.clone();
            match m.op {
                MutationOp::OpenIncident(new) => {
                    let mut new = new;
                    new.id = Uuid::now_v7();
                    self.record_open(&self.actor, new).await?;
                }
                MutationOp::ChangeIncident(command) => {
                    self.record_change(&self.actor, m.incident_id, command, None)
                        .await?;
                }
            }
        }
        let mut tx = self.store.begin_replica().await.map_err(store_err)?;
        tx.outbox_remove(mutation_id).await.map_err(store_err)?;
        self.rebase_in(&mut tx, row.mutation.incident_id).await?;
        tx.commit().await.map_err(store_err)?;
        self.reader.active.forget();
        Ok(())
    }

    /// Wakes the background loop now (after *Sync now*, or a network change).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Syncs until the replica is dropped: at once when woken, else after the back-off (2 s
    /// doubling to a minute) following a failure, or every [`POLL_MS`] when healthy.
    pub fn run(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move { self.run_loop().await })
    }

    async fn run_loop(self: Arc<Self>) {
        loop {
            let wait = match self.store.replica_state().await {
                Ok(Some(s)) if s.failures > 0 => backoff_ms(s.failures),
                Ok(Some(s)) if s.last_attempt_at.is_none() => 0,
                _ => POLL_MS,
            };
            let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
            if let Err(e) = self.sync_now().await {
                tracing::info!(error = %e, "sync attempt failed; will retry");
            }
            if Arc::strong_count(&self) == 1 {
                return;
            }
        }
    }
}
