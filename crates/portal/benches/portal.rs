//! Portal benchmarks on both stores: `cargo bench -p portal` (release mode). Prints figures next
//! to same-run baselines; asserts nothing (machines are shared and noisy).
//!
//! - verify: warm (cached), cold (one argon2id — baseline: a bare argon2id verification),
//!   unknown key id and bad checksum (no argon2 at all);
//! - create throughput;
//! - one audit page (50 events, filtered by entity and by entity type) over 1,000,000 events —
//!   baseline: `SELECT 1` round trip.
//!
//! PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
//! the bench creates and drops its own database. BENCH_AUDIT_EVENTS overrides the 1M.

use domain::key::FullKey;
use domain::model::AuditFilter;
use domain::{Actor, Clock, SystemClock};
use portal::prelude::*;
use portal::{LocalPortal, NewKey};
use rand::SeedableRng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{prelude::*, SqlStore};

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn show(label: &str, v: Vec<Duration>) {
    let n = v.len();
    println!(
        "  {label:44} p50 {:>10.3?}  p99 {:>10.3?}  (n={n})",
        pct(v.clone(), 0.5),
        pct(v, 0.99)
    );
}

async fn timed<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

/// Fills the trail with `n` events generated in the database (valid shape, not a valid chain:
/// this measures reading, not verifying).
async fn fill_audit(store: &SqlStore, n: i64) {
    let start: i64 = store.audit_head().await.unwrap().0;
    let gen = |lo: i64, hi: i64| {
        match store.backend() {
        // Not a valid chain, so the chain trigger is bypassed (the bench connects as superuser).
        store::Backend::Postgres => format!(
            "SET session_replication_role = replica;
             INSERT INTO audit_events (seq, id, ts, actor_id, actor_name, actor_type, entity_type, entity_id, action, before, after, ip, ua, prev_hash, hash)
             SELECT g, 'bench-' || g, 1790000000000 + g, 'user:alice', 'alice', 'user',
                    (ARRAY['federation_key','client','oidc_config','integration'])[1 + g % 4], 'e' || (g % 50000), 'update',
                    '{{\"name\":\"a\"}}', '{{\"name\":\"b\"}}', '10.0.0.1', 'bench', md5(g::text), md5((g+1)::text)
             FROM generate_series({lo}, {hi}) AS g;
             SET session_replication_role = origin;"
        ),
        store::Backend::Sqlite => format!(
            "WITH RECURSIVE s(g) AS (SELECT {lo} UNION ALL SELECT g + 1 FROM s WHERE g < {hi})
             INSERT INTO audit_events (seq, id, ts, actor_id, actor_name, actor_type, entity_type, entity_id, action, before, after, ip, ua, prev_hash, hash)
             SELECT g, 'bench-' || g, 1790000000000 + g, 'user:alice', 'alice', 'user',
                    CASE g % 4 WHEN 0 THEN 'federation_key' WHEN 1 THEN 'client' WHEN 2 THEN 'oidc_config' ELSE 'integration' END,
                    'e' || (g % 50000), 'update', '{{\"name\":\"a\"}}', '{{\"name\":\"b\"}}', '10.0.0.1', 'bench', hex(randomblob(32)), hex(randomblob(32))
             FROM s"
        ),
    }
    };
    let chunk = 100_000;
    let mut lo = start + 1;
    while lo <= start + n {
        let hi = (lo + chunk - 1).min(start + n);
        sqlx::raw_sql(&gen(lo, hi))
            .execute(store.pool())
            .await
            .unwrap();
        lo = hi + 1;
    }
    sqlx::raw_sql(&format!(
        "UPDATE audit_head SET seq = {} WHERE id = 1",
        start + n
    ))
    .execute(store.pool())
    .await
    .unwrap();
    if store.backend() == store::Backend::Postgres {
        sqlx::raw_sql("ANALYZE audit_events")
            .execute(store.pool())
            .await
            .unwrap();
    }
}

