//! Offline sync: two devices' replicas edit the same incident while out of touch, then push and
//! pull. Comments and transitions merge; a transition that no longer makes sense is rejected
//! with its reason; a field edit another device changed meanwhile is a conflict with both
//! values, settled by the person; a push sent twice is applied once; a gap is refused; every
//! applied mutation has exactly one audit event, as its person; a client-role device pulls
//! only its own organisation's incidents; and the replicas end equal to the upstream.

use domain::model::AuditFilter;
use domain::model::{
    IncidentChange, IncidentCommand as C, IncidentFilter, IncidentStatus, Mutation, MutationOp,
    MutationOutcome, OpenIncident, OutboxState, PushRequest, Severity, SyncHealth,
};
use domain::{ErrorCode, Role};
use portal::incidents::NewComment;
use portal::prelude::*;
use portal::{NewClient, Replica};
use std::sync::Arc;
use store::SqlStore;
use stories::{admin, on_every_portal, portal, TestDb, TestPortal};
use uuid::Uuid;

async fn org(p: &TestPortal, name: &str) -> Uuid {
    p.create_client(
        &admin(),
        NewClient {
            name: name.into(),
            plan: "pro".into(),
            status: "active".into(),
        },
        None,
    )
    .await
    .expect("client")
    .id
}

fn person(id: &str, role: Role) -> domain::Actor {
    let mut a = admin();
    a.id = id.into();
    a.name = id.trim_start_matches("user:").into();
    a.role = role;
    a
}

async fn device(
    p: &TestPortal,
    db: &TestDb,
    clock: &Arc<domain::ManualClock>,
    who: domain::Actor,
) -> Replica {
    let upstream = p.upstream(db, clock.clone()).await;
    let store = SqlStore::replica_in_memory().await.expect("replica");
    Replica::with_store(store, who, upstream, clock.clone())
        .await
        .expect("replica opens")
}

fn change(c: C) -> IncidentChange {
    IncidentChange::now(c)
}

