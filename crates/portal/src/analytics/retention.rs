//! Revenue retention on `LocalPortal`: NRR and GRR over a period and by monthly cohort, from the
//! snapshot's movements (the rules are `domain::analytics::retention`).

use super::{RetentionQuery, RetentionReport};
use crate::local::{store_err, LocalPortal};
use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{across_cohorts, cohorts, period_retention, Day, Retention};
use domain::error::{Error, Result};
use domain::{Actor, Permission};

/// How many months before `to`'s a retention period starts by default (a year in all).
const DEFAULT_MONTHS: u32 = 11;

/// The first day of the month `n` months before `day`'s.
fn months_before(day: Day, n: u32) -> Day {
    (0..n).fold(day.month_start(), |d, _| d.plus(-1).month_start())
}

impl LocalPortal {
    pub(crate) async fn read_retention(
        &self,
        actor: &Actor,
        q: RetentionQuery,
    ) -> Result<RetentionReport> {
        self.authorize(actor, Permission::ReadRevenue, None)?;
        self.cached("retention", &q, || self.retention_of(q.clone()))
            .await
    }

    async fn retention_of(&self, q: RetentionQuery) -> Result<RetentionReport> {
        let state = self.store.snapshot_state().await.map_err(store_err)?;
        let known = self.currency(q.currency).await?;
        let as_of = known.as_ref().and_then(|k| k.1);
        let to = q.to.or(as_of).unwrap_or_else(|| Day::of(self.now()));
        let from = q.from.unwrap_or_else(|| months_before(to, DEFAULT_MONTHS));
        if to < from {
            return Err(Error::invalid("to", "must be on or after from"));
        }
        if to.days() - from.days() >= SPAN_MAX_DAYS {
            return Err(Error::invalid(
                "from",
                format!("a period is at most {SPAN_MAX_DAYS} days"),
            ));
        }
        let mut report = RetentionReport {
            currency: None,
            from,
            to,
            period: Retention {
                nrr: None,
                grr: None,
            },
            cohorts: Vec::new(),
            by_month: Vec::new(),
            as_of,
            refreshed_at: state.refreshed_at,
        };
        let Some((currency, _)) = known else {
            return Ok(report);
        };
        // Every movement up to `to`: each organisation's MRR at a day is its last movement's.
        let movements = self
            .store
            .mrr_movements(&currency, to.plus(1 - SPAN_MAX_DAYS), to, None)
            .await
            .map_err(store_err)?;
        report.period = period_retention(&movements, from, to);
        report.cohorts = cohorts(&movements, to)
            .into_iter()
            .filter(|c| c.month >= from.month_start())
            .collect();
        report.by_month = across_cohorts(&report.cohorts);
        report.currency = Some(currency);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_period_starts_eleven_months_before() {
        let d = |y, m, d| Day::from_ymd(y, m, d).unwrap();
        assert_eq!(months_before(d(2026, 12, 2), 11), d(2026, 1, 1));
        assert_eq!(months_before(d(2026, 3, 31), 11), d(2025, 4, 1));
        assert_eq!(months_before(d(2026, 3, 31), 0), d(2026, 3, 1));
    }
}
