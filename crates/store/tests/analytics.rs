//! The analytics facts and snapshots on both backends: idempotent bulk inserts that mark their
//! days dirty, changes read back in order, and a snapshot replaced over a range.
//! PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); the test
//! creates and drops its own database.

use domain::analytics::{
    ledger, BillingInterval, Day, MovementKind, Price, ProductEvent, SubscriptionChange,
    SubscriptionEvent,
};
use domain::audit::AuditDraft;
use domain::{Actor, Timestamp};
use store::{prelude::*, AuditBatch, Fact, FeatureOrder, SqlStore};
use uuid::Uuid;

fn day(n: i32) -> Day {
    Day::from_ymd(2026, 11, 1).unwrap().plus(n)
}

fn audit(what: &str) -> AuditBatch {
    AuditBatch::one(AuditDraft {
        entity_type: "analytics".into(),
        entity_id: what.into(),
        action: "import".into(),
        before: None,
        after: None,
    })
}

fn event(n: u128, d: i32, name: &str) -> ProductEvent {
    ProductEvent {
        id: Uuid::from_u128(n),
        org_id: Uuid::from_u128(0xA1),
        user_id: Some(format!("user-{n}")),
        name: name.into(),
        feature: None,
        at: Timestamp::from_millis(day(d).start().millis() + 3_600_000),
    }
}

fn changes() -> Vec<(Uuid, SubscriptionChange)> {
    let start = |s: u128, o: u128, d: i32, amount: i64| SubscriptionChange {
        subscription_id: Uuid::from_u128(s),
        org_id: Uuid::from_u128(o),
        day: day(d),
        seq: 0,
        event: SubscriptionEvent::Started {
            plan_id: "pro".into(),
            price: Price {
                amount_minor: amount,
                currency: "EUR".into(),
                interval: BillingInterval::Month,
            },
            quantity: 2,
        },
    };
    let mut cancel = start(1, 0xA1, 5, 0);
    cancel.event = SubscriptionEvent::Cancelled;
    vec![
        (Uuid::from_u128(101), start(1, 0xA1, 1, 5_000)),
        (Uuid::from_u128(102), start(2, 0xA2, 2, 9_900)),
        (Uuid::from_u128(103), cancel),
    ]
}

async fn dirty(store: &SqlStore, fact: Fact) -> Vec<Day> {
    let days = store.dirty_days(fact).await.unwrap();
    days.into_iter().map(|d| d.day).collect()
}

