//! Incident benchmarks on both stores (issue 10): `cargo bench -p portal --bench incidents`
//! (release mode). Prints figures next to same-run baselines and the targets; asserts
//! nothing (machines are shared and noisy).
//!
//! - the incident list, a page of 50, over 100,000 incidents: unfiltered; by status; by
//!   severity; by organisation; by status + severity + organisation; by assignee; text search (a
//!   common word, and a rare one that scans the table); the next pages by cursor and a page 90 %
//!   deep — target p99 ≤ 20 ms; baseline: `SELECT 1` round trip;
//! - the SLA state of the 10,000 open incidents (not resolved or closed): the overview's counts
//!   (`incident_counts`: every active incident's timeline through `sla_state`) — target
//!   ≤ 50 ms; its parts (the active incidents, their timelines); as baselines, the pure
//!   `domain::incident::sla_state` over the same 10,000 timelines already in memory, and raw
//!   reads (their ids and versions; their timelines in one query, all or only what the clocks
//!   use); the list filtered by SLA standing (which examines up to 5,000 incidents a page).
//!
//! The incidents and their timelines are generated in the database (generate_series /
//! recursive CTE), not through the API: an `opened` event each, a comment on a third of them,
//! `acknowledged` + `assigned` for every one past open, `status_changed` to waiting,
//! `resolved`, `closed` — consistent with the incident rows, so the SLA clocks are real. ~200
//! organisations, 4 severities, spread over a year, the open ones spread evenly among them. (An
//! incident's events are written side by side here; in a real table they are not, so reading
//! timelines is, if anything, cheaper here than it will be.)
//!
//! PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
//! the bench creates and drops its own database. BENCH_INCIDENTS overrides the 100,000,
//! BENCH_OPEN the 10,000 open; BENCH_KEEP=1 keeps both databases afterwards (for EXPLAIN).

use domain::incident::{sla_state, target_for};
use domain::model::{IncidentEvent, IncidentFilter, Severity, SlaFilter, SlaTarget, StatusFilter};
use domain::{Actor, Clock, SystemClock};
use portal::prelude::*;
use portal::LocalPortal;
use rand::SeedableRng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{prelude::*, SqlStore};
use uuid::Uuid;

/// The filter of the `i`th iteration.
type FilterOf = Box<dyn Fn(usize) -> IncidentFilter>;

const ORGS: i64 = 200;
const YEAR_MS: i64 = 365 * 86_400_000;
const LIST_TARGET: Duration = Duration::from_millis(20);
const SLA_TARGET: Duration = Duration::from_millis(50);

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn show(label: &str, v: Vec<Duration>) {
    show_vs(label, v, None);
}