async fn bench(label: &str, store: SqlStore, audit_events: i64) {
    println!("\n{label}");
    let arc: Arc<dyn Store> = Arc::new(store.clone());
    let keys = domain::envelope::MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let p = LocalPortal::with_keys(arc, keys, Arc::new(SystemClock))
        .await
        .unwrap();
    let a = Actor::system("bench");

    let t = Instant::now();
    let mut created = Vec::new();
    for i in 0..40 {
        created.push(
            p.create_key(
                &a,
                NewKey {
                    name: format!("bench {i}"),
                    expires_in: None,
                },
                None,
            )
            .await
            .unwrap(),
        );
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  {:44} {:>10.1} keys/s",
        "create (argon2id hash + audited insert)",
        40.0 / secs
    );

    // Baseline: one bare argon2id verification, no store.
    let bare = FullKey::generate(&mut rand::rngs::OsRng);
    let phc = bare.hash(&mut rand::rngs::OsRng).unwrap();
    show(
        "baseline: bare argon2id verify",
        timed(20, |_| {
            let (k, h) = (bare.clone(), phc.clone());
            async move {
                assert!(k.verify(&h));
            }
        })
        .await,
    );
    show(
        "cold verify (first use of each key)",
        timed(40, |i| {
            let k = created[i].full_key.expose().clone();
            let p = &p;
            let a = &a;
            async move {
                p.verify_key(a, &k).await.unwrap();
            }
        })
        .await,
    );
    let warm_key = created[0].full_key.expose().clone();
    show(
        "warm verify (cached)",
        timed(20_000, |_| {
            let p = &p;
            let a = &a;
            let k = &warm_key;
            async move {
                p.verify_key(a, k).await.unwrap();
            }
        })
        .await,
    );
    let unknown = FullKey::generate(&mut rand::rngs::OsRng)
        .expose()
        .to_string();
    show(
        "unknown key id rejected",
        timed(5_000, |_| {
            let p = &p;
            let a = &a;
            let k = &unknown;
            async move {
                assert!(p.verify_key(a, k).await.is_err());
            }
        })
        .await,
    );
    let mut bad = warm_key.clone();
    bad.replace_range(30..31, if &bad[30..31] == "a" { "b" } else { "a" });
    show(
        "bad checksum rejected (offline)",
        timed(5_000, |_| {
            let p = &p;
            let a = &a;
            let k = &bad;
            async move {
                assert!(p.verify_key(a, k).await.is_err());
            }
        })
        .await,
    );

    let t = Instant::now();
    fill_audit(&store, audit_events).await;
    println!(
        "  (filled {audit_events} audit events in {:.1?})",
        t.elapsed()
    );
    show(
        "baseline: SELECT 1 round trip",
        timed(500, |_| {
            let s = &store;
            async move {
                sqlx::raw_sql("SELECT 1").execute(s.pool()).await.unwrap();
            }
        })
        .await,
    );
    show(
        "audit page: by entity (type + id), 50 rows",
        timed(300, |i| {
            let p = &p;
            let a = &a;
            async move {
                let f = AuditFilter {
                    entity_type: Some(
                        ["federation_key", "client", "oidc_config", "integration"][i % 4].into(),
                    ),
                    entity_id: Some(format!("e{}", (i * 7919) % 50_000)),
                    limit: Some(50),
                    ..Default::default()
                };
                p.list_audit(a, f).await.unwrap();
            }
        })
        .await,
    );
    show(
        "audit page: by entity type, 50 rows",
        timed(300, |i| {
            let p = &p;
            let a = &a;
            async move {
                let f = AuditFilter {
                    entity_type: Some(["federation_key", "client"][i % 2].into()),
                    limit: Some(50),
                    ..Default::default()
                };
                p.list_audit(a, f).await.unwrap();
            }
        })
        .await,
    );
    let deep = p
        .list_audit(
            &a,
            AuditFilter {
                entity_type: Some("client".into()),
                limit: Some(50),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let cursor = deep.next_cursor.clone();
    show(
        "audit page: next page via cursor",
        timed(300, |_| {
            let p = &p;
            let a = &a;
            let c = cursor.clone();
            async move {
                p.list_audit(
                    a,
                    AuditFilter {
                        entity_type: Some("client".into()),
                        limit: Some(50),
                        cursor: c,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            }
        })
        .await,
    );
    let _ = SystemClock.now();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let events: i64 = std::env::var("BENCH_AUDIT_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let dir = std::env::temp_dir().join(format!("padmin-bench-{}", std::process::id()));
        let sqlite = SqlStore::open_sqlite(&dir.join("bench.sqlite"))
            .await
            .unwrap();
        bench("SQLite (file, WAL)", sqlite, events).await;
        let _ = std::fs::remove_dir_all(&dir);

        let admin = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match sqlx::PgPool::connect(&admin).await {
            Ok(pool) => {
                sqlx::raw_sql("DROP DATABASE IF EXISTS padmin_bench WITH (FORCE)")
                    .execute(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql("CREATE DATABASE padmin_bench")
                    .execute(&pool)
                    .await
                    .unwrap();
                let url = format!(
                    "{}/padmin_bench",
                    admin.rsplit_once('/').map(|(a, _)| a).unwrap_or(&admin)
                );
                let pg = SqlStore::connect_postgres(&url).await.unwrap();
                bench("PostgreSQL (loopback)", pg.clone(), events).await;
                pg.pool().close().await;
                sqlx::raw_sql("DROP DATABASE IF EXISTS padmin_bench WITH (FORCE)")
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            Err(e) => println!("\nPostgreSQL skipped: cannot connect to {admin}: {e}"),
        }
    });
}
