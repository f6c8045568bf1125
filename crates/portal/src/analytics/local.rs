//! `impl Analytics for LocalPortal`: facts validated whole and stored in one transaction with
//! their audit event; snapshots refreshed from the facts and checked to reconcile before they
//! are written; reads from the snapshots.

use super::{
    Analytics, FunnelQuery, FunnelReport, GrowthSeries, IngestReport, MovementQuery, MrrQuery,
    MrrSeries, NewFunnel, NewSubscriptionChange, RefreshReport, RetentionQuery, RetentionReport,
    SavedFunnel, SavedFunnelQuery, SavedFunnelReport, TopClient, TopClients, TopFeatures, TopUsage,
    UsageQuery, TOP_MAX,
};
use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::analytics::events::BATCH_MAX;
use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{
    apply, check_currency, check_event, churn_rates, rollup, Day, Interval, Movement, MrrDay,
    ProductEvent, SubscriptionChange, SubscriptionState,
};
use domain::audit::AuditDraft;
use domain::error::{Error, FieldError, Result};
use domain::{Actor, Permission};
use std::collections::{BTreeSet, HashMap};
use store::AuditBatch;
use uuid::Uuid;

/// The most problems one refused batch reports.
const ERRORS_MAX: usize = 100;
/// The period a chart shows when none is asked for.
const DEFAULT_DAYS: i32 = 90;

pub(super) fn audit(action: &str, after: serde_json::Value) -> AuditBatch {
    audit_of(action, action, None, Some(after))
}

pub(super) fn audit_of(
    action: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditBatch {
    AuditBatch::one(AuditDraft {
        entity_type: "analytics".into(),
        entity_id: entity_id.into(),
        action: action.into(),
        before,
        after,
    })
}

fn batch_size(field: &str, n: usize) -> Result<()> {
    if (1..=BATCH_MAX).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("a batch has 1 to {BATCH_MAX} rows"),
        ))
    }
}

/// One row for a whole period: the first day's start, the sums, the last day's end.
fn total_of(days: &[MrrDay]) -> Option<MrrDay> {
    let first = days.first()?;
    let mut total = days.iter().skip(1).fold(first.clone(), |mut t, d| {
        t.new += d.new;
        t.expansion += d.expansion;
        t.reactivation += d.reactivation;
        t.contraction += d.contraction;
        t.churn += d.churn;
        t.new_customers += d.new_customers;
        t.reactivated_customers += d.reactivated_customers;
        t.churned_customers += d.churned_customers;
        t
    });
    if let Some(last) = days.last() {
        total.end = last.end;
        total.customers_end = last.customers_end;
    }
    Some(total)
}

impl LocalPortal {
    /// The period of a read: `to` defaults to `last` (the snapshot's last day, or today), `from`
    /// to 90 days before `to`.
    pub(super) fn period(
        &self,
        from: Option<Day>,
        to: Option<Day>,
        last: Option<Day>,
    ) -> Result<(Day, Day)> {
        let to = to.or(last).unwrap_or_else(|| Day::of(self.now()));
        let from = from.unwrap_or(to.plus(1 - DEFAULT_DAYS));
        if to < from {
            return Err(Error::invalid("to", "must be on or after from"));
        }
        if to.days() - from.days() >= SPAN_MAX_DAYS {
            return Err(Error::invalid(
                "from",
                format!("a period is at most {SPAN_MAX_DAYS} days"),
            ));
        }
        Ok((from, to))
    }

    /// The currency asked for (checked), or the one with the most MRR, with its last day.
    pub(super) async fn currency(
        &self,
        asked: Option<String>,
    ) -> Result<Option<(String, Option<Day>)>> {
        let known = self.store.mrr_currencies().await.map_err(store_err)?;
        match asked {
            Some(c) => {
                check_currency(&c).map_err(|m| Error::invalid("currency", m))?;
                let last = known.iter().find(|k| k.0 == c).map(|k| k.1);
                Ok(Some((c, last)))
            }
            None => Ok(known.into_iter().next().map(|(c, d, _)| (c, Some(d)))),
        }
    }

