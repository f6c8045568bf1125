//! The rules of offline sync, pure: no I/O, no clock. The upstream (the server, or the portal on
//! PostgreSQL for a direct profile) and the device both call them; the device's I/O around them
//! is in `portal::sync`.
//!
//! - **Order and idempotency** ([`check_batch`]): a device's mutations are numbered 1, 2, 3…;
//!   the upstream keeps the last number it applied per device, skips what it already applied
//!   (answering its recorded outcome again) and refuses a gap.
//! - **Merging** ([`field_conflicts`], [`outcome_of`]): comments and timeline events always
//!   merge. A transition is checked against the upstream state by the incident state machine;
//!   one that no longer makes sense is *rejected* with its reason. A field edit (title,
//!   severity, assignee) is a *conflict* when another device changed the same field since the
//!   version the edit was based on.
//! - **Time** ([`bounded_occurred_at`]): an edit made offline counts when it was made, bounded
//!   to `[opened, received]`.
//! - **Rebase** ([`rebase`]): what a device shows is the last synced state with its pending
//!   mutations applied on top, in order; a pending mutation that no longer applies is left out
//!   of the view (the push will say why).
//! - **Retry** ([`backoff_ms`]): 2 s after a failure, doubling to a minute.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::incident::{self, Change};
use crate::model::{
    FieldConflict, Incident, IncidentCommand, IncidentEvent, IncidentEventKind, Mutation,
    MutationOp, MutationOutcome, OutboxState, SyncHealth, PUSH_MAX,
};
use uuid::Uuid;

/// The field a command edits and the value it sets, for the edits that can conflict.
pub fn edited_field(command: &IncidentCommand) -> Option<(&'static str, Option<String>)> {
    match command {
        IncidentCommand::Rename { title } => Some(("title", Some(title.trim().to_string()))),
        IncidentCommand::ChangeSeverity { severity } => {
            Some(("severity", Some(severity.as_str().to_string())))
        }
        IncidentCommand::Assign { assignee } => {
            Some(("assignee", assignee.as_ref().map(|a| a.trim().to_string())))
        }
        _ => None,
    }
}

/// The value of `field` on `incident`.
pub fn field_value(incident: &Incident, field: &str) -> Option<String> {
    match field {
        "title" => Some(incident.title.clone()),
        "severity" => Some(incident.severity.as_str().to_string()),
        "assignee" => incident.assignee.clone(),
        _ => None,
    }
}

fn changes_field(kind: &IncidentEventKind, field: &str) -> bool {
    matches!(
        (kind, field),
        (IncidentEventKind::Renamed { .. }, "title")
            | (IncidentEventKind::SeverityChanged { .. }, "severity")
            | (IncidentEventKind::Assigned { .. }, "assignee")
    )
}

/// The conflicts of a field edit: another device's event since the edit's base version
/// (`since`: the incident's events after that version, in recording order) changed the same
/// field to a value other than the one this edit sets. `own` tells this device's own events,
/// which never conflict with its later edits.
pub fn field_conflicts(
    incident: &Incident,
    since: &[IncidentEvent],
    command: &IncidentCommand,
    own: impl Fn(Uuid) -> bool,
) -> Vec<FieldConflict> {
    let Some((field, mine)) = edited_field(command) else {
        return Vec::new();
    };
    let touched = since
        .iter()
        .any(|e| changes_field(&e.kind, field) && !own(e.id));
    let theirs = field_value(incident, field);
    if touched && theirs != mine {
        vec![FieldConflict {
            field: field.to_string(),
            mine,
            theirs,
        }]
    } else {
        Vec::new()
    }
}

/// Whether any of `events` changes the field `command` edits (then the device's own events
/// must be known to tell a conflict).
pub fn touches_edited_field(events: &[IncidentEvent], command: &IncidentCommand) -> bool {
    edited_field(command).is_some_and(|(f, _)| events.iter().any(|e| changes_field(&e.kind, f)))
}

/// Checks a pushed batch against the last mutation id applied for the device: the ids must be
/// consecutive and start no later than `last_applied + 1`. Returns how many at the front were
/// already applied (to be answered from their recorded outcomes, not applied again).
pub fn check_batch(last_applied: i64, ids: &[i64]) -> Result<usize> {
    if ids.is_empty() || ids.len() > PUSH_MAX {
        return Err(Error::invalid(
            "mutations",
            format!("send 1 to {PUSH_MAX} mutations"),
        ));
    }
    if let Some(w) = ids.windows(2).find(|w| w[1] != w[0] + 1) {
        return Err(Error::invalid(
            "mutations",
            format!(
                "mutation ids must be consecutive: {} is followed by {}",
                w[0], w[1]
            ),
        ));
    }
    let first = ids[0];
    if first < 1 {
        return Err(Error::invalid("mutations", "mutation ids start at 1"));
    }
    if first > last_applied + 1 {
        return Err(Error::stale(
            format!(
                "mutations {} to {} are missing: this device's last applied mutation is {last_applied}; push from {}",
                last_applied + 1,
                first - 1,
                last_applied + 1
            ),
            last_applied,
            vec![],
        ));
    }
    let done = (last_applied + 1 - first).clamp(0, ids.len() as i64);
    Ok(done as usize)
}

/// A mutation the upstream refused, as its outcome.
pub fn outcome_of(err: &Error) -> MutationOutcome {
    MutationOutcome::Rejected {
        code: err.code(),
        reason: err.to_string(),
    }
}

