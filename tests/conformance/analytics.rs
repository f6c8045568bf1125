//! Analytics through every Portal: billing facts and product events in (whole batches or
//! nothing), a refresh, MRR that reconciles with its drill-down, growth, top lists and funnels;
//! a client-role user sees its own organisation's usage and no revenue; and an incremental
//! refresh after late facts equals a full rebuild.

use domain::analytics::events::FEATURE_USED;
use domain::analytics::{Day, FunnelSpec, Interval, MovementKind, ProductEvent};
use domain::error::Error;
use domain::{Actor, Role};
use portal::analytics::generate::{self, GenerateSpec};
use portal::analytics::{FunnelQuery, FunnelSubject, MovementQuery, MrrQuery, UsageQuery};
use std::collections::BTreeSet;
use stories::{admin, on_every_portal, portal, TestDb, T0};
use uuid::Uuid;

fn spec() -> GenerateSpec {
    GenerateSpec {
        orgs: 24,
        events: 2_500,
        seed: 7,
        until: Day::of(T0).plus(-1),
        days: 150,
    }
}

fn client_of(org: Uuid) -> Actor {
    let mut a = admin();
    a.id = "user:client".into();
    a.role = Role::Client(org);
    a
}

fn period() -> UsageQuery {
    UsageQuery {
        from: Some(spec().until.plus(-149)),
        to: Some(spec().until),
        limit: Some(100),
        ..UsageQuery::default()
    }
}

fn mrr_period() -> MrrQuery {
    MrrQuery {
        from: Some(spec().until.plus(-149)),
        to: Some(Day::of(T0)),
        ..MrrQuery::default()
    }
}

