//! The scheduler across real processes (issue 10's acceptance): two `portal-server` processes
//! on one PostgreSQL database, both with `PORTAL_SCHEDULER=on` and the real clock.
//!
//! This test proves that:
//! - while both live, exactly one of them runs each job (the escalations job has run once, by
//!   one runner, and each job's runner never changes);
//! - the escalations leader killed with SIGKILL (no shutdown, no goodbye to the database) is
//!   replaced by the other process within seconds — its session advisory lock goes with the
//!   dead connection — and the new leader records the escalations that fell due after the kill;
//! - the killed instance, started again, follows and does not run the job beside the leader;
//!   and when that leader is killed in turn, the restarted one takes over;
//! - after all of it, every (incident, step, repeat) due by the last run has exactly one
//!   `escalated` event on its incident's timeline — none missing, none twice — and every SLA
//!   notice is recorded at most once. The expected set is computed here from the policy and the
//!   incidents' opening times, not by the code under test.
//!
//! The data is seeded through a `LocalPortal` whose clock is set in the past, so the incidents
//! are overdue for the servers' real clock: some long overdue (every step and repeat due at the
//! first run), some with a repeat falling due a few seconds into the test, after the kill.
//! Needs PostgreSQL (`DATABASE_URL`, an admin connection); Redis (`REDIS_URL`) when set.

use domain::model::{
    EscalationCondition, EscalationStep, EscalationTarget, IncidentEventKind, JobStatus,
    OpenIncident, PolicyInput, Severity,
};
use domain::{Actor, Clock, ManualClock, Sensitive, SystemClock, Timestamp};
use portal::jobs::{ESCALATIONS, WEBHOOK_DELIVERIES};
use portal::prelude::*;
use portal::secrets::StaticKeys;
use portal::LocalPortal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The master key set both servers and the test's portals use (`1:<base64 of 32 bytes>`).
const MASTER_KEY: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The longest a killed leader may take to be replaced.
const TAKEOVER_WITHIN: Duration = Duration::from_secs(15);
const MIN_MS: i64 = 60_000;

/// (incident, step, repeat): one notification.
type Key = (Uuid, usize, u32);

