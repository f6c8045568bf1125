//! Usage on the `LocalPortal`: growth and top lists from the snapshot equal the events', a
//! client sees only its own organisation's, an incremental refresh after late events equals a
//! full rebuild, and a funnel over a period.

use super::super::local::tests::{admin, clock_at, day, portal};
use super::super::*;
use crate::sync::test_support::person;
use domain::analytics::events::{FEATURE_USED, SIGNUP};
use domain::analytics::{Exclusion, FunnelSpec, Interval, ProductEvent};
use domain::error::Error;
use domain::{Role, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const HOUR: i64 = 3_600_000;

fn org(n: u128) -> Uuid {
    Uuid::from_u128(0x0F00 + n)
}

fn ev(id: u128, o: u128, user: &str, d: i32, hour: i64, name: &str) -> ProductEvent {
    ProductEvent {
        id: Uuid::from_u128(id),
        org_id: org(o),
        user_id: Some(user.into()),
        name: name.into(),
        feature: None,
        at: Timestamp::from_millis(day(d).start().millis() + hour * HOUR),
    }
}

fn feature(id: u128, o: u128, user: &str, d: i32, f: &str) -> ProductEvent {
    ProductEvent {
        feature: Some(f.into()),
        ..ev(id, o, user, d, 12, FEATURE_USED)
    }
}

fn q(from: i32, to: i32) -> UsageQuery {
    UsageQuery {
        from: Some(day(from)),
        to: Some(day(to)),
        ..UsageQuery::default()
    }
}

#[tokio::test]
async fn growth_and_top_lists_from_the_snapshot() {
    let p = portal(clock_at(40)).await;
    let a = admin();
    let events = vec![
        ev(1, 1, "ann", 1, 9, SIGNUP),
        ev(2, 1, "bob", 1, 10, SIGNUP),
        ev(3, 2, "cat", 2, 9, SIGNUP),
        ev(4, 1, "ann", 5, 9, "active"),
        ev(5, 1, "ann", 5, 10, "active"),
        feature(6, 1, "bob", 8, "export"),
        feature(7, 2, "cat", 8, "export"),
        feature(8, 2, "cat", 9, "search"),
        feature(9, 2, "cat", 9, "export"),
    ];
    p.ingest_events(&a, events).await.unwrap();
    let r = p.refresh_analytics(&a, false).await.unwrap();
    assert_eq!((r.usage_from, r.usage_days), (Some(day(1)), 40));

    let g = p.growth(&a, q(0, 40)).await.unwrap();
    assert_eq!(g.as_of, Some(day(40)));
    let at = |d: i32| g.points.iter().find(|p| p.day == day(d)).unwrap();
    assert_eq!(at(1).signups, 2);
    assert_eq!(at(1).users.daily, 2);
    assert_eq!(at(2).users.monthly, 3);
    assert_eq!(at(2).orgs.monthly, 2);
    assert_eq!((at(5).users.daily, at(5).users.weekly), (1, 3));
    assert_eq!(at(8).users.weekly, 3, "ann (5), bob and cat (8)");
    assert_eq!(
        at(36).users.monthly,
        2,
        "ann (last on day 5) left the month"
    );
    assert_eq!(at(40).users.monthly, 0);
    let months = p
        .growth(
            &a,
            UsageQuery {
                interval: Some(Interval::Month),
                ..q(0, 40)
            },
        )
        .await
        .unwrap();
    assert_eq!(months.points.len(), 2);
    assert_eq!(months.points[0].signups, 3);

    let f = p.top_features(&a, q(0, 40)).await.unwrap();
    let shown: Vec<_> = f
        .features
        .iter()
        .map(|f| (f.feature.as_str(), f.uses, f.orgs))
        .collect();
    assert_eq!(shown, [("export", 3, 2), ("search", 1, 1)]);
    let u = p.top_clients_by_usage(&a, q(0, 40)).await.unwrap();
    assert_eq!(u.clients[0].org_id, org(1));
    assert_eq!((u.clients[0].events, u.clients[0].active_days), (5, 3));

    // One organisation's growth, computed from its events, matches what it did.
    let one = p
        .growth(
            &a,
            UsageQuery {
                org_id: Some(org(2)),
                ..q(0, 40)
            },
        )
        .await
        .unwrap();
    assert_eq!(one.points.iter().map(|p| p.signups).sum::<u32>(), 1);
    assert_eq!(
        one.points
            .iter()
            .find(|p| p.day == day(9))
            .unwrap()
            .users
            .monthly,
        1
    );

    // A client sees its own organisation's usage only, and never revenue.
    let client = person("user:cat", Role::Client(org(2)));
    let own = p.top_features(&client, q(0, 40)).await.unwrap();
    assert_eq!(own.org_id, Some(org(2)));
    assert_eq!(own.features.iter().map(|f| f.uses).sum::<u64>(), 3);
    let other = UsageQuery {
        org_id: Some(org(1)),
        ..q(0, 40)
    };
    assert!(matches!(
        p.growth(&client, other.clone()).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        p.top_clients_by_usage(&client, other).await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        p.top_clients_by_usage(&client, q(0, 40))
            .await
            .unwrap()
            .clients
            .len(),
        1
    );
    assert!(matches!(
        p.mrr(&client, MrrQuery::default()).await,
        Err(Error::Forbidden(_))
    ));
    let limit = UsageQuery {
        limit: Some(0),
        ..q(0, 40)
    };
    assert!(matches!(
        p.top_features(&a, limit).await,
        Err(Error::Invalid(_))
    ));
}

fn random_events(rng: &mut StdRng, first_id: u128, n: usize, days: i32) -> Vec<ProductEvent> {
    (0..n)
        .map(|i| {
            let id = first_id + i as u128;
            let o = rng.gen_range(0..4);
            let user = format!("u{}", rng.gen_range(0..6));
            let d = rng.gen_range(0..days);
            match rng.gen_range(0..4) {
                0 => ev(id, o, &user, d, rng.gen_range(0..24), SIGNUP),
                1 => feature(id, o, &user, d, ["a", "b", "c"][rng.gen_range(0..3)]),
                _ => ev(id, o, &user, d, rng.gen_range(0..24), "active"),
            }
        })
        .collect()
}

#[tokio::test]
async fn an_incremental_usage_refresh_after_late_events_equals_a_full_rebuild() {
    let mut rng = StdRng::seed_from_u64(12);
    let clock = clock_at(60);
    let incremental = portal(clock.clone()).await;
    let full = portal(clock).await;
    let a = admin();
    let mut id = 1;
    for round in 0..4 {
        // Each round's events land anywhere in the past, most of them late.
        let batch = random_events(&mut rng, id, 150, 60);
        id += 150;
        incremental.ingest_events(&a, batch.clone()).await.unwrap();
        full.ingest_events(&a, batch).await.unwrap();
        let r = incremental.refresh_analytics(&a, false).await.unwrap();
        assert!(r.usage_from.is_some(), "round {round}");
        full.refresh_analytics(&a, true).await.unwrap();
        let period = || UsageQuery {
            limit: Some(100),
            ..q(0, 60)
        };
        assert_eq!(
            incremental.growth(&a, period()).await.unwrap().points,
            full.growth(&a, period()).await.unwrap().points,
            "round {round}"
        );
        assert_eq!(
            incremental.top_features(&a, period()).await.unwrap(),
            full.top_features(&a, period()).await.unwrap()
        );
        assert_eq!(
            incremental
                .top_clients_by_usage(&a, period())
                .await
                .unwrap(),
            full.top_clients_by_usage(&a, period()).await.unwrap()
        );
    }
    // Nothing new: nothing recomputed.
    let r = incremental.refresh_analytics(&a, false).await.unwrap();
    assert_eq!((r.usage_from, r.usage_days), (None, 0));
}

#[tokio::test]
async fn a_funnel_counts_subjects_entering_in_the_period() {
    let p = portal(clock_at(30)).await;
    let a = admin();
    let events = vec![
        // ann: all three steps in two hours; bob: two steps; cat: the second step only.
        ev(1, 1, "ann", 3, 9, "visit"),
        ev(2, 1, "ann", 3, 10, "signup_form"),
        ev(3, 1, "ann", 3, 11, "paid"),
        ev(4, 1, "bob", 4, 9, "visit"),
        ev(5, 1, "bob", 4, 13, "signup_form"),
        ev(6, 2, "cat", 4, 9, "signup_form"),
        // dan entered before the period: not counted.
        ev(7, 2, "dan", 1, 9, "visit"),
        ev(8, 2, "dan", 3, 9, "signup_form"),
        // eve saw the excluded step between the first two.
        ev(9, 2, "eve", 5, 9, "visit"),
        ev(10, 2, "eve", 5, 10, "bounce"),
        ev(11, 2, "eve", 5, 11, "signup_form"),
    ];
    p.ingest_events(&a, events).await.unwrap();
    let spec = FunnelSpec {
        steps: vec!["visit".into(), "signup_form".into(), "paid".into()],
        window_ms: 7 * 24 * HOUR,
        step_windows_ms: Vec::new(),
        exclusions: vec![Exclusion {
            event: "bounce".into(),
            from_step: 1,
            to_step: 2,
        }],
    };
    let run = |by| FunnelQuery {
        spec: spec.clone(),
        org_id: None,
        from: Some(day(2)),
        to: Some(day(10)),
        by: Some(by),
    };
    let r = p.funnel(&a, run(FunnelSubject::User)).await.unwrap();
    let counts: Vec<u64> = r.steps.iter().map(|s| s.count).collect();
    assert_eq!(counts, [3, 2, 1], "ann, bob, eve entered; eve was excluded");
    assert_eq!(
        r.steps[1].median_ms,
        Some(HOUR),
        "the lower middle of 1 h and 4 h"
    );
    assert_eq!(r.steps[1].mean_ms, Some(5 * HOUR / 2));
    assert_eq!(r.steps[2].drop_off, 1);
    assert_eq!(r.events_read, 10, "dan's first visit is before the period");
    let by_org = p.funnel(&a, run(FunnelSubject::Org)).await.unwrap();
    assert_eq!(by_org.steps[0].count, 2);

    let mut bad = run(FunnelSubject::User);
    bad.spec.steps.truncate(1);
    assert!(matches!(p.funnel(&a, bad).await, Err(Error::Invalid(_))));
    let client = person("user:cat", Role::Client(org(2)));
    let own = p.funnel(&client, run(FunnelSubject::User)).await.unwrap();
    assert_eq!(
        own.steps[0].count, 1,
        "only eve, of the client's organisation"
    );
}
