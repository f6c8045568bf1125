//! Funnels: how many subjects (users, or organisations) went through ordered steps, where they
//! dropped off, and how long they took.
//!
//! Definitions. A subject's events are taken in order (time, then arrival). A **path** of depth
//! `k` is `k` of its events, in that order, named after the first `k` steps, such that:
//! - the last is at most `window` after the first (the conversion window);
//! - each is at most `step_windows[i]` after the one before, where a step window is given;
//! - for each exclusion `{event, from_step, to_step}`, no event of that name lies between the
//!   path's `from_step` event and its last event up to `to_step` (one in between stops the path
//!   from going on past `from_step` by that route).
//!
//! A subject **reaches** step `k` when it has a path of depth `k`; the funnel counts, per step,
//! the subjects that reached it (so the counts never grow along the funnel). A subject's **time
//! to convert** to step `k` is its fastest path's: the least time from the first step to the
//! `k`-th over its paths of depth `k`. Per step, the median (the lower of the two middle values)
//! and the mean over the subjects that reached it.
//!
//! Computed per subject by dynamic programming over its events: for each event that can be
//! step `k`, the latest first-step time of a valid path ending there (the latest start leaves
//! the most of the conversion window; every other rule depends only on the step before), in
//! O(steps × events²). `funnel_tests.rs` checks it against every path enumerated.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const STEPS_MIN: usize = 2;
pub const STEPS_MAX: usize = 10;
pub const EXCLUSIONS_MAX: usize = 10;
/// The longest conversion window: a year.
pub const WINDOW_MAX_MS: i64 = 366 * 86_400_000;
pub const EVENT_NAME_MAX: usize = 100;

/// A step the funnel must not see between two of its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Exclusion {
    pub event: String,
    /// Steps numbered from 1: the exclusion applies between these two steps' events.
    pub from_step: usize,
    pub to_step: usize,
}

/// What a funnel counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FunnelSpec {
    /// The event names of the steps, in order (2 to 10).
    pub steps: Vec<String>,
    /// The conversion window: from the first step to the last, in milliseconds.
    pub window_ms: i64,
    /// Optional windows between step `i` and step `i + 1` (`steps.len() − 1` entries, or none).
    #[serde(default)]
    pub step_windows_ms: Vec<Option<i64>>,
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
}

fn check_name(field: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > EVENT_NAME_MAX {
        return Err(Error::invalid(
            field,
            format!("an event name is 1 to {EVENT_NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "an event name has no control characters",
        ));
    }
    Ok(())
}

impl FunnelSpec {
    /// Checks the spec; every problem is named with its field.
    pub fn validate(&self) -> Result<()> {
        let n = self.steps.len();
        if !(STEPS_MIN..=STEPS_MAX).contains(&n) {
            return Err(Error::invalid(
                "steps",
                format!("a funnel has {STEPS_MIN} to {STEPS_MAX} steps"),
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            check_name(&format!("steps[{i}]"), s)?;
        }
        if !(1..=WINDOW_MAX_MS).contains(&self.window_ms) {
            return Err(Error::invalid(
                "window",
                "the conversion window is 1 ms to 366 days",
            ));
        }
        if !self.step_windows_ms.is_empty() && self.step_windows_ms.len() != n - 1 {
            return Err(Error::invalid(
                "step_windows",
                format!("one window per pair of steps: {} for {n} steps", n - 1),
            ));
        }
        for (i, w) in self.step_windows_ms.iter().enumerate() {
            if w.is_some_and(|w| !(1..=self.window_ms).contains(&w)) {
                return Err(Error::invalid(
                    format!("step_windows[{i}]"),
                    "a step's window is 1 ms up to the conversion window",
                ));
            }
        }
        if self.exclusions.len() > EXCLUSIONS_MAX {
            return Err(Error::invalid(
                "exclusions",
                format!("at most {EXCLUSIONS_MAX} exclusions"),
            ));
        }
        for (i, x) in self.exclusions.iter().enumerate() {
            let field = format!("exclusions[{i}]");
            check_name(&field, &x.event)?;
            if self.steps.contains(&x.event) {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{:?} is a step of the funnel: it cannot also be excluded",
                        x.event
                    ),
                ));
            }
            if !(1 <= x.from_step && x.from_step < x.to_step && x.to_step <= n) {
                return Err(Error::invalid(
                    field,
                    format!("an exclusion is between two steps: 1 ≤ from < to ≤ {n}"),
                ));
            }
        }
        Ok(())
    }
}

/// One event of a subject: its name and when (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelEvent<'a> {
    pub name: &'a str,
    pub at: i64,
}

/// How far one subject went: the deepest step reached (0: never entered) and, per step reached,
/// its fastest time from the first step (`times[k - 1]` for step `k`; 0 for step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub depth: usize,
    pub times: Vec<i64>,
}

