//! Analytics on the `LocalPortal`: facts in (whole batches or nothing), the refresh and its
//! reconciliation, the reads; and an incremental refresh after late facts equals a full rebuild.

use super::*;
use crate::sync::test_support::person;
use domain::analytics::{ledger, BillingInterval, MovementKind, Price, SubscriptionEvent};
use domain::envelope::MasterKeySet;
use domain::{ManualClock, Role, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use store::SqlStore;

pub(crate) fn day(n: i32) -> Day {
    Day::from_ymd(2026, 10, 1).unwrap().plus(n)
}

pub(crate) fn clock_at(d: i32) -> Arc<ManualClock> {
    Arc::new(ManualClock::at(Timestamp::from_millis(
        day(d).start().millis() + 3_600_000,
    )))
}

pub(crate) async fn portal(clock: Arc<ManualClock>) -> LocalPortal {
    let store = Arc::new(SqlStore::sqlite_in_memory().await.unwrap());
    let keys = MasterKeySet::generate(&mut StdRng::seed_from_u64(1));
    LocalPortal::with_keys(store, keys, clock).await.unwrap()
}

pub(crate) fn admin() -> Actor {
    person("user:admin", Role::Provider)
}

fn started(s: u128, o: u128, d: i32, amount: i64, currency: &str) -> NewSubscriptionChange {
    NewSubscriptionChange {
        id: Uuid::from_u128(s << 32 | d as u128),
        change: SubscriptionChange {
            subscription_id: Uuid::from_u128(s),
            org_id: Uuid::from_u128(o),
            day: day(d),
            seq: 0,
            event: SubscriptionEvent::Started {
                plan_id: "pro".into(),
                price: Price {
                    amount_minor: amount,
                    currency: currency.into(),
                    interval: BillingInterval::Month,
                },
                quantity: 1,
            },
        },
    }
}

fn then(s: u128, o: u128, d: i32, seq: i64, event: SubscriptionEvent) -> NewSubscriptionChange {
    NewSubscriptionChange {
        id: Uuid::from_u128(s << 32 | (d as u128) << 8 | seq as u128),
        change: SubscriptionChange {
            subscription_id: Uuid::from_u128(s),
            org_id: Uuid::from_u128(o),
            day: day(d),
            seq,
            event,
        },
    }
}

#[tokio::test]
async fn revenue_from_facts_to_a_reconciled_series() {
    let p = portal(clock_at(20)).await;
    let a = admin();
    let batch = vec![
        started(1, 1, 1, 10_000, "EUR"),
        started(2, 2, 3, 5_000, "EUR"),
        then(
            1,
            1,
            10,
            1,
            SubscriptionEvent::QuantityChanged { quantity: 3 },
        ),
        then(2, 2, 12, 1, SubscriptionEvent::Cancelled),
        started(3, 3, 4, 700, "USD"),
    ];
    let r = p
        .record_subscription_changes(&a, batch.clone())
        .await
        .unwrap();
    assert_eq!((r.received, r.inserted, r.duplicates), (5, 5, 0));
    let again = p.record_subscription_changes(&a, batch).await.unwrap();
    assert_eq!(
        (again.inserted, again.duplicates),
        (0, 5),
        "a batch sent twice stores nothing new"
    );

    let refreshed = p.refresh_analytics(&a, false).await.unwrap();
    assert_eq!(refreshed.currencies, ["EUR", "USD"]);
    assert_eq!(refreshed.from, Some(day(1)));
    let series = p
        .mrr(
            &a,
            MrrQuery {
                from: Some(day(0)),
                to: Some(day(20)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        series.currency.as_deref(),
        Some("EUR"),
        "the currency with the most MRR"
    );
    assert_eq!(series.as_of, Some(day(20)));
    assert!(series.points.iter().all(MrrDay::reconciles));
    let total = series.total.clone().unwrap();
    assert_eq!(
        (
            total.start,
            total.new,
            total.expansion,
            total.churn,
            total.end
        ),
        (0, 15_000, 20_000, 5_000, 30_000)
    );
    assert_eq!(
        series.rates.unwrap().gross_mrr_churn,
        None,
        "nothing paid at the start"
    );
    let weeks = p
        .mrr(
            &a,
            MrrQuery {
                interval: Some(Interval::Week),
                from: Some(day(0)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(weeks.points.len() < series.points.len());
    assert_eq!(weeks.points.last().unwrap().end, 30_000);

    let churn = p
        .mrr_movements(
            &a,
            MovementQuery {
                kind: Some(MovementKind::Churn),
                from: Some(day(0)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(churn.len(), 1);
    assert_eq!(
        (churn[0].org_id, churn[0].day, churn[0].before),
        (Uuid::from_u128(2), day(12), 5_000)
    );

    let top = p.top_clients_by_mrr(&a, None, None, Some(5)).await.unwrap();
    assert_eq!(top.total_mrr, 30_000);
    assert_eq!(
        top.clients.len(),
        1,
        "the cancelled organisation pays nothing"
    );
    assert_eq!(
        (
            top.clients[0].org_id,
            top.clients[0].mrr,
            top.clients[0].share
        ),
        (Uuid::from_u128(1), 30_000, 1.0)
    );
    let earlier = p
        .top_clients_by_mrr(&a, None, Some(day(5)), None)
        .await
        .unwrap();
    assert_eq!(earlier.clients.len(), 2);
    assert!(p.top_clients_by_mrr(&a, None, None, Some(0)).await.is_err());

    // Revenue is the provider's: a support lead and a client's user are refused.
    for role in [Role::Support, Role::Client(Uuid::from_u128(1))] {
        let e = p
            .mrr(&person("user:x", role), MrrQuery::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), domain::ErrorCode::Forbidden);
    }
    // A refresh with nothing new writes the new days only, and still reconciles.
    let quiet = p.refresh_analytics(&a, false).await.unwrap();
    assert_eq!(quiet.days, 0);
}

#[tokio::test]
async fn a_bad_batch_is_refused_whole_with_every_row_named() {
    let p = portal(clock_at(20)).await;
    let a = admin();
    let event = |n: u128, name: &str| ProductEvent {
        id: Uuid::from_u128(n),
        org_id: Uuid::from_u128(1),
        user_id: Some("u".into()),
        name: name.into(),
        feature: None,
        at: day(2).start(),
    };
    let e = p
        .ingest_events(
            &a,
            vec![event(1, "signup"), event(2, ""), event(3, "feature_used")],
        )
        .await
        .unwrap_err();
    let Error::Invalid(fields) = e else {
        panic!("{e:?}")
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["events[1].name", "events[2].feature"]);
    let ok = p
        .ingest_events(&a, vec![event(1, "signup"), event(1, "signup")])
        .await
        .unwrap();
    assert_eq!(
        (ok.inserted, ok.duplicates),
        (1, 1),
        "nothing of the refused batch was stored"
    );
    assert!(p.ingest_events(&a, Vec::new()).await.is_err());

    // A change that cannot happen to its subscription, given what is stored.
    p.record_subscription_changes(&a, vec![started(1, 1, 1, 100, "EUR")])
        .await
        .unwrap();
    let e = p
        .record_subscription_changes(
            &a,
            vec![
                then(1, 1, 2, 0, SubscriptionEvent::Cancelled),
                then(
                    1,
                    1,
                    3,
                    0,
                    SubscriptionEvent::QuantityChanged { quantity: 2 },
                ),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("changes[1]") && e.to_string().contains("reactivate"),
        "{e}"
    );
    let e = p
        .record_subscription_changes(
            &a,
            vec![
                started(9, 1, 0, 100, "EUR"),
                then(1, 2, 0, 0, SubscriptionEvent::Cancelled),
            ],
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("has not started"), "{e}");
    assert_eq!(
        p.store.subscription_changes(day(40)).await.unwrap().len(),
        1
    );
    let e = p
        .refresh_analytics(&person("user:s", Role::Support), true)
        .await
        .unwrap_err();
    assert_eq!(e.code(), domain::ErrorCode::Forbidden);
}

/// A random valid history: each subscription's changes in order over days 0..40.
fn history(rng: &mut StdRng) -> Vec<Vec<NewSubscriptionChange>> {
    let mut subs = Vec::new();
    for s in 1..=rng.gen_range(1..8u128) {
        let org = rng.gen_range(1..5u128);
        let currency = if rng.gen_bool(0.2) { "USD" } else { "EUR" };
        let mut d = rng.gen_range(0..30);
        let mut active = true;
        let mut list = vec![started(s, org, d, rng.gen_range(1..50) * 100, currency)];
        for seq in 1..rng.gen_range(1..7) {
            d += rng.gen_range(0..5);
            let event = if !active {
                active = true;
                SubscriptionEvent::Reactivated
            } else if rng.gen_bool(0.3) {
                active = false;
                SubscriptionEvent::Cancelled
            } else {
                SubscriptionEvent::QuantityChanged {
                    quantity: rng.gen_range(1..6),
                }
            };
            list.push(then(s, org, d, seq, event));
        }
        subs.push(list);
    }
    subs
}

#[tokio::test]
async fn an_incremental_refresh_after_late_facts_equals_a_full_rebuild() {
    for seed in 0..25u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let clock = clock_at(30);
        let p = portal(clock.clone()).await;
        let a = admin();
        // Subscriptions arrive one by one, in random order (so most arrive late: their days
        // were snapshotted already), a day passing now and then; a refresh after each.
        let subs = history(&mut rng);
        for list in &subs {
            p.record_subscription_changes(&a, list.clone())
                .await
                .unwrap();
            if rng.gen_bool(0.5) {
                clock.advance_secs(86_400);
            }
            p.refresh_analytics(&a, false).await.unwrap();
        }
        let today = Day::of(p.now());
        let all: Vec<SubscriptionChange> =
            subs.iter().flatten().map(|c| c.change.clone()).collect();
        for currency in ["EUR", "USD"] {
            let incremental = p.store.mrr_days(currency, day(-10), today).await.unwrap();
            let moves = p
                .store
                .mrr_movements(currency, day(-10), today, None)
                .await
                .unwrap();
            let Some(first) = incremental.first().map(|d| d.day) else {
                continue;
            };
            let full = ledger(&all, currency, first, today).unwrap();
            assert_eq!(incremental, full.days, "seed {seed} {currency}: days");
            assert_eq!(moves, full.movements, "seed {seed} {currency}: movements");
            // And the job's full rebuild writes the same.
            p.refresh_analytics(&a, true).await.unwrap();
            assert_eq!(
                p.store.mrr_days(currency, day(-10), today).await.unwrap(),
                full.days
            );
        }
    }
}

/// Two instances over one database (two servers, or the app and `padmin`): a result cached by
/// one is served again until a refresh by the other moves the snapshots on.
#[tokio::test]
async fn a_refresh_by_another_instance_invalidates_the_cache() {
    let clock = clock_at(20);
    let store = Arc::new(SqlStore::sqlite_in_memory().await.unwrap());
    let keys = || MasterKeySet::generate(&mut StdRng::seed_from_u64(1));
    let one = LocalPortal::with_keys(store.clone(), keys(), clock.clone())
        .await
        .unwrap();
    let two = LocalPortal::with_keys(store, keys(), clock).await.unwrap();
    let a = admin();
    one.record_subscription_changes(&a, vec![started(1, 1, 1, 10_000, "EUR")])
        .await
        .unwrap();
    one.refresh_analytics(&a, true).await.unwrap();
    let q = || MrrQuery {
        from: Some(day(0)),
        ..Default::default()
    };
    let first = one.mrr(&a, q()).await.unwrap();
    assert_eq!(first.total.as_ref().unwrap().end, 10_000);
    assert!(first.refreshed_at.is_some());
    assert_eq!(
        one.mrr(&a, q()).await.unwrap(),
        first,
        "served from the cache"
    );

    two.record_subscription_changes(&a, vec![started(2, 2, 5, 2_500, "EUR")])
        .await
        .unwrap();
    assert_eq!(
        one.mrr(&a, q()).await.unwrap(),
        first,
        "new facts show after a refresh"
    );
    two.refresh_analytics(&a, false).await.unwrap();
    let after = one.mrr(&a, q()).await.unwrap();
    assert_eq!(
        after.total.unwrap().end,
        12_500,
        "the other instance's refresh is seen"
    );
}
