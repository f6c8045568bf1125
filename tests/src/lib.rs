//! Test support for the cross-crate stories: fresh stores on both backends and a portal with
//! a hand-driven clock.
//!
//! PostgreSQL comes from `DATABASE_URL` (an admin connection, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own new database, dropped
//! when the test finishes — also when it panics (a guard drops it), and, should the process have
//! been killed, by the next run (databases left from more than a day ago are swept).
//! `scripts/test.sh` starts a throwaway cluster when none answers.

pub mod oidc;
pub mod remote;

use domain::envelope::MasterKeySet;
use domain::{Actor, ManualClock, Timestamp};
use portal::LocalPortal;
use rand::SeedableRng;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{SqlStore, Store};

pub use store::Backend;

/// 2026-11-26T00:00:00Z, the tests' "now".
pub const T0: Timestamp = Timestamp::from_millis(1_795_651_200_000);

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, migrated store, and what is needed to drop it.
#[derive(Debug)]
pub struct TestDb {
    pub store: SqlStore,
    pub backend: Backend,
    /// For PostgreSQL: the database's URL (for raw superuser access) and name.
    pub pg: Option<(String, String)>,
    /// Stories on this database go through the API server and `RemotePortal`.
    pub remote: bool,
    /// Drops the PostgreSQL database if the test ends without [`TestDb::drop_db`] (a panic).
    guard: Option<DropGuard>,
}

/// The prefix of every test database's name: `padmin_t_<unix seconds>_<uuid>`.
const DB_PREFIX: &str = "padmin_t_";
/// Test databases older than this are leftovers of a killed run.
const STALE_AFTER_SECS: u64 = 24 * 3600;

/// Drops one test database when dropped, synchronously: it may run while a panicking test's
/// runtime unwinds, so it opens its own connection on a thread with a runtime of its own.
#[derive(Debug)]
struct DropGuard {
    name: String,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        if name.is_empty() {
            return; // disarmed: `drop_db` dropped it already
        }
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(drop_database(&name))
                .map_err(|e| format!("{name}: {e}"))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database not dropped: {e}"),
            Err(_) => eprintln!("test database not dropped: the dropping thread panicked"),
        }
    }
}

/// `DROP DATABASE … WITH (FORCE)` over a connection of its own (it ends the test's sessions).
async fn drop_database(name: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin_url()).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

/// Drops the test databases a killed run left behind (named with a creation time over a day
/// old). Runs once per process; a database in use by a live run is never that old.
async fn sweep_stale_databases(pool: &sqlx::PgPool) {
    static SWEPT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if SWEPT.set(()).is_err() {
        return;
    }
    let now = unix_now();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'padmin\\_t\\_%'")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix(DB_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS) {
            let _ = drop_database(&name).await;
        }
    }
}

/// Seconds since the epoch, from the real clock (test databases are named by wall time).
fn unix_now() -> u64 {
    use domain::Clock;
    u64::try_from(domain::SystemClock.now().millis() / 1000).unwrap_or(0)
}

fn with_db(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) if url[..i].contains("://") && i > url.find("://").unwrap_or(0) + 2 => {
            let rest = url[i + 1..]
                .find('?')
                .map(|q| &url[i + 1 + q..])
                .unwrap_or("");
            format!("{}/{db}{rest}", &url[..i])
        }
        _ => format!("{url}/{db}"),
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb {
                store: SqlStore::sqlite_in_memory()
                    .await
                    .expect("in-memory SQLite opens"),
                backend,
                pg: None,
                remote: false,
                guard: None,
            },
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!(
                    "{DB_PREFIX}{}_{}",
                    unix_now(),
                    uuid::Uuid::new_v4().simple()
                );
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} must be reachable (set DATABASE_URL or run scripts/test.sh): {e}"));
                sweep_stale_databases(&pool).await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                // Armed before anything else can fail: a failed migration still drops it.
                let guard = DropGuard { name: name.clone() };
                let url = with_db(&admin, &name);
                let store = SqlStore::connect_postgres(&url)
                    .await
                    .expect("test database opens and migrates");
                TestDb {
                    store,
                    backend,
                    pg: Some((url, name)),
                    remote: false,
                    guard: Some(guard),
                }
            }
        }
    }

    /// A PostgreSQL database whose stories run through the API server (`RemotePortal`).
    pub async fn remote() -> TestDb {
        let mut db = TestDb::new(Backend::Postgres).await;
        db.remote = true;
        db
    }

    pub fn arc(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    /// Runs raw SQL as the database owner (a superuser here), e.g. to tamper with the trail.
    pub async fn superuser_exec(&self, sql: &str) {
        match &self.pg {
            Some((url, _)) => {
                let pool = sqlx::PgPool::connect(url)
                    .await
                    .expect("superuser connection");
                sqlx::raw_sql(sql)
                    .execute(&pool)
                    .await
                    .expect("superuser SQL runs");
                pool.close().await;
            }
            None => {
                sqlx::raw_sql(sql)
                    .execute(self.store.pool())
                    .await
                    .expect("raw SQL runs");
            }
        }
    }

    /// Drops the PostgreSQL database. (Without this call, e.g. when the test panics, the
    /// database is dropped all the same when the `TestDb` is.)
    pub async fn drop_db(mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        self.store.pool().close().await;
        let name = std::mem::take(&mut guard.name); // disarms the guard
        if let Err(e) = drop_database(&name).await {
            eprintln!("test database {name} not dropped: {e}");
        }
    }
}

