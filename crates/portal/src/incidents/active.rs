//! The overview's working set: every active incident with its timeline, kept in memory between
//! calls and keyed by the audit trail's head.
//!
//! Every committed write appends to the audit trail (a transaction commits only with its audit
//! batch, `LocalPortal::write`), in this process or any other on the same database. So while the
//! head has not moved, no incident and no timeline changed since the snapshot, and the SLA
//! states are the domain's `sla_state` over memory at the current instant. When the head moved,
//! the active incidents are read again and only the timelines of incidents whose version
//! changed are fetched. A write that lands between reading the head and reading the rows leaves
//! a snapshot newer than its head: the next call sees another head and reads again, so a
//! snapshot is never older than its head says.
//!
//! The clocks themselves are never stored: this keeps the inputs, not the answers.

use crate::local::{store_err, LocalPortal};
use domain::error::Result;
use domain::model::{Incident, IncidentEvent};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The active incidents with their timelines, as of an audit head.
#[derive(Debug)]
pub(crate) struct Snapshot {
    head: i64,
    pub(crate) incidents: Vec<(Incident, Arc<Vec<IncidentEvent>>)>,
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

    fn put(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut last) = self.last.lock() {
            // Keep the newest when two callers rebuilt at once.
            if last.as_ref().is_none_or(|l| l.head <= snapshot.head) {
                *last = Some(snapshot);
            }
        }
    }
}

impl LocalPortal {
    /// Every active incident (all organisations) with its timeline, as of now.
    pub(crate) async fn active_snapshot(&self) -> Result<Arc<Snapshot>> {
        let head = self.store.audit_head().await.map_err(store_err)?.0;
        let previous = self.active.get();
        if let Some(s) = previous.as_ref().filter(|s| s.head == head) {
            return Ok(s.clone());
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
        let mut fetched: HashMap<Uuid, Vec<IncidentEvent>> = HashMap::new();
        for e in self
            .store
            .incident_events_of(&stale)
            .await
            .map_err(store_err)?
        {
            fetched.entry(e.incident_id).or_default().push(e);
        }
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
                (i, timeline)
            })
            .collect::<Vec<_>>();
        let snapshot = Arc::new(Snapshot { head, incidents });
        self.active.put(snapshot.clone());
        Ok(snapshot)
    }
}
