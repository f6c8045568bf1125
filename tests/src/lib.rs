//! Test support for the cross-crate stories: fresh stores on both backends and a portal with
//! a hand-driven clock.
//!
//! PostgreSQL comes from `DATABASE_URL` (an admin connection, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own new database, dropped
//! when the test finishes. `scripts/test.sh` starts a throwaway cluster when none answers.

pub mod oidc;
pub mod remote;

use domain::envelope::MasterKeySet;
use domain::{Actor, ManualClock, Timestamp};
use portal::LocalPortal;
use rand::SeedableRng;
use std::sync::Arc;
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
            },
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!("padmin_t_{}", uuid::Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} must be reachable (set DATABASE_URL or run scripts/test.sh): {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                let url = with_db(&admin, &name);
                let store = SqlStore::connect_postgres(&url)
                    .await
                    .expect("test database opens and migrates");
                TestDb {
                    store,
                    backend,
                    pg: Some((url, name)),
                    remote: false,
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

    /// Drops the PostgreSQL database.
    pub async fn drop_db(self) {
        let Some((_, name)) = self.pg else { return };
        self.store.pool().close().await;
        if let Ok(pool) = sqlx::PgPool::connect(&admin_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
        }
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

/// A portal over the test store, with a clock tests move by hand.
pub async fn portal(db: &TestDb) -> (TestPortal, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(T0));
    if db.remote {
        let h = remote::RemoteHarness::start(db.arc(), clock.clone()).await;
        return (TestPortal::Remote(Box::new(h)), clock);
    }
    let p = LocalPortal::with_keys(db.arc(), test_keys(), clock.clone())
        .await
        .expect("portal opens");
    (TestPortal::Local(Box::new(p)), clock)
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
