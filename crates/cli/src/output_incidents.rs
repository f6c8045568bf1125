//! Rendering incidents, their SLA clocks and timelines, metrics, SLA targets and escalation
//! policies as tables for people (`--json` prints the Portal's types as they are).

use crate::output::{table, when};
use domain::incident::{IncidentMetrics, Metrics};
use domain::model::{
    ClockState, ClockStatus, EscalationCondition, EscalationPolicy, EscalationTarget, Incident,
    IncidentCounts, IncidentDetail, IncidentEvent, IncidentEventKind, IncidentPerson,
    IncidentStatus, SlaClock, SlaState, SlaTarget,
};
use domain::{Clock, SystemClock, Timestamp};

/// A duration for people: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn span(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A duration given in minutes (SLA targets, escalation delays).
fn mins(m: u32) -> String {
    span(i64::from(m) * 60_000)
}

fn dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

/// One clock in a few words: `12m left`, `at risk, 4m left`, `paused, 2h left`, `met`,
/// `breached 3h ago`.
pub fn clock_badge(c: &ClockState, now: Timestamp) -> String {
    match c.status {
        ClockStatus::Running => format!("{} left", span(c.remaining_ms)),
        ClockStatus::AtRisk => format!("at risk, {} left", span(c.remaining_ms)),
        ClockStatus::Paused => format!("paused, {} left", span(c.remaining_ms)),
        ClockStatus::Met => "met".into(),
        ClockStatus::Breached => match c.breached_at {
            Some(at) => format!("breached {} ago", span(now.millis() - at.millis())),
            None => format!("breached, {} over", span(c.remaining_ms)),
        },
    }
}

/// A clock's status in a word (`breached 3h ago` once breached), beside its figures.
fn clock_status(c: &ClockState, now: Timestamp) -> String {
    match c.status {
        ClockStatus::Breached => clock_badge(c, now),
        s => status_word(s).into(),
    }
}

fn status_word(s: ClockStatus) -> &'static str {
    match s {
        ClockStatus::Running => "running",
        ClockStatus::AtRisk => "at risk",
        ClockStatus::Paused => "paused",
        ClockStatus::Met => "met",
        ClockStatus::Breached => "breached",
    }
}

/// The list's SLA cell: both clocks, one per line.
fn sla_cell(sla: &SlaState, now: Timestamp) -> String {
    format!(
        "response: {}\nresolve: {}",
        clock_badge(&sla.response, now),
        clock_badge(&sla.resolve, now)
    )
}

fn org(i: &Incident) -> String {
    dash(i.org_id.map(|o| o.to_string()))
}

/// Incidents as a table, one row each.
pub fn incidents<'a>(items: impl IntoIterator<Item = (&'a Incident, &'a SlaState)>) {
    let now = SystemClock.now();
    let mut t = table(&[
        "id", "severity", "status", "title", "org", "assignee", "SLA", "opened",
    ]);
    for (i, sla) in items {
        t.add_row(vec![
            i.id.to_string(),
            i.severity.to_string(),
            i.status.to_string(),
            i.title.clone(),
            org(i),
            dash(i.assignee.clone()),
            sla_cell(sla, now),
            when(Some(i.opened_at)),
        ]);
    }
    println!("{t}");
}

/// One incident: its fields, both SLA clocks, its resolve cycles, then its timeline.
pub fn incident(d: &IncidentDetail) {
    let now = SystemClock.now();
    let i = &d.incident;
    let rows = [
        ("id", i.id.to_string()),
        ("title", i.title.clone()),
        ("severity", i.severity.to_string()),
        ("status", i.status.to_string()),
        ("org", org(i)),
        ("assignee", dash(i.assignee.clone())),
        (
            "opened",
            format!("{} by {}", when(Some(i.opened_at)), i.created_by),
        ),
        ("impact since", when(i.impact_started_at)),
        ("acknowledged", when(i.acknowledged_at)),
        ("resolved", when(i.resolved_at)),
        ("closed", when(i.closed_at)),
        ("version", i.version.to_string()),
    ];
    for (k, v) in rows {
        println!("{k:<13}{v}");
    }
    let target = &d.target;
    println!(
        "\nSLA ({}: respond within {}, resolve within {}, at risk from {}%)",
        target.severity,
        mins(target.target_response_mins),
        mins(target.target_resolve_mins),
        target.at_risk_percent
    );
    let mut clocks = table(&["clock", "target", "elapsed", "remaining", "status"]);
    for (name, c) in [("response", &d.sla.response), ("resolve", &d.sla.resolve)] {
        clocks.add_row(vec![
            name.to_string(),
            span(c.target_ms),
            span(c.elapsed_ms),
            remaining(c),
            clock_status(c, now),
        ]);
    }
    println!("{clocks}");
    println!("\nresolve cycles");
    let mut cycles = table(&["#", "started", "ended", "elapsed", "status"]);
    for (n, c) in d.sla.cycles.iter().enumerate() {
        cycles.add_row(vec![
            (n + 1).to_string(),
            when(Some(c.started_at)),
            c.ended_at.map_or_else(|| "live".into(), |t| when(Some(t))),
            span(c.clock.elapsed_ms),
            clock_badge(&c.clock, now),
        ]);
    }
    println!("{cycles}");
    println!("\ntimeline");
    timeline(&d.timeline);
}

