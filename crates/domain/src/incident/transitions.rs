//! The incident state machine: a command applied to an incident gives the next incident and the
//! one event to append, or says why it cannot.
//!
//! ```text
//!            acknowledge          wait
//!   open ───────────────► acknowledged ◄──────► waiting
//!    │  ▲                     │        resume      │
//!    │  │ reopen              │ resolve            │ resolve
//!    │  │                     ▼                    │
//!    └──┼──── resolve ───► resolved ◄──────────────┘
//!       │                     │ close
//!       └──── reopen ───── closed
//! ```
//!
//! Assigning, renaming and changing severity are allowed in every status but `closed`; comments and the
//! server's records (escalations, SLA notices) in every status. A transition that makes no sense
//! is [`Error::Conflict`] naming the current status.

use super::Change;
use crate::error::{Error, Result, Validator};
use crate::model::{
    Incident, IncidentCommand, IncidentEvent, IncidentEventKind, IncidentStatus, NewIncident,
    ACTOR_ID_MAX, COMMENT_MAX, TITLE_MAX,
};

/// Opens an incident: version 1, status `open`, and its `Opened` event (based on version 0).
/// Every bad field is reported at once.
pub fn open(new: &NewIncident, change: &Change) -> Result<(Incident, IncidentEvent)> {
    let mut v = Validator::new();
    if new.id.is_nil() {
        v.push("id", "must not be the nil UUID (generate a UUIDv7)");
    }
    let title = v.check("title", check_title(&new.title));
    if new
        .impact_started_at
        .is_some_and(|t| t > change.occurred_at)
    {
        v.push(
            "impact_started_at",
            "must not be after the incident was opened",
        );
    }
    check_change(&mut v, change);
    v.finish()?;
    let title = title.unwrap_or_default();
    let incident = Incident {
        id: new.id,
        title: title.clone(),
        severity: new.severity,
        org_id: new.org_id,
        status: IncidentStatus::Open,
        assignee: None,
        opened_at: change.occurred_at,
        acknowledged_at: None,
        resolved_at: None,
        closed_at: None,
        impact_started_at: new.impact_started_at,
        version: 1,
        created_by: change.actor_id.clone(),
    };
    let kind = IncidentEventKind::Opened {
        title,
        severity: new.severity,
        org_id: new.org_id,
        impact_started_at: new.impact_started_at,
    };
    let event = event(&incident, change, kind, 0);
    Ok((incident, event))
}

