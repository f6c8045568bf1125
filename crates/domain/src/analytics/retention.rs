//! Revenue retention: net (NRR) and gross (GRR), over a period and by monthly cohort of paying
//! organisations, from the ledger's movements (each organisation's MRR after every change).
//!
//! Definitions:
//! - Over a period, of the organisations paying at its start (so an organisation new in the
//!   period is left out): NRR = Σ their MRR at the end ÷ Σ their MRR at the start;
//!   GRR = Σ min(MRR at the end, MRR at the start) ÷ Σ MRR at the start (expansion does not
//!   count, so GRR ≤ 100 %, and GRR ≤ NRR).
//! - A cohort is the organisations whose first payment (`new` movement) fell in one month; its
//!   base is their MRR at the end of that month. Month `k` of the cohort is the same two ratios
//!   at the end of the `k`-th month after, against that base.

use super::day::Day;
use super::revenue::{Movement, MovementKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Net and gross revenue retention, as fractions (`None` when nothing was paying).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Retention {
    pub nrr: Option<f64>,
    pub grr: Option<f64>,
}

/// Each organisation's MRR at the end of `day`, from the movements (which start from nothing).
pub fn mrr_at(movements: &[Movement], day: Day) -> BTreeMap<Uuid, i64> {
    let mut by_org = BTreeMap::new();
    for m in movements.iter().filter(|m| m.day <= day) {
        by_org.insert(m.org_id, m.after);
    }
    by_org
}

fn ratio(n: i128, d: i128) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Retention of the organisations in `base` (their MRR at the start) at `end`.
fn retention_of(base: &BTreeMap<Uuid, i64>, end: &BTreeMap<Uuid, i64>) -> Retention {
    let (mut start, mut net, mut gross) = (0i128, 0i128, 0i128);
    for (org, b) in base.iter().filter(|(_, b)| **b > 0) {
        let e = end.get(org).copied().unwrap_or(0);
        start += i128::from(*b);
        net += i128::from(e);
        gross += i128::from(e.min(*b));
    }
    Retention {
        nrr: ratio(net, start),
        grr: ratio(gross, start),
    }
}

/// NRR and GRR from the end of `from − 1` to the end of `to`, for the organisations paying at
/// the start.
pub fn period_retention(movements: &[Movement], from: Day, to: Day) -> Retention {
    retention_of(&mrr_at(movements, from.plus(-1)), &mrr_at(movements, to))
}

/// One monthly cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cohort {
    /// The first day of the month the organisations first paid in.
    pub month: Day,
    pub organisations: u32,
    /// Their MRR at the end of that month.
    pub base_mrr: i64,
    /// Month 1, 2, … after (up to the month of `until`).
    pub months: Vec<Retention>,
}

/// The last day of the month starting at `month`.
fn month_end(month: Day) -> Day {
    month.plus(31).month_start().plus(-1)
}

/// The cohorts of organisations that first paid up to `until`, oldest first.
pub fn cohorts(movements: &[Movement], until: Day) -> Vec<Cohort> {
    let mut first: BTreeMap<Day, Vec<Uuid>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut ordered: Vec<&Movement> = movements.iter().filter(|m| m.day <= until).collect();
    ordered.sort_by_key(|m| m.day);
    for m in ordered {
        if m.kind == MovementKind::New && seen.insert(m.org_id) {
            first.entry(m.day.month_start()).or_default().push(m.org_id);
        }
    }
    first
        .into_iter()
        .map(|(month, orgs)| {
            let at_end = mrr_at(movements, month_end(month));
            let base: BTreeMap<Uuid, i64> = orgs
                .iter()
                .map(|o| (*o, at_end.get(o).copied().unwrap_or(0)))
                .collect();
            let mut months = Vec::new();
            let mut m = month_end(month).plus(1);
            while m <= until.month_start() {
                let end = month_end(m).min(until);
                months.push(retention_of(&base, &mrr_at(movements, end)));
                m = month_end(m).plus(1);
            }
            Cohort {
                month,
                organisations: orgs.len() as u32,
                base_mrr: base.values().sum(),
                months,
            }
        })
        .collect()
}

/// Month `k` after the first payment over every cohort that has it (`[k − 1]`): each cohort
/// weighted by its base MRR (Σ MRR at month `k` ÷ Σ base).
pub fn across_cohorts(cohorts: &[Cohort]) -> Vec<Retention> {
    let longest = cohorts.iter().map(|c| c.months.len()).max().unwrap_or(0);
    (0..longest)
        .map(|k| {
            let (mut base, mut net, mut gross) = (0f64, 0f64, 0f64);
            for c in cohorts.iter().filter(|c| c.base_mrr > 0) {
                let Some(r) = c.months.get(k) else { continue };
                let b = c.base_mrr as f64;
                base += b;
                net += r.nrr.unwrap_or(0.0) * b;
                gross += r.grr.unwrap_or(0.0) * b;
            }
            Retention {
                nrr: (base > 0.0).then(|| net / base),
                grr: (base > 0.0).then(|| gross / base),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
