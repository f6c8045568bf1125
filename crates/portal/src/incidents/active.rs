//! The overview's working set: every active incident with its timeline, kept in memory between
//! calls and keyed by the audit trail's head.
//!
//! Every committed write appends to the audit trail (a transaction commits only with its audit
//! batch, `LocalPortal::write`), in this process or any other on the same database. So while the
//! head has not moved, no incident and no timeline changed since the snapshot, and the SLA
//! states are the domain's `sla_state` over memory at the current instant. When the head moved
//! by a few events, the change feed after the snapshot's head names the incidents that changed,
//! and only they are read again with their timelines; after many events (or on the first call)
//! the active set is read whole, fetching only the timelines whose version changed. Appends to
//! the trail are serialised (the head row is locked until commit), so sequence order is commit
//! order and the feed after a head misses nothing. A write that lands while a snapshot is being
//! built only makes the snapshot newer than its head: the next call reads that incident again.
//!
//! The clocks themselves are never stored: this keeps the inputs, not the answers.

use crate::local::{store_err, LocalPortal};
use domain::error::Result;
use domain::model::{Incident, IncidentEvent, IncidentStatus as S};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The active incidents with their timelines, as of an audit head.
#[derive(Debug)]
pub(crate) struct Snapshot {
    head: i64,
    pub(crate) incidents: Vec<(Arc<Incident>, Arc<Vec<IncidentEvent>>)>,
}

/// The last snapshot (one per portal).
#[derive(Debug, Default)]
pub(crate) struct ActiveCache {
    last: Mutex<Option<Arc<Snapshot>>>,
}

impl ActiveCache {
    fn get(&self) -> Option<Arc<Snapshot>> {
        self.last.lock().ok().and_then(|s| s.clone())
    }

    /// Drops the snapshot: a replica's view changes without an audit event, so its reads
    /// cannot key on the head.
    pub(crate) fn forget(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = None;
        }
    }

    fn put(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut last) = self.last.lock() {
            // Keep the newest when two callers rebuilt at once.
            if last.as_ref().is_none_or(|l| l.head <= snapshot.head) {
                *last = Some(snapshot);
            }
        }
    }
}

/// The most events after a snapshot's head that are followed one by one; past it, the active
/// set is read whole.
const FEED_MAX: i64 = 500;

impl LocalPortal {
    /// `prev` brought up to date from the change feed: the incidents it names are read again.
    /// `None` when the feed holds more than [`FEED_MAX`] events after `prev`; `head` is the
    /// trail's head, read before.
    async fn advance(&self, prev: &Snapshot, head: i64) -> Result<Option<Snapshot>> {
        let limit = u32::try_from(FEED_MAX).unwrap_or(u32::MAX);
        let changes = self
            .store
            .changes_after(prev.head, limit + 1)
            .await
            .map_err(store_err)?;
        if changes.len() > FEED_MAX as usize {
            return Ok(None);
        }
        // Every event up to `head` had committed when `head` was read, so the feed read after it
        // holds them all.
        let last = changes.last().map_or(head, |c| c.seq.max(head));
        let mut touched: Vec<Uuid> = changes
            .iter()
            .filter(|c| c.entity_type == super::local::ENTITY)
            .filter_map(|c| Uuid::parse_str(&c.entity_id).ok())
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let mut incidents: Vec<(Arc<Incident>, Arc<Vec<IncidentEvent>>)> = prev
            .incidents
            .iter()
            .filter(|(i, _)| touched.binary_search(&i.id).is_err())
            .cloned()
            .collect();
        let mut still_active = Vec::new();
        for id in &touched {
            if let Some(i) = self.store.incident(*id).await.map_err(store_err)? {
                if matches!(i.status, S::Open | S::Acknowledged | S::Waiting) {
                    still_active.push(i);
                }
            }
        }
        let ids: Vec<Uuid> = still_active.iter().map(|i| i.id).collect();
        let mut fetched = self.timelines(&ids).await?;
        for i in still_active {
            let timeline = Arc::new(fetched.remove(&i.id).unwrap_or_default());
            incidents.push((Arc::new(i), timeline));
        }
        Ok(Some(Snapshot {
            head: last,
            incidents,
        }))
    }

    /// Every active incident (all organisations) with its timeline, as of now.
    pub(crate) async fn active_snapshot(&self) -> Result<Arc<Snapshot>> {
        let head = self.store.audit_head().await.map_err(store_err)?.0;
        let previous = self.active.get();
        if let Some(s) = previous.as_ref().filter(|s| s.head == head) {
            return Ok(s.clone());
        }
        if let Some(prev) = previous.as_ref().filter(|s| head - s.head <= FEED_MAX) {
            if let Some(next) = self.advance(prev, head).await? {
                let next = Arc::new(next);
                self.active.put(next.clone());
                return Ok(next);
            }
        }
        let active = self.store.active_incidents(None).await.map_err(store_err)?;
        let known: HashMap<Uuid, (i64, Arc<Vec<IncidentEvent>>)> = previous
            .iter()
            .flat_map(|s| s.incidents.iter())
            .map(|(i, tl)| (i.id, (i.version, tl.clone())))
            .collect();
        let stale: Vec<Uuid> = active
            .iter()
            .filter(|i| known.get(&i.id).is_none_or(|(v, _)| *v != i.version))
            .map(|i| i.id)
            .collect();
        let mut fetched = self.timelines(&stale).await?;
        let incidents = active
            .into_iter()
            .map(|i| {
                let timeline = match fetched.remove(&i.id) {
                    Some(tl) => Arc::new(tl),
                    None => match known.get(&i.id) {
                        Some((v, tl)) if *v == i.version => tl.clone(),
                        _ => Arc::new(Vec::new()),
                    },
                };
                (Arc::new(i), timeline)
            })
            .collect::<Vec<_>>();
        let snapshot = Arc::new(Snapshot { head, incidents });
        self.active.put(snapshot.clone());
        Ok(snapshot)
    }
}