/// Applies `command` to `incident`: the next incident (version + 1, timestamps set) and the
/// event to append, or the error and nothing changed.
///
/// - [`Error::Invalid`]: a bad value (an empty comment, a change said to occur before the
///   incident was opened).
/// - [`Error::Conflict`]: a transition the current status does not allow ("cannot acknowledge:
///   the incident is closed (reopen it first)"), a change that changes nothing, or a change
///   based on a version the incident has not reached (with `current_version`).
///
/// A change based on an older version is applied when it still makes sense in the current
/// status: the timeline records the version it was based on (`base_version`).
pub fn apply(
    incident: &Incident,
    command: &IncidentCommand,
    change: &Change,
) -> Result<(Incident, IncidentEvent)> {
    let mut v = Validator::new();
    check_change(&mut v, change);
    if change.occurred_at < incident.opened_at {
        v.push(
            "occurred_at",
            format!(
                "must not be before the incident was opened ({})",
                incident.opened_at
            ),
        );
    }
    v.finish()?;
    if change.base_version > incident.version || change.base_version < 1 {
        return Err(Error::stale(
            format!(
                "the change is based on version {} of the incident, which is at version {}: reload it and try again",
                change.base_version, incident.version
            ),
            incident.version,
            vec![],
        ));
    }

    use IncidentCommand as C;
    use IncidentEventKind as K;
    use IncidentStatus as S;
    let status = incident.status;
    let at = change.occurred_at;
    let mut next = incident.clone();
    let kind = match command {
        C::Comment { text } => K::Comment {
            text: check_comment(text).map_err(|m| Error::invalid("text", m))?,
        },
        C::Acknowledge => {
            require("acknowledge", status, &[S::Open])?;
            next.status = S::Acknowledged;
            next.acknowledged_at = incident.acknowledged_at.or(Some(at));
            K::Acknowledged
        }
        C::Wait => {
            require("wait on the customer", status, &[S::Acknowledged])?;
            next.status = S::Waiting;
            K::StatusChanged {
                from: status,
                to: S::Waiting,
            }
        }
        C::Resume => {
            require("resume", status, &[S::Waiting])?;
            next.status = S::Acknowledged;
            K::StatusChanged {
                from: status,
                to: S::Acknowledged,
            }
        }
        C::Resolve => {
            require("resolve", status, &[S::Open, S::Acknowledged, S::Waiting])?;
            next.status = S::Resolved;
            next.resolved_at = Some(at);
            K::Resolved
        }
        C::Close => {
            require("close", status, &[S::Resolved])?;
            next.status = S::Closed;
            next.closed_at = Some(at);
            K::Closed
        }
        C::Reopen => {
            require("reopen", status, &[S::Resolved, S::Closed])?;
            next.status = S::Open;
            next.resolved_at = None;
            next.closed_at = None;
            K::Reopened
        }
        C::Assign { assignee } => {
            require("assign", status, &NOT_CLOSED)?;
            let assignee = match assignee {
                Some(a) => Some(check_actor_id(a).map_err(|m| Error::invalid("assignee", m))?),
                None => None,
            };
            if assignee == incident.assignee {
                return Err(Error::conflict(match &assignee {
                    Some(a) => format!("the incident is already assigned to {a}"),
                    None => "the incident is already unassigned".to_string(),
                }));
            }
            next.assignee = assignee.clone();
            K::Assigned { assignee }
        }
        C::ChangeSeverity { severity } => {
            require("change the severity", status, &NOT_CLOSED)?;
            if *severity == incident.severity {
                return Err(Error::conflict(format!(
                    "the incident is already {}",
                    severity.as_str()
                )));
            }
            next.severity = *severity;
            K::SeverityChanged {
                from: incident.severity,
                to: *severity,
            }
        }
        C::Rename { title } => {
            require("rename", status, &NOT_CLOSED)?;
            let title = check_title(title).map_err(|m| Error::invalid("title", m))?;
            if title == incident.title {
                return Err(Error::conflict("the incident already has this title"));
            }
            next.title = title.clone();
            K::Renamed {
                from: incident.title.clone(),
                to: title,
            }
        }
        C::RecordEscalation {
            step,
            repeat,
            targets,
        } => K::Escalated {
            step: *step,
            repeat: *repeat,
            targets: targets.clone(),
        },
        C::RecordSlaAtRisk { clock } => K::SlaAtRisk { clock: *clock },
        C::RecordSlaBreached { clock } => K::SlaBreached { clock: *clock },
    };
    next.version = incident.version + 1;
    let event = event(&next, change, kind, change.base_version);
    Ok((next, event))
}

const NOT_CLOSED: [IncidentStatus; 4] = [
    IncidentStatus::Open,
    IncidentStatus::Acknowledged,
    IncidentStatus::Waiting,
    IncidentStatus::Resolved,
];

/// `Ok` when `status` is one of `allowed`, else the conflict naming the status and what to do.
fn require(verb: &str, status: IncidentStatus, allowed: &[IncidentStatus]) -> Result<()> {
    use IncidentStatus as S;
    if allowed.contains(&status) {
        return Ok(());
    }
    let hint = match (verb, status) {
        (_, S::Closed) => " (reopen it first)",
        ("close", _) => " (resolve it first)",
        ("reopen", _) => " (only a resolved or closed incident can be reopened)",
        ("resume", _) => " (only an incident waiting on the customer can resume)",
        ("wait on the customer", S::Open) => " (acknowledge it first)",
        (_, S::Resolved) => " (reopen it first)",
        _ => "",
    };
    Err(Error::conflict(format!(
        "cannot {verb}: the incident is {}{hint}",
        status.as_str()
    )))
}

fn event(
    incident: &Incident,
    change: &Change,
    kind: IncidentEventKind,
    base_version: i64,
) -> IncidentEvent {
    IncidentEvent {
        id: change.event_id,
        incident_id: incident.id,
        occurred_at: change.occurred_at,
        recorded_at: change.recorded_at,
        actor_id: change.actor_id.clone(),
        actor_name: change.actor_name.clone(),
        kind,
        base_version,
    }
}

fn check_change(v: &mut Validator, change: &Change) {
    if change.event_id.is_nil() {
        v.push("event_id", "must not be the nil UUID (generate a UUIDv7)");
    }
    v.check("actor_id", check_actor_id(&change.actor_id));
}