async fn revenue_and_usage_from_facts(db: &TestDb) {
    let (p, _clock) = portal(db).await;
    let a = admin();
    let spec = spec();
    let changes = generate::subscription_changes(&spec);
    let report = p
        .record_subscription_changes(&a, changes.clone())
        .await
        .unwrap();
    assert_eq!(report.inserted, changes.len() as u64);
    let again = p.record_subscription_changes(&a, changes).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, report.inserted));
    let events = generate::events_chunk(&spec, 0);
    p.ingest_events(&a, events.clone()).await.unwrap();

    // A bad row refuses the whole batch, naming it; nothing of it is stored.
    let mut bad = generate::events_chunk(&GenerateSpec { seed: 8, ..spec }, 0);
    bad.truncate(3);
    bad[2].name = String::new();
    match p.ingest_events(&a, bad.clone()).await {
        Err(Error::Invalid(fields)) => assert_eq!(fields[0].field, "events[2].name"),
        other => panic!("a bad batch: {other:?}"),
    }
    bad[2].name = "visit".into();
    bad[2].feature = None;
    assert_eq!(p.ingest_events(&a, bad.clone()).await.unwrap().inserted, 3);
    let sent: Vec<ProductEvent> = events.into_iter().chain(bad).collect();

    let r = p.refresh_analytics(&a, false).await.unwrap();
    assert!(r.days > 0 && r.usage_days > 0, "{r:?}");

    // MRR: every row reconciles, and the movements behind a period sum to its total.
    let series = p.mrr(&a, mrr_period()).await.unwrap();
    assert!(series.points.iter().all(|d| d.reconciles()));
    let total = series.total.clone().expect("a total");
    assert!(total.end > 0, "the business has MRR: {total:?}");
    let movements = p
        .mrr_movements(
            &a,
            MovementQuery {
                currency: series.currency.clone(),
                from: Some(series.from),
                to: Some(series.to),
                kind: None,
            },
        )
        .await
        .unwrap();
    let moved: i64 = movements.iter().map(|m| m.after - m.before).sum();
    assert_eq!(
        total.start + moved,
        total.end,
        "the drill-down explains MRR"
    );
    let churn_only = p
        .mrr_movements(
            &a,
            MovementQuery {
                kind: Some(MovementKind::Churn),
                ..MovementQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(churn_only.iter().all(|m| m.kind == MovementKind::Churn));
    let months = p
        .mrr(
            &a,
            MrrQuery {
                interval: Some(Interval::Month),
                ..mrr_period()
            },
        )
        .await
        .unwrap();
    assert_eq!(months.points.last().map(|d| d.end), Some(total.end));
    let top = p.top_clients_by_mrr(&a, None, None, Some(5)).await.unwrap();
    assert!(top.clients.len() <= 5 && !top.clients.is_empty());
    assert!(top.clients.windows(2).all(|w| w[0].mrr >= w[1].mrr));

    // Usage: growth, features, organisations; the sums match the events sent.
    let growth = p.growth(&a, period()).await.unwrap();
    let signups = sent.iter().filter(|e| e.name == "signup").count() as u32;
    assert_eq!(
        growth.points.iter().map(|d| d.signups).sum::<u32>(),
        signups
    );
    let features = p.top_features(&a, period()).await.unwrap();
    let used = sent.iter().filter(|e| e.name == FEATURE_USED).count() as u64;
    assert_eq!(features.features.iter().map(|f| f.uses).sum::<u64>(), used);
    let busiest = p.top_clients_by_usage(&a, period()).await.unwrap();
    let org = busiest.clients[0].org_id;

    // A funnel over the generated sign-up path.
    let funnel = p
        .funnel(
            &a,
            FunnelQuery {
                spec: FunnelSpec {
                    steps: generate::FUNNEL.iter().map(|s| s.to_string()).collect(),
                    window_ms: 14 * 86_400_000,
                    step_windows_ms: Vec::new(),
                    exclusions: Vec::new(),
                },
                org_id: None,
                from: period().from,
                to: period().to,
                by: Some(FunnelSubject::User),
            },
        )
        .await
        .unwrap();
    assert_eq!(funnel.steps.len(), generate::FUNNEL.len());
    assert!(funnel.steps[0].count > 0);
    assert!(funnel.steps.windows(2).all(|w| w[0].count >= w[1].count));

    // A client: its own organisation's usage only, no revenue.
    let client = client_of(org);
    let own = p.top_clients_by_usage(&client, period()).await.unwrap();
    assert_eq!(
        own.clients.iter().map(|c| c.org_id).collect::<Vec<_>>(),
        [org]
    );
    let theirs = UsageQuery {
        org_id: Some(Uuid::from_u128(1)),
        ..period()
    };
    assert!(matches!(
        p.growth(&client, theirs).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        p.mrr(&client, mrr_period()).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        p.refresh_analytics(&client, true).await,
        Err(Error::Forbidden(_))
    ));
}

/// Splits the generated facts: most arrive first, the rest late (whole subscriptions, and
/// events anywhere in the past).
async fn an_incremental_refresh_after_late_facts_equals_a_full_rebuild(db: &TestDb) {
    let (p, _clock) = portal(db).await;
    let a = admin();
    let spec = spec();
    let changes = generate::subscription_changes(&spec);
    let late_subs: BTreeSet<Uuid> = changes
        .iter()
        .map(|c| c.change.subscription_id)
        .filter(|s| s.as_u128() % 3 == 0)
        .collect();
    let (late, early): (Vec<_>, Vec<_>) = changes
        .into_iter()
        .partition(|c| late_subs.contains(&c.change.subscription_id));
    let events = generate::events_chunk(&spec, 0);
    let (late_events, early_events): (Vec<ProductEvent>, Vec<ProductEvent>) =
        events.into_iter().partition(|e| e.id.as_u128() % 4 == 0);

    p.record_subscription_changes(&a, early).await.unwrap();
    p.ingest_events(&a, early_events).await.unwrap();
    p.refresh_analytics(&a, false).await.unwrap();
    p.record_subscription_changes(&a, late).await.unwrap();
    p.ingest_events(&a, late_events).await.unwrap();
    let r = p.refresh_analytics(&a, false).await.unwrap();
    assert!(r.from.is_some() && r.usage_from.is_some(), "{r:?}");

    let incremental = (
        p.mrr(&a, mrr_period()).await.unwrap().points,
        p.growth(&a, period()).await.unwrap().points,
        p.top_features(&a, period()).await.unwrap().features,
        p.top_clients_by_usage(&a, period()).await.unwrap().clients,
        p.top_clients_by_mrr(&a, None, None, Some(100))
            .await
            .unwrap(),
    );
    p.refresh_analytics(&a, true).await.unwrap();
    let full = (
        p.mrr(&a, mrr_period()).await.unwrap().points,
        p.growth(&a, period()).await.unwrap().points,
        p.top_features(&a, period()).await.unwrap().features,
        p.top_clients_by_usage(&a, period()).await.unwrap().clients,
        p.top_clients_by_mrr(&a, None, None, Some(100))
            .await
            .unwrap(),
    );
    assert_eq!(incremental, full);
    assert!(!full.0.is_empty() && !full.1.is_empty());
}

/// Refreshes racing each other (the scheduler, a CLI, another instance) while facts keep
/// arriving: whichever writes last, nothing is lost — an incremental refresh at the end equals a
/// full rebuild.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_refreshes_lose_no_fact() {
    let db = TestDb::new(stories::Backend::Postgres).await;
    let (p, _clock) = portal(&db).await;
    let p = std::sync::Arc::new(p);
    let a = admin();
    let spec = spec();
    let changes = generate::subscription_changes(&spec);
    let events = generate::events_chunk(&spec, 0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refreshers: Vec<_> = (0..4)
        .map(|_| {
            let (p, stop) = (p.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut done, mut lost) = (0, 0);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match p.refresh_analytics(&admin(), false).await {
                        Ok(_) => done += 1,
                        Err(Error::Conflict(_)) => lost += 1,
                        Err(e) => panic!("a refresh failed: {e:?}"),
                    }
                }
                (done, lost)
            })
        })
        .collect();
    for (c, e) in changes.chunks(4).zip(events.chunks(40)) {
        p.record_subscription_changes(&a, c.to_vec()).await.unwrap();
        p.ingest_events(&a, e.to_vec()).await.unwrap();
        tokio::task::yield_now().await;
    }
    p.ingest_events(&a, events.clone()).await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut refreshed = 0;
    for r in refreshers {
        refreshed += r.await.unwrap().0;
    }
    assert!(refreshed > 0);
    p.refresh_analytics(&a, false).await.unwrap();
    let read = || async {
        (
            p.mrr(&a, mrr_period()).await.unwrap().points,
            p.growth(&a, period()).await.unwrap().points,
            p.top_clients_by_usage(&a, period()).await.unwrap().clients,
        )
    };
    let incremental = read().await;
    p.refresh_analytics(&a, true).await.unwrap();
    assert_eq!(incremental, read().await);
    db.drop_db().await;
}

on_every_portal!(
    revenue_and_usage_from_facts,
    an_incremental_refresh_after_late_facts_equals_a_full_rebuild
);
