use super::*;
use crate::incident::gen::{self, at, build, Step, MIN, T0};
use crate::incident::{apply, Change};
use crate::model::{IncidentCommand as C, Severity};
use proptest::prelude::*;
use uuid::Uuid;

fn user(id: &str) -> EscalationTarget {
    EscalationTarget::User { id: id.into() }
}

fn step(
    after: u32,
    condition: EscalationCondition,
    repeat: u32,
    every: Option<u32>,
) -> EscalationStep {
    EscalationStep {
        after_mins: after,
        condition,
        targets: vec![user("user:oncall")],
        repeat,
        repeat_every_mins: every,
        min_severity: Severity::Sev4,
    }
}

fn policy(rules: Vec<EscalationStep>) -> EscalationPolicy {
    EscalationPolicy {
        id: Uuid::from_u128(7),
        name: "Default".into(),
        rules,
        org_id: None,
    }
}

fn fields(p: &EscalationPolicy) -> Vec<String> {
    p.validate()
        .err()
        .map(|e| e.fields().iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn a_policy_reports_every_problem_naming_the_step() {
    let mut bad = step(0, EscalationCondition::Unresolved, 11, None);
    bad.targets = vec![
        user("user:a"),
        EscalationTarget::Webhook {
            url: "http://hooks.example.com/x".into(),
        },
        EscalationTarget::Role {
            role: "janitor".into(),
        },
        user("user:a"),
        user(" "),
    ];
    let mut p = policy(vec![
        step(5, EscalationCondition::Unacknowledged, 0, None),
        step(10, EscalationCondition::Unacknowledged, 2, Some(0)),
        bad,
    ]);
    p.name = " ".into();
    assert_eq!(
        fields(&p),
        [
            "name",
            "rules[1].repeat_every_mins",
            "rules[2].after_mins",
            "rules[2].targets[1].url",
            "rules[2].targets[2].role",
            "rules[2].targets[3]",
            "rules[2].targets[4].id",
            "rules[2].repeat",
            "rules[2].repeat_every_mins",
        ]
    );
}

#[test]
fn a_policy_needs_one_to_twenty_steps_and_one_to_ten_targets() {
    assert_eq!(fields(&policy(vec![])), ["rules"]);
    let twenty = vec![step(5, EscalationCondition::Unresolved, 0, None); 20];
    assert!(fields(&policy(twenty.clone())).is_empty());
    let mut more = twenty;
    more.push(step(5, EscalationCondition::Unresolved, 0, None));
    assert_eq!(fields(&policy(more)), ["rules"]);
    let mut s = step(5, EscalationCondition::Unresolved, 0, None);
    s.targets = (0..11).map(|i| user(&format!("user:{i}"))).collect();
    assert_eq!(fields(&policy(vec![s.clone()])), ["rules[0].targets"]);
    s.targets.clear();
    assert_eq!(fields(&policy(vec![s])), ["rules[0].targets"]);
}

#[test]
fn webhook_urls_are_https_or_loopback_http() {
    assert!(check_webhook_url("https://hooks.example.com/incidents?x=1").is_ok());
    assert!(check_webhook_url("http://127.0.0.1:8080/hook").is_ok());
    assert!(check_webhook_url("http://localhost/hook").is_ok());
    assert!(check_webhook_url("http://hooks.example.com/x").is_err());
    assert!(check_webhook_url("ftp://hooks.example.com/x").is_err());
    assert!(check_webhook_url("https://u:p@hooks.example.com/x").is_err());
    assert!(check_webhook_url("hooks.example.com").is_err());
}

#[test]
fn policies_read_and_write_as_json() {
    let json = r#"{"id":"00000000-0000-0000-0000-000000000007","name":"Default","org_id":null,
        "rules":[{"after_mins":5,"condition":"unacknowledged","min_severity":"sev2",
        "targets":[{"type":"role","role":"support"},{"type":"webhook","url":"https://h.example.com"}]}]}"#;
    let p: EscalationPolicy = serde_json::from_str(json).unwrap();
    assert_eq!((p.rules[0].repeat, p.rules[0].repeat_every_mins), (0, None));
    assert_eq!(p.validate(), Ok(()));
    let back: EscalationPolicy = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn notifications_follow_the_schedule_and_stop_once_acknowledged() {
    // Step 0: 5 min unacknowledged, repeated twice every 10 min. Step 1: 30 min unresolved.
    let p = policy(vec![
        step(5, EscalationCondition::Unacknowledged, 2, Some(10)),
        step(30, EscalationCondition::Unresolved, 0, None),
    ]);
    let due_at =
        |b: &gen::Built, m: i64| due_notifications(&p, &b.incident, &b.events, at(T0 + m * MIN));
    let unanswered = build(Severity::Sev3, None, &[]);
    assert!(due_at(&unanswered, 4).is_empty());
    let steps = |d: Vec<Due>| d.iter().map(|d| (d.step, d.repeat)).collect::<Vec<_>>();
    assert_eq!(steps(due_at(&unanswered, 5)), [(0, 0)]);
    assert_eq!(due_at(&unanswered, 5)[0].at, at(T0 + 5 * MIN));
    assert_eq!(
        steps(due_at(&unanswered, 60)),
        [(0, 0), (0, 1), (0, 2), (1, 0)]
    );

    // Acknowledged at 20 min: the unacknowledged step stops; the 15 min repeat had come before.
    let acked = build(
        Severity::Sev3,
        None,
        &[Step::Do(20 * 60_000, C::Acknowledge)],
    );
    assert_eq!(steps(due_at(&acked, 16)), [(0, 0), (0, 1)]);
    assert_eq!(
        steps(due_at(&acked, 60)),
        [(1, 0)],
        "once acknowledged, the unacknowledged step is not due any more"
    );
    let resolved = build(Severity::Sev3, None, &[Step::Do(20 * 60_000, C::Resolve)]);
    assert!(
        due_at(&resolved, 60).is_empty(),
        "a resolved incident escalates no more"
    );
}

#[test]
fn min_severity_and_recorded_notifications() {
    let mut s = step(5, EscalationCondition::Unresolved, 0, None);
    s.min_severity = Severity::Sev2;
    let p = policy(vec![s]);
    let sev3 = build(Severity::Sev3, None, &[]);
    assert!(due_notifications(&p, &sev3.incident, &sev3.events, at(T0 + 10 * MIN)).is_empty());
    let sev1 = build(Severity::Sev1, None, &[]);
    let due = due_notifications(&p, &sev1.incident, &sev1.events, at(T0 + 10 * MIN));
    assert_eq!(due.len(), 1, "sev1 is at least as severe as sev2");
    let recorded = build(
        Severity::Sev1,
        None,
        &[Step::Do(
            6 * 60_000,
            C::RecordEscalation {
                step: 0,
                repeat: 0,
                targets: vec![],
            },
        )],
    );
    assert!(
        due_notifications(&p, &recorded.incident, &recorded.events, at(T0 + 10 * MIN)).is_empty()
    );
}

fn policy_strategy() -> impl Strategy<Value = EscalationPolicy> {
    let step = (
        1u32..240,
        prop::bool::ANY,
        0u32..=4,
        1u32..60,
        gen::severity(),
    )
        .prop_map(
            |(after, unacked, repeat, every, min_severity)| EscalationStep {
                after_mins: after,
                condition: if unacked {
                    EscalationCondition::Unacknowledged
                } else {
                    EscalationCondition::Unresolved
                },
                targets: vec![user("user:oncall")],
                repeat,
                repeat_every_mins: Some(every),
                min_severity,
            },
        );
    prop::collection::vec(step, 1..6).prop_map(policy)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Recording what was due leaves nothing due at the same instant, and the answer does not
    /// depend on the order of the timeline.
    #[test]
    fn recording_what_is_due_leaves_nothing_due(
        p in policy_strategy(), b in gen::timeline(), after in 0i64..(24 * 60 * MIN), seed in any::<u64>(),
    ) {
        prop_assert_eq!(p.validate(), Ok(()));
        let now = at(T0 + after);
        let due = due_notifications(&p, &b.incident, &b.events, now);
        prop_assert_eq!(&due_notifications(&p, &b.incident, &gen::shuffled(&b.events, seed), now), &due);
        let (mut incident, mut events) = (b.incident.clone(), b.events.clone());
        for (n, d) in due.iter().enumerate() {
            prop_assert!(d.at <= now);
            let command = C::RecordEscalation {
                step: d.step,
                repeat: d.repeat,
                targets: p.rules[d.step].targets.clone(),
            };
            let change = Change {
                event_id: Uuid::from_u128(70_000 + n as u128),
                actor_id: "system:escalations".into(),
                actor_name: "Escalations".into(),
                occurred_at: now,
                recorded_at: now,
                base_version: incident.version,
            };
            let (next, event) = apply(&incident, &command, &change).expect("recording is always allowed");
            incident = next;
            events.push(event);
        }
        prop_assert_eq!(due_notifications(&p, &incident, &events, now), vec![]);
    }
}