/// The checks of a command's own inputs, whatever state the incident is in: a retry of a change
/// already applied (same event id) is answered with the result only when it is well-formed.
pub fn check_command(command: &IncidentCommand) -> Result<()> {
    match command {
        IncidentCommand::Comment { text } => {
            check_comment(text).map_err(|m| Error::invalid("text", m))?;
        }
        IncidentCommand::Rename { title } => {
            check_title(title).map_err(|m| Error::invalid("title", m))?;
        }
        IncidentCommand::Assign { assignee: Some(a) } => {
            check_actor_id(a).map_err(|m| Error::invalid("assignee", m))?;
        }
        _ => {}
    }
    Ok(())
}

/// A title: 1 to [`TITLE_MAX`] characters, not only white space, no control characters;
/// trimmed.
pub fn check_title(input: &str) -> Result<String, String> {
    let n = input.chars().count();
    if n > TITLE_MAX {
        return Err(format!("must be at most {TITLE_MAX} characters (got {n})"));
    }
    let s = input.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters (tabs, new lines…)".into());
    }
    Ok(s.to_string())
}

/// A comment: 1 to [`COMMENT_MAX`] characters, not only white space, no NUL; trimmed.
pub fn check_comment(input: &str) -> Result<String, String> {
    let n = input.chars().count();
    if n > COMMENT_MAX {
        return Err(format!(
            "must be at most {COMMENT_MAX} characters (got {n})"
        ));
    }
    let s = input.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    crate::validate::check_text(s)?;
    Ok(s.to_string())
}

