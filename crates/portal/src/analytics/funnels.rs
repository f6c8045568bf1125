//! Saved funnels on `LocalPortal`: kept definitions, snapshotted by every refresh — each
//! subject's progress per day it entered — and read from that snapshot. Merging a subject's
//! days (`domain::analytics::merge`) makes a period's report equal to an ad-hoc run of the same
//! spec over the same period (the conformance story checks it).

use super::local::audit_of;
use super::{
    FunnelDay, NewFunnel, SavedFunnel, SavedFunnelQuery, SavedFunnelReport, FUNNEL_HISTORY_DAYS,
};
use crate::local::{parse_id, store_err, LocalPortal};
use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{merge, progress_entering, summarize, Day, FunnelEvent, Progress};
use domain::error::{Error, Result};
use domain::model::analytics::FunnelSubject;
use domain::{Actor, Permission, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use store::{DirtyDay, FunnelRow, SubjectEvent};
use uuid::Uuid;

/// A saved funnel's report covers these many days up to its snapshot's last day by default.
const DEFAULT_DAYS: i32 = 30;
const DAY_MS: i64 = 86_400_000;

/// What one refresh writes of one saved funnel.
pub(crate) struct FunnelPlan {
    pub id: Uuid,
    pub from: Day,
    pub rows: Vec<FunnelRow>,
}

/// The rows of every subject entering on a day of `[from, to]`: one per subject and day it
/// entered.
fn rows_of(f: &SavedFunnel, events: &[SubjectEvent], from: Day, to: Day) -> Vec<FunnelRow> {
    let mut rows = Vec::new();
    let entry = from.start().millis()..to.plus(1).start().millis();
    for subject in events.chunk_by(|a, b| a.subject == b.subject) {
        let Some(org_id) = subject[0]
            .subject
            .split(' ')
            .next()
            .and_then(|o| Uuid::parse_str(o).ok())
        else {
            continue;
        };
        let seen: Vec<FunnelEvent<'_>> = subject
            .iter()
            .map(|e| FunnelEvent {
                name: e.name.as_str(),
                at: e.at,
            })
            .collect();
        let days: BTreeSet<Day> = seen
            .iter()
            .filter(|e| e.name == f.spec.steps[0] && entry.contains(&e.at))
            .map(|e| Day::of(Timestamp::from_millis(e.at)))
            .collect();
        for day in days {
            let p = progress_entering(
                &f.spec,
                &seen,
                day.start().millis()..day.plus(1).start().millis(),
            );
            if p.depth > 0 {
                rows.push(FunnelRow {
                    day,
                    org_id,
                    subject: subject[0].subject.clone(),
                    depth: p.depth as u32,
                    times: p.times,
                });
            }
        }
    }
    rows
}

impl LocalPortal {
    pub(crate) async fn keep_funnel(&self, actor: &Actor, new: NewFunnel) -> Result<SavedFunnel> {
        // Saved funnels are shared by the staff (a client reads them for its own organisation).
        self.authorize(actor, Permission::ManageFunnels, None)?;
        new.validate()?;
        let funnel = SavedFunnel {
            id: Uuid::new_v4(),
            name: new.name.trim().to_string(),
            spec: new.spec,
            by: new.by.unwrap_or_default(),
            created_at: self.now(),
            created_by: actor.id.clone(),
            snapshot_to: None,
        };
        let after = serde_json::to_value(&funnel).map_err(|e| Error::internal(e.to_string()))?;
        let saved = funnel.clone();
        self.write(actor, |mut tx| async move {
            tx.insert_funnel(&funnel).await.map_err(|e| match e {
                store::StoreError::Conflict(_) => Error::conflict(format!(
                    "a saved funnel is already named {:?}: choose another name",
                    funnel.name
                )),
                other => store_err(other),
            })?;
            let audit = audit_of("save_funnel", &funnel.id.to_string(), None, Some(after));
            Ok((tx, saved, Some(audit)))
        })
        .await
    }

    pub(crate) async fn list_funnels(&self, actor: &Actor) -> Result<Vec<SavedFunnel>> {
        self.usage_scope(actor, None)?;
        self.store.funnels().await.map_err(store_err)
    }

    pub(crate) async fn remove_funnel(&self, actor: &Actor, id: &str) -> Result<()> {
        self.authorize(actor, Permission::ManageFunnels, None)?;
        let id = parse_id("id", id)?;
        let Some(before) = self.store.funnel(id).await.map_err(store_err)? else {
            return Err(Error::not_found(format!("saved funnel {id}")));
        };
        let before = serde_json::to_value(&before).map_err(|e| Error::internal(e.to_string()))?;
        self.write(actor, |mut tx| async move {
            if !tx.delete_funnel(id).await.map_err(store_err)? {
                return Err(Error::not_found(format!("saved funnel {id}")));
            }
            let audit = audit_of("delete_funnel", &id.to_string(), Some(before), None);
            Ok((tx, (), Some(audit)))
        })
        .await
    }

    pub(crate) async fn read_saved_funnel(
        &self,
        actor: &Actor,
        id: &str,
        q: SavedFunnelQuery,
    ) -> Result<SavedFunnelReport> {
        let org = self.usage_scope(actor, q.org_id)?;
        let id = parse_id("id", id)?;
        // Read first, uncached: a deleted funnel is gone at once.
        let Some(funnel) = self.store.funnel(id).await.map_err(store_err)? else {
            return Err(Error::not_found(format!("saved funnel {id}")));
        };
        let to =
            q.to.or(funnel.snapshot_to)
                .unwrap_or_else(|| Day::of(self.now()));
        let from = q.from.unwrap_or(to.plus(1 - DEFAULT_DAYS));
        if to < from {
            return Err(Error::invalid("to", "must be on or after from"));
        }
        if to.days() - from.days() >= SPAN_MAX_DAYS {
            return Err(Error::invalid(
                "from",
                format!("a period is at most {SPAN_MAX_DAYS} days"),
            ));
        }
        let question = SavedFunnelQuery {
            org_id: org,
            from: Some(from),
            to: Some(to),
        };
        let key = (id, &question);
        self.cached("saved-funnel", &key, || async {
            let state = self.store.snapshot_state().await.map_err(store_err)?;
            let rows = self
                .store
                .funnel_rows(id, org, from, to)
                .await
                .map_err(store_err)?;
            let mut all = Vec::new();
            let mut daily: BTreeMap<Day, FunnelDay> = BTreeMap::new();
            let steps = funnel.spec.steps.len() as u32;
            for subject in rows.chunk_by(|a, b| a.subject == b.subject) {
                let days: Vec<Progress> = subject
                    .iter()
                    .map(|r| Progress {
                        depth: r.depth as usize,
                        times: r.times.clone(),
                    })
                    .collect();
                all.push(merge(&days));
                for r in subject {
                    let d = daily.entry(r.day).or_insert(FunnelDay {
                        day: r.day,
                        entered: 0,
                        converted: 0,
                    });
                    d.entered += 1;
                    d.converted += u64::from(r.depth == steps);
                }
            }
            Ok(SavedFunnelReport {
                steps: summarize(&funnel.spec, &all),
                daily: daily.into_values().collect(),
                org_id: org,
                from,
                to,
                as_of: funnel.snapshot_to,
                refreshed_at: state.refreshed_at,
                funnel: funnel.clone(),
            })
        })
        .await
    }

    /// The saved funnels' half of a refresh: for each, the entry days whose progress may have
    /// changed — every day since its first event (up to a year) when it was never snapshotted
    /// or on a full refresh; else those since its last snapshot, and those within its window
    /// before a day whose events changed (`dirty`).
    pub(crate) async fn plan_funnels(
        &self,
        full: bool,
        today: Day,
        dirty: &[DirtyDay],
    ) -> Result<Vec<FunnelPlan>> {
        let funnels = self.store.funnels().await.map_err(store_err)?;
        if funnels.is_empty() {
            return Ok(Vec::new());
        }
        let Some(first) = self.store.first_event_day().await.map_err(store_err)? else {
            return Ok(Vec::new());
        };
        let earliest = first.max(today.plus(1 - FUNNEL_HISTORY_DAYS));
        let mut plans = Vec::new();
        for f in funnels {
            let window_days =
                i32::try_from((f.spec.window_ms + DAY_MS - 1) / DAY_MS).unwrap_or(i32::MAX);
            let from = match (full, f.snapshot_to) {
                (false, Some(last)) => dirty
                    .first()
                    .map_or(last.plus(1), |d| d.day.plus(-window_days).min(last.plus(1))),
                _ => earliest,
            }
            .max(earliest);
            if from > today {
                continue;
            }
            let names: Vec<String> = f
                .spec
                .steps
                .iter()
                .chain(f.spec.exclusions.iter().map(|x| &x.event))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let until = today
                .plus(1)
                .start()
                .millis()
                .saturating_add(f.spec.window_ms);
            let events = self
                .store
                .named_events(
                    None,
                    &names,
                    from.start().millis(),
                    until,
                    f.by == FunnelSubject::Org,
                )
                .await
                .map_err(store_err)?;
            plans.push(FunnelPlan {
                id: f.id,
                from,
                rows: rows_of(&f, &events, from, today),
            });
        }
        Ok(plans)
    }
}