async fn story(store: SqlStore) {
    let actor = Actor::system("analytics");
    let now = Timestamp::from_millis(day(10).start().millis());

    // Events: new ones inserted, the same batch again inserts nothing; their days are dirty.
    let events = vec![
        event(1, 1, "signup"),
        event(2, 1, "active"),
        event(3, 3, "active"),
    ];
    let mut tx = store.begin(&actor, now).await.unwrap();
    assert_eq!(tx.insert_product_events(&events, now).await.unwrap(), 3);
    tx.commit(audit("events")).await.unwrap();
    let mut tx = store.begin(&actor, now).await.unwrap();
    assert_eq!(
        tx.insert_product_events(&events, now).await.unwrap(),
        0,
        "idempotent by id"
    );
    tx.commit(audit("events")).await.unwrap();
    assert_eq!(dirty(&store, Fact::Events).await, [day(1), day(3)]);

    // Subscription changes: read back in (day, seq) order, as written.
    let mut tx = store.begin(&actor, now).await.unwrap();
    let written = changes();
    assert_eq!(
        tx.insert_subscription_changes(&written, now).await.unwrap(),
        3
    );
    assert_eq!(
        tx.insert_subscription_changes(&written, now).await.unwrap(),
        0
    );
    tx.commit(audit("changes")).await.unwrap();
    let read = store.subscription_changes(day(30)).await.unwrap();
    assert_eq!(
        read,
        written.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>()
    );
    assert_eq!(store.subscription_changes(day(1)).await.unwrap().len(), 1);
    let of_one = store
        .subscription_changes_of(&[Uuid::from_u128(1)])
        .await
        .unwrap();
    assert_eq!(of_one, vec![written[0].1.clone(), written[2].1.clone()]);
    assert!(store
        .subscription_changes_of(&[Uuid::from_u128(9)])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(dirty(&store, Fact::Revenue).await, [day(1), day(2), day(5)]);

    // A snapshot of the ledger, read back; replacing a range leaves nothing of the old one.
    let l = ledger(&read, "EUR", day(0), day(9)).unwrap();
    assert_eq!(
        store.snapshot_state().await.unwrap().version,
        0,
        "never refreshed"
    );
    let read_marks = store.dirty_days(Fact::Revenue).await.unwrap();
    // A change stored after the refresh read the marks keeps its day dirty.
    let mut late = written[1].1.clone();
    late.seq = 1;
    late.event = SubscriptionEvent::QuantityChanged { quantity: 3 };
    let mut tx = store.begin(&actor, now).await.unwrap();
    tx.insert_subscription_changes(&[(Uuid::from_u128(104), late)], now)
        .await
        .unwrap();
    tx.commit(audit("late")).await.unwrap();
    let mut tx = store.begin(&actor, now).await.unwrap();
    tx.put_mrr_snapshot("EUR", day(0), day(9), &l.days, &l.movements)
        .await
        .unwrap();
    tx.clear_dirty(Fact::Revenue, &read_marks).await.unwrap();
    assert!(tx.bump_snapshot_version(0, now, true).await.unwrap());
    tx.commit(audit("refresh")).await.unwrap();
    let state = store.snapshot_state().await.unwrap();
    assert_eq!(
        (state.version, state.refreshed_at, state.full_at),
        (1, Some(now), Some(now))
    );
    assert_eq!(store.mrr_days("EUR", day(0), day(9)).await.unwrap(), l.days);
    assert_eq!(
        store
            .mrr_movements("EUR", day(0), day(9), None)
            .await
            .unwrap(),
        l.movements
    );
    let churn = store
        .mrr_movements("EUR", day(0), day(9), Some(MovementKind::Churn))
        .await
        .unwrap();
    assert_eq!(churn.len(), 1);
    assert_eq!(
        (churn[0].day, churn[0].before, churn[0].after),
        (day(5), 10_000, 0)
    );
    assert_eq!(dirty(&store, Fact::Revenue).await, [day(2)], "marked again");
    let top = store.top_paying("EUR", day(9), 10).await.unwrap();
    assert_eq!(
        top,
        vec![(Uuid::from_u128(0xA2), 19_800)],
        "the cancelled one is not paying"
    );
    let then = store.top_paying("EUR", day(3), 1).await.unwrap();
    assert_eq!(then, vec![(Uuid::from_u128(0xA2), 19_800)]);
    assert_eq!(store.top_paying("EUR", day(3), 5).await.unwrap().len(), 2);
    assert_eq!(
        store.mrr_days("EUR", day(0), day(9)).await.unwrap()[9].end,
        19_800
    );

    let mut tx = store.begin(&actor, now).await.unwrap();
    tx.put_mrr_snapshot("EUR", day(5), day(9), &l.days[5..7], &[])
        .await
        .unwrap();
    let later = Timestamp::from_millis(now.millis() + 1);
    assert!(
        !tx.bump_snapshot_version(0, later, false).await.unwrap(),
        "another refresh moved it"
    );
    assert!(tx.bump_snapshot_version(1, later, false).await.unwrap());
    tx.commit(audit("refresh")).await.unwrap();
    let state = store.snapshot_state().await.unwrap();
    assert_eq!(
        (state.version, state.refreshed_at, state.full_at),
        (2, Some(later), Some(now))
    );
    assert_eq!(
        store.mrr_days("EUR", day(0), day(9)).await.unwrap().len(),
        7
    );
    assert!(store
        .mrr_movements("EUR", day(5), day(9), None)
        .await
        .unwrap()
        .is_empty());

    // A snapshot for a malformed currency is refused and changes nothing.
    let mut tx = store.begin(&actor, now).await.unwrap();
    assert!(tx
        .put_mrr_snapshot("E'R", day(0), day(9), &l.days, &[])
        .await
        .is_err());
    drop(tx);
    assert_eq!(
        store.mrr_days("EUR", day(0), day(9)).await.unwrap().len(),
        7
    );

    usage(&store, &actor, now).await;
}

/// Usage: activity and sign-ups read back, growth and usage snapshots written and ranked,
/// the raw reads of a funnel.
async fn usage(store: &SqlStore, actor: &Actor, now: Timestamp) {
    let mut more = vec![
        event(10, 3, "active"),
        event(11, 3, "feature_used"),
        event(12, 4, "feature_used"),
        event(13, 4, "feature_used"),
    ];
    more[1].feature = Some("export".into());
    more[2].feature = Some("search".into());
    more[3].feature = Some("search".into());
    more[3].org_id = Uuid::from_u128(0xA2);
    more[3].user_id = None;
    let mut tx = store.begin(actor, now).await.unwrap();
    tx.insert_product_events(&more, now).await.unwrap();
    tx.commit(audit("events")).await.unwrap();

    let activity = store.activity(None, day(0), day(9)).await.unwrap();
    assert_eq!(activity.len(), 7, "distinct (day, org, user): {activity:?}");
    assert!(activity.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(
        store.signups(None, day(0), day(9)).await.unwrap(),
        [(day(1), 1)]
    );
    assert_eq!(store.first_event_day().await.unwrap(), Some(day(1)));
    assert_eq!(store.growth_last_day().await.unwrap(), None);

    let g = |d: i32, signups: u32| domain::analytics::GrowthDay {
        day: day(d),
        signups,
        users: domain::analytics::Actives {
            daily: 1,
            weekly: 2,
            monthly: 3,
        },
        orgs: domain::analytics::Actives::default(),
    };
    let mut tx = store.begin(actor, now).await.unwrap();
    tx.put_growth(day(0), day(4), &[g(1, 1), g(3, 0)])
        .await
        .unwrap();
    tx.put_growth(day(3), day(4), &[g(3, 5), g(4, 0)])
        .await
        .unwrap();
    tx.rebuild_usage(day(0), day(9)).await.unwrap();
    tx.commit(audit("refresh")).await.unwrap();
    assert_eq!(
        store.growth_days(day(0), day(9)).await.unwrap(),
        [g(1, 1), g(3, 5), g(4, 0)],
        "a range replaced whole"
    );
    assert_eq!(store.growth_last_day().await.unwrap(), Some(day(4)));

    let by_uses = store
        .top_features(None, day(0), day(9), FeatureOrder::Uses, 10)
        .await
        .unwrap();
    let shown: Vec<_> = by_uses
        .iter()
        .map(|f| (f.feature.as_str(), f.uses, f.orgs))
        .collect();
    assert_eq!(shown, [("search", 2, 2), ("export", 1, 1)]);
    let one_day = store
        .top_features(None, day(3), day(3), FeatureOrder::Orgs, 1)
        .await
        .unwrap();
    assert_eq!(one_day[0].feature, "export");
    let orgs = store
        .top_orgs_by_usage(None, day(0), day(9), 10)
        .await
        .unwrap();
    let shown: Vec<_> = orgs
        .iter()
        .map(|o| (o.org_id, o.events, o.active_days, o.peak_users))
        .collect();
    assert_eq!(
        shown,
        [
            (Uuid::from_u128(0xA1), 6, 3, 3),
            (Uuid::from_u128(0xA2), 1, 1, 0)
        ]
    );

    let names = vec!["active".to_string(), "feature_used".to_string()];
    let (a, b) = (day(3).start().millis(), day(5).start().millis());
    assert_eq!(
        store.count_named_events(None, &names, a, b).await.unwrap(),
        5
    );
    let by_user = store.named_events(None, &names, a, b, false).await.unwrap();
    assert_eq!(by_user.len(), 4, "events of no user are no user's");
    let by_org = store.named_events(None, &names, a, b, true).await.unwrap();
    assert_eq!(by_org.len(), 5);
    assert!(by_org
        .windows(2)
        .all(|w| (&w[0].subject, w[0].at) <= (&w[1].subject, w[1].at)));

    // One organisation's.
    let a2 = Some(Uuid::from_u128(0xA2));
    assert_eq!(store.activity(a2, day(0), day(9)).await.unwrap().len(), 1);
    assert!(store.signups(a2, day(0), day(9)).await.unwrap().is_empty());
    let f = store
        .top_features(a2, day(0), day(9), FeatureOrder::Uses, 10)
        .await
        .unwrap();
    assert_eq!((f.len(), f[0].uses), (1, 1));
    assert_eq!(
        store
            .top_orgs_by_usage(a2, day(0), day(9), 10)
            .await
            .unwrap()[0]
            .events,
        1
    );
    assert_eq!(store.count_named_events(a2, &names, a, b).await.unwrap(), 1);
    assert_eq!(
        store
            .named_events(a2, &names, a, b, true)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn analytics_facts_and_snapshots_on_sqlite() {
    story(SqlStore::sqlite_in_memory().await.unwrap()).await;
}

#[tokio::test]
async fn analytics_facts_and_snapshots_on_postgres() {
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL (DATABASE_URL)");
    let name = format!(
        "padmin_t_{}_{}",
        std::process::id(),
        Uuid::new_v4().simple()
    );
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map_or(admin.as_str(), |(a, _)| a)
    );
    let store = SqlStore::connect_postgres(&url).await.unwrap();
    story(store.clone()).await;
    store.pool().close().await;
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&pool)
        .await
        .unwrap();
}