/// An actor id: 1 to [`ACTOR_ID_MAX`] characters, no white space around it, no control
/// characters; trimmed.
pub fn check_actor_id(input: &str) -> Result<String, String> {
    // The limit counts what was sent (as the API document's `maxLength` does).
    if input.chars().count() > ACTOR_ID_MAX {
        return Err(format!("must be at most {ACTOR_ID_MAX} characters"));
    }
    let s = input.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::model::Severity;
    use uuid::Uuid;

    fn change(n: u128, at: i64, base: i64) -> Change {
        Change {
            event_id: Uuid::from_u128(n),
            actor_id: "user:ana".into(),
            actor_name: "Ana".into(),
            occurred_at: Timestamp::from_millis(at),
            recorded_at: Timestamp::from_millis(at + 5),
            base_version: base,
        }
    }

    fn opened() -> Incident {
        let new = NewIncident {
            id: Uuid::from_u128(1),
            title: "  Login fails for Acme  ".into(),
            severity: Severity::Sev2,
            org_id: None,
            impact_started_at: None,
        };
        open(&new, &change(100, 1_000, 0)).unwrap().0
    }

    fn run(i: &Incident, c: IncidentCommand, at: i64) -> Result<(Incident, IncidentEvent)> {
        apply(i, &c, &change(at as u128, at, i.version))
    }

    #[test]
    fn opening_sets_version_one_and_records_the_opened_event() {
        let new = NewIncident {
            id: Uuid::from_u128(1),
            title: " Login fails ".into(),
            severity: Severity::Sev1,
            org_id: Some(Uuid::from_u128(9)),
            impact_started_at: Some(Timestamp::from_millis(500)),
        };
        let (i, e) = open(&new, &change(100, 1_000, 0)).unwrap();
        assert_eq!(
            (i.version, i.status, i.title.as_str()),
            (1, IncidentStatus::Open, "Login fails")
        );
        assert_eq!(i.created_by, "user:ana");
        assert_eq!(e.base_version, 0);
        assert_eq!(e.incident_id, i.id);
        assert!(matches!(
            e.kind,
            IncidentEventKind::Opened {
                impact_started_at: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn opening_reports_every_bad_field_at_once() {
        let new = NewIncident {
            id: Uuid::nil(),
            title: "   ".into(),
            severity: Severity::Sev1,
            org_id: None,
            impact_started_at: Some(Timestamp::from_millis(2_000)),
        };
        let mut c = change(0, 1_000, 0);
        c.actor_id = " ".into();
        let err = open(&new, &c).unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["id", "title", "impact_started_at", "event_id", "actor_id"],
            "all problems are reported together, nothing half-valid"
        );
    }

    #[test]
    fn the_life_of_an_incident() {
        use IncidentCommand as C;
        let i = opened();
        let (i, e) = run(&i, C::Acknowledge, 2_000).unwrap();
        assert_eq!(
            (i.status, i.version, e.base_version),
            (IncidentStatus::Acknowledged, 2, 1)
        );
        assert_eq!(i.acknowledged_at, Some(Timestamp::from_millis(2_000)));
        let (i, e) = run(&i, C::Wait, 3_000).unwrap();
        assert_eq!(
            e.kind,
            IncidentEventKind::StatusChanged {
                from: IncidentStatus::Acknowledged,
                to: IncidentStatus::Waiting
            }
        );
        let (i, _) = run(&i, C::Resume, 4_000).unwrap();
        assert_eq!(i.status, IncidentStatus::Acknowledged);
        let (i, _) = run(&i, C::Resolve, 5_000).unwrap();
        assert_eq!(i.resolved_at, Some(Timestamp::from_millis(5_000)));
        let (i, _) = run(&i, C::Close, 6_000).unwrap();
        assert_eq!(
            (i.status, i.closed_at),
            (IncidentStatus::Closed, Some(Timestamp::from_millis(6_000)))
        );
        let (i, _) = run(&i, C::Reopen, 7_000).unwrap();
        assert_eq!(
            (i.status, i.resolved_at, i.closed_at),
            (IncidentStatus::Open, None, None)
        );
        let (i, _) = run(&i, C::Acknowledge, 8_000).unwrap();
        assert_eq!(
            i.acknowledged_at,
            Some(Timestamp::from_millis(2_000)),
            "the first acknowledgement is kept: MTTA measures it"
        );
        assert_eq!(i.version, 8, "every change increments the version");
    }

    #[test]
    fn a_transition_that_makes_no_sense_is_a_conflict_naming_the_status() {
        use IncidentCommand as C;
        let i = opened();
        let (resolved, _) = run(&i, C::Resolve, 2_000).unwrap();
        let (closed, _) = run(&resolved, C::Close, 3_000).unwrap();
        let cases = [
            (&closed, C::Acknowledge, "cannot acknowledge: the incident is closed (reopen it first)"),
            (&i, C::Close, "cannot close: the incident is open (resolve it first)"),
            (&i, C::Wait, "cannot wait on the customer: the incident is open (acknowledge it first)"),
            (&i, C::Resume, "cannot resume: the incident is open (only an incident waiting on the customer can resume)"),
            (&i, C::Reopen, "cannot reopen: the incident is open (only a resolved or closed incident can be reopened)"),
            (&resolved, C::Resolve, "cannot resolve: the incident is resolved (reopen it first)"),
            (&closed, C::Assign { assignee: Some("bo".into()) }, "cannot assign: the incident is closed (reopen it first)"),
            (&closed, C::ChangeSeverity { severity: Severity::Sev1 }, "cannot change the severity: the incident is closed (reopen it first)"),
            (&i, C::ChangeSeverity { severity: Severity::Sev2 }, "the incident is already sev2"),
            (&i, C::Assign { assignee: None }, "the incident is already unassigned"),
        ];
        for (inc, cmd, message) in cases {
            let err = run(inc, cmd.clone(), 9_000).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Conflict, "{cmd:?}");
            assert_eq!(err.to_string(), message, "{cmd:?}");
        }
    }

    #[test]
    fn comments_and_records_are_accepted_in_every_status() {
        use IncidentCommand as C;
        let (i, _) = run(&opened(), C::Resolve, 2_000).unwrap();
        let (i, _) = run(&i, C::Close, 3_000).unwrap();
        let (i, e) = run(
            &i,
            C::Comment {
                text: " post-mortem done ".into(),
            },
            4_000,
        )
        .unwrap();
        assert_eq!(
            e.kind,
            IncidentEventKind::Comment {
                text: "post-mortem done".into()
            }
        );
        let (i, _) = run(
            &i,
            C::RecordSlaBreached {
                clock: crate::model::SlaClock::Resolve,
            },
            5_000,
        )
        .unwrap();
        assert_eq!((i.status, i.version), (IncidentStatus::Closed, 5));
        let err = run(&i, C::Comment { text: "\0".into() }, 6_000).unwrap_err();
        assert_eq!(err.fields()[0].field, "text");
    }

    #[test]
    fn versions_and_times_are_checked() {
        let i = opened();
        let err = apply(&i, &IncidentCommand::Acknowledge, &change(7, 2_000, 5)).unwrap_err();
        let crate::Error::Conflict(c) = err else {
            panic!("a conflict")
        };
        assert_eq!(c.current_version, Some(1));
        let err = apply(&i, &IncidentCommand::Acknowledge, &change(7, 999, 1)).unwrap_err();
        assert_eq!(err.fields()[0].field, "occurred_at");
        let mut stale = opened();
        stale.version = 4;
        let (next, e) = apply(&stale, &IncidentCommand::Acknowledge, &change(7, 2_000, 2)).unwrap();
        assert_eq!(
            (next.version, e.base_version),
            (5, 2),
            "an older base still applies when it makes sense"
        );
    }
}
