//! The rules of incidents (the types are in [`crate::model`]): the state machine that turns a
//! command into the next incident and the event to append ([`apply`], [`open`]), SLA clocks
//! computed from the timeline ([`sla_state`]), escalation policies and the notifications due
//! ([`due_notifications`]), and MTTA / MTTR / SLA compliance ([`mtta_mttr`]).
//!
//! Everything here is pure and deterministic: time comes in as a [`Timestamp`], and a timeline
//! gives the same answer in any order, because every rule first sorts it by
//! `(occurred_at, recorded_at, id)` ([`in_timeline_order`]). The server, the desktop and the
//! offline replica call the same functions.

mod escalation;
mod metrics;
mod sla;
mod transitions;

#[cfg(test)]
mod gen;

pub use escalation::{
    check_webhook_url, due_notifications, validate_policy, REPEAT_MAX, STEPS_MAX, STEP_MINS_MAX,
    TARGETS_MAX,
};
pub use metrics::{mtta_mttr, IncidentMetrics, Metrics, OrgMetrics, Period, SeverityMetrics};
pub use sla::{
    default_target, default_targets, sla_notices_due, sla_state, target_for, validate_targets,
    RESOLVE_MINS_MAX, RESPONSE_MINS_MAX, SLA_CLOCK_EVENTS,
};
pub use transitions::{apply, check_actor_id, check_command, check_comment, check_title, open};

use crate::clock::Timestamp;
use crate::model::{IncidentEvent, IncidentEventKind, IncidentStatus};
use uuid::Uuid;

/// Who made a change, when, and on what it was based: everything [`apply`] needs besides the
/// incident and the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The new event's id (client-generated, a UUIDv7 recommended).
    pub event_id: Uuid,
    pub actor_id: String,
    pub actor_name: String,
    /// When the person did it.
    pub occurred_at: Timestamp,
    /// When it is recorded (the server's or the replica's clock).
    pub recorded_at: Timestamp,
    /// The incident version the person saw (0 when opening).
    pub base_version: i64,
}

/// The timeline's order: `(occurred_at, recorded_at, id)`. Event ids are unique, so this is a
/// total order and any permutation of a timeline sorts to the same sequence.
pub fn timeline_order(a: &IncidentEvent, b: &IncidentEvent) -> std::cmp::Ordering {
    (a.occurred_at, a.recorded_at, a.id).cmp(&(b.occurred_at, b.recorded_at, b.id))
}

/// The events in timeline order ([`timeline_order`]).
pub fn in_timeline_order(events: &[IncidentEvent]) -> Vec<&IncidentEvent> {
    let mut sorted: Vec<&IncidentEvent> = events.iter().collect();
    sorted.sort_by(|a, b| timeline_order(a, b));
    sorted
}

/// The status the timeline gives at instant `at` (events that occurred after it are not yet
/// known), or `None` before anything that sets a status.
pub fn status_at(events: &[IncidentEvent], at: Timestamp) -> Option<IncidentStatus> {
    in_timeline_order(events)
        .into_iter()
        .take_while(|e| e.occurred_at <= at)
        .fold(None, |status, e| match &e.kind {
            IncidentEventKind::Opened { .. } | IncidentEventKind::Reopened => {
                Some(IncidentStatus::Open)
            }
            IncidentEventKind::Acknowledged => Some(IncidentStatus::Acknowledged),
            IncidentEventKind::StatusChanged { to, .. } => Some(*to),
            IncidentEventKind::Resolved => Some(IncidentStatus::Resolved),
            IncidentEventKind::Closed => Some(IncidentStatus::Closed),
            _ => status,
        })
}

/// Milliseconds in `mins` minutes.
pub(crate) fn mins_ms(mins: u32) -> i64 {
    i64::from(mins) * 60_000
}