fn remaining(c: &ClockState) -> String {
    if c.remaining_ms < 0 {
        format!("-{}", span(c.remaining_ms))
    } else {
        span(c.remaining_ms)
    }
}

fn timeline(events: &[IncidentEvent]) {
    let mut t = table(&["time", "actor", "type", "what happened"]);
    for e in events {
        t.add_row(vec![
            when(Some(e.occurred_at)),
            e.actor_name.clone(),
            e.kind.name().to_string(),
            event_text(&e.kind),
        ]);
    }
    println!("{t}");
}

fn clock_name(c: SlaClock) -> &'static str {
    match c {
        SlaClock::Response => "response",
        SlaClock::Resolve => "resolve",
    }
}

/// What an event says, in a sentence.
pub fn event_text(kind: &IncidentEventKind) -> String {
    use IncidentEventKind as K;
    match kind {
        K::Opened {
            title,
            severity,
            org_id,
            impact_started_at,
        } => {
            let mut s = format!("opened “{title}” as {severity}");
            if let Some(o) = org_id {
                s.push_str(&format!(" for organisation {o}"));
            }
            if let Some(t) = impact_started_at {
                s.push_str(&format!(", impact since {}", when(Some(*t))));
            }
            s
        }
        K::Comment { text } => format!("commented: {text}"),
        K::Acknowledged => "acknowledged".into(),
        K::Assigned { assignee: Some(a) } => format!("assigned to {a}"),
        K::Assigned { assignee: None } => "unassigned".into(),
        K::SeverityChanged { from, to } => format!("severity {from} → {to}"),
        K::Renamed { from, to } => format!("renamed “{from}” → “{to}”"),
        K::StatusChanged {
            to: IncidentStatus::Waiting,
            ..
        } => "waiting on the customer (the resolve clock is paused)".into(),
        K::StatusChanged {
            from: IncidentStatus::Waiting,
            to,
        } => format!("back from waiting on the customer ({to})"),
        K::StatusChanged { from, to } => format!("status {from} → {to}"),
        K::Resolved => "resolved".into(),
        K::Closed => "closed".into(),
        K::Reopened => "reopened: a new resolve cycle starts".into(),
        K::Escalated {
            step,
            repeat,
            targets,
        } => {
            let again = match repeat {
                0 => String::new(),
                n => format!(", repeat {n}"),
            };
            format!(
                "escalated by rules[{step}]{again}: notified {}",
                target_list(targets)
            )
        }
        K::SlaAtRisk { clock } => format!("the {} SLA is at risk", clock_name(*clock)),
        K::SlaBreached { clock } => format!("the {} SLA was breached", clock_name(*clock)),
    }
}