/// A subject's progress through a validated `spec`. Its events may come in any order of time;
/// events of the same time keep their order.
pub fn progress(spec: &FunnelSpec, events: &[FunnelEvent<'_>]) -> Progress {
    progress_entering(spec, events, i64::MIN..i64::MAX)
}

/// A subject's progress through `spec` entering it within `entry` (milliseconds): only a
/// first-step event in that range starts a path (a funnel over a period counts the subjects that
/// entered in it; their later steps may fall after it, within the window).
pub fn progress_entering(
    spec: &FunnelSpec,
    events: &[FunnelEvent<'_>],
    entry: std::ops::Range<i64>,
) -> Progress {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (events[i].at, i));
    let ev: Vec<&FunnelEvent> = order.iter().map(|&i| &events[i]).collect();
    let n = spec.steps.len();
    // Exclusion events seen before each position, per exclusion: whether one lies strictly
    // between two positions is a difference of two counts.
    let before: Vec<Vec<u32>> = spec
        .exclusions
        .iter()
        .map(|x| {
            let mut seen = 0;
            let mut counts = Vec::with_capacity(ev.len() + 1);
            counts.push(0);
            for e in &ev {
                seen += u32::from(e.name == x.event);
                counts.push(seen);
            }
            counts
        })
        .collect();
    let blocked = |step: usize, i: usize, j: usize| {
        // Moving from step `step` (1-based) at position i to step + 1 at position j.
        spec.exclusions
            .iter()
            .zip(&before)
            .any(|(x, c)| x.from_step <= step && step < x.to_step && c[j] - c[i + 1] > 0)
    };
    // latest[j]: the latest first-step time of a valid path whose current step ends at j.
    let mut latest: Vec<Option<i64>> = ev
        .iter()
        .map(|e| (e.name == spec.steps[0] && entry.contains(&e.at)).then_some(e.at))
        .collect();
    if latest.iter().all(Option::is_none) {
        return Progress {
            depth: 0,
            times: Vec::new(),
        };
    }
    let mut times = vec![0];
    for step in 1..n {
        let window = spec.step_windows_ms.get(step - 1).copied().flatten();
        let mut next: Vec<Option<i64>> = vec![None; ev.len()];
        for (j, e) in ev.iter().enumerate() {
            if e.name != spec.steps[step] {
                continue;
            }
            next[j] = (0..j)
                .filter_map(|i| latest[i].map(|start| (i, start)))
                .filter(|&(i, start)| {
                    e.at - start <= spec.window_ms
                        && window.is_none_or(|w| e.at - ev[i].at <= w)
                        && !blocked(step, i, j)
                })
                .map(|(_, start)| start)
                .max();
        }
        let fastest = ev
            .iter()
            .zip(&next)
            .filter_map(|(e, s)| s.map(|s| e.at - s))
            .min();
        match fastest {
            Some(t) => times.push(t),
            None => break,
        }
        latest = next;
    }
    Progress {
        depth: times.len(),
        times,
    }
}

/// One subject's progress over entries on several days, from its progress per day of entry
/// (what a saved funnel's daily snapshot keeps): the paths entering in a period are the union of
/// those entering on each of its days, so the deepest step is the deepest of any day, and the
/// time to each step the fastest of the days that reached it. Equal to [`progress_entering`]
/// over the whole period (`funnel_tests.rs` checks it).
pub fn merge(days: &[Progress]) -> Progress {
    let depth = days.iter().map(|p| p.depth).max().unwrap_or(0);
    let times = (0..depth)
        .map(|k| {
            days.iter()
                .filter_map(|p| p.times.get(k))
                .copied()
                .min()
                .unwrap_or(0)
        })
        .collect();
    Progress { depth, times }
}

/// One step of a funnel's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FunnelStep {
    pub name: String,
    /// Subjects that reached the step.
    pub count: u64,
    /// Of those that reached the step before (`None` for the first step, or when none did).
    pub conversion_from_previous: Option<f64>,
    pub conversion_from_start: Option<f64>,
    /// Reached the step before but not this one.
    pub drop_off: u64,
    /// Time from the first step (fastest path per subject): median and mean, milliseconds.
    pub median_ms: Option<i64>,
    pub mean_ms: Option<i64>,
}

/// Counts every subject's progress into the funnel's steps.
pub fn summarize(spec: &FunnelSpec, all: &[Progress]) -> Vec<FunnelStep> {
    let n = spec.steps.len();
    let mut out: Vec<FunnelStep> = Vec::with_capacity(n);
    for k in 1..=n {
        let mut times: Vec<i64> = all
            .iter()
            .filter(|p| p.depth >= k)
            .map(|p| p.times[k - 1])
            .collect();
        times.sort_unstable();
        let count = times.len() as u64;
        let first = out.first().map_or(count, |s| s.count);
        let previous = out.last().map(|s| s.count);
        let ratio = |of: u64| (of > 0).then(|| count as f64 / of as f64);
        out.push(FunnelStep {
            name: spec.steps[k - 1].clone(),
            count,
            conversion_from_previous: previous.and_then(ratio),
            conversion_from_start: ratio(first),
            drop_off: previous.map_or(0, |p| p - count),
            median_ms: times.get(times.len().saturating_sub(1) / 2).copied(),
            mean_ms: (count > 0).then(|| {
                (times.iter().map(|t| i128::from(*t)).sum::<i128>() / i128::from(count)) as i64
            }),
        });
    }
    out
}

#[cfg(test)]
#[path = "funnel_tests.rs"]
mod tests;
