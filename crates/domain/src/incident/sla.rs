//! SLA targets and the clocks computed from a timeline (never stored).
//!
//! - **Start**: when the incident was opened, or when its impact started if that is earlier
//!   (`impact_started_at` on the `Opened` event).
//! - **Response clock**: from the start to the first acknowledgement. Resolving an incident
//!   nobody acknowledged also stops it (a resolution is a response), so it cannot run forever.
//! - **Resolve clock**: from the start to the resolution, paused while the incident is
//!   `waiting` on the customer. A reopen starts a new resolve cycle; every cycle is kept with its
//!   own elapsed time and outcome, and [`SlaState::resolve`] is the current one.
//! - **Targets**: the caller passes the target of the incident's severity *at the moment of
//!   evaluation*; after a severity change every cycle is measured against the new target.
//! - **As of `now`**: events that occurred after `now` are not yet known, so the same timeline
//!   answers for any past instant too, and elapsed time never decreases as `now` advances.
//! - A clock is **breached** once its elapsed time exceeds its target; `breached_at` is the
//!   instant the target ran out, and it does not move as time goes on. A running clock at or
//!   past `at_risk_percent` of its target is **at risk**.
//!
//! Times before the start (a device clock behind) count as the start.

use super::{in_timeline_order, mins_ms};
use crate::clock::Timestamp;
use crate::error::{Result, Validator};
use crate::model::{
    ClockState, ClockStatus, IncidentCommand, IncidentEvent, IncidentEventKind, IncidentStatus,
    ResolveCycle, Severity, SlaClock, SlaState, SlaTarget, AT_RISK_PERCENT_DEFAULT,
};

/// The longest response target: 30 days.
pub const RESPONSE_MINS_MAX: u32 = 43_200;
/// The longest resolve target: 365 days.
pub const RESOLVE_MINS_MAX: u32 = 525_600;

/// The targets used when none is configured for a severity:
///
/// | severity | response | resolve |
/// |---|---|---|
/// | sev1 | 15 min | 4 h |
/// | sev2 | 30 min | 8 h |
/// | sev3 | 4 h | 3 days |
/// | sev4 | 1 day | 10 days |
///
/// each at risk past 75 %.
pub fn default_target(severity: Severity) -> SlaTarget {
    let (response, resolve) = match severity {
        Severity::Sev1 => (15, 4 * 60),
        Severity::Sev2 => (30, 8 * 60),
        Severity::Sev3 => (4 * 60, 3 * 24 * 60),
        Severity::Sev4 => (24 * 60, 10 * 24 * 60),
    };
    SlaTarget {
        severity,
        target_response_mins: response,
        target_resolve_mins: resolve,
        at_risk_percent: AT_RISK_PERCENT_DEFAULT,
    }
}

/// [`default_target`] of every severity, most severe first.
pub fn default_targets() -> Vec<SlaTarget> {
    Severity::ALL.into_iter().map(default_target).collect()
}

/// The configured target of `severity`, or its [`default_target`].
pub fn target_for(targets: &[SlaTarget], severity: Severity) -> SlaTarget {
    targets
        .iter()
        .find(|t| t.severity == severity)
        .cloned()
        .unwrap_or_else(|| default_target(severity))
}

impl SlaTarget {
    /// Every problem at once, as field errors named after the fields.
    pub fn validate(&self) -> Result<()> {
        let mut v = Validator::new();
        self.check(&mut v, "");
        v.finish()
    }

    fn check(&self, v: &mut Validator, prefix: &str) {
        if !(1..=RESPONSE_MINS_MAX).contains(&self.target_response_mins) {
            v.push(
                &format!("{prefix}target_response_mins"),
                format!("must be from 1 to {RESPONSE_MINS_MAX} minutes (30 days)"),
            );
        }
        if !(1..=RESOLVE_MINS_MAX).contains(&self.target_resolve_mins) {
            v.push(
                &format!("{prefix}target_resolve_mins"),
                format!("must be from 1 to {RESOLVE_MINS_MAX} minutes (365 days)"),
            );
        } else if self.target_resolve_mins < self.target_response_mins {
            v.push(
                &format!("{prefix}target_resolve_mins"),
                format!(
                    "must be at least the response target ({} minutes)",
                    self.target_response_mins
                ),
            );
        }
        if !(1..=99).contains(&self.at_risk_percent) {
            v.push(
                &format!("{prefix}at_risk_percent"),
                "must be from 1 to 99 (percent of the target)",
            );
        }
    }
}