fn target_list(targets: &[EscalationTarget]) -> String {
    targets
        .iter()
        .map(|t| match t {
            EscalationTarget::User { id } => format!("user {id}"),
            EscalationTarget::Role { role } => format!("role {role}"),
            EscalationTarget::Webhook { url } => format!("webhook {url}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mean_median(mean: Option<i64>, median: Option<i64>) -> String {
    match (mean, median) {
        (Some(a), Some(b)) => format!("{} / {}", span(a), span(b)),
        _ => "—".into(),
    }
}

fn compliance(percent: Option<f64>, met: u32, breached: u32) -> String {
    match percent {
        Some(p) => format!("{p:.1}% ({met} met, {breached} breached)"),
        None => "—".into(),
    }
}

fn metrics_row(group: String, m: &Metrics) -> Vec<String> {
    vec![
        group,
        m.count.to_string(),
        mean_median(m.mtta_mean_ms, m.mtta_median_ms),
        mean_median(m.mttr_mean_ms, m.mttr_median_ms),
        compliance(
            m.response_compliance_percent,
            m.response_met,
            m.response_breached,
        ),
        compliance(
            m.resolve_compliance_percent,
            m.resolve_met,
            m.resolve_breached,
        ),
    ]
}

/// MTTA, MTTR and SLA compliance: the period's totals, then per severity and organisation.
pub fn metrics(r: &IncidentMetrics) {
    let o = &r.overall;
    println!(
        "incidents opened {} → {}: {} ({} acknowledged, {} resolved)",
        when(Some(r.period.from)),
        when(Some(r.period.to)),
        o.count,
        o.acknowledged,
        o.resolved
    );
    println!(
        "MTTA  mean {}, median {}",
        dash(o.mtta_mean_ms.map(span)),
        dash(o.mtta_median_ms.map(span))
    );
    println!(
        "MTTR  mean {}, median {}",
        dash(o.mttr_mean_ms.map(span)),
        dash(o.mttr_median_ms.map(span))
    );
    println!(
        "SLA   response {}; resolve {}",
        compliance(
            o.response_compliance_percent,
            o.response_met,
            o.response_breached
        ),
        compliance(
            o.resolve_compliance_percent,
            o.resolve_met,
            o.resolve_breached
        )
    );
    let header = [
        "",
        "incidents",
        "MTTA mean / median",
        "MTTR mean / median",
        "response SLA",
        "resolve SLA",
    ];
    let mut t = table(&header);
    for s in &r.by_severity {
        t.add_row(metrics_row(s.severity.to_string(), &s.metrics));
    }
    println!("\n{t}");
    if !r.by_org.is_empty() {
        let mut t = table(&header);
        for g in &r.by_org {
            let name = g
                .org_id
                .map_or_else(|| "no organisation".into(), |o| o.to_string());
            t.add_row(metrics_row(name, &g.metrics));
        }
        println!("\n{t}");
    }
}

/// Active incidents per severity, and how many need attention.
pub fn counts(c: &IncidentCounts) {
    let mut t = table(&["severity", "active"]);
    for s in &c.active_by_severity {
        t.add_row(vec![s.severity.to_string(), s.count.to_string()]);
    }
    println!("{t}");
    println!("SLA at risk: {}, breached: {}", c.at_risk, c.breached);
}

/// Whom incidents can be assigned to: the id to give `incidents assign`, the name, last seen.
pub fn people(items: &[IncidentPerson]) {
    if items.is_empty() {
        println!("Nobody has worked on an incident yet.");
        return;
    }
    let mut t = table(&["id", "name", "last seen"]);
    for p in items {
        t.add_row(vec![
            p.id.clone(),
            p.name.clone(),
            when(Some(p.last_seen_at)),
        ]);
    }
    println!("{t}");
}

/// The SLA target of each severity.
pub fn sla_targets(items: &[SlaTarget]) {
    let mut t = table(&["severity", "response", "resolve", "at risk from"]);
    for s in items {
        t.add_row(vec![
            s.severity.to_string(),
            format!(
                "{} ({} min)",
                mins(s.target_response_mins),
                s.target_response_mins
            ),
            format!(
                "{} ({} min)",
                mins(s.target_resolve_mins),
                s.target_resolve_mins
            ),
            format!("{}%", s.at_risk_percent),
        ]);
    }
    println!("{t}");
}

fn covers(p: &EscalationPolicy) -> String {
    p.org_id
        .map_or_else(|| "default (every organisation)".into(), |o| o.to_string())
}

/// Escalation policies, one row each.
pub fn policies(items: &[EscalationPolicy]) {
    let mut t = table(&["id", "name", "covers", "steps"]);
    for p in items {
        t.add_row(vec![
            p.id.to_string(),
            p.name.clone(),
            covers(p),
            p.rules.len().to_string(),
        ]);
    }
    println!("{t}");
}

/// One escalation policy and its steps.
pub fn policy(p: &EscalationPolicy) {
    println!("id       {}", p.id);
    println!("name     {}", p.name);
    println!("covers   {}", covers(p));
    let mut t = table(&["rule", "after", "while", "from", "notify", "repeat"]);
    for (n, s) in p.rules.iter().enumerate() {
        let repeat = match (s.repeat, s.repeat_every_mins) {
            (0, _) => "—".into(),
            (r, Some(every)) => format!("{r}× every {}", mins(every)),
            (r, None) => format!("{r}×"),
        };
        t.add_row(vec![
            format!("rules[{n}]"),
            mins(s.after_mins),
            match s.condition {
                EscalationCondition::Unacknowledged => "unacknowledged",
                EscalationCondition::Unresolved => "unresolved",
            }
            .to_string(),
            format!("{} and worse", s.min_severity),
            target_list(&s.targets),
            repeat,
        ]);
    }
    println!("{t}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(span(45_000), "45s");
        assert_eq!(span(12 * 60_000), "12m");
        assert_eq!(span(3 * 3_600_000), "3h");
        assert_eq!(span(3 * 3_600_000 + 5 * 60_000), "3h 5m");
        assert_eq!(span(2 * 86_400_000 + 4 * 3_600_000), "2d 4h");
        assert_eq!(span(-90 * 60_000), "1h 30m", "the sign is the caller's");
    }

    #[test]
    fn a_clock_says_how_it_stands() {
        let now = Timestamp::from_millis(10 * 3_600_000);
        let clock = |status, remaining_ms, breached_at| ClockState {
            target_ms: 3_600_000,
            elapsed_ms: 3_600_000 - remaining_ms,
            remaining_ms,
            status,
            breached_at,
        };
        assert_eq!(
            clock_badge(&clock(ClockStatus::Running, 720_000, None), now),
            "12m left"
        );
        assert_eq!(
            clock_badge(&clock(ClockStatus::AtRisk, 240_000, None), now),
            "at risk, 4m left"
        );
        assert_eq!(clock_badge(&clock(ClockStatus::Met, 1, None), now), "met");
        let at = Timestamp::from_millis(7 * 3_600_000);
        assert_eq!(
            clock_badge(&clock(ClockStatus::Breached, -1, Some(at)), now),
            "breached 3h ago"
        );
    }
}
