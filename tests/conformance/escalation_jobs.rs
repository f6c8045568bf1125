//! The scheduled jobs across instances, on PostgreSQL: escalation steps and SLA notices are
//! recorded exactly once per (incident, step, repeat) however many instances run the job at
//! once, and across instances stopped and started between runs; their webhooks reach a receiver
//! on loopback signed per Standard Webhooks, one `webhook-id` per notification, retried under
//! the same id after a failure; the scheduler's leader is replaced within seconds when it stops.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use domain::model::{
    EscalationCondition, EscalationStep, EscalationTarget, IncidentEventKind, OpenIncident,
    PolicyInput, Severity,
};
use domain::webhook::WebhookSecret;
use domain::Clock;
use portal::jobs::{JobDef, ESCALATIONS, WEBHOOK_DELIVERIES};
use portal::prelude::*;
use portal::LocalPortal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stories::{admin, test_keys, Backend, TestDb, T0};
use uuid::Uuid;

/// What the receiver saw: per `webhook-id`, how many attempts and whether each was signed right.
#[derive(Debug, Default)]
struct Seen {
    attempts: HashMap<String, u32>,
    bad_signatures: u32,
    /// Answer 500 to the first attempt of this many ids (then 204).
    fail_first: u32,
}

async fn receiver(secret: WebhookSecret, seen: Arc<Mutex<Seen>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let secret = secret.clone();
            let seen = seen.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let id = h("webhook-id");
                let ts = h("webhook-timestamp");
                let sig = h("webhook-signature");
                // The jobs run on the tests' clock, so the tolerance is measured against it.
                let now = T0.millis() / 1000 + 3600;
                let ok = secret.verify(&id, &ts, &sig, &body, now, 7200).is_ok();
                let mut s = seen.lock().unwrap();
                if !ok {
                    s.bad_signatures += 1;
                }
                let n = s.attempts.entry(id).or_insert(0);
                *n += 1;
                if *n == 1 && s.fail_first > 0 {
                    s.fail_first -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

async fn instance(db: &TestDb, clock: Arc<domain::ManualClock>) -> Arc<LocalPortal> {
    Arc::new(
        LocalPortal::with_keys(db.arc(), test_keys(), clock)
            .await
            .expect("portal opens")
            .with_webhooks(Arc::new(outbound::HttpWebhooks::new().unwrap())),
    )
}

fn escalations_of(events: &[domain::model::IncidentEvent]) -> Vec<(usize, u32)> {
    let mut v: Vec<(usize, u32)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            IncidentEventKind::Escalated { step, repeat, .. } => Some((*step, *repeat)),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalations_are_recorded_once_across_instances_and_their_webhooks_are_signed() {
    let db = TestDb::new(Backend::Postgres).await;
    let clock = Arc::new(domain::ManualClock::at(T0));
    let first = instance(&db, clock.clone()).await;
    let a = admin();
    let probe = first.webhook_signing_secret(&a).await.unwrap();
    let secret = WebhookSecret::parse(probe.expose()).unwrap();
    let seen = Arc::new(Mutex::new(Seen {
        fail_first: 2,
        ..Default::default()
    }));
    let url = receiver(secret, seen.clone()).await;
    first
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Default".into(),
                org_id: None,
                rules: vec![
                    EscalationStep {
                        after_mins: 1,
                        condition: EscalationCondition::Unacknowledged,
                        targets: vec![
                            EscalationTarget::Webhook { url: url.clone() },
                            EscalationTarget::Role {
                                role: "support".into(),
                            },
                        ],
                        repeat: 2,
                        repeat_every_mins: Some(1),
                        min_severity: Severity::Sev2,
                    },
                    EscalationStep {
                        after_mins: 5,
                        condition: EscalationCondition::Unresolved,
                        targets: vec![EscalationTarget::Webhook { url: url.clone() }],
                        repeat: 0,
                        repeat_every_mins: None,
                        min_severity: Severity::Sev1,
                    },
                ],
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let opened = first
            .open_incident(
                &a,
                OpenIncident {
                    id: None,
                    title: format!("Outage {n}"),
                    severity: Severity::Sev1,
                    org_id: None,
                    impact_started_at: None,
                    occurred_at: None,
                },
            )
            .await
            .unwrap();
        ids.push(opened.incident.id);
    }
    // A sev3 the policy's steps do not cover.
    let quiet = first
        .open_incident(
            &a,
            OpenIncident {
                id: None,
                title: "Typo on the pricing page".into(),
                severity: Severity::Sev3,
                org_id: None,
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap()
        .incident
        .id;

    // Minute by minute, two instances run the job at once, three times; between minutes one of
    // them is stopped and another started (a restart), as a killed instance would be replaced.
    let mut pair = [first.clone(), instance(&db, clock.clone()).await];
    for minute in 1..=16 {
        clock.advance_secs(60);
        for _ in 0..3 {
            let (x, y) = tokio::join!(
                pair[0].run_named(ESCALATIONS, "one"),
                pair[1].run_named(ESCALATIONS, "two")
            );
            x.unwrap();
            y.unwrap();
        }
        pair[minute % 2] = instance(&db, clock.clone()).await;
    }
    for id in &ids {
        let events = db_events(&first, *id).await;
        assert_eq!(
            escalations_of(&events),
            [(0, 0), (0, 1), (0, 2), (1, 0)],
            "each step and repeat recorded exactly once for {id}"
        );
        let notices = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    IncidentEventKind::SlaAtRisk { .. } | IncidentEventKind::SlaBreached { .. }
                )
            })
            .count();
        assert_eq!(
            notices, 2,
            "the response clock at risk (75 % of sev1's 15 minutes) and breached, once each"
        );
    }
    assert!(escalations_of(&db_events(&first, quiet).await).is_empty());

    // Deliveries: 3 incidents × 4 notifications with a webhook target each.
    for _ in 0..3 {
        let (x, y) = tokio::join!(
            pair[0].run_named(WEBHOOK_DELIVERIES, "one"),
            pair[1].run_named(WEBHOOK_DELIVERIES, "two")
        );
        x.unwrap();
        y.unwrap();
    }
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.attempts.len(), 12, "one webhook-id per notification");
        assert_eq!(s.bad_signatures, 0, "every attempt is signed");
        assert!(
            s.attempts.values().all(|n| *n == 1),
            "nothing was sent twice at once; the two failed first attempts wait for their retry: {:?}",
            s.attempts
        );
        assert_eq!(s.fail_first, 0, "two attempts failed");
    }
    clock.advance_secs(5);
    pair[0].run_named(WEBHOOK_DELIVERIES, "one").await.unwrap();
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.attempts.len(), 12, "a retry keeps its webhook-id");
        assert_eq!(s.attempts.values().filter(|n| **n == 2).count(), 2);
    }
    let jobs = first.list_jobs(&a).await.unwrap();
    let esc = jobs.iter().find(|j| j.name == ESCALATIONS).unwrap();
    assert_eq!(esc.runs, 16 * 3 * 2);
    assert_eq!(esc.last_outcome.as_deref(), Some("ok"));
    drop(pair);
    db.drop_db().await;
}

