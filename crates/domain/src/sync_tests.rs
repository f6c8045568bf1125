use super::*;
use crate::model::{IncidentStatus, NewIncident, Severity};
use proptest::prelude::*;

const ID: Uuid = Uuid::from_u128(1);

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn open_m(n: i64) -> Mutation {
    Mutation {
        mutation_id: n,
        incident_id: ID,
        event_id: Uuid::from_u128(1000 + n as u128),
        op: MutationOp::OpenIncident(NewIncident {
            id: ID,
            title: "Login fails".into(),
            severity: Severity::Sev3,
            org_id: None,
            impact_started_at: None,
        }),
        base_version: 0,
        occurred_at: at(1_000),
    }
}

fn change_m(n: i64, command: IncidentCommand, base: i64, when: i64) -> Mutation {
    Mutation {
        mutation_id: n,
        incident_id: ID,
        event_id: Uuid::from_u128(1000 + n as u128),
        op: MutationOp::ChangeIncident(command),
        base_version: base,
        occurred_at: at(when),
    }
}

/// An incident opened by `user:ana` and the timeline `commands` give it, each by `by`.
fn history(commands: &[(IncidentCommand, &str)]) -> (Incident, Vec<IncidentEvent>) {
    let (mut inc, opened) = apply_mutation(None, &open_m(1), "user:ana", "Ana", at(1_000)).unwrap();
    let mut events = vec![opened];
    for (k, (c, by)) in commands.iter().enumerate() {
        let m = change_m(2 + k as i64, c.clone(), inc.version, 2_000 + k as i64);
        let (next, e) = apply_mutation(Some(&inc), &m, by, by, at(5_000)).unwrap();
        inc = next;
        events.push(e);
    }
    (inc, events)
}

#[test]
fn a_field_edit_conflicts_only_with_another_devices_change_of_the_same_field() {
    let (inc, events) = history(&[
        (IncidentCommand::Comment { text: "hi".into() }, "user:bo"),
        (
            IncidentCommand::ChangeSeverity {
                severity: Severity::Sev1,
            },
            "user:bo",
        ),
    ]);
    let mine = IncidentCommand::ChangeSeverity {
        severity: Severity::Sev2,
    };
    // Based on version 1: Bo changed the severity since.
    let c = field_conflicts(&inc, &events[1..], &mine, |_| false);
    assert_eq!(
        c,
        vec![FieldConflict {
            field: "severity".into(),
            mine: Some("sev2".into()),
            theirs: Some("sev1".into())
        }]
    );
    // Based on version 3 (after Bo's change): no conflict.
    assert!(field_conflicts(&inc, &events[3..], &mine, |_| false).is_empty());
    // The change was this device's own: no conflict.
    let own = events[2].id;
    assert!(field_conflicts(&inc, &events[1..], &mine, |e| e == own).is_empty());
    // Another field, or a comment: no conflict.
    let assign = IncidentCommand::Assign {
        assignee: Some("user:cy".into()),
    };
    assert!(field_conflicts(&inc, &events[1..], &assign, |_| false).is_empty());
    // Both set the same value: nothing to choose.
    let same = IncidentCommand::ChangeSeverity {
        severity: Severity::Sev1,
    };
    assert!(field_conflicts(&inc, &events[1..], &same, |_| false).is_empty());
}

#[test]
fn a_batch_must_be_consecutive_and_start_no_later_than_the_next_id() {
    assert_eq!(check_batch(0, &[1, 2, 3]).unwrap(), 0);
    assert_eq!(
        check_batch(2, &[1, 2, 3]).unwrap(),
        2,
        "1 and 2 were applied"
    );
    assert_eq!(check_batch(9, &[1, 2, 3]).unwrap(), 3, "all were applied");
    let gap = check_batch(2, &[4, 5]).unwrap_err();
    let Error::Conflict(c) = &gap else {
        panic!("a conflict")
    };
    assert_eq!(c.current_version, Some(2));
    assert!(gap.to_string().contains("mutations 3 to 3 are missing"));
    assert!(check_batch(0, &[1, 3]).is_err());
    assert!(check_batch(0, &[2, 1]).is_err());
    assert!(check_batch(0, &[]).is_err());
    assert!(check_batch(0, &[0, 1]).is_err());
}

#[test]
fn offline_time_is_bounded_to_opened_and_received() {
    assert_eq!(bounded_occurred_at(at(50), at(100), at(900)), at(100));
    assert_eq!(bounded_occurred_at(at(500), at(100), at(900)), at(500));
    assert_eq!(bounded_occurred_at(at(5_000), at(100), at(900)), at(900));
}

