//! Saved funnels and revenue retention through every Portal: a saved funnel's snapshot —
//! refreshed incrementally while events arrive late — reads exactly as an ad-hoc run of its spec
//! over the same period (the portal's, and one client's own organisation's); bad definitions
//! change nothing; retention's period figures are the drill-down's.

use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{period_retention, Day, FunnelSpec, ProductEvent};
use domain::error::Error;
use domain::{Actor, Role};
use portal::analytics::generate::{self, GenerateSpec};
use portal::analytics::{
    FunnelQuery, FunnelSubject, MovementQuery, NewFunnel, RetentionQuery, SavedFunnelQuery,
    UsageQuery,
};
use stories::{admin, on_every_portal, portal, TestDb, T0};
use uuid::Uuid;

fn spec() -> GenerateSpec {
    GenerateSpec {
        orgs: 20,
        events: 2_500,
        seed: 11,
        until: Day::of(T0).plus(-1),
        days: 120,
    }
}

fn funnel_spec() -> FunnelSpec {
    FunnelSpec {
        steps: generate::FUNNEL.iter().map(|s| s.to_string()).collect(),
        window_ms: 14 * 86_400_000,
        step_windows_ms: Vec::new(),
        exclusions: Vec::new(),
    }
}

fn client_of(org: Uuid) -> Actor {
    let mut a = admin();
    a.id = "user:client".into();
    a.role = Role::Client(org);
    a
}