async fn db_events(p: &LocalPortal, id: Uuid) -> Vec<domain::model::IncidentEvent> {
    p.get_incident(&admin(), &id.to_string())
        .await
        .unwrap()
        .timeline
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_leader_is_replaced_within_seconds() {
    let db = TestDb::new(Backend::Postgres).await;
    let clock = Arc::new(domain::ManualClock::at(T0));
    let jobs = [JobDef {
        name: ESCALATIONS,
        every_secs: 1,
        description: "test",
    }];
    let follow = Duration::from_millis(200);
    let one = server::scheduler::Scheduler::start_with(
        instance(&db, clock.clone()).await,
        "one".into(),
        &jobs,
        follow,
    );
    let two = server::scheduler::Scheduler::start_with(
        instance(&db, clock.clone()).await,
        "two".into(),
        &jobs,
        follow,
    );
    let watcher = instance(&db, clock.clone()).await;
    let runner = || async {
        watcher.list_jobs(&admin()).await.unwrap()[0]
            .last_runner
            .clone()
    };
    let leader = wait_for(&runner, |r| r.is_some()).await.unwrap();
    // Only the leader runs it: a few seconds later it is still the same one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(runner().await.as_deref(), Some(leader.as_str()));
    let runs_before = watcher.list_jobs(&admin()).await.unwrap()[0].runs;
    assert!(
        runs_before >= 2,
        "the leader runs every second: {runs_before}"
    );
    let (stopped, survivor) = if leader == "one" {
        (one, (two, "two"))
    } else {
        (two, (one, "one"))
    };
    let stopped_at = std::time::Instant::now();
    drop(stopped);
    let took_over = wait_for(runner, |r| r.as_deref() == Some(survivor.1)).await;
    assert_eq!(took_over.as_deref(), Some(survivor.1));
    assert!(
        stopped_at.elapsed() < Duration::from_secs(10),
        "replaced within seconds, took {:?}",
        stopped_at.elapsed()
    );
    let _ = clock.now();
    drop(survivor);
    db.drop_db().await;
}

/// Polls `probe` every 100 ms for up to 15 s until `done` holds; returns the last value.
async fn wait_for<T, F, Fut>(probe: F, done: impl Fn(&T) -> bool) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let v = probe().await;
        if done(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