    /// MRR from the snapshot (authorized, uncached).
    async fn read_mrr(&self, q: MrrQuery) -> Result<MrrSeries> {
        let state = self.store.snapshot_state().await.map_err(store_err)?;
        let interval = q.interval.unwrap_or(Interval::Day);
        let Some((currency, as_of)) = self.currency(q.currency).await? else {
            let (from, to) = self.period(q.from, q.to, None)?;
            return Ok(MrrSeries {
                currency: None,
                from,
                to,
                interval,
                points: Vec::new(),
                total: None,
                rates: None,
                as_of: None,
                refreshed_at: state.refreshed_at,
            });
        };
        let (from, to) = self.period(q.from, q.to, as_of)?;
        let days = self
            .store
            .mrr_days(&currency, from, to)
            .await
            .map_err(store_err)?;
        let total = total_of(&days);
        Ok(MrrSeries {
            currency: Some(currency),
            from,
            to,
            interval,
            points: rollup(&days, interval),
            rates: total.as_ref().map(churn_rates),
            total,
            as_of,
            refreshed_at: state.refreshed_at,
        })
    }

    /// The organisations paying the most, from the snapshot (authorized, uncached).
    async fn read_top_paying(
        &self,
        currency: Option<String>,
        at: Option<Day>,
        limit: Option<u32>,
    ) -> Result<TopClients> {
        let limit = limit.unwrap_or(10);
        if !(1..=TOP_MAX).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be 1 to {TOP_MAX}")));
        }
        let Some((currency, last)) = self.currency(currency).await? else {
            return Ok(TopClients {
                currency: None,
                at: at.unwrap_or_else(|| Day::of(self.now())),
                clients: Vec::new(),
                total_mrr: 0,
            });
        };
        let at = at.or(last).unwrap_or_else(|| Day::of(self.now()));
        let top = self
            .store
            .top_paying(&currency, at, limit)
            .await
            .map_err(store_err)?;
        let total_mrr = self
            .store
            .mrr_days(&currency, at, at)
            .await
            .map_err(store_err)?
            .first()
            .map_or(0, |d| d.end);
        Ok(TopClients {
            currency: Some(currency),
            at,
            clients: top
                .into_iter()
                .map(|(org_id, mrr)| TopClient {
                    org_id,
                    mrr,
                    share: if total_mrr > 0 {
                        mrr as f64 / total_mrr as f64
                    } else {
                        0.0
                    },
                })
                .collect(),
            total_mrr,
        })
    }
}

