//! MTTA, MTTR and SLA compliance over a period, per severity and per organisation.
//!
//! - The incidents counted are those **opened** in the period `[from, to)`.
//! - Everything is measured **as of `now`**: an incident opened in the period and acknowledged
//!   after it still counts towards MTTA (so a slow one is not left out of its period), and
//!   events after `now` are not yet known.
//! - **MTTA**: from `opened_at` to the first acknowledgement, over the incidents acknowledged.
//! - **MTTR**: from `opened_at` to the latest resolution, wall-clock (waiting included), over
//!   the incidents resolved or closed as of `now` (a reopened, unresolved one is left out).
//! - **SLA compliance**: `met / (met + breached)` in percent, from [`super::sla_state`] with the
//!   target of each incident's current severity: one response clock per incident, one resolve
//!   clock per resolve cycle. A running clock already past its target counts as breached; one
//!   still within it is not counted yet. `None` when nothing was measured.
//! - Groups: by the incident's current severity (all four, most severe first, even when empty)
//!   and by organisation (those with incidents, no organisation first, then by id).

use super::{in_timeline_order, sla_state, target_for};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::model::{ClockStatus, Incident, IncidentEvent, IncidentEventKind, Severity, SlaTarget};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A period of time, `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    /// `[from, to)`; `to` must be after `from`.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self> {
        if to <= from {
            return Err(Error::invalid(
                "to",
                format!("must be after `from` ({from})"),
            ));
        }
        Ok(Period { from, to })
    }
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

/// The figures of one group of incidents. Durations are milliseconds; means and medians are
/// rounded down, and `None` when there is nothing to average.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// Incidents opened in the period.
    pub count: u32,
    pub acknowledged: u32,
    pub resolved: u32,
    pub mtta_mean_ms: Option<i64>,
    pub mtta_median_ms: Option<i64>,
    pub mttr_mean_ms: Option<i64>,
    pub mttr_median_ms: Option<i64>,
    pub response_met: u32,
    pub response_breached: u32,
    pub response_compliance_percent: Option<f64>,
    pub resolve_met: u32,
    pub resolve_breached: u32,
    pub resolve_compliance_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeverityMetrics {
    pub severity: Severity,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgMetrics {
    /// `None`: incidents of no organisation.
    pub org_id: Option<Uuid>,
    pub metrics: Metrics,
}

/// MTTA, MTTR and SLA compliance of a period: overall, per severity, per organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentMetrics {
    pub period: Period,
    pub overall: Metrics,
    pub by_severity: Vec<SeverityMetrics>,
    pub by_org: Vec<OrgMetrics>,
}

/// What one incident contributes.
#[derive(Debug, Default)]
struct Sample {
    tta: Option<i64>,
    ttr: Option<i64>,
    response: (u32, u32),
    resolve: (u32, u32),
}

fn sample(
    incident: &Incident,
    events: &[IncidentEvent],
    targets: &[SlaTarget],
    now: Timestamp,
) -> Sample {
    let opened = incident.opened_at.millis();
    let known: Vec<&IncidentEvent> = in_timeline_order(events)
        .into_iter()
        .filter(|e| e.occurred_at <= now)
        .collect();
    let tta = known
        .iter()
        .find(|e| matches!(e.kind, IncidentEventKind::Acknowledged))
        .map(|e| (e.occurred_at.millis() - opened).max(0));
    let done = super::status_at(events, now).is_some_and(|s| s.is_done());
    let ttr = known
        .iter()
        .rev()
        .find(|e| matches!(e.kind, IncidentEventKind::Resolved))
        .filter(|_| done)
        .map(|e| (e.occurred_at.millis() - opened).max(0));
    let sla = sla_state(events, &target_for(targets, incident.severity), now);
    let count = |statuses: &mut dyn Iterator<Item = ClockStatus>| {
        statuses.fold((0, 0), |(met, breached), s| match s {
            ClockStatus::Met => (met + 1, breached),
            ClockStatus::Breached => (met, breached + 1),
            _ => (met, breached),
        })
    };
    Sample {
        tta,
        ttr,
        response: count(&mut std::iter::once(sla.response.status)),
        resolve: count(&mut sla.cycles.iter().map(|c| c.clock.status)),
    }
}

fn mean(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    i64::try_from(sum.div_euclid(values.len() as i128)).ok()
}

fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => i64::try_from((i128::from(v[n / 2 - 1]) + i128::from(v[n / 2])).div_euclid(2)).ok(),
    }
}

fn percent(met: u32, breached: u32) -> Option<f64> {
    let all = met + breached;
    (all > 0).then(|| f64::from(met) * 100.0 / f64::from(all))
}

fn metrics(samples: &[&Sample]) -> Metrics {
    let tta: Vec<i64> = samples.iter().filter_map(|s| s.tta).collect();
    let ttr: Vec<i64> = samples.iter().filter_map(|s| s.ttr).collect();
    let sum = |f: fn(&Sample) -> (u32, u32)| {
        samples
            .iter()
            .map(|s| f(s))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    };
    let (response_met, response_breached) = sum(|s| s.response);
    let (resolve_met, resolve_breached) = sum(|s| s.resolve);
    Metrics {
        count: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        acknowledged: u32::try_from(tta.len()).unwrap_or(u32::MAX),
        resolved: u32::try_from(ttr.len()).unwrap_or(u32::MAX),
        mtta_mean_ms: mean(&tta),
        mtta_median_ms: median(&tta),
        mttr_mean_ms: mean(&ttr),
        mttr_median_ms: median(&ttr),
        response_met,
        response_breached,
        response_compliance_percent: percent(response_met, response_breached),
        resolve_met,
        resolve_breached,
        resolve_compliance_percent: percent(resolve_met, resolve_breached),
    }
}

/// MTTA, MTTR and SLA compliance of the incidents opened in `period`, each with its timeline,
/// measured as of `now` against `targets` (a severity without one uses its default). See the
/// module's documentation for the definitions.
pub fn mtta_mttr(
    incidents: &[(Incident, Vec<IncidentEvent>)],
    targets: &[SlaTarget],
    period: Period,
    now: Timestamp,
) -> IncidentMetrics {
    let samples: Vec<(&Incident, Sample)> = incidents
        .iter()
        .filter(|(i, _)| period.contains(i.opened_at))
        .map(|(i, events)| (i, sample(i, events, targets, now)))
        .collect();
    let all: Vec<&Sample> = samples.iter().map(|(_, s)| s).collect();
    let by_severity = Severity::ALL
        .into_iter()
        .map(|severity| SeverityMetrics {
            severity,
            metrics: metrics(
                &samples
                    .iter()
                    .filter(|(i, _)| i.severity == severity)
                    .map(|(_, s)| s)
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let mut orgs: BTreeMap<Option<Uuid>, Vec<&Sample>> = BTreeMap::new();
    for (i, s) in &samples {
        orgs.entry(i.org_id).or_default().push(s);
    }
    IncidentMetrics {
        period,
        overall: metrics(&all),
        by_severity,
        by_org: orgs
            .into_iter()
            .map(|(org_id, s)| OrgMetrics {
                org_id,
                metrics: metrics(&s),
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