// ---------------------------------------------------------------------------------------------
// A database of its own, dropped when the test ends (also when it fails).

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[derive(Debug)]
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> TestDatabase {
        let admin = admin_url();
        // The stories' prefix and naming, so their sweep removes one a killed run leaves behind.
        let secs = SystemClock.now().millis() / 1000;
        let name = format!("padmin_t_{secs}_{}", Uuid::new_v4().simple());
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} must be reachable (set DATABASE_URL): {e}")
        });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create the test database");
        pool.close().await;
        let mut url = url::Url::parse(&admin).expect("DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDatabase {
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // May run while a failed test unwinds: a thread with a runtime of its own.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let pool = sqlx::PgPool::connect(&admin_url()).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
            .map_err(|e| e.to_string())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} not dropped: {e}", self.name),
            Err(_) => eprintln!("test database {} not dropped", self.name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A `portal-server` process, killed when dropped.

#[derive(Debug)]
struct Instance {
    host: String,
    child: Child,
    url: String,
    log: PathBuf,
}

impl Instance {
    /// Starts `portal-server` on a free loopback port, its scheduler on, logging to a file.
    fn start(host: &str, db: &TestDatabase, redis_prefix: &str) -> Instance {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("addr").port()
        };
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("failover");
        std::fs::create_dir_all(&dir).expect("log directory");
        let log = dir.join(format!("{redis_prefix}-{host}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal-server"));
        cmd.env_clear()
            .env("DATABASE_URL", &db.url)
            .env("PORTAL_LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTAL_MASTER_KEY", MASTER_KEY)
            .env("PORTAL_SCHEDULER", "on")
            // Never asked: no request here carries a token.
            .env("OIDC_ISSUER", "http://127.0.0.1:9")
            .env("OIDC_AUDIENCE", "portal-api")
            .env("PORTAL_AUDIT_CHECKPOINT_SECS", "0")
            .env("PORTAL_LOG", "info,server::scheduler=debug")
            // The runner's name is `<HOSTNAME>:<pid>`.
            .env("HOSTNAME", host)
            .env("PORTAL_REDIS_PREFIX", redis_prefix)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Ok(redis) = std::env::var("REDIS_URL") {
            cmd.env("REDIS_URL", redis);
        }
        let child = cmd.spawn().expect("portal-server starts");
        Instance {
            host: host.to_string(),
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The name it runs jobs under (`GET /v1/jobs`' `last_runner`).
    fn runner(&self) -> String {
        format!("{}:{}", self.host, self.child.id())
    }

    /// Waits until it answers `/readyz`.
    async fn ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited at start ({status}); see {}",
                    self.host,
                    self.log.display()
                );
            }
            let ok = http
                .get(format!("{}/readyz", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready within 30 s; see {}",
                self.host,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no closing of its connections.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}'s log: {}", self.host, self.log.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the database says.

fn admin() -> Actor {
    Actor::local_admin("failover", "failover-test")
}

async fn portal_over(db: &TestDatabase, clock: Arc<dyn Clock>) -> LocalPortal {
    let store = store::SqlStore::connect_postgres(&db.url)
        .await
        .expect("the test database opens and migrates");
    let keys = Arc::new(StaticKeys::new(
        "test",
        Sensitive::new(MASTER_KEY.to_string()),
    ));
    LocalPortal::open(Arc::new(store), keys, clock)
        .await
        .expect("portal opens")
}

async fn job(watcher: &LocalPortal, name: &str) -> JobStatus {
    watcher
        .list_jobs(&admin())
        .await
        .expect("jobs")
        .into_iter()
        .find(|j| j.name == name)
        .expect("the job is listed")
}

/// Whether `j`'s last run, by `runner`, finished well.
fn finished_by(j: &JobStatus, runner: &str) -> bool {
    j.last_runner.as_deref() == Some(runner)
        && j.last_outcome.as_deref() == Some("ok")
        && j.last_finished_at >= j.last_started_at
}

/// Every notification recorded on the incidents' timelines, with how many times: escalations
/// by (incident, step, repeat), and SLA notices by (incident, kind and clock).
async fn recorded(
    watcher: &LocalPortal,
    ids: &[Uuid],
) -> (BTreeMap<Key, u32>, BTreeMap<(Uuid, String), u32>) {
    let (mut escalated, mut notices) = (BTreeMap::new(), BTreeMap::new());
    for id in ids {
        let detail = watcher
            .get_incident(&admin(), &id.to_string())
            .await
            .expect("incident");
        for e in detail.timeline {
            match &e.kind {
                IncidentEventKind::Escalated { step, repeat, .. } => {
                    *escalated.entry((*id, *step, *repeat)).or_insert(0) += 1
                }
                IncidentEventKind::SlaAtRisk { clock }
                | IncidentEventKind::SlaBreached { clock } => {
                    *notices
                        .entry((*id, format!("{} {clock:?}", e.kind.name())))
                        .or_insert(0) += 1
                }
                _ => {}
            }
        }
    }
    (escalated, notices)
}

/// An incident as seeded.
#[derive(Debug, Clone, Copy)]
struct Seeded {
    id: Uuid,
    opened_at: Timestamp,
    severity: Severity,
}

/// The notifications due by `t`, from the policy's rules alone (every incident stays open, so
/// both conditions hold throughout).
fn due_by(rules: &[EscalationStep], incidents: &[Seeded], t: Timestamp) -> BTreeSet<Key> {
    let mut due = BTreeSet::new();
    for i in incidents {
        for (s, step) in rules.iter().enumerate() {
            if i.severity < step.min_severity {
                continue;
            }
            let every = i64::from(step.repeat_every_mins.unwrap_or(0)) * MIN_MS;
            for k in 0..=step.repeat {
                let at = i.opened_at.millis()
                    + i64::from(step.after_mins) * MIN_MS
                    + every * i64::from(k);
                if at <= t.millis() {
                    due.insert((i.id, s, k));
                }
            }
        }
    }
    due
}

/// Checks the timelines against the policy: nothing recorded twice; everything due by
/// `lo` (a finished run's start) recorded; nothing not due by `hi` (now) recorded. Returns
/// how many escalations are recorded.
async fn check_exactly_once(
    watcher: &LocalPortal,
    rules: &[EscalationStep],
    incidents: &[Seeded],
    lo: Timestamp,
    when: &str,
) -> usize {
    let hi = SystemClock.now();
    let ids: Vec<Uuid> = incidents.iter().map(|i| i.id).collect();
    let (escalated, notices) = recorded(watcher, &ids).await;
    let twice: Vec<_> = escalated.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{when}: escalations recorded more than once: {twice:?}"
    );
    let twice: Vec<_> = notices.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{when}: SLA notices recorded more than once: {twice:?}"
    );
    let have: BTreeSet<Key> = escalated.keys().copied().collect();
    let must = due_by(rules, incidents, lo);
    let may = due_by(rules, incidents, hi);
    let missing: Vec<_> = must.difference(&have).collect();
    assert!(
        missing.is_empty(),
        "{when}: due but not recorded: {missing:?}"
    );
    let early: Vec<_> = have.difference(&may).collect();
    assert!(early.is_empty(), "{when}: recorded before due: {early:?}");
    have.len()
}

/// Polls `probe` every 100 ms until it gives `Some`, for at most `within`.
async fn until<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_with_sigkill_is_replaced_and_nothing_is_recorded_twice() {
    let started = Instant::now();
    let db = TestDatabase::create().await;
    let redis_prefix = format!("t{}", Uuid::new_v4().simple());

    // Seeding, three hours ago by the seeding portal's clock.
    let t0 = SystemClock.now();
    let clock = Arc::new(ManualClock::at(t0.minus_secs(3 * 3600)));
    let seeder = portal_over(&db, clock.clone()).await;
    let a = admin();
    let role = |r: &str| EscalationTarget::Role { role: r.into() };
    let rules = vec![
        // At one minute unacknowledged, then every minute, four more times (sev3 and worse).
        EscalationStep {
            after_mins: 1,
            condition: EscalationCondition::Unacknowledged,
            targets: vec![role("support")],
            repeat: 4,
            repeat_every_mins: Some(1),
            min_severity: Severity::Sev3,
        },
        // At three minutes unresolved, once (sev1 only).
        EscalationStep {
            after_mins: 3,
            condition: EscalationCondition::Unresolved,
            targets: vec![role("provider")],
            repeat: 0,
            repeat_every_mins: None,
            min_severity: Severity::Sev1,
        },
    ];
    seeder
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Default".into(),
                org_id: None,
                rules: rules.clone(),
            },
        )
        .await
        .expect("the default policy");
    let mut incidents = Vec::new();
    let open = |title: String, severity| {
        let seeder = &seeder;
        let a = &a;
        async move {
            let opened = seeder
                .open_incident(
                    a,
                    OpenIncident {
                        id: None,
                        title,
                        severity,
                        org_id: None,
                        impact_started_at: None,
                        occurred_at: None,
                    },
                )
                .await
                .expect("incident opens");
            Seeded {
                id: opened.incident.id,
                opened_at: opened.incident.opened_at,
                severity,
            }
        }
    };
    // Long overdue: everything due at the first run (the sev4 is below every step).
    for severity in [Severity::Sev1, Severity::Sev2, Severity::Sev4] {
        incidents.push(open(format!("Overdue {severity}"), severity).await);
    }
    // Opened 3 minutes less `d` seconds before t0: their third step-0 notification (and sev1's
    // step 1) falls due at t0 + d, a few seconds into the test; the next not before t0 + 72 s.
    let mut at = t0.minus_secs(3 * 3600);
    for (d, severity) in [
        (12, Severity::Sev1),
        (18, Severity::Sev2),
        (24, Severity::Sev1),
    ] {
        let target = t0.minus_secs(180 - d);
        clock.advance_secs((target.millis() - at.millis()) / 1000);
        at = target;
        incidents.push(open(format!("Falls due at +{d}s {severity}"), severity).await);
    }
    let last_live_due = t0.plus_secs(24);
    let next_due = t0.plus_secs(72);
    let expected_total = due_by(&rules, &incidents, last_live_due).len();
    assert_eq!(
        expected_total,
        due_by(&rules, &incidents, next_due.minus_secs(1)).len()
    );
    drop(seeder);

    // What the database says, on the real clock.
    let watcher = portal_over(&db, Arc::new(SystemClock)).await;

    // Two instances.
    let mut one = Instance::start("failover-a", &db, &redis_prefix);
    let mut two = Instance::start("failover-b", &db, &redis_prefix);
    one.ready().await;
    two.ready().await;
    let first = until(
        "the escalations job's first run",
        Duration::from_secs(30),
        || async {
            let j = job(&watcher, ESCALATIONS).await;
            let runner = j.last_runner.clone()?;
            (finished_by(&j, &runner)).then_some(j)
        },
    )
    .await;
    let leader_runner = first.last_runner.clone().expect("a runner");
    let (mut leader, mut survivor) = if leader_runner == one.runner() {
        (one, two)
    } else {
        assert_eq!(leader_runner, two.runner(), "the runner is one of the two");
        (two, one)
    };
    let after_first = check_exactly_once(
        &watcher,
        &rules,
        &incidents,
        first.last_started_at.expect("started"),
        "after the first run",
    )
    .await;
    assert!(
        after_first < expected_total,
        "the timing this test counts on: the first run (at t0 + {} s) comes before the live notifications fall due (t0 + 12 s to 24 s), so the leader's successor has some to record",
        (first.last_started_at.map_or(0, Timestamp::millis) - t0.millis()) / 1000
    );

    // Both alive for a while: one runner per job. The deliveries job runs every 5 s: watch it
    // run at least once more; the escalations job (every 30 s) must not have run again.
    let deliveries = job(&watcher, WEBHOOK_DELIVERIES).await;
    let deliveries_runner = deliveries.last_runner.clone().expect("deliveries ran");
    until(
        "another webhook-deliveries run",
        Duration::from_secs(15),
        || async {
            let d = job(&watcher, WEBHOOK_DELIVERIES).await;
            let e = job(&watcher, ESCALATIONS).await;
            assert_eq!(
                d.last_runner.as_deref(),
                Some(deliveries_runner.as_str()),
                "one runner for webhook-deliveries while both live"
            );
            assert_eq!(
                (e.runs, e.last_runner.as_deref()),
                (1, Some(leader_runner.as_str())),
                "the escalations job ran once, by its leader, while both live"
            );
            (d.runs > deliveries.runs).then_some(())
        },
    )
    .await;

    // SIGKILL the escalations leader.
    let killed_at = Instant::now();
    leader.kill();
    let took_over = until(
        "the survivor takes over the escalations job",
        TAKEOVER_WITHIN,
        || async {
            let j = job(&watcher, ESCALATIONS).await;
            (j.runs == 2 && finished_by(&j, &survivor.runner())).then_some(j)
        },
    )
    .await;
    let takeover_secs = killed_at.elapsed().as_secs_f64();
    until(
        "the survivor runs webhook-deliveries",
        TAKEOVER_WITHIN,
        || async {
            let j = job(&watcher, WEBHOOK_DELIVERIES).await;
            finished_by(&j, &survivor.runner()).then_some(())
        },
    )
    .await;
    let after_takeover = check_exactly_once(
        &watcher,
        &rules,
        &incidents,
        took_over.last_started_at.expect("started"),
        "after the takeover",
    )
    .await;

    // The killed instance comes back: it follows.
    let mut back = Instance::start("failover-a2", &db, &redis_prefix);
    back.ready().await;
    // The survivor's next scheduled run, 30 s after its first: by then every live notification
    // is due, and the survivor records them; the restarted one must not have run the job.
    let second = until(
        "the survivor's next escalations run",
        Duration::from_secs(50),
        || async {
            let j = job(&watcher, ESCALATIONS).await;
            assert!(
                j.last_runner.as_deref() != Some(back.runner().as_str()),
                "the restarted instance ran the job while the leader lives"
            );
            (j.runs >= 3 && j.last_finished_at >= j.last_started_at).then_some(j)
        },
    )
    .await;
    assert_eq!(
        (second.runs, second.last_runner.as_deref()),
        (3, Some(survivor.runner().as_str())),
        "only the leader ran it"
    );
    let second_at = second.last_started_at.expect("started");
    assert!(
        second_at > last_live_due && second_at < next_due,
        "the timing this test counts on: the survivor's second run (at t0 + {} s) falls after every live notification is due (t0 + 24 s) and before the next (t0 + 72 s)",
        (second_at.millis() - t0.millis()) / 1000
    );
    let recorded_after_second = check_exactly_once(
        &watcher,
        &rules,
        &incidents,
        second_at,
        "after the second run",
    )
    .await;
    assert_eq!(recorded_after_second, expected_total);
    let d = job(&watcher, WEBHOOK_DELIVERIES).await;
    assert_eq!(
        d.last_runner.as_deref(),
        Some(survivor.runner().as_str()),
        "the restarted instance does not run webhook-deliveries beside the leader"
    );

    // The leader killed in turn: the restarted instance takes over.
    let killed_again = Instant::now();
    survivor.kill();
    let third = until(
        "the restarted instance takes over",
        TAKEOVER_WITHIN,
        || async {
            let j = job(&watcher, ESCALATIONS).await;
            (j.runs == 4 && finished_by(&j, &back.runner())).then_some(j)
        },
    )
    .await;
    let second_takeover_secs = killed_again.elapsed().as_secs_f64();
    let recorded_at_end = check_exactly_once(
        &watcher,
        &rules,
        &incidents,
        third.last_started_at.expect("started"),
        "after the second takeover",
    )
    .await;
    assert_eq!(
        recorded_at_end, expected_total,
        "the new leader recorded nothing twice"
    );

    println!(
        "failover: takeover after SIGKILL {takeover_secs:.1} s, second takeover {second_takeover_secs:.1} s; \
         escalations expected {expected_total}, recorded {recorded_at_end} \
         ({after_first} at the first run, {after_takeover} after the takeover, \
         {recorded_after_second} after the survivor's second run); test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(back);
    drop(survivor);
    drop(leader);
    drop(watcher);
    drop(db);
}