/// A set of targets (one per severity at most): every problem at once, named
/// `targets[1].target_resolve_mins`.
pub fn validate_targets(targets: &[SlaTarget]) -> Result<()> {
    let mut v = Validator::new();
    for (i, t) in targets.iter().enumerate() {
        t.check(&mut v, &format!("targets[{i}]."));
        if targets[..i].iter().any(|o| o.severity == t.severity) {
            v.push(
                &format!("targets[{i}].severity"),
                format!("{} already has a target", t.severity.as_str()),
            );
        }
    }
    v.finish()
}

/// Counts time over spans and remembers when the count reached the target.
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    elapsed: i64,
    reached_at: Option<i64>,
    /// Counting since then; `None` when paused or stopped.
    since: Option<i64>,
}

impl Meter {
    fn running(at: i64) -> Self {
        Meter {
            since: Some(at),
            ..Meter::default()
        }
    }

    /// Stops counting at `at` (no-op when not counting).
    fn halt(&mut self, at: i64, target: i64) {
        let Some(from) = self.since.take() else {
            return;
        };
        let span = at.saturating_sub(from).max(0);
        if span == 0 {
            return;
        }
        if self.reached_at.is_none() && self.elapsed.saturating_add(span) >= target {
            self.reached_at = Some(from.saturating_add(target.saturating_sub(self.elapsed).max(0)));
        }
        self.elapsed = self.elapsed.saturating_add(span);
    }

