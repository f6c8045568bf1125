//! The push decides a batch in memory and writes it at once; when the database refuses what
//! the batch wrote, every mutation is applied again under its own savepoint, so the one the
//! database refuses is rejected and the others are applied.

use super::*;
use crate::sync::test_support::person;
use crate::sync::SyncApi;
use crate::Incidents;
use domain::envelope::MasterKeySet;
use domain::model::{IncidentCommand, MutationResult, OpenIncident, PushRequest, Severity};
use domain::{ManualClock, Role};
use rand::SeedableRng;
use std::sync::Arc;
use store::{SqlStore, Store};

async fn upstream() -> (SqlStore, Arc<LocalPortal>, Uuid) {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let store = SqlStore::sqlite_in_memory().await.expect("a store");
    let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let portal = Arc::new(
        LocalPortal::with_keys(shared, keys, clock)
            .await
            .expect("the upstream opens"),
    );
    let opened = portal
        .open_incident(
            &person("user:admin", Role::Provider),
            OpenIncident {
                id: None,
                title: "Checkout fails".into(),
                severity: Severity::Sev3,
                org_id: None,
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .expect("an incident");
    (store, portal, opened.incident.id)
}

fn mutation(n: i64, incident: Uuid, command: IncidentCommand) -> Mutation {
    Mutation {
        mutation_id: n,
        incident_id: incident,
        event_id: Uuid::now_v7(),
        op: MutationOp::ChangeIncident(command),
        base_version: 1,
        occurred_at: Timestamp::from_millis(1_800_000_000_000),
    }
}

fn comment(text: &str) -> IncidentCommand {
    IncidentCommand::Comment { text: text.into() }
}

fn outcomes(results: &[MutationResult]) -> Vec<&'static str> {
    results
        .iter()
        .map(|r| match r.outcome {
            MutationOutcome::Applied { .. } => "applied",
            MutationOutcome::Rejected { .. } => "rejected",
            MutationOutcome::Conflict { .. } => "conflict",
        })
        .collect()
}

#[tokio::test]
async fn a_mutation_the_database_refuses_is_rejected_and_the_others_are_applied() {
    let (store, portal, id) = upstream().await;
    // A rule only the database knows.
    sqlx::query(
        "CREATE TRIGGER poison BEFORE INSERT ON incident_events \
         WHEN NEW.data LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned comment'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let ana = person("user:ana", Role::Support);
    let push = PushRequest {
        client_id: Uuid::now_v7(),
        mutations: vec![
            mutation(1, id, comment("first")),
            mutation(2, id, comment("poison")),
            mutation(3, id, IncidentCommand::Acknowledge),
        ],
    };
    let answer = portal.sync_push(&ana, push).await.unwrap();
    assert_eq!(answer.last_mutation_id, 3);
    assert_eq!(
        outcomes(&answer.results),
        ["applied", "rejected", "applied"]
    );
    let detail = portal
        .get_incident(&person("user:admin", Role::Provider), &id.to_string())
        .await
        .unwrap();
    assert_eq!(
        detail.timeline.len(),
        3,
        "opened, the first comment, the acknowledgement"
    );
    assert!(detail.incident.acknowledged_at.is_some());
    assert_eq!(detail.incident.version, 3);
}

#[tokio::test]
async fn a_batch_of_a_devices_edits_is_written_once_and_never_conflicts_with_itself() {
    let (_, portal, id) = upstream().await;
    let ana = person("user:ana", Role::Support);
    let client_id = Uuid::now_v7();
    // Edited twice offline from the same synced version: the second edit's base predates the
    // first, which is the device's own, not a conflict.
    let mutations = vec![
        mutation(
            1,
            id,
            IncidentCommand::ChangeSeverity {
                severity: Severity::Sev2,
            },
        ),
        mutation(2, id, comment("raising")),
        mutation(
            3,
            id,
            IncidentCommand::ChangeSeverity {
                severity: Severity::Sev1,
            },
        ),
        mutation(
            4,
            id,
            IncidentCommand::Rename {
                title: "Checkout down".into(),
            },
        ),
    ];
    let push = PushRequest {
        client_id,
        mutations: mutations.clone(),
    };
    let answer = portal.sync_push(&ana, push).await.unwrap();
    assert_eq!(outcomes(&answer.results), ["applied"; 4]);
    let admin = person("user:admin", Role::Provider);
    let detail = portal.get_incident(&admin, &id.to_string()).await.unwrap();
    assert_eq!(detail.incident.severity, Severity::Sev1);
    assert_eq!(detail.incident.title, "Checkout down");
    assert_eq!(detail.incident.version, 5);
    let versions: Vec<_> = detail.timeline.iter().map(|e| e.id).collect();
    assert_eq!(versions.len(), 5);
    for (m, e) in mutations.iter().zip(&detail.timeline[1..]) {
        assert_eq!(m.event_id, e.id, "the events in the order pushed");
    }

    // The same batch again (the answer was lost): answered from the ledger, nothing new.
    let again = portal
        .sync_push(
            &ana,
            PushRequest {
                client_id,
                mutations,
            },
        )
        .await
        .unwrap();
    assert_eq!(outcomes(&again.results), ["applied"; 4]);
    let after = portal.get_incident(&admin, &id.to_string()).await.unwrap();
    assert_eq!(after.timeline.len(), 5);
    assert_eq!(after.incident, detail.incident);

    // Another person's later severity change conflicts with a third edit of the device based
    // on what it synced before.
    portal
        .change_incident(
            &admin,
            &id.to_string(),
            domain::model::IncidentChange::now(IncidentCommand::ChangeSeverity {
                severity: Severity::Sev4,
            }),
        )
        .await
        .unwrap();
    let mut late = mutation(
        5,
        id,
        IncidentCommand::ChangeSeverity {
            severity: Severity::Sev2,
        },
    );
    late.base_version = 5;
    let answer = portal
        .sync_push(
            &ana,
            PushRequest {
                client_id,
                mutations: vec![late],
            },
        )
        .await
        .unwrap();
    assert_eq!(outcomes(&answer.results), ["conflict"]);
}