/// The incidents a portal lists, as (id, version, status, severity), sorted.
async fn state_of(
    p: &dyn portal::Incidents,
    who: &domain::Actor,
) -> Vec<(Uuid, i64, &'static str, Severity)> {
    let mut all: Vec<_> = p
        .list_incidents(
            who,
            IncidentFilter {
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|s| {
            (
                s.incident.id,
                s.incident.version,
                s.incident.status.as_str(),
                s.incident.severity,
            )
        })
        .collect();
    all.sort();
    all
}

async fn offline_edits_merge_conflict_and_reject_and_nothing_is_lost(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let x = p
        .open_incident(
            &a,
            OpenIncident {
                id: None,
                title: "Checkout fails".into(),
                severity: Severity::Sev3,
                org_id: Some(acme),
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap()
        .incident
        .id;
    let xs = x.to_string();
    let ana = person("user:ana", Role::Support);
    let bo = person("user:bo", Role::Support);
    let dev_a = device(&p, db, &clock, ana.clone()).await;
    let dev_b = device(&p, db, &clock, bo.clone()).await;
    dev_a.sync_now().await.expect("first sync");
    dev_b.sync_now().await.expect("first sync");
    assert_eq!(
        state_of(&dev_a, &ana).await,
        state_of(&*p, &a).await,
        "the replica holds what upstream has"
    );
    assert_eq!(dev_a.status().await.unwrap().health, SyncHealth::Synced);

    // Ana works offline: a comment, an acknowledgement, a severity change.
    clock.advance_secs(60);
    dev_a
        .comment_incident(
            &ana,
            &xs,
            NewComment {
                text: "on it (from the train)".into(),
                event_id: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap();
    dev_a
        .change_incident(&ana, &xs, change(C::Acknowledge))
        .await
        .unwrap();
    let shown = dev_a
        .change_incident(
            &ana,
            &xs,
            change(C::ChangeSeverity {
                severity: Severity::Sev1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (shown.incident.status, shown.incident.severity),
        (IncidentStatus::Acknowledged, Severity::Sev1),
        "her edits show at once"
    );
    let st = dev_a.status().await.unwrap();
    assert_eq!((st.pending, st.health), (3, SyncHealth::Pending));
    // Meanwhile Bo changes the severity and syncs first.
    clock.advance_secs(60);
    dev_b
        .change_incident(
            &bo,
            &xs,
            change(C::ChangeSeverity {
                severity: Severity::Sev4,
            }),
        )
        .await
        .unwrap();
    let r = dev_b.sync_now().await.unwrap();
    assert_eq!((r.applied, r.conflicts, r.rejected), (1, 0, 0));

    clock.advance_secs(60);
    let r = dev_a.sync_now().await.unwrap();
    assert_eq!(
        (r.pushed, r.applied, r.conflicts, r.rejected),
        (3, 2, 1, 0),
        "{r:?}"
    );
    let st = dev_a.status().await.unwrap();
    assert_eq!(
        (st.pending, st.conflicts, st.health),
        (0, 1, SyncHealth::Attention)
    );
    let conflict = st
        .entries
        .iter()
        .find(|e| e.state == OutboxState::Conflict)
        .expect("the conflict is listed");
    assert_eq!(conflict.conflicts.len(), 1);
    assert_eq!(
        (
            conflict.conflicts[0].mine.as_deref(),
            conflict.conflicts[0].theirs.as_deref()
        ),
        (Some("sev1"), Some("sev4")),
        "both values"
    );
    let up = p.get_incident(&a, &xs).await.unwrap();
    assert_eq!(
        (up.incident.status, up.incident.severity),
        (IncidentStatus::Acknowledged, Severity::Sev4)
    );
    let shown = dev_a.get_incident(&ana, &xs).await.unwrap();
    assert_eq!(
        shown.incident.severity,
        Severity::Sev4,
        "the conflicting edit is not shown as applied"
    );

    // She keeps hers: a new mutation based on the current version, applied.
    dev_a
        .settle(conflict.mutation.mutation_id, true)
        .await
        .unwrap();
    assert_eq!(
        dev_a
            .get_incident(&ana, &xs)
            .await
            .unwrap()
            .incident
            .severity,
        Severity::Sev1
    );
    let r = dev_a.sync_now().await.unwrap();
    assert_eq!((r.applied, r.conflicts), (1, 0));
    assert_eq!(
        p.get_incident(&a, &xs).await.unwrap().incident.severity,
        Severity::Sev1
    );

    // Bo resolves and closes; Ana, not yet knowing, puts it on wait: rejected with the reason.
    dev_b.sync_now().await.unwrap();
    dev_b
        .change_incident(&bo, &xs, change(C::Resolve))
        .await
        .unwrap();
    dev_b
        .change_incident(&bo, &xs, change(C::Close))
        .await
        .unwrap();
    dev_b.sync_now().await.unwrap();
    dev_a
        .change_incident(&ana, &xs, change(C::Wait))
        .await
        .unwrap();
    let r = dev_a.sync_now().await.unwrap();
    assert_eq!((r.applied, r.rejected), (0, 1));
    let st = dev_a.status().await.unwrap();
    let rejected = st
        .entries
        .iter()
        .find(|e| e.state == OutboxState::Rejected)
        .expect("listed");
    assert!(
        rejected.reason.as_deref().unwrap_or("").contains("closed"),
        "{:?}",
        rejected.reason
    );
    dev_a
        .settle(rejected.mutation.mutation_id, false)
        .await
        .unwrap();
    assert_eq!(dev_a.status().await.unwrap().health, SyncHealth::Synced);

    // Everyone synced: the replicas equal the upstream.
    dev_b.sync_now().await.unwrap();
    let upstream = state_of(&*p, &a).await;
    assert_eq!(state_of(&dev_a, &ana).await, upstream);
    assert_eq!(state_of(&dev_b, &bo).await, upstream);
    let detail_a = dev_a.get_incident(&ana, &xs).await.unwrap();
    let detail_up = p.get_incident(&a, &xs).await.unwrap();
    let ids =
        |d: &domain::model::IncidentDetail| d.timeline.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(&detail_a), ids(&detail_up), "the same timeline");

    // Rebuilding the replica keeps what is queued: a pending comment survives and still shows.
    let note = dev_a
        .comment_incident(
            &ana,
            &xs,
            NewComment {
                text: "queued across a rebuild".into(),
                event_id: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap();
    let queued_event = note.timeline.last().map(|e| e.id).unwrap();
    dev_a.rebuild().await.unwrap();
    assert_eq!(
        dev_a.status().await.unwrap().pending,
        1,
        "the outbox is kept"
    );
    let shown = dev_a.get_incident(&ana, &xs).await.unwrap();
    assert!(
        shown.timeline.iter().any(|e| e.id == queued_event),
        "and shown"
    );
    assert_eq!(
        state_of(&dev_b, &bo).await.len(),
        state_of(&dev_a, &ana).await.len()
    );
    let r = dev_a.sync_now().await.unwrap();
    assert_eq!(r.applied, 1);
    assert_eq!(dev_a.status().await.unwrap().health, SyncHealth::Synced);
    assert_eq!(state_of(&dev_a, &ana).await, state_of(&*p, &a).await);

    // One audit event per applied mutation, as its person, saying when it was made.
    let events = p
        .list_audit(
            &a,
            AuditFilter {
                entity_id: Some(xs.clone()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let by_ana = events
        .iter()
        .filter(|e| e.actor_id == p.actor_id(&ana))
        .count();
    assert_eq!(
        by_ana, 4,
        "comment, acknowledge, severity (kept), the comment queued across a rebuild: one each"
    );
    assert!(events
        .iter()
        .filter(|e| e.actor_id == p.actor_id(&ana))
        .all(|e| e
            .after
            .as_ref()
            .is_some_and(|v| v["sync"]["occurred_at"].is_string())));
}

async fn audited(p: &TestPortal, id: Uuid) -> usize {
    let filter = AuditFilter {
        entity_id: Some(id.to_string()),
        limit: Some(100),
        ..Default::default()
    };
    p.list_audit(&admin(), filter).await.unwrap().items.len()
}

async fn a_push_is_applied_once_and_a_gap_is_refused(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let ana = person("user:ana", Role::Support);
    let id = Uuid::now_v7();
    let device_id = Uuid::new_v4();
    let open = Mutation {
        mutation_id: 1,
        incident_id: id,
        event_id: Uuid::now_v7(),
        op: MutationOp::OpenIncident(domain::model::NewIncident {
            id,
            title: "Opened offline".into(),
            severity: Severity::Sev2,
            org_id: None,
            impact_started_at: None,
        }),
        base_version: 0,
        occurred_at: domain::Clock::now(&*clock),
    };
    let comment = Mutation {
        mutation_id: 2,
        event_id: Uuid::now_v7(),
        op: MutationOp::ChangeIncident(C::Comment {
            text: "first note".into(),
        }),
        base_version: 1,
        ..open.clone()
    };
    let push = PushRequest {
        client_id: device_id,
        mutations: vec![open.clone(), comment.clone()],
    };
    let first = p.sync_push(&ana, push.clone()).await.unwrap();
    assert_eq!(first.last_mutation_id, 2);
    assert!(first
        .results
        .iter()
        .all(|r| matches!(r.outcome, MutationOutcome::Applied { .. })));
    let before = audited(&p, id).await;
    assert_eq!(before, 2);
    // The response was lost: the device pushes the same batch again.
    let again = p.sync_push(&ana, push).await.unwrap();
    assert_eq!(again, first, "answered from the ledger");
    assert_eq!(audited(&p, id).await, before, "nothing applied twice");
    assert_eq!(
        p.get_incident(&a, &id.to_string())
            .await
            .unwrap()
            .incident
            .version,
        2
    );
    // A gap: mutation 4 without 3.
    let gap = Mutation {
        mutation_id: 4,
        event_id: Uuid::now_v7(),
        ..comment.clone()
    };
    let err = p
        .sync_push(
            &ana,
            PushRequest {
                client_id: device_id,
                mutations: vec![gap],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    // Another person cannot push as this device.
    let bo = person("user:bo", Role::Support);
    let third = Mutation {
        mutation_id: 3,
        event_id: Uuid::now_v7(),
        ..comment
    };
    let err = p
        .sync_push(
            &bo,
            PushRequest {
                client_id: device_id,
                mutations: vec![third],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

async fn a_client_device_pulls_only_its_own_organisation(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let globex = org(&p, "Globex").await;
    for (title, o) in [("Acme down", acme), ("Globex down", globex)] {
        p.open_incident(
            &a,
            OpenIncident {
                id: None,
                title: title.into(),
                severity: Severity::Sev2,
                org_id: Some(o),
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap();
    }
    let carol = person("user:carol", Role::Client(acme));
    let dev = device(&p, db, &clock, carol.clone()).await;
    dev.sync_now().await.unwrap();
    let seen = dev
        .list_incidents(&carol, IncidentFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].incident.org_id, Some(acme));
    let pulled = p.sync_pull(&carol, 0, None).await.unwrap();
    assert!(pulled.incidents.iter().all(|i| i.org_id == Some(acme)));
    assert!(pulled
        .events
        .iter()
        .all(|e| pulled.incidents.iter().any(|i| i.id == e.incident_id)));
    assert!(
        pulled.policies.is_none(),
        "a client may not read escalation policies"
    );
    // Offline, she comments on hers; another organisation's incident does not exist for her.
    let theirs = p
        .list_incidents(
            &a,
            IncidentFilter {
                org_id: Some(globex),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items[0]
        .incident
        .id;
    let err = dev
        .comment_incident(
            &carol,
            &theirs.to_string(),
            NewComment {
                text: "hello".into(),
                event_id: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

on_every_portal!(
    offline_edits_merge_conflict_and_reject_and_nothing_is_lost,
    a_push_is_applied_once_and_a_gap_is_refused,
    a_client_device_pulls_only_its_own_organisation,
);