/// When an edit made offline counts: when the person made it, but not before the incident was
/// opened and not after the upstream received it (a clock running ahead cannot date a change
/// in the future).
pub fn bounded_occurred_at(
    occurred_at: Timestamp,
    opened_at: Timestamp,
    received_at: Timestamp,
) -> Timestamp {
    occurred_at.max(opened_at).min(received_at.max(opened_at))
}

/// Applies one mutation to an incident (none: not yet opened) as its author made it: the next
/// incident and its event, or why it does not apply.
pub fn apply_mutation(
    current: Option<&Incident>,
    m: &Mutation,
    actor_id: &str,
    actor_name: &str,
    recorded_at: Timestamp,
) -> Result<(Incident, IncidentEvent)> {
    let mut change = Change {
        event_id: m.event_id,
        actor_id: actor_id.to_string(),
        actor_name: actor_name.to_string(),
        occurred_at: m.occurred_at,
        recorded_at,
        base_version: 0,
    };
    match (&m.op, current) {
        (MutationOp::OpenIncident(new), None) => {
            if new.id != m.incident_id {
                return Err(Error::invalid(
                    "args.id",
                    "must be the mutation's incident_id",
                ));
            }
            change.occurred_at = m.occurred_at.min(recorded_at);
            incident::open(new, &change)
        }
        (MutationOp::OpenIncident(_), Some(_)) => Err(Error::conflict(format!(
            "an incident with the id {} already exists",
            m.incident_id
        ))),
        (MutationOp::ChangeIncident(_), None) => Err(Error::NotFound(format!(
            "no incident {} exists",
            m.incident_id
        ))),
        (MutationOp::ChangeIncident(command), Some(incident)) => {
            change.occurred_at =
                bounded_occurred_at(m.occurred_at, incident.opened_at, recorded_at);
            // The version the device had synced (never past the incident's: a device only knows
            // versions the upstream gave it; one it opened offline is at 1).
            change.base_version = m.base_version.clamp(1, incident.version);
            incident::apply(incident, command, &change)
        }
    }
}

/// The device's view of one incident: the last synced state (`base`, its timeline
/// `base_events`) with the pending mutations on it applied in order. A mutation that does not
/// apply is left out (the push will report it). `None` when there is nothing to show.
pub fn rebase(
    base: Option<&Incident>,
    base_events: &[IncidentEvent],
    pending: &[Mutation],
    actor_id: &str,
    actor_name: &str,
    recorded_at: Timestamp,
) -> Option<(Incident, Vec<IncidentEvent>)> {
    let mut current = base.cloned();
    let mut events = base_events.to_vec();
    for m in pending {
        if events.iter().any(|e| e.id == m.event_id) {
            // Already in the synced timeline: applied upstream and pulled back.
            continue;
        }
        if let Ok((next, event)) =
            apply_mutation(current.as_ref(), m, actor_id, actor_name, recorded_at)
        {
            current = Some(next);
            events.push(event);
        }
    }
    current.map(|c| (c, events))
}

/// Milliseconds to wait before the next attempt after `failures` consecutive failures: 2 s,
/// doubling, at most a minute; none after a success.
pub fn backoff_ms(failures: u32) -> i64 {
    if failures == 0 {
        return 0;
    }
    let exp = failures.saturating_sub(1).min(5);
    (2_000i64 << exp).min(60_000)
}

/// What an outbox entry does, in words.
pub fn summary(op: &MutationOp) -> String {
    match op {
        MutationOp::OpenIncident(n) => format!("open “{}” ({})", n.title, n.severity),
        MutationOp::ChangeIncident(c) => match c {
            IncidentCommand::Comment { .. } => "comment".into(),
            IncidentCommand::Acknowledge => "acknowledge".into(),
            IncidentCommand::Assign { assignee: Some(a) } => format!("assign to {a}"),
            IncidentCommand::Assign { assignee: None } => "unassign".into(),
            IncidentCommand::ChangeSeverity { severity } => format!("severity → {severity}"),
            IncidentCommand::Rename { title } => format!("rename to “{title}”"),
            IncidentCommand::Wait => "wait on the customer".into(),
            IncidentCommand::Resume => "resume".into(),
            IncidentCommand::Resolve => "resolve".into(),
            IncidentCommand::Close => "close".into(),
            IncidentCommand::Reopen => "reopen".into(),
            IncidentCommand::RecordEscalation { .. } => "record an escalation".into(),
            IncidentCommand::RecordSlaAtRisk { .. } => "record an SLA risk".into(),
            IncidentCommand::RecordSlaBreached { .. } => "record an SLA breach".into(),
        },
    }
}

/// The outbox state a pushed mutation's outcome moves it to.
pub fn state_after(outcome: &MutationOutcome) -> OutboxState {
    match outcome {
        MutationOutcome::Applied { .. } => OutboxState::Applied,
        MutationOutcome::Rejected { .. } => OutboxState::Rejected,
        MutationOutcome::Conflict { .. } => OutboxState::Conflict,
    }
}

/// How the device's sync stands, in one word: what needs the person first, then whether the
/// upstream answers, then whether anything waits.
pub fn health(
    pending: u32,
    attention: u32,
    offline: bool,
    errored: bool,
    synced_once: bool,
) -> SyncHealth {
    if attention > 0 {
        SyncHealth::Attention
    } else if offline {
        SyncHealth::Offline
    } else if errored {
        SyncHealth::Error
    } else if pending > 0 || !synced_once {
        SyncHealth::Pending
    } else {
        SyncHealth::Synced
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
