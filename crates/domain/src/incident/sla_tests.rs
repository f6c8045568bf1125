use super::*;
use crate::incident::gen::{self, at, build, Step, MIN, T0};
use crate::model::{IncidentCommand as C, SlaClock};
use proptest::prelude::*;

fn sev2() -> SlaTarget {
    // 30 min to respond, 8 h to resolve, at risk past 75 %.
    default_target(Severity::Sev2)
}

fn mins(m: i64) -> u32 {
    u32::try_from(m * MIN).unwrap()
}

/// Opened at T0; acknowledged at 10 min; waiting 1 h → 3 h; resolved at 9 h; reopened at 10 h.
fn story() -> gen::Built {
    build(
        Severity::Sev2,
        None,
        &[
            Step::Do(mins(10), C::Acknowledge),
            Step::Do(mins(50), C::Wait),
            Step::Do(mins(120), C::Resume),
            Step::Do(mins(360), C::Resolve),
            Step::Do(mins(60), C::Reopen),
        ],
    )
}

#[test]
fn a_story_with_a_pause_and_a_reopen() {
    let b = story();
    let s = sla_state(&b.events, &sev2(), at(T0 + 19 * 60 * MIN));
    assert_eq!(s.response.elapsed_ms, 10 * MIN);
    assert_eq!(s.response.remaining_ms, 20 * MIN);
    assert_eq!(s.response.status, ClockStatus::Met);
    assert_eq!(s.cycles.len(), 2, "a reopen starts a second resolve cycle");
    let first = &s.cycles[0];
    assert_eq!(
        first.clock.elapsed_ms,
        7 * 60 * MIN,
        "9 h open minus 2 h waiting"
    );
    assert_eq!(first.clock.status, ClockStatus::Met);
    assert_eq!(first.ended_at, Some(at(T0 + 9 * 60 * MIN)));
    let second = &s.cycles[1];
    assert_eq!(second.started_at, at(T0 + 10 * 60 * MIN));
    assert_eq!(second.clock.elapsed_ms, 9 * 60 * MIN);
    assert_eq!(
        second.clock.remaining_ms,
        -60 * MIN,
        "negative once breached"
    );
    assert_eq!(second.clock.status, ClockStatus::Breached);
    assert_eq!(second.clock.breached_at, Some(at(T0 + 18 * 60 * MIN)));
    assert_eq!(
        s.resolve, second.clock,
        "the resolve clock is the current cycle"
    );
}

#[test]
fn clock_statuses_over_time() {
    let b = story();
    let status = |m: i64| sla_state(&b.events, &sev2(), at(T0 + m * MIN));
    assert_eq!(status(5).response.status, ClockStatus::Running);
    assert_eq!(status(5).resolve.status, ClockStatus::Running);
    assert_eq!(
        status(9).response.status,
        ClockStatus::Running,
        "9 of 30 min is under 75 %"
    );
    assert_eq!(status(90).resolve.status, ClockStatus::Paused);
    assert_eq!(status(90).resolve.elapsed_ms, 60 * MIN, "paused at 1 h");
    assert_eq!(status(179).resolve.elapsed_ms, 60 * MIN);
    assert_eq!(status(60 * 10 + 6 * 60).resolve.status, ClockStatus::AtRisk);
    assert_eq!(
        status(60 * 10 + 6 * 60 - 1).resolve.status,
        ClockStatus::Running
    );
    // Before anything is known: an empty clock that starts now.
    let s = sla_state(&b.events, &sev2(), at(T0 - 1));
    assert_eq!((s.response.elapsed_ms, s.cycles.len()), (0, 1));
}

#[test]
fn response_breach_and_at_risk() {
    let b = build(Severity::Sev2, None, &[Step::Do(mins(40), C::Acknowledge)]);
    let s = sla_state(&b.events, &sev2(), at(T0 + 23 * MIN));
    assert_eq!(s.response.status, ClockStatus::AtRisk, "23 of 30 min");
    let s = sla_state(&b.events, &sev2(), at(T0 + 30 * MIN));
    assert_eq!(
        s.response.status,
        ClockStatus::AtRisk,
        "exactly at the target is not yet past it"
    );
    let s = sla_state(&b.events, &sev2(), at(T0 + 60 * MIN));
    assert_eq!(s.response.status, ClockStatus::Breached);
    assert_eq!(
        s.response.elapsed_ms,
        40 * MIN,
        "stopped at the acknowledgement"
    );
    assert_eq!(s.response.breached_at, Some(at(T0 + 30 * MIN)));
}

