//! The refresh: recomputes the snapshots from the facts — the days whose facts changed (and
//! those since the last refresh), or everything — checks that every ledger day reconciles, and
//! writes it all in one transaction, only if no other refresh wrote since this one read (else
//! it reads again): two refreshes at once (the scheduler, a CLI, another instance) never leave
//! a snapshot older than the facts.

use super::local::audit;
use super::RefreshReport;
use crate::local::{store_err, LocalPortal};
use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{ledger, Day, SubscriptionChange, SubscriptionEvent};
use domain::error::{Error, Result};
use domain::Actor;
use std::collections::{BTreeSet, HashMap};
use store::Fact;

/// How many times a refresh reads again after losing a race to another refresh.
const ATTEMPTS: u32 = 5;

/// The currencies a history prices subscriptions in.
fn currencies_of(changes: &[SubscriptionChange]) -> BTreeSet<String> {
    changes
        .iter()
        .filter_map(|c| match &c.event {
            SubscriptionEvent::Started { price, .. }
            | SubscriptionEvent::PlanChanged { price, .. } => Some(price.currency.clone()),
            _ => None,
        })
        .collect()
}

impl LocalPortal {
    /// Refreshes the snapshots as `actor` (authorized by the caller).
    pub(crate) async fn refresh(&self, actor: &Actor, full: bool) -> Result<RefreshReport> {
        for _ in 0..ATTEMPTS {
            match self.refresh_once(actor, full).await {
                Ok(Some(report)) => return Ok(report),
                // Lost a race, or the database rolled back a deadlock: read again.
                Ok(None) | Err(Error::Unavailable(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::conflict(format!(
            "other refreshes kept writing the analytics snapshots while this one ran ({ATTEMPTS} tries); they are fresh — try again later if you need another"
        )))
    }

    /// One attempt: `None` when another refresh moved the snapshots on while this one read.
    async fn refresh_once(&self, actor: &Actor, full: bool) -> Result<Option<RefreshReport>> {
        let today = Day::of(self.now());
        // The version this refresh builds on: it writes only if no other refresh wrote since.
        let version = self
            .store
            .snapshot_state()
            .await
            .map_err(store_err)?
            .version;
        // Read before the facts: a fact stored after this read keeps its day dirty.
        let dirty_marks = self
            .store
            .dirty_days(Fact::Revenue)
            .await
            .map_err(store_err)?;
        let usage = self.plan_usage(full, today).await?;
        let funnels = self.plan_funnels(full, today, &usage.dirty).await?;
        let changes = self
            .store
            .subscription_changes(today)
            .await
            .map_err(store_err)?;
        let earliest = changes
            .first()
            .map_or(today, |c| c.day)
            .max(today.plus(1 - SPAN_MAX_DAYS));
        let dirty = dirty_marks.first().map(|d| d.day);
        let snapshots: HashMap<String, Day> = self
            .store
            .mrr_currencies()
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|(c, d, _)| (c, d))
            .collect();
        let mut ledgers = Vec::new();
        for currency in currencies_of(&changes) {
            let from = match (full, snapshots.get(&currency)) {
                (false, Some(last)) => dirty.map_or(last.plus(1), |d| d.min(last.plus(1))),
                _ => earliest,
            }
            .max(earliest);
            if from > today {
                continue;
            }
            let l = ledger(&changes, &currency, from, today)?;
            // The job's check: every day reconciles and continues the stored day before.
            let before = self
                .store
                .mrr_days(&currency, from.plus(-1), from.plus(-1))
                .await
                .map_err(store_err)?;
            let mut previous_end = before.first().map(|d| d.end);
            for d in &l.days {
                if !d.reconciles() || previous_end.is_some_and(|e| e != d.start) {
                    // Another refresh wrote the day before, or a fact of an earlier day
                    // arrived, while this one read: read again.
                    let now = self.store.snapshot_state().await.map_err(store_err)?;
                    let marks = self
                        .store
                        .dirty_days(Fact::Revenue)
                        .await
                        .map_err(store_err)?;
                    if now.version != version || marks.iter().any(|m| !dirty_marks.contains(m)) {
                        return Ok(None);
                    }
                    return Err(Error::internal(format!(
                        "the {currency} MRR ledger does not reconcile on {} (start {}, end {}, previous end {previous_end:?}): nothing was written; run a full refresh",
                        d.day, d.start, d.end
                    )));
                }
                previous_end = Some(d.end);
            }
            ledgers.push((from, l));
        }
        let report = RefreshReport {
            full,
            from: ledgers.iter().map(|(f, _)| *f).min(),
            to: today,
            currencies: ledgers.iter().map(|(_, l)| l.currency.clone()).collect(),
            days: ledgers.iter().map(|(_, l)| l.days.len() as u64).sum(),
            movements: ledgers.iter().map(|(_, l)| l.movements.len() as u64).sum(),
            usage_from: usage.range.map(|r| r.0),
            usage_days: usage.growth.len() as u64,
            funnels: funnels.len() as u64,
        };
        if ledgers.is_empty()
            && usage.range.is_none()
            && dirty_marks.is_empty()
            && funnels.is_empty()
        {
            return Ok(Some(report));
        }
        let shown = report.clone();
        self.write(actor, |mut tx| async move {
            // First, so that racing refreshes queue on one row (and the loser writes nothing).
            if !tx
                .bump_snapshot_version(version, self.now(), full)
                .await
                .map_err(store_err)?
            {
                // Lost the race: roll back, and let the caller read the facts again.
                return Ok((tx, None, None));
            }
            for (from, l) in &ledgers {
                tx.put_mrr_snapshot(&l.currency, *from, today, &l.days, &l.movements)
                    .await
                    .map_err(store_err)?;
            }
            tx.clear_dirty(Fact::Revenue, &dirty_marks)
                .await
                .map_err(store_err)?;
            if let Some((from, to)) = usage.range {
                tx.put_growth(from, to, &usage.growth)
                    .await
                    .map_err(store_err)?;
                tx.rebuild_usage(from, to).await.map_err(store_err)?;
            }
            for f in &funnels {
                // A funnel deleted while this refresh read is skipped.
                tx.put_funnel_days(f.id, f.from, today, &f.rows)
                    .await
                    .map_err(store_err)?;
            }
            tx.clear_dirty(Fact::Events, &usage.dirty)
                .await
                .map_err(store_err)?;
            let after = serde_json::to_value(&shown).map_err(|e| Error::internal(e.to_string()))?;
            Ok((tx, Some(report), Some(audit("refresh_analytics", after))))
        })
        .await
    }
}
