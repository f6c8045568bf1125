//! A front end retries an edit whose answer it never got (the app was killed mid-save, an IPC
//! call timed out) with the same event id. Found by the fault harness (`tests/sync_faults`):
//! once the first attempt had been pushed and pulled back, its entry had left the outbox and the
//! replica recorded the retry as a new edit — refused on the device ("UNIQUE constraint failed:
//! incident_events.id", or "the incident is acknowledged"), an error for an edit that was saved.
//! Upstream answers such a retry with the incident, adding nothing; so must the replica.

use super::*;
use crate::sync::test_support::person;
use domain::envelope::MasterKeySet;
use domain::model::{IncidentChange, OpenIncident, Severity};
use domain::{ErrorCode, ManualClock, Role, Timestamp};
use rand::SeedableRng;
use store::Store;

async fn upstream_and_device() -> (Arc<LocalPortal>, Replica, Actor, Uuid, Uuid) {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let store: Arc<dyn Store> = Arc::new(SqlStore::sqlite_in_memory().await.expect("a store"));
    let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let upstream = Arc::new(
        LocalPortal::with_keys(store, keys, clock.clone())
            .await
            .expect("the upstream opens"),
    );
    let admin = person("user:admin", Role::Provider);
    let mut ids = Vec::new();
    for title in ["Checkout fails", "Login slow"] {
        let opened = upstream
            .open_incident(
                &admin,
                OpenIncident {
                    id: None,
                    title: title.into(),
                    severity: Severity::Sev3,
                    org_id: None,
                    impact_started_at: None,
                    occurred_at: None,
                },
            )
            .await
            .expect("an incident");
        ids.push(opened.incident.id);
    }
    let ana = person("user:ana", Role::Support);
    let replica = Replica::with_store(
        SqlStore::replica_in_memory().await.expect("a replica"),
        ana.clone(),
        upstream.clone(),
        clock,
    )
    .await
    .expect("the replica opens");
    replica.sync_now().await.expect("the first sync");
    (upstream, replica, ana, ids[0], ids[1])
}

fn change(command: IncidentCommand, event_id: Uuid) -> IncidentChange {
    let mut c = IncidentChange::now(command);
    c.event_id = Some(event_id);
    c
}

#[tokio::test]
async fn an_edit_retried_after_it_was_synced_is_answered_not_recorded_again() {
    let (upstream, replica, ana, x, _) = upstream_and_device().await;
    let xs = x.to_string();
    let admin = person("user:admin", Role::Provider);
    let (note, ack) = (Uuid::now_v7(), Uuid::now_v7());
    let comment = || crate::incidents::NewComment {
        text: "on it".into(),
        event_id: Some(note),
        occurred_at: None,
    };
    replica
        .comment_incident(&ana, &xs, comment())
        .await
        .unwrap();
    replica
        .change_incident(&ana, &xs, change(IncidentCommand::Acknowledge, ack))
        .await
        .unwrap();
    // Pushed, applied, pulled back: the entries leave the outbox.
    replica.sync_now().await.unwrap();
    assert!(replica.status().await.unwrap().entries.is_empty());
    let synced = replica.get_incident(&ana, &xs).await.unwrap();

    // The front end retries both with their ids: answered with the incident, nothing queued.
    let again = replica.comment_incident(&ana, &xs, comment()).await;
    assert_eq!(again.expect("answered").timeline, synced.timeline);
    let again = replica
        .change_incident(&ana, &xs, change(IncidentCommand::Acknowledge, ack))
        .await;
    assert_eq!(again.expect("answered").incident, synced.incident);
    assert!(replica.status().await.unwrap().entries.is_empty());
    replica.sync_now().await.unwrap();
    let up = upstream.get_incident(&admin, &xs).await.unwrap();
    assert_eq!(
        up.timeline.len(),
        3,
        "opened, the comment and the acknowledgement, once"
    );
    assert_eq!(up.incident, synced.incident);
}

#[tokio::test]
async fn an_event_id_of_another_incident_is_a_conflict() {
    let (_, replica, ana, x, y) = upstream_and_device().await;
    let note = Uuid::now_v7();
    replica
        .change_incident(
            &ana,
            &x.to_string(),
            change(IncidentCommand::Acknowledge, note),
        )
        .await
        .unwrap();
    replica.sync_now().await.unwrap();
    let err = replica
        .change_incident(
            &ana,
            &y.to_string(),
            change(IncidentCommand::Acknowledge, note),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert!(replica.status().await.unwrap().entries.is_empty());
}