#[test]
fn a_transition_that_no_longer_makes_sense_is_rejected_with_its_reason() {
    let (closed, _) = history(&[
        (IncidentCommand::Resolve, "user:bo"),
        (IncidentCommand::Close, "user:bo"),
    ]);
    let ack = change_m(9, IncidentCommand::Acknowledge, 1, 3_000);
    let err = apply_mutation(Some(&closed), &ack, "user:ana", "Ana", at(9_000)).unwrap_err();
    let MutationOutcome::Rejected { reason, .. } = outcome_of(&err) else {
        panic!("rejected")
    };
    assert!(reason.contains("closed"), "{reason}");
}

#[test]
fn rebase_puts_pending_edits_on_the_synced_state_and_leaves_out_what_no_longer_applies() {
    let (base, events) = history(&[(IncidentCommand::Resolve, "user:bo")]);
    let pending = vec![
        change_m(5, IncidentCommand::Comment { text: "x".into() }, 1, 3_000),
        // Acknowledging a resolved incident does not apply: left out.
        change_m(6, IncidentCommand::Acknowledge, 1, 3_001),
        change_m(7, IncidentCommand::Reopen, 1, 3_002),
    ];
    let (view, timeline) =
        rebase(Some(&base), &events, &pending, "user:ana", "Ana", at(9_000)).expect("a view");
    assert_eq!(view.status, IncidentStatus::Open);
    assert_eq!(view.version, base.version + 2);
    assert_eq!(timeline.len(), events.len() + 2);
    // A pending edit already in the synced timeline is not applied twice.
    let applied: Vec<Mutation> = pending
        .iter()
        .filter(|m| timeline.iter().any(|e| e.id == m.event_id))
        .cloned()
        .collect();
    assert_eq!(applied.len(), 2);
    let (again, t2) = rebase(
        Some(&view),
        &timeline,
        &applied,
        "user:ana",
        "Ana",
        at(9_000),
    )
    .expect("a view");
    assert_eq!((again.version, t2.len()), (view.version, timeline.len()));
    // An incident opened offline is shown from its pending opening.
    let (fresh, t) = rebase(None, &[], &[open_m(1)], "user:ana", "Ana", at(2_000)).unwrap();
    assert_eq!((fresh.version, t.len()), (1, 1));
    assert!(rebase(None, &[], &[], "a", "a", at(0)).is_none());
}

#[test]
fn retries_back_off_from_two_seconds_to_a_minute() {
    let waits: Vec<i64> = (0..9).map(backoff_ms).collect();
    assert_eq!(
        waits,
        [0, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]
    );
    assert_eq!(backoff_ms(u32::MAX), 60_000);
}

#[test]
fn health_says_what_needs_the_person_first() {
    assert_eq!(health(0, 0, false, false, true), SyncHealth::Synced);
    assert_eq!(health(3, 0, false, false, true), SyncHealth::Pending);
    assert_eq!(health(3, 0, true, false, true), SyncHealth::Offline);
    assert_eq!(health(3, 2, true, false, true), SyncHealth::Attention);
    assert_eq!(health(0, 0, false, true, true), SyncHealth::Error);
    assert_eq!(health(0, 0, false, false, false), SyncHealth::Pending);
}

#[test]
fn mutations_round_trip_through_json_with_name_and_args() {
    let m = change_m(
        3,
        IncidentCommand::Assign {
            assignee: Some("user:bo".into()),
        },
        2,
        3_000,
    );
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["name"], "change_incident");
    assert_eq!(json["args"]["command"], "assign");
    assert_eq!(serde_json::from_value::<Mutation>(json).unwrap(), m);
    let o = open_m(1);
    let json = serde_json::to_value(&o).unwrap();
    assert_eq!(json["name"], "open_incident");
    assert_eq!(serde_json::from_value::<Mutation>(json).unwrap(), o);
}

proptest! {
    /// Whatever another device did, this device's own earlier edits never make its later edit
    /// a conflict, and a conflict always shows two different values.
    #[test]
    fn own_edits_never_conflict(sevs in proptest::collection::vec(0usize..4, 1..8), mine in 0usize..4) {
        // Each a change from the running value (the incident opens at sev3).
        let mut running = Severity::Sev3;
        let mut cmds: Vec<(IncidentCommand, &str)> = Vec::new();
        for k in sevs {
            let next = Severity::ALL[k];
            if next != running {
                cmds.push((IncidentCommand::ChangeSeverity { severity: next }, "user:me"));
                running = next;
            }
        }
        let (inc, events) = history(&cmds);
        let edit = IncidentCommand::ChangeSeverity { severity: Severity::ALL[mine] };
        let own: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        prop_assert!(field_conflicts(&inc, &events[1..], &edit, |e| own.contains(&e)).is_empty());
        for c in field_conflicts(&inc, &events[1..], &edit, |_| false) {
            prop_assert_ne!(c.mine, c.theirs);
        }
    }
}