/// Whether a PostgreSQL database of this name exists (to check that tests clean up).
pub async fn pg_database_exists(name: &str) -> bool {
    let pool = sqlx::PgPool::connect(&admin_url())
        .await
        .expect("admin connection");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&pool)
        .await
        .expect("pg_database");
    pool.close().await;
    n == 1
}

/// Polls `probe` until it gives `Some`, at most for `within`, and returns its value; fails
/// naming `what` when the deadline passes. Tests wait for a condition this way, never for a
/// fixed time.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still not the case after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A deterministic master key set for tests.
pub fn test_keys() -> MasterKeySet {
    MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(42))
}

/// The portal a story runs against: the LocalPortal over the test store, or — for a remote
/// test database — a RemotePortal through the API server over that same store.
#[derive(Debug)]
pub enum TestPortal {
    Local(Box<LocalPortal>),
    Remote(Box<remote::RemoteHarness>),
}

impl std::ops::Deref for TestPortal {
    type Target = dyn portal::Portal;
    fn deref(&self) -> &Self::Target {
        match self {
            TestPortal::Local(p) => &**p,
            TestPortal::Remote(h) => &h.remote,
        }
    }
}

impl TestPortal {
    /// The actor id this portal records for `actor`: the id itself on a local portal; over the
    /// API, the token's subject namespaced by the issuer that signed it.
    pub fn actor_id(&self, actor: &Actor) -> String {
        match self {
            TestPortal::Local(_) => actor.id.clone(),
            TestPortal::Remote(h) => server::auth::namespaced_subject(&h.issuer.url, &actor.id),
        }
    }

    /// The LocalPortal behind this portal (the one the server serves, for a remote story): for
    /// what no front end calls, such as maintenance a job will run.
    pub fn local(&self) -> &LocalPortal {
        match self {
            TestPortal::Local(p) => p,
            TestPortal::Remote(h) => &h.local,
        }
    }

    /// The portal a device's replica syncs with: a LocalPortal over the same database (the
    /// direct profile), or a RemotePortal to the same server (the portal profile).
    pub async fn upstream(&self, db: &TestDb, clock: Arc<ManualClock>) -> Arc<dyn portal::Portal> {
        match self {
            TestPortal::Local(_) => Arc::new(
                LocalPortal::with_keys(db.arc(), test_keys(), clock)
                    .await
                    .expect("portal opens"),
            ),
            TestPortal::Remote(h) => Arc::new(
                client::RemotePortal::new(
                    &h.server.url,
                    Arc::new(remote::MintedTokens(h.issuer.clone())),
                )
                .expect("remote portal"),
            ),
        }
    }

    /// A second portal over the same database and clock, as another process would open it: a
    /// new LocalPortal — and, for a remote story, a second server trusting the same issuer.
    pub async fn another_instance(&self, db: &TestDb, clock: Arc<ManualClock>) -> TestPortal {
        let local = LocalPortal::with_keys(db.arc(), test_keys(), clock)
            .await
            .expect("portal opens")
            .with_fetcher(fetcher());
        match self {
            TestPortal::Local(_) => TestPortal::Local(Box::new(local)),
            TestPortal::Remote(h) => {
                let local = Arc::new(local);
                let config = remote::server_config(&h.issuer, Some(&remote::redis_url()), &[]);
                let server = remote::TestServer::start(local.clone(), &config).await;
                let remote = client::RemotePortal::new(
                    &server.url,
                    Arc::new(remote::MintedTokens(h.issuer.clone())),
                )
                .expect("remote portal");
                TestPortal::Remote(Box::new(remote::RemoteHarness {
                    issuer: h.issuer.clone(),
                    server,
                    local,
                    remote,
                }))
            }
        }
    }
}

/// A portal over the test store, with a clock tests move by hand.
pub async fn portal(db: &TestDb) -> (TestPortal, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(T0));
    if db.remote {
        let h = remote::RemoteHarness::start(db.arc(), clock.clone()).await;
        return (TestPortal::Remote(Box::new(h)), clock);
    }
    let p = LocalPortal::with_keys(db.arc(), test_keys(), clock.clone())
        .await
        .expect("portal opens")
        .with_fetcher(fetcher());
    (TestPortal::Local(Box::new(p)), clock)
}

