//! The SQL store: one implementation of every store trait for both backends, over sqlx's `Any`
//! driver. This module opens the database and maps its errors; each capability's SQL lives in
//! that capability's module (`keys.rs`, `oidc.rs`, …), the commit in `tx.rs`.
//!
//! The schema is written once per backend (`migrations/postgres`, `migrations/sqlite`) with the
//! same tables and portable types (BIGINT milliseconds, TEXT ids, BYTEA/BLOB envelopes), so one
//! body of SQL serves both. The few differences (row locks) are chosen by [`Backend`].

pub(crate) mod rows;

use crate::{Result, Store, StoreError, WriteTx};
use async_trait::async_trait;
use domain::{Actor, Timestamp};
use rows::text;
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The store over PostgreSQL or SQLite. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    location: String,
    /// SQLite: the master-key rotation lock of this process (shared by clones) and, for a
    /// workspace file, the lock file beside it that other processes see (see
    /// `SecretStore::try_rotation_lock`).
    pub(crate) rotation: crate::secrets::LocalRotationLock,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .field("location", &self.location)
            .finish()
    }
}

/// A connection string with any password replaced, safe for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl SqlStore {
    /// Opens `postgres://…`/`postgresql://…` or a SQLite path / `sqlite:` URL, and migrates it.
    pub async fn connect(target: &str) -> Result<Self> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            Self::connect_postgres(target).await
        } else if target == "sqlite::memory:" || target == ":memory:" {
            Self::sqlite_in_memory().await
        } else {
            let path = target
                .strip_prefix("sqlite://")
                .or_else(|| target.strip_prefix("sqlite:"))
                .unwrap_or(target);
            Self::open_sqlite(Path::new(path)).await
        }
    }

    /// Checks that a PostgreSQL database answers, without migrating or writing anything.
    /// Returns the server's version string.
    pub async fn probe_postgres(url: &str) -> Result<String> {
        let pool = one_connection(url).await?;
        let row = sqlx::query("SELECT version() AS v")
            .fetch_one(&pool)
            .await
            .map_err(map_err)?;
        let version = text(&row, "v")?;
        pool.close().await;
        Ok(version)
    }

    pub async fn connect_postgres(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to {}: {}",
                    redact_url(url),
                    describe(&e)
                ))
            })?;
        let store = SqlStore {
            pool,
            backend: Backend::Postgres,
            location: redact_url(url),
            rotation: crate::secrets::LocalRotationLock::new(None),
        };
        crate::roles::migrate_unless_current(&store.pool, &POSTGRES_MIGRATIONS).await?;
        Ok(store)
    }

    /// Opens (creating if needed) a SQLite workspace file: WAL, foreign keys on,
    /// `synchronous = NORMAL`. One connection: SQLite serialises writers anyway, and a single
    /// writer never meets `SQLITE_BUSY`.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        Self::open_sqlite_keyed(path, None).await
    }

    /// [`Self::open_sqlite`], encrypted by SQLCipher with `key` when one is given.
    pub(crate) async fn open_sqlite_keyed(
        path: &Path,
        key: Option<&crate::replica_file::ReplicaKey>,
    ) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create the folder {}: {e}", dir.display()))
            })?;
        }
        // The driver percent-decodes the path: escape what would otherwise read as URL syntax.
        let shown = path.display().to_string();
        let escaped = shown
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        let lock_file = {
            let mut name = path.as_os_str().to_owned();
            name.push(".rotation-lock");
            std::path::PathBuf::from(name)
        };
        Self::sqlite(
            &format!("sqlite://{escaped}?mode=rwc"),
            shown,
            Some(lock_file),
            key,
        )
        .await
    }

    /// A private in-memory SQLite database (tests).
    pub async fn sqlite_in_memory() -> Result<Self> {
        Self::sqlite("sqlite::memory:", ":memory:".into(), None, None).await
    }

    async fn sqlite(
        url: &str,
        location: String,
        lock_file: Option<std::path::PathBuf>,
        key: Option<&crate::replica_file::ReplicaKey>,
    ) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let mut options = AnyConnectOptions::from_str(url).map_err(|e| {
            StoreError::Unavailable(format!("cannot open {location}: {}", describe(&e)))
        })?;
        // SQLCipher's key must be the first statement on the connection (the driver's own
        // `foreign_keys` pragma does not read the file). The statement holds the key: never logged.
        let key_statement = key.map(|k| std::sync::Arc::new(k.pragma()));
        if key_statement.is_some() {
            options = options.disable_statement_logging();
        }
        if lock_file.is_some() {
            // The pool retries a connection that fails until its timeout: a file that is not a
            // database under this key (or without one) is told by one probe connection first.
            crate::replica_file::probe_key(&options, key_statement.as_deref(), &location).await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let key_statement = key_statement.clone();
                Box::pin(async move {
                    if let Some(statement) = key_statement {
                        conn.execute(statement.expose().as_str()).await?;
                    }
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open {location}: {}", describe(&e)))
            })?;
        let store = SqlStore {
            pool,
            backend: Backend::Sqlite,
            location,
            rotation: crate::secrets::LocalRotationLock::new(lock_file),
        };
        SQLITE_MIGRATIONS
            .run(&store.pool)
            .await
            .map_err(migrate_err)?;
        Ok(store)
    }

    /// The underlying pool, for tests and benchmarks that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where the data lives, with any password redacted.
    pub fn location(&self) -> &str {
        &self.location
    }
}

/// The row-lock clause a `…_for_update` read appends on this backend.
pub(crate) fn lock_suffix(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

fn migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Migration(e.to_string())
}

/// A pool of one connection to `url`, for a short job (a probe, migrating as the owner).
pub(crate) async fn one_connection(url: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot connect to {}: {}",
                redact_url(url),
                describe(&e)
            ))
        })
}

pub(crate) fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// A rule of the database said no: a CHECK constraint, or a trigger's `RAISE` (the audit
/// trail's and timeline's append-only rules among them) — the same statement would fail again,
/// unlike a timeout or a lost connection.
fn is_refusal(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.is_check_violation()
        || db.message().contains("append-only")
        // SQLITE_CONSTRAINT_TRIGGER; PostgreSQL's raise_exception.
        || matches!(db.code().as_deref(), Some("1811" | "P0001"))
}

/// The one place where database errors become store errors.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                StoreError::Conflict(
                    db.constraint()
                        .map(str::to_string)
                        .unwrap_or_else(|| db.message().to_string()),
                )
            } else if is_refusal(db.as_ref()) {
                StoreError::Refused(db.message().to_string())
            } else if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                // A deadlock or serialization failure: the transaction was rolled back, and
                // the same work can simply run again.
                StoreError::Unavailable(format!("{}; try again", db.message()))
            } else {
                StoreError::Internal(db.message().to_string())
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Internal(other.to_string()),
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn begin(&self, actor: &Actor, now: Timestamp) -> Result<Box<dyn WriteTx>> {
        let tx = self.pool.begin().await.map_err(map_err)?;
        Ok(Box::new(SqlTx {
            tx,
            backend: self.backend,
            actor: actor.clone(),
            now,
        }))
    }
}

/// A write transaction over the SQL store.
pub(crate) struct SqlTx {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) backend: Backend,
    pub(crate) actor: Actor,
    pub(crate) now: Timestamp,
}

impl SqlTx {
    pub(crate) async fn exec(&mut self, sql: &str, args: AnyArguments<'static>) -> Result<u64> {
        let r = sqlx::query_with(sql, args)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
    pub(crate) async fn one(&mut self, sql: String) -> Result<Option<AnyRow>> {
        sqlx::query(&sql)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)
    }
}