    /// The clock's state; `now` ends a running span without changing the meter.
    fn state(&self, now: i64, target: i64, at_risk_percent: u8, phase: Phase) -> ClockState {
        let mut m = *self;
        m.halt(now, target);
        let breached = m.elapsed > target;
        let status = if breached {
            ClockStatus::Breached
        } else {
            match phase {
                Phase::Stopped => ClockStatus::Met,
                Phase::Paused => ClockStatus::Paused,
                Phase::Running
                    if i128::from(m.elapsed) * 100
                        >= i128::from(target) * i128::from(at_risk_percent) =>
                {
                    ClockStatus::AtRisk
                }
                Phase::Running => ClockStatus::Running,
            }
        };
        ClockState {
            target_ms: target,
            elapsed_ms: m.elapsed,
            remaining_ms: target.saturating_sub(m.elapsed),
            status,
            breached_at: if breached {
                m.reached_at.map(Timestamp::from_millis)
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Paused,
    Stopped,
}

#[derive(Debug)]
struct Cycle {
    started_at: i64,
    ended_at: Option<i64>,
    meter: Meter,
}

impl Cycle {
    fn phase(&self) -> Phase {
        match (self.ended_at, self.meter.since) {
            (Some(_), _) => Phase::Stopped,
            (None, Some(_)) => Phase::Running,
            (None, None) => Phase::Paused,
        }
    }
}

/// The kinds of event (`IncidentEventKind::name`) [`sla_state`] reads: the same clocks come
/// from a timeline of only these, so a list reads these and not its page's comments.
pub const SLA_CLOCK_EVENTS: [&str; 6] = [
    "opened",
    "acknowledged",
    "status_changed",
    "resolved",
    "closed",
    "reopened",
];

/// The SLA clocks of a timeline at `now`, against `target` (the target of the incident's
/// current severity). The events may come in any order; see the module's documentation for
/// the rules.
pub fn sla_state(events: &[IncidentEvent], target: &SlaTarget, now: Timestamp) -> SlaState {
    let known: Vec<&IncidentEvent> = in_timeline_order(events)
        .into_iter()
        .filter(|e| e.occurred_at <= now)
        .collect();
    let now = now.millis();
    let start = known
        .iter()
        .find_map(|e| match &e.kind {
            IncidentEventKind::Opened {
                impact_started_at, ..
            } => Some(impact_started_at.map_or(e.occurred_at, |i| i.min(e.occurred_at))),
            _ => None,
        })
        .or_else(|| known.first().map(|e| e.occurred_at))
        .map_or(now, Timestamp::millis);
    let response_target = mins_ms(target.target_response_mins);
    let resolve_target = mins_ms(target.target_resolve_mins);

    let mut response = Meter::running(start);
    let mut cycles = vec![Cycle {
        started_at: start,
        ended_at: None,
        meter: Meter::running(start),
    }];
    for e in known {
        let t = e.occurred_at.millis().max(start);
        let Some(cycle) = cycles.last_mut() else {
            break;
        };
        let live = cycle.ended_at.is_none();
        match &e.kind {
            IncidentEventKind::Acknowledged => response.halt(t, response_target),
            IncidentEventKind::StatusChanged { to, .. } => match to {
                IncidentStatus::Waiting if live => cycle.meter.halt(t, resolve_target),
                IncidentStatus::Open | IncidentStatus::Acknowledged
                    if live && cycle.meter.since.is_none() =>
                {
                    cycle.meter.since = Some(t);
                }
                _ => {}
            },
            IncidentEventKind::Resolved | IncidentEventKind::Closed => {
                response.halt(t, response_target);
                if live {
                    cycle.meter.halt(t, resolve_target);
                    cycle.ended_at = Some(t);
                }
            }
            IncidentEventKind::Reopened if !live => cycles.push(Cycle {
                started_at: t,
                ended_at: None,
                meter: Meter::running(t),
            }),
            _ => {}
        }
    }

    let pct = target.at_risk_percent;
    let response_phase = if response.since.is_some() {
        Phase::Running
    } else {
        Phase::Stopped
    };
    let cycles: Vec<ResolveCycle> = cycles
        .iter()
        .map(|c| ResolveCycle {
            started_at: Timestamp::from_millis(c.started_at),
            ended_at: c.ended_at.map(Timestamp::from_millis),
            clock: c.meter.state(now, resolve_target, pct, c.phase()),
        })
        .collect();
    SlaState {
        response: response.state(now, response_target, pct, response_phase),
        resolve: cycles
            .last()
            .map(|c| c.clock.clone())
            .unwrap_or_else(|| Meter::default().state(now, resolve_target, pct, Phase::Stopped)),
        cycles,
    }
}

/// The SLA notices the server's job should record now (as `RecordSlaAtRisk` /
/// `RecordSlaBreached` commands through [`super::apply`]): a clock at risk or breached that the
/// timeline does not yet record — the response clock once per incident, the resolve clock once
/// per resolve cycle. Recording them leaves nothing due, so the job may run any number of times.
pub fn sla_notices_due(
    events: &[IncidentEvent],
    target: &SlaTarget,
    now: Timestamp,
) -> Vec<IncidentCommand> {
    let state = sla_state(events, target, now);
    let cycle_start = state
        .cycles
        .last()
        .map_or(Timestamp::from_millis(i64::MIN), |c| c.started_at);
    let recorded = |wanted: &IncidentEventKind, since: Timestamp| {
        events
            .iter()
            .any(|e| &e.kind == wanted && e.occurred_at >= since && e.occurred_at <= now)
    };
    let mut due = Vec::new();
    for (clock, status, since) in [
        (
            SlaClock::Response,
            state.response.status,
            Timestamp::from_millis(i64::MIN),
        ),
        (SlaClock::Resolve, state.resolve.status, cycle_start),
    ] {
        match status {
            ClockStatus::AtRisk if !recorded(&IncidentEventKind::SlaAtRisk { clock }, since) => {
                due.push(IncidentCommand::RecordSlaAtRisk { clock });
            }
            ClockStatus::Breached
                if !recorded(&IncidentEventKind::SlaBreached { clock }, since) =>
            {
                due.push(IncidentCommand::RecordSlaBreached { clock });
            }
            _ => {}
        }
    }
    due
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
