//! User growth: sign-ups and active subjects (users, or organisations) per day.
//!
//! Definitions. A subject is **active** on a day when it sent any product event that day. Per
//! day `d`: **daily actives** are the subjects active on `d`; **weekly actives** those active on
//! any of the 7 days ending on `d`; **monthly actives** those active on any of the 30 days ending
//! on `d` (trailing windows, as DAU/WAU/MAU are usually read). **Sign-ups** count `signup` events.
//!
//! The store reads the distinct (day, subject) pairs; [`ActiveWindow`] turns them into the three
//! counts in one pass, remembering each subject's last active day (O(pairs + days × 30)).
//! `growth_tests.rs` checks it against counting every window.

use super::revenue::Interval;
use super::Day;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// The trailing windows of weekly and monthly actives, in days.
pub const WEEK_DAYS: i32 = 7;
pub const MONTH_DAYS: i32 = 30;

/// Active subjects on a day and in the trailing week and month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Actives {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

/// One day of growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GrowthDay {
    pub day: Day,
    pub signups: u32,
    pub users: Actives,
    pub orgs: Actives,
}

/// A feature's use over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureUsage {
    pub feature: String,
    /// `feature_used` events.
    pub uses: u64,
    /// Distinct organisations that used it.
    pub orgs: u32,
}

/// An organisation's use of the product over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrgUsage {
    pub org_id: uuid::Uuid,
    /// Its product events.
    pub events: u64,
    /// The days it was active on.
    pub active_days: u32,
    /// Its most distinct users on one day.
    pub peak_users: u32,
}

/// Counts actives day after day. Feed it every day in increasing order (days with no activity
/// too), each with the subjects active that day; a subject listed twice counts once.
#[derive(Debug)]
pub struct ActiveWindow<K> {
    last_seen: HashMap<K, Day>,
    /// How many subjects were last seen on each day (only the last [`MONTH_DAYS`] matter).
    by_last: BTreeMap<Day, u32>,
}

impl<K: Hash + Eq> Default for ActiveWindow<K> {
    fn default() -> Self {
        ActiveWindow {
            last_seen: HashMap::new(),
            by_last: BTreeMap::new(),
        }
    }
}

impl<K: Hash + Eq> ActiveWindow<K> {
    /// Records the subjects active on `day` and returns that day's counts.
    pub fn day(&mut self, day: Day, active: impl IntoIterator<Item = K>) -> Actives {
        let mut daily = 0;
        for k in active {
            let before = self.last_seen.insert(k, day);
            if before == Some(day) {
                continue;
            }
            daily += 1;
            if let Some(b) = before {
                if let Some(n) = self.by_last.get_mut(&b) {
                    *n -= 1;
                }
            }
            *self.by_last.entry(day).or_default() += 1;
        }
        // Days out of every window are forgotten (their subjects are counted nowhere).
        let oldest = day.plus(1 - MONTH_DAYS);
        self.by_last = self.by_last.split_off(&oldest);
        let since = |n: i32| -> u32 { self.by_last.range(day.plus(1 - n)..).map(|(_, c)| c).sum() };
        Actives {
            daily,
            weekly: since(WEEK_DAYS),
            monthly: since(MONTH_DAYS),
        }
    }
}

/// Growth per week or month: the period's sign-ups, and its actives as of its last day.
pub fn rollup_growth(days: &[GrowthDay], interval: Interval) -> Vec<GrowthDay> {
    let mut out: Vec<GrowthDay> = Vec::new();
    for d in days {
        let period = interval.period_of(d.day);
        match out.last_mut() {
            Some(p) if interval.period_of(p.day) == period => {
                let signups = p.signups + d.signups;
                *p = GrowthDay { signups, ..*d };
            }
            _ => out.push(*d),
        }
    }
    // Each row is labelled by its period's first day.
    for p in &mut out {
        p.day = interval.period_of(p.day);
    }
    out
}

#[cfg(test)]
#[path = "growth_tests.rs"]
mod tests;