#[test]
fn impact_start_starts_the_clocks_and_a_resolution_stops_the_response_clock() {
    let b = build(
        Severity::Sev2,
        Some(u32::try_from(20 * MIN).unwrap()),
        &[Step::Do(mins(5), C::Resolve)],
    );
    let s = sla_state(&b.events, &sev2(), at(T0 + 60 * MIN));
    assert_eq!(s.response.elapsed_ms, 25 * MIN, "from the impact start");
    assert_eq!(
        s.response.status,
        ClockStatus::Met,
        "a resolution is a response"
    );
    assert_eq!(s.resolve.elapsed_ms, 25 * MIN);
}

#[test]
fn target_validation_names_every_bad_field() {
    let bad = SlaTarget {
        severity: Severity::Sev1,
        target_response_mins: 0,
        target_resolve_mins: 600_000,
        at_risk_percent: 100,
    };
    let fields: Vec<String> = bad
        .validate()
        .unwrap_err()
        .fields()
        .iter()
        .map(|f| f.field.clone())
        .collect();
    assert_eq!(
        fields,
        [
            "target_response_mins",
            "target_resolve_mins",
            "at_risk_percent"
        ]
    );
    let mut short = default_target(Severity::Sev3);
    short.target_resolve_mins = short.target_response_mins - 1;
    assert_eq!(
        short.validate().unwrap_err().fields()[0].field,
        "target_resolve_mins"
    );
    for t in default_targets() {
        assert_eq!(t.validate(), Ok(()), "the defaults are valid");
    }
    let mut twice = default_targets();
    twice.push(default_target(Severity::Sev2));
    twice[0].at_risk_percent = 0;
    let fields: Vec<String> = validate_targets(&twice)
        .unwrap_err()
        .fields()
        .iter()
        .map(|f| f.field.clone())
        .collect();
    assert_eq!(
        fields,
        ["targets[0].at_risk_percent", "targets[4].severity"]
    );
    let json = r#"{"severity":"sev1","target_response_mins":5,"target_resolve_mins":60}"#;
    let t: SlaTarget = serde_json::from_str(json).unwrap();
    assert_eq!(t.at_risk_percent, 75, "at risk past 75 % unless said");
    assert_eq!(target_for(std::slice::from_ref(&t), Severity::Sev1), t);
    assert_eq!(
        target_for(&[t], Severity::Sev4),
        default_target(Severity::Sev4)
    );
}

#[test]
fn recorded_notices_do_not_change_the_clocks() {
    let b = story();
    let now = at(T0 + 19 * 60 * MIN);
    let mut with = b.events.clone();
    let (_, e) = crate::incident::apply(
        &b.incident,
        &C::RecordSlaBreached {
            clock: SlaClock::Resolve,
        },
        &crate::incident::Change {
            event_id: uuid::Uuid::from_u128(9_999),
            actor_id: "system:sla".into(),
            actor_name: "SLA".into(),
            occurred_at: now,
            recorded_at: now,
            base_version: b.incident.version,
        },
    )
    .unwrap();
    with.push(e);
    assert_eq!(
        sla_state(&with, &sev2(), now),
        sla_state(&b.events, &sev2(), now)
    );
}