/// Checks that `new` changes can happen given the `stored` history: every change applied in
/// `(day, seq)` order. A new change identical to a stored one (a batch sent again) is skipped.
fn check_history(
    stored: &[SubscriptionChange],
    new: &[NewSubscriptionChange],
) -> std::result::Result<(), Vec<FieldError>> {
    let known: BTreeSet<(Uuid, Day, i64)> = stored
        .iter()
        .map(|c| (c.subscription_id, c.day, c.seq))
        .collect();
    let mut errors = Vec::new();
    let mut all: Vec<(Option<usize>, &SubscriptionChange)> =
        stored.iter().map(|c| (None, c)).collect();
    for (i, n) in new.iter().enumerate() {
        let c = &n.change;
        if known.contains(&(c.subscription_id, c.day, c.seq)) {
            if !stored.contains(c) {
                errors.push(FieldError::new(
                    format!("changes[{i}]"),
                    format!(
                        "subscription {} already has another change {} #{}",
                        c.subscription_id, c.day, c.seq
                    ),
                ));
            }
            continue;
        }
        all.push((Some(i), c));
    }
    all.sort_by_key(|(i, c)| (c.day, c.seq, c.subscription_id, *i));
    let mut subs: HashMap<Uuid, SubscriptionState> = HashMap::new();
    for (i, c) in all {
        match apply(subs.get(&c.subscription_id), c) {
            Ok(next) => {
                subs.insert(c.subscription_id, next);
            }
            Err(m) => {
                let field = i.map_or("changes".to_string(), |i| format!("changes[{i}]"));
                let m = match i {
                    Some(_) => m,
                    None => format!(
                        "with this batch, the stored change of subscription {} on {} cannot happen: {m}",
                        c.subscription_id, c.day
                    ),
                };
                errors.push(FieldError::new(field, m));
                if errors.len() >= ERRORS_MAX {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[async_trait]
impl Analytics for LocalPortal {
    async fn ingest_events(
        &self,
        actor: &Actor,
        events: Vec<ProductEvent>,
    ) -> Result<IngestReport> {
        self.authorize(actor, Permission::IngestAnalytics, None)?;
        batch_size("events", events.len())?;
        let now = self.now();
        let errors: Vec<FieldError> = events
            .iter()
            .enumerate()
            .flat_map(|(i, e)| {
                check_event(e, now)
                    .into_iter()
                    .map(move |f| FieldError::new(format!("events[{i}].{}", f.field), f.message))
            })
            .take(ERRORS_MAX)
            .collect();
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let received = events.len() as u64;
        self.write(actor, |mut tx| async move {
            let inserted = tx
                .insert_product_events(&events, now)
                .await
                .map_err(store_err)?;
            let report = IngestReport {
                received,
                inserted,
                duplicates: received - inserted,
            };
            let after = serde_json::json!({ "received": received, "inserted": inserted });
            Ok((tx, report, Some(audit("ingest_events", after))))
        })
        .await
    }

    async fn record_subscription_changes(
        &self,
        actor: &Actor,
        changes: Vec<NewSubscriptionChange>,
    ) -> Result<IngestReport> {
        self.authorize(actor, Permission::IngestAnalytics, None)?;
        batch_size("changes", changes.len())?;
        // Checked against the stored history of the same subscriptions only.
        let ids: Vec<Uuid> = changes
            .iter()
            .map(|c| c.change.subscription_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let stored = self
            .store
            .subscription_changes_of(&ids)
            .await
            .map_err(store_err)?;
        check_history(&stored, &changes).map_err(Error::Invalid)?;
        let now = self.now();
        let received = changes.len() as u64;
        let rows: Vec<(Uuid, SubscriptionChange)> =
            changes.into_iter().map(|c| (c.id, c.change)).collect();
        self.write(actor, |mut tx| async move {
            let inserted = tx
                .insert_subscription_changes(&rows, now)
                .await
                .map_err(store_err)?;
            let report = IngestReport {
                received,
                inserted,
                duplicates: received - inserted,
            };
            let after = serde_json::json!({ "received": received, "inserted": inserted });
            Ok((
                tx,
                report,
                Some(audit("record_subscription_changes", after)),
            ))
        })
        .await
    }

    async fn refresh_analytics(&self, actor: &Actor, full: bool) -> Result<RefreshReport> {
        self.authorize(actor, Permission::OperateJobs, None)?;
        self.refresh(actor, full).await
    }

    async fn mrr(&self, actor: &Actor, q: MrrQuery) -> Result<MrrSeries> {
        self.authorize(actor, Permission::ReadRevenue, None)?;
        self.cached("mrr", &q, || self.read_mrr(q.clone())).await
    }

    async fn retention(&self, actor: &Actor, q: RetentionQuery) -> Result<RetentionReport> {
        self.read_retention(actor, q).await
    }

    async fn mrr_movements(&self, actor: &Actor, q: MovementQuery) -> Result<Vec<Movement>> {
        self.authorize(actor, Permission::ReadRevenue, None)?;
        self.cached("movements", &q, || async {
            let Some((currency, as_of)) = self.currency(q.currency.clone()).await? else {
                return Ok(Vec::new());
            };
            let (from, to) = self.period(q.from, q.to, as_of)?;
            self.store
                .mrr_movements(&currency, from, to, q.kind)
                .await
                .map_err(store_err)
        })
        .await
    }

    async fn top_clients_by_mrr(
        &self,
        actor: &Actor,
        currency: Option<String>,
        at: Option<Day>,
        limit: Option<u32>,
    ) -> Result<TopClients> {
        self.authorize(actor, Permission::ReadRevenue, None)?;
        let question = (&currency, at, limit);
        self.cached("top-clients", &question, || {
            self.read_top_paying(currency.clone(), at, limit)
        })
        .await
    }

    async fn growth(&self, actor: &Actor, q: UsageQuery) -> Result<GrowthSeries> {
        self.read_growth(actor, q).await
    }

    async fn top_features(&self, actor: &Actor, q: UsageQuery) -> Result<TopFeatures> {
        self.read_top_features(actor, q).await
    }

    async fn top_clients_by_usage(&self, actor: &Actor, q: UsageQuery) -> Result<TopUsage> {
        self.read_top_usage(actor, q).await
    }

    async fn funnel(&self, actor: &Actor, q: FunnelQuery) -> Result<FunnelReport> {
        self.run_funnel(actor, q).await
    }

    async fn save_funnel(&self, actor: &Actor, f: NewFunnel) -> Result<SavedFunnel> {
        self.keep_funnel(actor, f).await
    }

    async fn saved_funnels(&self, actor: &Actor) -> Result<Vec<SavedFunnel>> {
        self.list_funnels(actor).await
    }

    async fn saved_funnel(
        &self,
        actor: &Actor,
        id: &str,
        q: SavedFunnelQuery,
    ) -> Result<SavedFunnelReport> {
        self.read_saved_funnel(actor, id, q).await
    }

    async fn delete_funnel(&self, actor: &Actor, id: &str) -> Result<()> {
        self.remove_funnel(actor, id).await
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
pub(crate) mod tests;