/// A portal whose master keys live in `key_file`, so that a master-key rotation can add a
/// version: the LocalPortal, or — for a remote test database — RemotePortal through a server
/// over it.
pub async fn portal_with_key_file(
    db: &TestDb,
    key_file: &std::path::Path,
) -> (TestPortal, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(T0));
    let source = Arc::new(portal::secrets::FileKeys::new(key_file.to_path_buf()));
    let local = LocalPortal::open(db.arc(), source, clock.clone())
        .await
        .expect("portal opens")
        .with_fetcher(fetcher());
    if db.remote {
        let h = remote::RemoteHarness::serve(Arc::new(local)).await;
        return (TestPortal::Remote(Box::new(h)), clock);
    }
    (TestPortal::Local(Box::new(local)), clock)
}

/// The real outbound HTTP fetcher (OIDC *Test connection*), as the front ends give it.
pub fn fetcher() -> Arc<dyn portal::JsonFetcher> {
    Arc::new(outbound::HttpFetcher::new().expect("an HTTP client"))
}

pub fn admin() -> Actor {
    Actor {
        id: "user:alice".into(),
        name: "alice".into(),
        actor_type: domain::ActorType::User,
        role: domain::Role::Provider,
        ip: Some("192.0.2.10".into()),
        ua: Some("stories".into()),
        request_id: None,
    }
}

/// Every text and byte value of every table, for "no plaintext secret at rest" checks.
pub async fn dump_all(db: &TestDb) -> String {
    use sqlx::Row;
    let tables = [
        "clients",
        "federation_keys",
        "oidc_configs",
        "integrations",
        "idempotency",
        "master_keys",
        "audit_events",
        "change_feed",
        "audit_head",
    ];
    let mut out = String::new();
    for t in tables {
        let rows = sqlx::query(&format!("SELECT * FROM {t}"))
            .fetch_all(db.store.pool())
            .await
            .expect("dump");
        for r in rows {
            for i in 0..r.len() {
                if let Ok(Some(s)) = r.try_get::<Option<String>, _>(i) {
                    out.push_str(&s);
                } else if let Ok(Some(b)) = r.try_get::<Option<Vec<u8>>, _>(i) {
                    out.push_str(&String::from_utf8_lossy(&b));
                }
                out.push('\t');
            }
            out.push('\n');
        }
    }
    out
}

/// Every sealed value in the database, opened with the tests' master key ([`test_keys`]): what
/// someone holding a copy of the database *and* the master key can read. Every value must open.
pub async fn open_all_sealed(db: &TestDb) -> String {
    use store::prelude::*;
    let keys = test_keys();
    let mut out = String::new();
    for col in store::SEALED_COLUMNS {
        let values = db
            .store
            .sealed_below(col, u32::MAX, 100_000)
            .await
            .expect("sealed values");
        for (id, sealed) in values {
            let at = domain::envelope::Binding {
                table: col.table,
                column: col.column,
                row_id: &id,
            };
            let opened = keys
                .open(at, &sealed)
                .unwrap_or_else(|e| panic!("{}.{} {id} opens: {e}", col.table, col.column));
            out.push_str(&String::from_utf8_lossy(opened.expose()));
            out.push('\n');
        }
    }
    out
}

/// How many rows `table` has.
pub async fn count_rows(db: &TestDb, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.store.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("count")
}

/// Runs the scenario `async fn $name(db: &TestDb)` against SQLite and PostgreSQL, as the
/// tests `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::TestDb::new($crate::Backend::Sqlite).await;
                super::$name(&db).await;
                db.drop_db().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = $crate::TestDb::new($crate::Backend::Postgres).await;
                super::$name(&db).await;
                db.drop_db().await;
            }
        }
    )+};
}

/// Runs the scenario against every Portal: LocalPortal on SQLite and on PostgreSQL, and
/// RemotePortal → the API server (loopback) → PostgreSQL and Redis, as the tests
/// `$name::sqlite`, `$name::postgres` and `$name::remote`.
#[macro_export]
macro_rules! on_every_portal {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::TestDb::new($crate::Backend::Sqlite).await;
                super::$name(&db).await;
                db.drop_db().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = $crate::TestDb::new($crate::Backend::Postgres).await;
                super::$name(&db).await;
                db.drop_db().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn remote() {
                let db = $crate::TestDb::remote().await;
                super::$name(&db).await;
                db.drop_db().await;
            }
        }
    )+};
}

/// A well-formed key that no store knows.
pub fn other_key() -> String {
    domain::key::FullKey::generate(&mut rand::rngs::StdRng::seed_from_u64(7))
        .expose()
        .to_string()
}