#[test]
fn notices_are_due_once_per_clock_and_cycle() {
    let b = story();
    // At 16 h the second cycle (6 h of 8) is at risk; at 19 h it is breached.
    let due = sla_notices_due(&b.events, &sev2(), at(T0 + 16 * 60 * MIN));
    assert_eq!(
        due,
        [C::RecordSlaAtRisk {
            clock: SlaClock::Resolve
        }]
    );
    let mut events = b.events.clone();
    let mut recorded = |command: &C, ms: i64, n: u128| {
        let mut e = events[0].clone();
        e.id = uuid::Uuid::from_u128(n);
        (e.occurred_at, e.recorded_at) = (at(ms), at(ms));
        e.kind = match command {
            C::RecordSlaAtRisk { clock } => IncidentEventKind::SlaAtRisk { clock: *clock },
            C::RecordSlaBreached { clock } => IncidentEventKind::SlaBreached { clock: *clock },
            _ => unreachable!("only notices"),
        };
        events.push(e);
        events.clone()
    };
    let after = recorded(&due[0], T0 + 16 * 60 * MIN, 9_001);
    assert!(sla_notices_due(&after, &sev2(), at(T0 + 17 * 60 * MIN)).is_empty());
    let due = sla_notices_due(&after, &sev2(), at(T0 + 19 * 60 * MIN));
    assert_eq!(
        due,
        [C::RecordSlaBreached {
            clock: SlaClock::Resolve
        }]
    );
    let after = recorded(&due[0], T0 + 19 * 60 * MIN, 9_002);
    assert!(sla_notices_due(&after, &sev2(), at(T0 + 20 * 60 * MIN)).is_empty());
    // A breached response clock is noticed once, whatever the cycle.
    let late = build(Severity::Sev2, None, &[Step::Do(mins(40), C::Acknowledge)]);
    assert_eq!(
        sla_notices_due(&late.events, &sev2(), at(T0 + 60 * MIN)),
        [C::RecordSlaBreached {
            clock: SlaClock::Response
        }]
    );
}