async fn saved_funnels_read_as_an_ad_hoc_run(db: &TestDb) {
    let (p, _clock) = portal(db).await;
    let a = admin();
    let spec = spec();
    let (from, to) = (spec.until.plus(-89), spec.until);
    let (late, early): (Vec<ProductEvent>, Vec<ProductEvent>) = generate::events_chunk(&spec, 0)
        .into_iter()
        .partition(|e| e.id.as_u128() % 5 == 0);
    p.ingest_events(&a, early).await.unwrap();

    // Bad definitions are refused with their field, and save nothing.
    let named = |name: &str, by| NewFunnel {
        name: name.into(),
        spec: funnel_spec(),
        by,
    };
    let refused = p.save_funnel(&a, named("  ", None)).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "name"),
        "{refused:?}"
    );
    let mut one_step = named("one step", None);
    one_step.spec.steps.truncate(1);
    let refused = p.save_funnel(&a, one_step).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "steps"),
        "{refused:?}"
    );
    assert!(p.saved_funnels(&a).await.unwrap().is_empty());

    let users = p
        .save_funnel(&a, named("Sign-up path", None))
        .await
        .unwrap();
    let orgs = p
        .save_funnel(
            &a,
            named("Sign-up path, organisations", Some(FunnelSubject::Org)),
        )
        .await
        .unwrap();
    assert!(matches!(
        p.save_funnel(&a, named("Sign-up path", None)).await,
        Err(Error::Conflict(_))
    ));
    let q = SavedFunnelQuery {
        org_id: None,
        from: Some(from),
        to: Some(to),
    };
    let before = p
        .saved_funnel(&a, &users.id.to_string(), q.clone())
        .await
        .unwrap();
    assert_eq!(before.as_of, None, "not snapshotted before a refresh");

    // Snapshotted, then late events arrive and an incremental refresh takes them in.
    assert_eq!(p.refresh_analytics(&a, false).await.unwrap().funnels, 2);
    p.ingest_events(&a, late).await.unwrap();
    assert_eq!(p.refresh_analytics(&a, false).await.unwrap().funnels, 2);
    assert_eq!(p.refresh_analytics(&a, false).await.unwrap().funnels, 0);

    let ad_hoc = |org_id, by| FunnelQuery {
        spec: funnel_spec(),
        org_id,
        from: Some(from),
        to: Some(to),
        by: Some(by),
    };
    for (saved, by) in [(&users, FunnelSubject::User), (&orgs, FunnelSubject::Org)] {
        let snapshot = p
            .saved_funnel(&a, &saved.id.to_string(), q.clone())
            .await
            .unwrap();
        let run = p.funnel(&a, ad_hoc(None, by)).await.unwrap();
        assert_eq!(snapshot.steps, run.steps, "{by:?}");
        assert!(snapshot.steps[0].count > 0);
        assert_eq!(snapshot.as_of, Some(Day::of(T0)));
        let entered: u64 = snapshot.daily.iter().map(|d| d.entered).sum();
        let converted: u64 = snapshot.daily.iter().map(|d| d.converted).sum();
        assert!(entered >= snapshot.steps[0].count && converted <= entered);
    }

    // A client: its own organisation's subjects, the same as an ad-hoc run of its own; it
    // cannot save, delete, or read another organisation's.
    let busiest = p
        .top_clients_by_usage(
            &a,
            UsageQuery {
                from: Some(from),
                to: Some(to),
                ..UsageQuery::default()
            },
        )
        .await
        .unwrap();
    let org = busiest.clients[0].org_id;
    let client = client_of(org);
    let own = p
        .saved_funnel(&client, &users.id.to_string(), q.clone())
        .await
        .unwrap();
    let run = p
        .funnel(&a, ad_hoc(Some(org), FunnelSubject::User))
        .await
        .unwrap();
    assert_eq!((own.org_id, &own.steps), (Some(org), &run.steps));
    let theirs = SavedFunnelQuery {
        org_id: Some(Uuid::from_u128(1)),
        ..q.clone()
    };
    for denied in [
        p.saved_funnel(&client, &users.id.to_string(), theirs)
            .await
            .err(),
        p.save_funnel(&client, named("mine", None)).await.err(),
        p.delete_funnel(&client, &users.id.to_string()).await.err(),
    ] {
        assert!(matches!(denied, Some(Error::Forbidden(_))), "{denied:?}");
    }

    // Listed by name; deleted, it is gone at once (its cached reads too).
    let names: Vec<String> = p
        .saved_funnels(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["Sign-up path", "Sign-up path, organisations"]);
    p.delete_funnel(&a, &users.id.to_string()).await.unwrap();
    assert!(matches!(
        p.saved_funnel(&a, &users.id.to_string(), q.clone()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        p.delete_funnel(&a, &users.id.to_string()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        p.saved_funnel(&a, "not-an-id", q).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(p.saved_funnels(&a).await.unwrap().len(), 1);
    assert_eq!(p.refresh_analytics(&a, true).await.unwrap().funnels, 1);
}

async fn retention_is_the_drill_downs(db: &TestDb) {
    let (p, _clock) = portal(db).await;
    let a = admin();
    let spec = spec();
    p.record_subscription_changes(&a, generate::subscription_changes(&spec))
        .await
        .unwrap();
    p.refresh_analytics(&a, false).await.unwrap();
    let to = Day::of(T0);
    let from = spec.until.plus(-59).month_start();
    let r = p
        .retention(
            &a,
            RetentionQuery {
                currency: None,
                from: Some(from),
                to: Some(to),
            },
        )
        .await
        .unwrap();
    let (nrr, grr) = (r.period.nrr.expect("nrr"), r.period.grr.expect("grr"));
    assert!(grr <= nrr + 1e-12 && grr <= 1.0 + 1e-12, "{:?}", r.period);
    let all = p
        .mrr_movements(
            &a,
            MovementQuery {
                currency: r.currency.clone(),
                from: Some(to.plus(1 - SPAN_MAX_DAYS)),
                to: Some(to),
                kind: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.period, period_retention(&all, from, to));
    assert!(!r.cohorts.is_empty());
    assert!(r.cohorts.windows(2).all(|w| w[0].month < w[1].month));
    assert!(r.cohorts.iter().all(|c| c.month >= from));
    assert_eq!(
        r.by_month.len(),
        r.cohorts.iter().map(|c| c.months.len()).max().unwrap_or(0)
    );

    let default = p.retention(&a, RetentionQuery::default()).await.unwrap();
    assert_eq!(default.to, to);
    let backwards = RetentionQuery {
        from: Some(to),
        to: Some(from),
        ..RetentionQuery::default()
    };
    assert!(matches!(
        p.retention(&a, backwards).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        p.retention(&client_of(Uuid::from_u128(1)), RetentionQuery::default())
            .await,
        Err(Error::Forbidden(_))
    ));
}

on_every_portal!(
    saved_funnels_read_as_an_ad_hoc_run,
    retention_is_the_drill_downs
);
