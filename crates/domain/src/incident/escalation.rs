//! Escalation policies: their validation, and which notifications are due for an incident.
//!
//! Step `i` of a policy schedules its notifications at `opened_at + after_mins` and then every
//! `repeat_every_mins`, `repeat` more times. A notification is due by `now` when its time has
//! come, the incident is at least the step's `min_severity` (its severity now), and the step's
//! condition held both at the scheduled time and now — `unacknowledged`: the incident is
//! `open`; `unresolved`: it is not resolved or closed. Notifications the timeline already
//! records (`Escalated { step, repeat }`) are never due again: the server's job records exactly
//! one event per (incident, step, repeat), so running it twice notifies once.

use super::status_at;
use super::transitions::check_actor_id;
use crate::clock::Timestamp;
use crate::error::{Result, Validator};
use crate::model::{
    Due, EscalationCondition, EscalationPolicy, EscalationStep, EscalationTarget, Incident,
    IncidentEvent, IncidentEventKind, IncidentStatus, ESCALATION_ROLES,
};
use crate::validate::{Name, URL_MAX};
use std::collections::HashSet;

/// The most steps a policy may have.
pub const STEPS_MAX: usize = 20;
/// The most targets a step may notify.
pub const TARGETS_MAX: usize = 10;
/// The most repeats of a step.
pub const REPEAT_MAX: u32 = 10;
/// The longest delay of a step or between repeats: a week.
pub const STEP_MINS_MAX: u32 = 10_080;

impl EscalationPolicy {
    /// See [`validate_policy`].
    pub fn validate(&self) -> Result<()> {
        validate_policy(self)
    }
}

/// Every problem of a policy at once, as field errors naming the step and target
/// (`rules[2].after_mins`, `rules[0].targets[1].url`); a policy is valid as a whole or not at
/// all.
pub fn validate_policy(policy: &EscalationPolicy) -> Result<()> {
    let mut v = Validator::new();
    v.check("name", Name::parse(&policy.name));
    match policy.rules.len() {
        0 => v.push("rules", "must have at least one step"),
        n if n > STEPS_MAX => v.push(
            "rules",
            format!("must have at most {STEPS_MAX} steps (got {n})"),
        ),
        _ => {}
    }
    for (i, step) in policy.rules.iter().enumerate() {
        check_step(&mut v, &format!("rules[{i}]"), step);
    }
    v.finish()
}

fn check_step(v: &mut Validator, at: &str, step: &EscalationStep) {
    if !(1..=STEP_MINS_MAX).contains(&step.after_mins) {
        v.push(
            &format!("{at}.after_mins"),
            format!("must be from 1 to {STEP_MINS_MAX} minutes (a week)"),
        );
    }
    match step.targets.len() {
        0 => v.push(&format!("{at}.targets"), "must name at least one target"),
        n if n > TARGETS_MAX => v.push(
            &format!("{at}.targets"),
            format!("must name at most {TARGETS_MAX} targets (got {n})"),
        ),
        _ => {}
    }
    for (j, target) in step.targets.iter().enumerate() {
        let field = format!("{at}.targets[{j}]");
        match target {
            EscalationTarget::User { id } => {
                v.check(&format!("{field}.id"), check_actor_id(id));
            }
            EscalationTarget::Role { role } => {
                if !ESCALATION_ROLES.contains(&role.as_str()) {
                    v.push(
                        &format!("{field}.role"),
                        format!(
                            "`{role}` is not a role to notify: use one of {}",
                            ESCALATION_ROLES.join(", ")
                        ),
                    );
                }
            }
            EscalationTarget::Webhook { url } => {
                v.check(&format!("{field}.url"), check_webhook_url(url));
            }
        }
        if step.targets[..j].contains(target) {
            v.push(&field, "is listed twice in this step");
        }
    }
    if step.repeat > REPEAT_MAX {
        v.push(
            &format!("{at}.repeat"),
            format!("must be from 0 to {REPEAT_MAX}"),
        );
    }
    match step.repeat_every_mins {
        None if step.repeat > 0 => v.push(
            &format!("{at}.repeat_every_mins"),
            "is required when the step repeats (minutes between repeats)",
        ),
        Some(m) if !(1..=STEP_MINS_MAX).contains(&m) => v.push(
            &format!("{at}.repeat_every_mins"),
            format!("must be from 1 to {STEP_MINS_MAX} minutes (a week)"),
        ),
        _ => {}
    }
}

/// A webhook's URL: absolute `https` (plain `http` only for localhost), a host, no credentials,
/// no fragment, at most [`URL_MAX`] characters.
pub fn check_webhook_url(input: &str) -> Result<(), String> {
    if input.chars().count() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let u = url::Url::parse(input.trim()).map_err(|e| {
        format!("is not an absolute URL ({e}); example: https://hooks.example.com/incidents")
    })?;
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must use https (http is accepted only for localhost)".into()),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(
            "must not contain credentials (use a secret in the integration instead)".into(),
        );
    }
    if u.fragment().is_some() {
        return Err("must not contain a fragment (#…)".into());
    }
    if !crate::validate::is_webhook_form(input.trim()) {
        return Err("must be an https URL (optionally with a port, a path and a query) naming a domain or an IPv4 address, in URL characters (%-encode others); example: https://hooks.example.com/incidents".into());
    }
    Ok(())
}

fn holds(condition: EscalationCondition, status: IncidentStatus) -> bool {
    match condition {
        EscalationCondition::Unacknowledged => status == IncidentStatus::Open,
        EscalationCondition::Unresolved => !status.is_done(),
    }
}

/// The notifications of `policy` due for `incident` by `now` and not yet recorded in its
/// timeline `events`, in the order they fell due (then by step and repeat). The caller chooses
/// the policy (the incident's organisation's, else the default); see the module's
/// documentation for the rules.
pub fn due_notifications(
    policy: &EscalationPolicy,
    incident: &Incident,
    events: &[IncidentEvent],
    now: Timestamp,
) -> Vec<Due> {
    let recorded: HashSet<(usize, u32)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            IncidentEventKind::Escalated { step, repeat, .. } => Some((*step, *repeat)),
            _ => None,
        })
        .collect();
    let status = |at: Timestamp| status_at(events, at).unwrap_or(incident.status);
    let status_now = status(now);
    let mut due = Vec::new();
    for (i, step) in policy.rules.iter().enumerate() {
        if incident.severity < step.min_severity || !holds(step.condition, status_now) {
            continue;
        }
        let first = incident
            .opened_at
            .millis()
            .saturating_add(super::mins_ms(step.after_mins));
        let every = step.repeat_every_mins.map_or(0, super::mins_ms);
        for k in 0..=step.repeat.min(REPEAT_MAX) {
            if k > 0 && every <= 0 {
                break;
            }
            let at =
                Timestamp::from_millis(first.saturating_add(every.saturating_mul(i64::from(k))));
            if at > now {
                break;
            }
            if !recorded.contains(&(i, k)) && holds(step.condition, status(at)) {
                due.push(Due {
                    step: i,
                    repeat: k,
                    at,
                });
            }
        }
    }
    due.sort_by_key(|d| (d.at, d.step, d.repeat));
    due
}

#[cfg(test)]
#[path = "escalation_tests.rs"]
mod tests;