fn target() -> impl Strategy<Value = SlaTarget> {
    (1u32..120, 0u32..600, 1u8..100).prop_map(|(r, extra, p)| SlaTarget {
        severity: Severity::Sev1,
        target_response_mins: r,
        target_resolve_mins: r + extra,
        at_risk_percent: p,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// (1) Any order of the events gives the same clocks.
    #[test]
    fn the_order_of_the_events_does_not_matter(
        b in gen::timeline(), t in target(), seed in any::<u64>(), after in 0i64..(48 * 60 * MIN),
    ) {
        let now = at(b.end + after - 24 * 60 * MIN);
        let expected = sla_state(&b.events, &t, now);
        prop_assert_eq!(sla_state(&gen::shuffled(&b.events, seed), &t, now), expected);
    }

    /// (1b) Only the events named in `SLA_CLOCK_EVENTS` move the clocks: the timeline without
    /// the others (comments, assignments, …) gives the same state.
    #[test]
    fn only_the_clock_events_matter(
        b in gen::timeline(), t in target(), after in 0i64..(48 * 60 * MIN),
    ) {
        let now = at(b.end + after - 24 * 60 * MIN);
        let clocks: Vec<_> = b
            .events
            .iter()
            .filter(|e| SLA_CLOCK_EVENTS.contains(&e.kind.name()))
            .cloned()
            .collect();
        prop_assert_eq!(sla_state(&clocks, &t, now), sla_state(&b.events, &t, now));
    }

    /// (2) Elapsed time never decreases as `now` advances (for the response clock and each
    /// resolve cycle; the `resolve` field moves to a new cycle on a reopen).
    #[test]
    fn elapsed_time_never_decreases(
        b in gen::timeline(), t in target(), a in 0i64..(72 * 60 * MIN), d in 0i64..(72 * 60 * MIN),
    ) {
        let (t1, t2) = (at(T0 - 60 * MIN + a), at(T0 - 60 * MIN + a + d));
        let (s1, s2) = (sla_state(&b.events, &t, t1), sla_state(&b.events, &t, t2));
        prop_assert!(s1.response.elapsed_ms <= s2.response.elapsed_ms);
        prop_assert!(s1.cycles.len() <= s2.cycles.len());
        for (c1, c2) in s1.cycles.iter().zip(&s2.cycles) {
            if t1 >= at(T0) {
                prop_assert_eq!(c1.started_at, c2.started_at, "a cycle's start does not move");
            }
            prop_assert!(c1.clock.elapsed_ms <= c2.clock.elapsed_ms, "{:?} then {:?}", c1, c2);
        }
    }

    /// (3) A waiting span of length w counts exactly w less than the same timeline without it.
    #[test]
    fn time_waiting_is_not_counted(
        sev in gen::severity(), d1 in gen::delta(), gap in 2u32..(6 * 60 * MIN as u32),
        c in any::<u8>(), rest in gen::script(12), frac in 0.0f64..=1.0, t in target(),
        after in 0i64..(24 * 60 * MIN),
    ) {
        let mut script = vec![Step::Do(d1, C::Acknowledge), Step::Pick(gap, c)];
        script.extend(rest);
        let b = build(sev, None, &script);
        let acked = T0 + i64::from(d1);
        let w = ((f64::from(gap - 2)) * frac) as i64;
        let pause = |n: u128, ms: i64, to| IncidentEvent {
            id: uuid::Uuid::from_u128(n),
            kind: IncidentEventKind::StatusChanged { from: IncidentStatus::Acknowledged, to },
            occurred_at: at(ms),
            recorded_at: at(ms + i64::try_from(n).unwrap_or(0)),
            ..b.events[1].clone()
        };
        let mut waited = b.events.clone();
        waited.push(pause(50_001, acked + 1, IncidentStatus::Waiting));
        waited.push(pause(50_002, acked + 1 + w, IncidentStatus::Acknowledged));
        let now = at(b.end.max(acked + 1 + w) + after);
        let (plain, paused) = (sla_state(&b.events, &t, now), sla_state(&waited, &t, now));
        prop_assert_eq!(&plain.response, &paused.response);
        prop_assert_eq!(plain.cycles.len(), paused.cycles.len());
        prop_assert_eq!(paused.cycles[0].clock.elapsed_ms, plain.cycles[0].clock.elapsed_ms - w);
        for (p, q) in plain.cycles.iter().zip(&paused.cycles).skip(1) {
            prop_assert_eq!(p, q);
        }
    }

    /// (4) A breach, once reached, stays, and its instant does not move.
    #[test]
    fn a_breach_stays(
        b in gen::timeline(), t in target(), a in 0i64..(48 * 60 * MIN), d in 0i64..(48 * 60 * MIN),
    ) {
        let (t1, t2) = (at(T0 + a), at(T0 + a + d));
        let (s1, s2) = (sla_state(&b.events, &t, t1), sla_state(&b.events, &t, t2));
        let clocks1 = std::iter::once(&s1.response).chain(s1.cycles.iter().map(|c| &c.clock));
        let clocks2 = std::iter::once(&s2.response).chain(s2.cycles.iter().map(|c| &c.clock));
        for (c1, c2) in clocks1.zip(clocks2) {
            if c1.status == ClockStatus::Breached {
                prop_assert_eq!(c2.status, ClockStatus::Breached);
                prop_assert_eq!(c1.breached_at, c2.breached_at);
                prop_assert!(c1.breached_at.is_some_and(|b| b <= t1));
            }
            prop_assert_eq!(c1.remaining_ms, c1.target_ms - c1.elapsed_ms);
        }
    }

    /// (5) n reopens make n + 1 resolve cycles, each but the last one ended.
    #[test]
    fn each_reopen_starts_a_cycle(b in gen::timeline(), t in target()) {
        let reopens = b.events.iter().filter(|e| e.kind == IncidentEventKind::Reopened).count();
        let s = sla_state(&b.events, &t, at(b.end));
        prop_assert_eq!(s.cycles.len(), reopens + 1);
        for c in &s.cycles[..reopens] {
            prop_assert!(c.ended_at.is_some());
            prop_assert!(matches!(c.clock.status, ClockStatus::Met | ClockStatus::Breached));
        }
        prop_assert_eq!(s.cycles.last().map(|c| c.ended_at.is_some()), Some(b.incident.status.is_done()));
    }

    /// Recording the notices due leaves none due at the same instant.
    #[test]
    fn recording_the_notices_due_leaves_none(b in gen::timeline(), t in target(), after in 0i64..(48 * 60 * MIN)) {
        let now = at(T0 + after);
        let mut events = b.events.clone();
        for (n, command) in sla_notices_due(&b.events, &t, now).into_iter().enumerate() {
            let mut e = events[0].clone();
            e.id = uuid::Uuid::from_u128(80_000 + n as u128);
            (e.occurred_at, e.recorded_at) = (now, now);
            e.kind = match command {
                C::RecordSlaAtRisk { clock } => IncidentEventKind::SlaAtRisk { clock },
                C::RecordSlaBreached { clock } => IncidentEventKind::SlaBreached { clock },
                other => return Err(TestCaseError::fail(format!("not a notice: {other:?}"))),
            };
            events.push(e);
        }
        prop_assert_eq!(sla_notices_due(&events, &t, now), vec![]);
    }
}