/// As `show`, and whether the p99 is within `target`.
fn show_vs(label: &str, v: Vec<Duration>, target: Option<Duration>) {
    let n = v.len();
    let p99 = pct(v.clone(), 0.99);
    let verdict = match target {
        Some(t) if p99 <= t => format!("  ≤ {t:?} ok"),
        Some(t) => format!("  > {t:?} MISSED"),
        None => String::new(),
    };
    println!(
        "  {label:52} p50 {:>10.3?}  p99 {:>10.3?}  (n={n}){verdict}",
        pct(v, 0.5),
        p99
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

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The organisation number `o` (0..ORGS) as a client id.
fn org_id(o: i64) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-4000-9000-{o:012x}")).unwrap()
}

/// Generates incidents `lo..=hi` of `n` and their timelines, and the organisations. Incident
/// `g` is opened `1 h + (n - g) × step` before `now` (so `n` is the newest and a year is
/// covered); every `k`th one is active (open, acknowledged or waiting), the others resolved or
/// closed. Everything else comes from a multiplicative hash of `g` (its high bits), so the
/// severity, organisation, title and assignee do not line up with the status.
fn fill_sql(backend: store::Backend, lo: i64, hi: i64, n: i64, k: i64, now: i64) -> String {
    let (gen, hex12) = match backend {
        store::Backend::Postgres => (
            format!("SELECT generate_series({lo}::bigint, {hi}::bigint)"),
            "lpad(to_hex(X), 12, '0')",
        ),
        store::Backend::Sqlite => (
            format!("SELECT {lo} UNION ALL SELECT g + 1 FROM s WHERE g < {hi}"),
            "printf('%012x', X)",
        ),
    };
    let hex = |e: &str| hex12.replace('X', e);
    let step = (YEAR_MS / n.max(1)).max(1);
    let (id_g, org_h) = (hex("g"), hex(&format!("(h / 65536) % {ORGS}")));
    let ev_id = |kind: u8| format!("'{kind:08x}-0000-4000-a000-' || {}", hex("g"));
    let (e1, e2, e3, e4, e5, e6, e7) = (
        ev_id(1),
        ev_id(2),
        ev_id(3),
        ev_id(4),
        ev_id(5),
        ev_id(6),
        ev_id(7),
    );
    let ctes = format!(
        "WITH RECURSIVE s(g) AS ({gen}),
         t0 AS (
           SELECT g, (g * 2654435761) % 4294967296 AS h, CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END AS c,
                  {now} - 3600000 - ({n} - g) * {step} AS opened
           FROM s),
         t AS (
           SELECT g, h, c, opened,
                  CASE WHEN g % {k} = 0
                       THEN CASE (h / 4096) % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'acknowledged' ELSE 'waiting' END
                       WHEN (h / 512) % 10 < 4 THEN 'resolved' ELSE 'closed' END AS st,
                  opened + (1 + (h / 256) % 20) * 60000 AS ack,
                  opened + (30 + (h / 32) % 30) * 60000 AS res,
                  CASE WHEN (h / 2048) % 10 = 0 THEN opened - 900000 END AS impact,
                  'sev' || (1 + (h / 1073741824) % 4) AS sev,
                  '00000000-0000-4000-8000-' || {id_g} AS id,
                  '00000000-0000-4000-9000-' || {org_h} AS org,
                  'user:u' || ((h / 128) % 20) AS who,
                  (CASE (h / 8192) % 8 WHEN 0 THEN 'Database latency' WHEN 1 THEN 'Login failures'
                     WHEN 2 THEN 'API 5xx errors' WHEN 3 THEN 'Webhook delivery delays'
                     WHEN 4 THEN 'Payment timeouts' WHEN 5 THEN 'DNS resolution failures'
                     WHEN 6 THEN 'Slow dashboard' ELSE 'Certificate expiry' END)
                  || ' in ' ||
                  (CASE (h / 1024) % 5 WHEN 0 THEN 'eu-west' WHEN 1 THEN 'eu-central' WHEN 2 THEN 'us-east'
                     WHEN 3 THEN 'us-west' ELSE 'ap-south' END)
                  || ' #' || g AS title
           FROM t0),
         kinds(k) AS (VALUES (1), (2), (3), (4), (5), (6), (7))"
    );
    format!(
        "{ctes}
         INSERT INTO incidents (id, title, severity, org_id, status, assignee, opened_at, acknowledged_at,
                                resolved_at, closed_at, impact_started_at, version, created_by, updated_at)
         SELECT id, title, sev, org, st,
                CASE WHEN st <> 'open' THEN who END,
                opened,
                CASE WHEN st <> 'open' THEN ack END,
                CASE WHEN st IN ('resolved', 'closed') THEN res END,
                CASE WHEN st = 'closed' THEN res + 30000 END,
                impact,
                c + CASE st WHEN 'open' THEN 1 WHEN 'acknowledged' THEN 3 WHEN 'waiting' THEN 4
                            WHEN 'resolved' THEN 4 ELSE 5 END,
                'user:bench',
                CASE st WHEN 'open' THEN opened + 30000 * c WHEN 'acknowledged' THEN ack + 60000
                        WHEN 'waiting' THEN ack + 300000 WHEN 'resolved' THEN res ELSE res + 30000 END
         FROM t;
         {ctes}
         INSERT INTO incident_events (id, incident_id, version, occurred_at, recorded_at, actor_id,
                                      actor_name, type, data, base_version)
         SELECT eid, id, v, occ, occ, 'user:bench', 'Bench', ty, data, v - 1
         FROM (
           SELECT t.id,
                  CASE k WHEN 1 THEN {e1} WHEN 2 THEN {e2} WHEN 3 THEN {e3} WHEN 4 THEN {e4}
                         WHEN 5 THEN {e5} WHEN 6 THEN {e6} ELSE {e7} END AS eid,
                  CASE k WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 2 + c WHEN 4 THEN 3 + c
                         WHEN 5 THEN 4 + c WHEN 6 THEN 4 + c ELSE 5 + c END AS v,
                  CASE k WHEN 1 THEN opened WHEN 2 THEN opened + 30000 WHEN 3 THEN ack
                         WHEN 4 THEN ack + 60000 WHEN 5 THEN ack + 300000 WHEN 6 THEN res
                         ELSE res + 30000 END AS occ,
                  CASE k WHEN 1 THEN 'opened' WHEN 2 THEN 'comment' WHEN 3 THEN 'acknowledged'
                         WHEN 4 THEN 'assigned' WHEN 5 THEN 'status_changed' WHEN 6 THEN 'resolved'
                         ELSE 'closed' END AS ty,
                  CASE k
                    WHEN 1 THEN '{{\"type\":\"opened\",\"title\":\"' || title || '\",\"severity\":\"' || sev
                                || '\",\"org_id\":\"' || org || '\",\"impact_started_at\":'
                                || COALESCE(CAST(impact AS TEXT), 'null') || '}}'
                    WHEN 2 THEN '{{\"type\":\"comment\",\"text\":\"Looking into it\"}}'
                    WHEN 3 THEN '{{\"type\":\"acknowledged\"}}'
                    WHEN 4 THEN '{{\"type\":\"assigned\",\"assignee\":\"' || who || '\"}}'
                    WHEN 5 THEN '{{\"type\":\"status_changed\",\"from\":\"acknowledged\",\"to\":\"waiting\"}}'
                    WHEN 6 THEN '{{\"type\":\"resolved\"}}'
                    ELSE '{{\"type\":\"closed\"}}' END AS data
           FROM t CROSS JOIN kinds
           WHERE k = 1
              OR (k = 2 AND c = 1)
              OR (k IN (3, 4) AND st <> 'open')
              OR (k = 5 AND st = 'waiting')
              OR (k = 6 AND st IN ('resolved', 'closed'))
              OR (k = 7 AND st = 'closed')
         ) e;"
    )
}

/// The organisations, then `n` incidents (every `k`th active) with their timelines.
async fn fill(store: &SqlStore, n: i64, k: i64, now: i64) {
    let orgs: Vec<String> = (0..ORGS)
        .map(|o| {
            format!(
                "('{}', 'Bench org {o}', 'Business', 'active', {now})",
                org_id(o)
            )
        })
        .collect();
    sqlx::raw_sql(&format!(
        "INSERT INTO clients (id, name, plan, status, created_at) VALUES {}",
        orgs.join(", ")
    ))
    .execute(store.pool())
    .await
    .unwrap();
    let chunk = 50_000;
    let mut lo = 1;
    while lo <= n {
        let hi = (lo + chunk - 1).min(n);
        sqlx::raw_sql(&fill_sql(store.backend(), lo, hi, n, k, now))
            .execute(store.pool())
            .await
            .unwrap();
        lo = hi + 1;
    }
    if store.backend() == store::Backend::Postgres {
        // What autovacuum would have done by the time a table has grown this big.
        sqlx::raw_sql("ANALYZE clients; ANALYZE incidents; ANALYZE incident_events")
            .execute(store.pool())
            .await
            .unwrap();
    }
}

async fn count(store: &SqlStore, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn bench(label: &str, store: SqlStore, n: i64, open: i64) {
    println!("\n{label}");
    let arc: Arc<dyn Store> = Arc::new(store.clone());
    let keys = domain::envelope::MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let p = LocalPortal::with_keys(arc, keys, Arc::new(SystemClock))
        .await
        .unwrap();
    let a = Actor::system("bench");

    let k = (n / open.max(1)).max(1);
    let t = Instant::now();
    fill(&store, n, k, SystemClock.now().millis()).await;
    let events = count(&store, "SELECT COUNT(*) FROM incident_events").await;
    let active = count(
        &store,
        "SELECT COUNT(*) FROM incidents WHERE status IN ('open', 'acknowledged', 'waiting')",
    )
    .await;
    println!(
        "  (filled {n} incidents, {active} of them open, {events} timeline events, {ORGS} organisations in {:.1?})",
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

    // Every list below: the first page of 50, through the portal (authorization, the store's
    // query, the page's 50 timelines and their SLA clocks).
    let list = |f: IncidentFilter| {
        let p = &p;
        let a = &a;
        async move {
            p.list_incidents(
                a,
                IncidentFilter {
                    limit: Some(50),
                    ..f
                },
            )
            .await
            .unwrap()
        }
    };
    let sev = |i: usize| Severity::ALL[i % 4];
    let org = |i: usize| Some(org_id(((i * 7919) as i64) % ORGS));
    let iters = 300;
    let cases: Vec<(&str, FilterOf)> = vec![
        ("list: unfiltered", Box::new(|_| IncidentFilter::default())),
        (
            "list: status open",
            Box::new(|_| IncidentFilter {
                status: Some(StatusFilter::Open),
                ..Default::default()
            }),
        ),
        (
            "list: status active (open, ack'd, waiting)",
            Box::new(|_| IncidentFilter {
                status: Some(StatusFilter::Active),
                ..Default::default()
            }),
        ),
        (
            "list: status resolved",
            Box::new(|_| IncidentFilter {
                status: Some(StatusFilter::Resolved),
                ..Default::default()
            }),
        ),
        (
            "list: severity",
            Box::new(move |i| IncidentFilter {
                severity: Some(sev(i)),
                ..Default::default()
            }),
        ),
        (
            "list: organisation",
            Box::new(move |i| IncidentFilter {
                org_id: org(i),
                ..Default::default()
            }),
        ),
        (
            "list: status active + severity + organisation",
            Box::new(move |i| IncidentFilter {
                status: Some(StatusFilter::Active),
                severity: Some(sev(i)),
                org_id: org(i),
                ..Default::default()
            }),
        ),
        (
            "list: status open + severity + organisation",
            Box::new(move |i| IncidentFilter {
                status: Some(StatusFilter::Open),
                severity: Some(sev(i)),
                org_id: org(i),
                ..Default::default()
            }),
        ),
        (
            "list: assignee",
            Box::new(|i| IncidentFilter {
                assignee: Some(format!("user:u{}", i % 20)),
                ..Default::default()
            }),
        ),
        (
            "list: assignee + status active",
            Box::new(|i| IncidentFilter {
                assignee: Some(format!("user:u{}", i % 20)),
                status: Some(StatusFilter::Active),
                ..Default::default()
            }),
        ),
        (
            "list: search, common word (1 in 8)",
            Box::new(|_| IncidentFilter {
                search: Some("latency".into()),
                ..Default::default()
            }),
        ),
        (
            "list: search, rare (scans every title)",
            Box::new(move |i| IncidentFilter {
                search: Some(format!("#{}", 1 + (i as i64 * 7919) % n)),
                ..Default::default()
            }),
        ),
    ];
    for (label, filter) in &cases {
        show_vs(
            label,
            timed(iters, |i| {
                let f = filter(i);
                let list = &list;
                async move {
                    list(f).await;
                }
            })
            .await,
            Some(LIST_TARGET),
        );
    }

    // Next pages: walk on from page 1 by cursor (unfiltered, and by status open), starting
    // over at the end.
    for (label, base) in [
        ("list: next page by cursor", IncidentFilter::default()),
        (
            "list: next page by cursor, status open",
            IncidentFilter {
                status: Some(StatusFilter::Open),
                ..Default::default()
            },
        ),
    ] {
        let mut cursor = list(base.clone()).await.next_cursor;
        let mut v = Vec::with_capacity(iters);
        for _ in 0..iters {
            let f = IncidentFilter {
                cursor: cursor.clone(),
                ..base.clone()
            };
            let t = Instant::now();
            let page = list(f).await;
            v.push(t.elapsed());
            cursor = match page.next_cursor {
                Some(next) => Some(next),
                None => list(base.clone()).await.next_cursor,
            };
        }
        show_vs(label, v, Some(LIST_TARGET));
    }
    // A page far down the list (its cursor found by walking the store 500 at a time): a keyset
    // cursor should cost the same at any depth.
    let deep = n * 9 / 10;
    let mut q = store::IncidentQuery::default();
    let mut depth = 0;
    while depth < deep {
        let page = store.incidents(&q, 500).await.unwrap();
        match page.next_cursor {
            Some(c) => {
                depth += page.items.len() as i64;
                q.cursor = Some(c);
            }
            None => break,
        }
    }
    show_vs(
        &format!("list: page by cursor, {depth} deep"),
        timed(iters, |_| {
            let f = IncidentFilter {
                cursor: q.cursor.clone(),
                ..Default::default()
            };
            let list = &list;
            async move {
                list(f).await;
            }
        })
        .await,
        Some(LIST_TARGET),
    );

    // The SLA state of every open incident: the overview's counts.
    let cold = Instant::now();
    let counts = p.incident_counts(&a).await.unwrap();
    println!(
        "  SLA state of {active} open, cold (reads every active incident and timeline): {:.1?}",
        cold.elapsed()
    );
    let per_sev: Vec<String> = counts
        .active_by_severity
        .iter()
        .map(|c| format!("{} {}", c.severity.as_str(), c.count))
        .collect();
    println!(
        "  (open: {}; at risk {}, breached {})",
        per_sev.join(", "),
        counts.at_risk,
        counts.breached
    );
    show_vs(
        &format!("SLA state of {active} open: incident_counts, warm"),
        timed(40, |_| {
            let p = &p;
            let a = &a;
            async move {
                p.incident_counts(a).await.unwrap();
            }
        })
        .await,
        Some(SLA_TARGET),
    );
    // After a write the active set is read again (one timeline fetched): a comment on one
    // active incident before each call, not timed.
    let active_ids: Vec<String> = store
        .active_incidents(None)
        .await
        .unwrap()
        .iter()
        .take(20)
        .map(|i| i.id.to_string())
        .collect();
    let mut after_write = Vec::with_capacity(active_ids.len());
    for (k, id) in active_ids.iter().enumerate() {
        let note = portal::incidents::NewComment {
            text: format!("bench note {k}"),
            event_id: None,
            occurred_at: None,
        };
        p.comment_incident(&a, id, note).await.unwrap();
        let t = Instant::now();
        p.incident_counts(&a).await.unwrap();
        after_write.push(t.elapsed());
    }
    show_vs(
        &format!("SLA state of {active} open, after one change"),
        after_write,
        Some(SLA_TARGET),
    );
    // Its parts.
    show(
        "  part: store.active_incidents",
        timed(40, |_| {
            let s = &store;
            async move {
                s.active_incidents(None).await.unwrap();
            }
        })
        .await,
    );
    let ids: Vec<Uuid> = store
        .active_incidents(None)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    show(
        "  part: store.incident_events_of (their timelines)",
        timed(40, |_| {
            let s = &store;
            let ids = &ids;
            async move {
                s.incident_events_of(ids).await.unwrap();
            }
        })
        .await,
    );
    // Baseline: the pure computation over the same timelines, already in memory.
    let active_incidents = store.active_incidents(None).await.unwrap();
    let mut timelines: HashMap<Uuid, Vec<IncidentEvent>> = HashMap::new();
    for e in store.incident_events_of(&ids).await.unwrap() {
        timelines.entry(e.incident_id).or_default().push(e);
    }
    let targets: Vec<SlaTarget> = p.sla_targets(&a).await.unwrap();
    show(
        &format!("baseline: pure sla_state × {active} (in memory)"),
        timed(40, |_| {
            let (incidents, timelines, targets) = (&active_incidents, &timelines, &targets);
            async move {
                let now = SystemClock.now();
                let mut breached = 0;
                for i in incidents {
                    let tl = timelines.get(&i.id).map(Vec::as_slice).unwrap_or(&[]);
                    let s = sla_state(tl, &target_for(targets, i.severity), now);
                    breached += usize::from(s.resolve.breached_at.is_some());
                }
                std::hint::black_box(breached);
            }
        })
        .await,
    );
    // What reading them costs without the store's decoding, in one query instead of one per
    // 200 incidents: every event (the store's columns), and only what the clocks use; and the
    // open incidents' ids, severities and versions alone (what a cache of clocks would check).
    for (label, sql) in [
        (
            "baseline: ids, severities, versions of the open",
            "SELECT id, severity, version FROM incidents \
             WHERE status IN ('open', 'acknowledged', 'waiting')",
        ),
        (
            "baseline: their timelines, raw rows, one query",
            "SELECT e.id, e.incident_id, e.version, e.occurred_at, e.recorded_at, e.actor_id, \
             e.actor_name, e.data, e.base_version FROM incident_events e JOIN incidents i \
             ON i.id = e.incident_id WHERE i.status IN ('open', 'acknowledged', 'waiting') \
             ORDER BY e.incident_id, e.version",
        ),
        (
            "baseline: … only the clocks' events and columns",
            "SELECT e.incident_id, e.occurred_at, e.type, e.data FROM incident_events e \
             JOIN incidents i ON i.id = e.incident_id \
             WHERE i.status IN ('open', 'acknowledged', 'waiting') AND e.type IN \
             ('opened', 'acknowledged', 'status_changed', 'resolved', 'closed', 'reopened') \
             ORDER BY e.incident_id, e.version",
        ),
    ] {
        let rows = sqlx::query(sql)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .len();
        show(
            &format!("{label} [{rows} rows]"),
            timed(40, |_| {
                let s = &store;
                async move {
                    std::hint::black_box(sqlx::query(sql).fetch_all(s.pool()).await.unwrap());
                }
            })
            .await,
        );
    }

    // Lists by SLA standing (each page examines incidents newest first, up to 5,000).
    for (label, sla, status) in [
        ("list: SLA attention", SlaFilter::Attention, None),
        (
            "list: SLA breached, status active",
            SlaFilter::Breached,
            Some(StatusFilter::Active),
        ),
        (
            "list: SLA at risk (rare: scans up to 5,000)",
            SlaFilter::AtRisk,
            None,
        ),
    ] {
        let f = IncidentFilter {
            sla: Some(sla),
            status,
            ..Default::default()
        };
        let got = list(f.clone()).await.items.len();
        show(
            &format!("{label} [{got} found]"),
            timed(20, |_| {
                let f = f.clone();
                let list = &list;
                async move {
                    list(f).await;
                }
            })
            .await,
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let n = env_or("BENCH_INCIDENTS", 100_000).max(1);
        let open = env_or("BENCH_OPEN", n / 10).clamp(1, n);
        let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");
        let dir =
            std::env::temp_dir().join(format!("padmin-bench-incidents-{}", std::process::id()));
        let sqlite = SqlStore::open_sqlite(&dir.join("bench.sqlite"))
            .await
            .unwrap();
        bench("SQLite (file, WAL)", sqlite.clone(), n, open).await;
        sqlite.pool().close().await;
        if keep {
            println!("  (kept {})", dir.join("bench.sqlite").display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }

        let admin = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match sqlx::PgPool::connect(&admin).await {
            Ok(pool) => {
                sqlx::raw_sql("DROP DATABASE IF EXISTS padmin_bench_incidents WITH (FORCE)")
                    .execute(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql("CREATE DATABASE padmin_bench_incidents")
                    .execute(&pool)
                    .await
                    .unwrap();
                let url = format!(
                    "{}/padmin_bench_incidents",
                    admin.rsplit_once('/').map(|(a, _)| a).unwrap_or(&admin)
                );
                let pg = SqlStore::connect_postgres(&url).await.unwrap();
                bench("PostgreSQL (loopback)", pg.clone(), n, open).await;
                pg.pool().close().await;
                if keep {
                    println!("  (kept {url})");
                } else {
                    sqlx::raw_sql("DROP DATABASE IF EXISTS padmin_bench_incidents WITH (FORCE)")
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
            Err(e) => println!("\nPostgreSQL skipped: cannot connect to {admin}: {e}"),
        }
    });
}
