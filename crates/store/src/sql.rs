//! The SQL store: one implementation of [`Store`] for both backends, over sqlx's `Any` driver.
//!
//! The schema is written once per backend (`migrations/postgres`, `migrations/sqlite`) with the
//! same tables and portable types (BIGINT milliseconds, TEXT ids, BYTEA/BLOB envelopes), so one
//! body of SQL serves both. The few differences (row locks) are chosen by [`Backend`].

use crate::{
    AuditBatch, Change, IdempotencyRecord, KeyQuery, Result, SealedColumn, Store, StoreError,
    WriteTx,
};
use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::key::KeyId;
use domain::model::{
    AuditFilter, Client, ClientFilter, IntegrationRecord, IntegrationStatus, KeyRecord, OidcRecord,
    Page,
};
use domain::{Actor, ActorType, Timestamp};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Arguments, Encode, Executor, Row, Transaction, Type};
use std::fmt;
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
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
    pool: AnyPool,
    backend: Backend,
    location: String,
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
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
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
            })?;
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
        };
        POSTGRES_MIGRATIONS
            .run(&store.pool)
            .await
            .map_err(migrate_err)?;
        Ok(store)
    }

    /// Opens (creating if needed) a SQLite workspace file: WAL, foreign keys on,
    /// `synchronous = NORMAL`. One connection: SQLite serialises writers anyway, and a single
    /// writer never meets `SQLITE_BUSY`.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
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
        Self::sqlite(&format!("sqlite://{escaped}?mode=rwc"), shown).await
    }

    /// A private in-memory SQLite database (tests).
    pub async fn sqlite_in_memory() -> Result<Self> {
        Self::sqlite("sqlite::memory:", ":memory:".into()).await
    }

    async fn sqlite(url: &str, location: String) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open {location}: {}", describe(&e)))
            })?;
        let store = SqlStore {
            pool,
            backend: Backend::Sqlite,
            location,
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

fn lock_suffix(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

fn migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Internal(format!("applying the database migrations failed: {e}"))
}

fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
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
            } else if db.message().contains("append-only") {
                StoreError::Refused(db.message().to_string())
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

/// A query under construction: numbered placeholders (`$1`, `$2`, … — both backends accept them).
struct Sql {
    text: String,
    args: AnyArguments<'static>,
    n: usize,
}

impl Sql {
    fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            n: 0,
        }
    }
    /// Binds a value and returns its placeholder.
    fn bind<T>(&mut self, v: T) -> String
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        self.n += 1;
        // Adding to AnyArguments only fails for types Any cannot carry, which we never bind.
        let _ = self.args.add(v);
        format!("${}", self.n)
    }
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
    fn query(self) -> (String, AnyArguments<'static>) {
        (self.text, self.args)
    }
}

fn ts(r: &AnyRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(
        r.try_get::<i64, _>(col).map_err(map_err)?,
    ))
}
fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(r.try_get::<Option<i64>, _>(col)
        .map_err(map_err)?
        .map(Timestamp::from_millis))
}
fn text(r: &AnyRow, col: &str) -> Result<String> {
    r.try_get::<String, _>(col).map_err(map_err)
}
fn opt_text(r: &AnyRow, col: &str) -> Result<Option<String>> {
    r.try_get::<Option<String>, _>(col).map_err(map_err)
}
fn uuid(r: &AnyRow, col: &str) -> Result<Uuid> {
    Uuid::parse_str(&text(r, col)?)
        .map_err(|e| StoreError::Internal(format!("bad uuid in {col}: {e}")))
}
fn key_id(s: String) -> Result<KeyId> {
    KeyId::parse(&s).map_err(StoreError::Internal)
}

const KEY_COLUMNS: &str = "id, name, hashed_key, created_at, created_by, expires_at, revoked_at, last_used_at, last_used_ip, rotated_from, rotated_to";

fn key_from_row(r: &AnyRow) -> Result<KeyRecord> {
    Ok(KeyRecord {
        id: key_id(text(r, "id")?)?,
        name: text(r, "name")?,
        hashed_key: text(r, "hashed_key")?,
        created_at: ts(r, "created_at")?,
        created_by: text(r, "created_by")?,
        expires_at: opt_ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
        last_used_at: opt_ts(r, "last_used_at")?,
        last_used_ip: opt_text(r, "last_used_ip")?,
        rotated_from: opt_text(r, "rotated_from")?.map(key_id).transpose()?,
        rotated_to: opt_text(r, "rotated_to")?.map(key_id).transpose()?,
    })
}

const OIDC_COLUMNS: &str =
    "id, issuer, client_id, redirect_uri, enabled, client_secret, created_at, updated_at";

fn oidc_from_row(r: &AnyRow) -> Result<OidcRecord> {
    Ok(OidcRecord {
        id: uuid(r, "id")?,
        issuer: text(r, "issuer")?,
        client_id: text(r, "client_id")?,
        redirect_uri: text(r, "redirect_uri")?,
        enabled: r.try_get::<i64, _>("enabled").map_err(map_err)? == 1,
        client_secret_sealed: r
            .try_get::<Option<Vec<u8>>, _>("client_secret")
            .map_err(map_err)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

const INTEGRATION_COLUMNS: &str = "id, name, kind, status, config, config_fields, created_at, updated_at, last_sync_at, last_error";

fn integration_from_row(r: &AnyRow) -> Result<IntegrationRecord> {
    let fields: Vec<String> = serde_json::from_str(&text(r, "config_fields")?)
        .map_err(|e| StoreError::Internal(format!("bad config_fields: {e}")))?;
    Ok(IntegrationRecord {
        id: uuid(r, "id")?,
        name: text(r, "name")?,
        kind: text(r, "kind")?,
        status: IntegrationStatus::parse(&text(r, "status")?).map_err(StoreError::Internal)?,
        config_sealed: r.try_get::<Vec<u8>, _>("config").map_err(map_err)?,
        config_fields: fields,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_sync_at: opt_ts(r, "last_sync_at")?,
        last_error: opt_text(r, "last_error")?,
    })
}

const CLIENT_COLUMNS: &str = "id, name, plan, status, created_at";

fn client_from_row(r: &AnyRow) -> Result<Client> {
    Ok(Client {
        id: uuid(r, "id")?,
        name: text(r, "name")?,
        plan: text(r, "plan")?,
        status: text(r, "status")?,
        created_at: ts(r, "created_at")?,
    })
}

const AUDIT_COLUMNS: &str = "seq, id, ts, actor_id, actor_name, actor_type, entity_type, entity_id, action, before, after, ip, ua, prev_hash, hash, request_id";

fn json_col(r: &AnyRow, col: &str) -> Result<Option<serde_json::Value>> {
    opt_text(r, col)?
        .map(|s| {
            serde_json::from_str(&s)
                .map_err(|e| StoreError::Internal(format!("bad JSON in {col}: {e}")))
        })
        .transpose()
}

fn audit_from_row(r: &AnyRow) -> Result<AuditEvent> {
    let actor_type = text(r, "actor_type")?;
    Ok(AuditEvent {
        seq: r.try_get::<i64, _>("seq").map_err(map_err)?,
        id: text(r, "id")?,
        ts: ts(r, "ts")?,
        actor_id: text(r, "actor_id")?,
        actor_name: text(r, "actor_name")?,
        actor_type: ActorType::parse(&actor_type)
            .ok_or_else(|| StoreError::Internal(format!("unknown actor type {actor_type}")))?,
        entity_type: text(r, "entity_type")?,
        entity_id: text(r, "entity_id")?,
        action: text(r, "action")?,
        before: json_col(r, "before")?,
        after: json_col(r, "after")?,
        ip: opt_text(r, "ip")?,
        ua: opt_text(r, "ua")?,
        request_id: opt_text(r, "request_id")?,
        prev_hash: text(r, "prev_hash")?,
        hash: text(r, "hash")?,
    })
}

fn like_pattern(s: &str) -> String {
    let escaped = s
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn two_part_cursor(c: &str) -> Result<(String, String)> {
    let bytes = data_hex(c).ok_or(StoreError::BadCursor)?;
    let v: (String, String) = serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    Ok(v)
}
fn make_cursor(a: &str, b: &str) -> String {
    let json = serde_json::to_vec(&(a, b)).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}
fn data_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
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

    async fn key(&self, id: &KeyId) -> Result<Option<KeyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM federation_keys WHERE id = $1"
        ))
        .bind(id.as_str().to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn key_ids(&self) -> Result<Vec<KeyId>> {
        let rows = sqlx::query("SELECT id FROM federation_keys")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(|r| key_id(text(r, "id")?)).collect()
    }

    async fn keys(&self, q: &KeyQuery) -> Result<Page<KeyRecord>> {
        let f = &q.filter;
        let now = q.now.millis();
        let mut sql = Sql::new(&format!(
            "SELECT {KEY_COLUMNS} FROM federation_keys WHERE 1=1"
        ));
        if let Some(status) = f.status {
            let clause = match status {
                domain::model::KeyStatus::Active => {
                    let p = sql.bind(now);
                    format!(" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {p})")
                }
                domain::model::KeyStatus::Revoked => " AND revoked_at IS NOT NULL".to_string(),
                domain::model::KeyStatus::Expired => {
                    let p = sql.bind(now);
                    format!(" AND revoked_at IS NULL AND expires_at <= {p}")
                }
            };
            sql.push(&clause);
        }
        if let Some(days) = f.expiring_within_days {
            let a = sql.bind(now);
            let b = sql.bind(now + i64::from(days) * 86_400_000);
            sql.push(&format!(
                " AND revoked_at IS NULL AND expires_at > {a} AND expires_at <= {b}"
            ));
        }
        if let Some(days) = f.unused_for_days {
            let a = sql.bind(now - i64::from(days) * 86_400_000);
            sql.push(&format!(" AND COALESCE(last_used_at, created_at) <= {a}"));
        }
        if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = sql.bind(like_pattern(s.trim()));
            sql.push(&format!(" AND lower(name) LIKE {p} ESCAPE '\\'"));
        }
        if let Some(c) = &f.cursor {
            let (created, id) = two_part_cursor(c)?;
            let created: i64 = created.parse().map_err(|_| StoreError::BadCursor)?;
            let a = sql.bind(created);
            let b = sql.bind(created);
            let c = sql.bind(id);
            sql.push(&format!(
                " AND (created_at < {a} OR (created_at = {b} AND id < {c}))"
            ));
        }
        let l = sql.bind(i64::from(q.limit) + 1);
        sql.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT {l}"));
        let (text, args) = sql.query();
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut items = rows.iter().map(key_from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cut(&mut items, q.limit, |k| {
            make_cursor(&k.created_at.millis().to_string(), k.id.as_str())
        });
        Ok(Page { items, next_cursor })
    }

    async fn touch_key(
        &self,
        id: &KeyId,
        at: Timestamp,
        ip: Option<&str>,
        verifications: u64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE federation_keys SET last_used_at = $1, last_used_ip = $2 WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $4)")
            .bind(at.millis())
            .bind(ip.map(str::to_string))
            .bind(id.as_str().to_string())
            .bind(at.millis())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if verifications > 0 {
            sqlx::query(
                "INSERT INTO key_usage_daily (day, verifications) VALUES ($1, $2) \
                 ON CONFLICT (day) DO UPDATE SET verifications = key_usage_daily.verifications + excluded.verifications",
            )
            .bind(at.millis().div_euclid(86_400_000))
            .bind(verifications as i64)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn key_counts(&self, now: Timestamp) -> Result<domain::model::KeyCounts> {
        let now = now.millis();
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) THEN 1 ELSE 0 END), 0) AS active, \
               COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at > $2 AND expires_at <= $3 THEN 1 ELSE 0 END), 0) AS expiring, \
               COALESCE(SUM(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4) AND COALESCE(last_used_at, created_at) <= $5 THEN 1 ELSE 0 END), 0) AS unused, \
               COALESCE(SUM(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS revoked, \
               COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at <= $6 THEN 1 ELSE 0 END), 0) AS expired \
             FROM federation_keys",
        )
        .bind(now)
        .bind(now)
        .bind(now + 7 * 86_400_000)
        .bind(now)
        .bind(now - 30 * 86_400_000)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        let n = |c: &str| -> Result<u64> { Ok(row.try_get::<i64, _>(c).map_err(map_err)? as u64) };
        Ok(domain::model::KeyCounts {
            active: n("active")?,
            expiring_within_7_days: n("expiring")?,
            unused_for_30_days: n("unused")?,
            revoked: n("revoked")?,
            expired: n("expired")?,
        })
    }

    async fn key_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<(i64, u64, u64)>> {
        let created = sqlx::query(
            "SELECT CAST(created_at / 86400000 AS BIGINT) AS day, COUNT(*) AS n FROM federation_keys \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY CAST(created_at / 86400000 AS BIGINT)",
        )
        .bind(from_day * 86_400_000)
        .bind((to_day + 1) * 86_400_000)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let used = sqlx::query(
            "SELECT day, verifications FROM key_usage_daily WHERE day >= $1 AND day <= $2",
        )
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut days: Vec<(i64, u64, u64)> = (from_day..=to_day).map(|d| (d, 0, 0)).collect();
        for r in created {
            let d: i64 = r.try_get("day").map_err(map_err)?;
            if let Some(slot) = days.get_mut((d - from_day) as usize) {
                slot.1 = r.try_get::<i64, _>("n").map_err(map_err)? as u64;
            }
        }
        for r in used {
            let d: i64 = r.try_get("day").map_err(map_err)?;
            if let Some(slot) = days.get_mut((d - from_day) as usize) {
                slot.2 = r.try_get::<i64, _>("verifications").map_err(map_err)? as u64;
            }
        }
        Ok(days)
    }

    async fn client_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM clients")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.try_get::<i64, _>("n").map_err(map_err)? as u64)
    }

    async fn oidc_config(&self, id: Uuid) -> Result<Option<OidcRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {OIDC_COLUMNS} FROM oidc_configs WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(oidc_from_row).transpose()
    }

    async fn oidc_configs(&self) -> Result<Vec<OidcRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {OIDC_COLUMNS} FROM oidc_configs ORDER BY issuer, created_at"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(oidc_from_row).collect()
    }

    async fn integration(&self, id: Uuid) -> Result<Option<IntegrationRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(integration_from_row).transpose()
    }

    async fn integrations(&self) -> Result<Vec<IntegrationRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY lower(name), id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(integration_from_row).collect()
    }

    async fn client(&self, id: Uuid) -> Result<Option<Client>> {
        let row = sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn clients(&self, f: &ClientFilter, limit: u32) -> Result<Page<Client>> {
        let mut sql = Sql::new(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE 1=1"));
        if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = sql.bind(like_pattern(s.trim()));
            sql.push(&format!(" AND lower(name) LIKE {p} ESCAPE '\\'"));
        }
        if let Some(c) = &f.cursor {
            let (name, id) = two_part_cursor(c)?;
            let a = sql.bind(name.clone());
            let b = sql.bind(name);
            let c = sql.bind(id);
            sql.push(&format!(
                " AND (lower(name) > {a} OR (lower(name) = {b} AND id > {c}))"
            ));
        }
        let l = sql.bind(i64::from(limit) + 1);
        sql.push(&format!(" ORDER BY lower(name), id LIMIT {l}"));
        let (text, args) = sql.query();
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut items = rows
            .iter()
            .map(client_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cut(&mut items, limit, |c| {
            make_cursor(&c.name.to_lowercase(), &c.id.to_string())
        });
        Ok(Page { items, next_cursor })
    }

    async fn audit(&self, f: &AuditFilter, limit: u32) -> Result<Page<AuditEvent>> {
        let mut sql = Sql::new(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE 1=1"
        ));
        for (col, v) in [
            ("entity_type", &f.entity_type),
            ("entity_id", &f.entity_id),
            ("action", &f.action),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                let p = sql.bind(v.to_string());
                sql.push(&format!(" AND {col} = {p}"));
            }
        }
        if let Some(a) = f.actor.as_deref().filter(|v| !v.is_empty()) {
            let p = sql.bind(a.to_string());
            let q = sql.bind(a.to_string());
            sql.push(&format!(" AND (actor_id = {p} OR actor_name = {q})"));
        }
        if let Some(from) = f.from {
            let p = sql.bind(from.millis());
            sql.push(&format!(" AND ts >= {p}"));
        }
        if let Some(to) = f.to {
            let p = sql.bind(to.millis());
            sql.push(&format!(" AND ts < {p}"));
        }
        if let Some(c) = &f.cursor {
            let before: i64 = c.parse().map_err(|_| StoreError::BadCursor)?;
            let p = sql.bind(before);
            sql.push(&format!(" AND seq < {p}"));
        }
        let l = sql.bind(i64::from(limit) + 1);
        sql.push(&format!(" ORDER BY seq DESC LIMIT {l}"));
        let (text, args) = sql.query();
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut items = rows
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cut(&mut items, limit, |e| e.seq.to_string());
        Ok(Page { items, next_cursor })
    }

    async fn audit_chain(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok((row.try_get("seq").map_err(map_err)?, text(&row, "hash")?))
    }

    async fn changes_after(&self, cursor: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = sqlx::query("SELECT seq, ts, entity_type, entity_id, action FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(cursor)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    seq: r.try_get("seq").map_err(map_err)?,
                    ts: ts(r, "ts")?,
                    entity_type: text(r, "entity_type")?,
                    entity_id: text(r, "entity_id")?,
                    action: text(r, "action")?,
                })
            })
            .collect()
    }

    async fn idempotency(&self, id: &str) -> Result<Option<IdempotencyRecord>> {
        let row = sqlx::query("SELECT id, request_hash, response, response_kv, created_at FROM idempotency WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                id: text(&r, "id")?,
                request_hash: text(&r, "request_hash")?,
                response_sealed: r.try_get("response").map_err(map_err)?,
                response_kv: r.try_get("response_kv").map_err(map_err)?,
                created_at: ts(&r, "created_at")?,
            })
        })
        .transpose()
    }

    async fn master_key_fingerprints(&self) -> Result<Vec<(u32, String)>> {
        let rows = sqlx::query("SELECT version, fingerprint FROM master_keys ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("version").map_err(map_err)? as u32,
                    text(r, "fingerprint")?,
                ))
            })
            .collect()
    }

    async fn count_sealed(&self, col: SealedColumn, below_version: u32) -> Result<(u64, u64)> {
        let q = format!(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN {v} < $1 THEN 1 ELSE 0 END), 0) AS behind FROM {t} WHERE {c} IS NOT NULL",
            v = col.version_column,
            t = col.table,
            c = col.column
        );
        let row = sqlx::query(&q)
            .bind(i64::from(below_version))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let total: i64 = row.try_get("total").map_err(map_err)?;
        let behind: i64 = row.try_get("behind").map_err(map_err)?;
        Ok((behind as u64, total as u64))
    }

    async fn sealed_below(
        &self,
        col: SealedColumn,
        version: u32,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let q = format!(
            "SELECT id, {c} AS sealed FROM {t} WHERE {c} IS NOT NULL AND {v} < $1 ORDER BY id LIMIT $2",
            v = col.version_column,
            t = col.table,
            c = col.column
        );
        let rows = sqlx::query(&q)
            .bind(i64::from(version))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    text(r, "id")?,
                    r.try_get::<Vec<u8>, _>("sealed").map_err(map_err)?,
                ))
            })
            .collect()
    }
}

/// Keeps `limit` items and returns the cursor of the last one when more followed.
fn page_cut<T>(items: &mut Vec<T>, limit: u32, cursor: impl Fn(&T) -> String) -> Option<String> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(cursor)
    } else {
        None
    }
}

/// A write transaction over the SQL store.
struct SqlTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    actor: Actor,
    now: Timestamp,
}

impl SqlTx {
    async fn exec(&mut self, sql: &str, args: AnyArguments<'static>) -> Result<u64> {
        let r = sqlx::query_with(sql, args)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
    async fn one(&mut self, sql: String) -> Result<Option<AnyRow>> {
        sqlx::query(&sql)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)
    }
}

fn args() -> AnyArguments<'static> {
    AnyArguments::default()
}

macro_rules! bind_all {
    ($($v:expr),* $(,)?) => {{
        let mut a = args();
        $( let _ = a.add($v); )*
        a
    }};
}

fn must_change(n: u64) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl WriteTx for SqlTx {
    async fn key_for_update(&mut self, id: &KeyId) -> Result<Option<KeyRecord>> {
        let q = format!(
            "SELECT {KEY_COLUMNS} FROM federation_keys WHERE id = '{}'{}",
            id.as_str(),
            lock_suffix(self.backend)
        );
        // The id is a validated KeyId (base32hex only), so it is safe to inline.
        self.one(q).await?.as_ref().map(key_from_row).transpose()
    }

    async fn insert_key(&mut self, k: &KeyRecord) -> Result<()> {
        let a = bind_all!(
            k.id.as_str().to_string(),
            k.name.clone(),
            k.hashed_key.clone(),
            k.created_at.millis(),
            k.created_by.clone(),
            k.expires_at.map(Timestamp::millis),
            k.revoked_at.map(Timestamp::millis),
            k.last_used_at.map(Timestamp::millis),
            k.last_used_ip.clone(),
            k.rotated_from.as_ref().map(|i| i.as_str().to_string()),
            k.rotated_to.as_ref().map(|i| i.as_str().to_string()),
        );
        self.exec(&format!("INSERT INTO federation_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"), a).await?;
        Ok(())
    }

    async fn update_key(&mut self, k: &KeyRecord) -> Result<()> {
        let a = bind_all!(
            k.name.clone(),
            k.expires_at.map(Timestamp::millis),
            k.revoked_at.map(Timestamp::millis),
            k.rotated_to.as_ref().map(|i| i.as_str().to_string()),
            k.id.as_str().to_string(),
        );
        let n = self.exec("UPDATE federation_keys SET name = $1, expires_at = $2, revoked_at = $3, rotated_to = $4 WHERE id = $5", a).await?;
        must_change(n)
    }

    async fn oidc_for_update(&mut self, id: Uuid) -> Result<Option<OidcRecord>> {
        let q = format!(
            "SELECT {OIDC_COLUMNS} FROM oidc_configs WHERE id = '{id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q).await?.as_ref().map(oidc_from_row).transpose()
    }

    async fn insert_oidc(&mut self, o: &OidcRecord) -> Result<()> {
        let kv = sealed_kv(o.client_secret_sealed.as_deref())?;
        let a = bind_all!(
            o.id.to_string(),
            o.issuer.clone(),
            o.client_id.clone(),
            o.redirect_uri.clone(),
            i64::from(o.enabled),
            o.client_secret_sealed.clone(),
            kv,
            o.created_at.millis(),
            o.updated_at.millis(),
        );
        self.exec("INSERT INTO oidc_configs (id, issuer, client_id, redirect_uri, enabled, client_secret, client_secret_kv, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", a).await?;
        Ok(())
    }

    async fn update_oidc(&mut self, o: &OidcRecord) -> Result<()> {
        let kv = sealed_kv(o.client_secret_sealed.as_deref())?;
        let a = bind_all!(
            o.issuer.clone(),
            o.client_id.clone(),
            o.redirect_uri.clone(),
            i64::from(o.enabled),
            o.client_secret_sealed.clone(),
            kv,
            o.updated_at.millis(),
            o.id.to_string(),
        );
        let n = self.exec("UPDATE oidc_configs SET issuer = $1, client_id = $2, redirect_uri = $3, enabled = $4, client_secret = $5, client_secret_kv = $6, updated_at = $7 WHERE id = $8", a).await?;
        must_change(n)
    }

    async fn delete_oidc(&mut self, id: Uuid) -> Result<()> {
        let n = self
            .exec(
                "DELETE FROM oidc_configs WHERE id = $1",
                bind_all!(id.to_string()),
            )
            .await?;
        must_change(n)
    }

    async fn integration_for_update(&mut self, id: Uuid) -> Result<Option<IntegrationRecord>> {
        let q = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = '{id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q)
            .await?
            .as_ref()
            .map(integration_from_row)
            .transpose()
    }

    async fn insert_integration(&mut self, i: &IntegrationRecord) -> Result<()> {
        let kv = sealed_kv(Some(&i.config_sealed))?;
        let a = bind_all!(
            i.id.to_string(),
            i.name.clone(),
            i.kind.clone(),
            i.status.as_str().to_string(),
            i.config_sealed.clone(),
            kv,
            serde_json::to_string(&i.config_fields).unwrap_or_else(|_| "[]".into()),
            i.created_at.millis(),
            i.updated_at.millis(),
            i.last_sync_at.map(Timestamp::millis),
            i.last_error.clone(),
        );
        self.exec("INSERT INTO integrations (id, name, kind, status, config, config_kv, config_fields, created_at, updated_at, last_sync_at, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", a).await?;
        Ok(())
    }

    async fn update_integration(&mut self, i: &IntegrationRecord) -> Result<()> {
        let kv = sealed_kv(Some(&i.config_sealed))?;
        let a = bind_all!(
            i.name.clone(),
            i.kind.clone(),
            i.status.as_str().to_string(),
            i.config_sealed.clone(),
            kv,
            serde_json::to_string(&i.config_fields).unwrap_or_else(|_| "[]".into()),
            i.updated_at.millis(),
            i.last_sync_at.map(Timestamp::millis),
            i.last_error.clone(),
            i.id.to_string(),
        );
        let n = self.exec("UPDATE integrations SET name = $1, kind = $2, status = $3, config = $4, config_kv = $5, config_fields = $6, updated_at = $7, last_sync_at = $8, last_error = $9 WHERE id = $10", a).await?;
        must_change(n)
    }

    async fn delete_integration(&mut self, id: Uuid) -> Result<()> {
        let n = self
            .exec(
                "DELETE FROM integrations WHERE id = $1",
                bind_all!(id.to_string()),
            )
            .await?;
        must_change(n)
    }

    async fn client_for_update(&mut self, id: Uuid) -> Result<Option<Client>> {
        let q = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = '{id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q).await?.as_ref().map(client_from_row).transpose()
    }

    async fn insert_client(&mut self, c: &Client) -> Result<()> {
        let a = bind_all!(
            c.id.to_string(),
            c.name.clone(),
            c.plan.clone(),
            c.status.clone(),
            c.created_at.millis()
        );
        self.exec(
            "INSERT INTO clients (id, name, plan, status, created_at) VALUES ($1, $2, $3, $4, $5)",
            a,
        )
        .await?;
        Ok(())
    }

    async fn update_client(&mut self, c: &Client) -> Result<()> {
        let a = bind_all!(
            c.name.clone(),
            c.plan.clone(),
            c.status.clone(),
            c.id.to_string()
        );
        let n = self
            .exec(
                "UPDATE clients SET name = $1, plan = $2, status = $3 WHERE id = $4",
                a,
            )
            .await?;
        must_change(n)
    }

    async fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        // An expired record under the same key is replaced.
        let cutoff = self.now.millis() - 24 * 3_600_000;
        self.exec(
            "DELETE FROM idempotency WHERE id = $1 AND created_at < $2",
            bind_all!(r.id.clone(), cutoff),
        )
        .await?;
        let a = bind_all!(
            r.id.clone(),
            r.request_hash.clone(),
            r.response_sealed.clone(),
            r.response_kv,
            r.created_at.millis()
        );
        self.exec("INSERT INTO idempotency (id, request_hash, response, response_kv, created_at) VALUES ($1, $2, $3, $4, $5)", a).await?;
        Ok(())
    }

    async fn register_master_key(&mut self, version: u32, fingerprint: &str) -> Result<bool> {
        let a = bind_all!(
            i64::from(version),
            fingerprint.to_string(),
            self.now.millis()
        );
        let n = self
            .exec("INSERT INTO master_keys (version, fingerprint, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING", a)
            .await?;
        Ok(n == 1)
    }

    async fn reseal(
        &mut self,
        col: SealedColumn,
        id: &str,
        old_version: u32,
        sealed: &[u8],
        new_version: u32,
    ) -> Result<bool> {
        let q = format!(
            "UPDATE {t} SET {c} = $1, {v} = $2 WHERE id = $3 AND {v} = $4",
            t = col.table,
            c = col.column,
            v = col.version_column
        );
        let a = bind_all!(
            sealed.to_vec(),
            i64::from(new_version),
            id.to_string(),
            i64::from(old_version)
        );
        Ok(self.exec(&q, a).await? == 1)
    }

    async fn commit(mut self: Box<Self>, audit: AuditBatch) -> Result<Vec<AuditEvent>> {
        let drafts = audit.into_vec();
        let n = drafts.len() as i64;
        // Lock the chain's tip. Held until commit, so commits are numbered in commit order.
        let head =
            sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind(n)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_err)?;
        let last_seq: i64 = head.try_get("seq").map_err(map_err)?;
        let mut prev = text(&head, "hash")?;
        let mut events = Vec::with_capacity(drafts.len());
        for (i, d) in drafts.into_iter().enumerate() {
            let seq = last_seq - n + 1 + i as i64;
            let e = AuditEvent::chain(
                d,
                &self.actor,
                seq,
                Uuid::new_v4().to_string(),
                self.now,
                &prev,
            );
            prev = e.hash.clone();
            let a = bind_all!(
                e.seq,
                e.id.clone(),
                e.ts.millis(),
                e.actor_id.clone(),
                e.actor_name.clone(),
                e.actor_type.as_str().to_string(),
                e.entity_type.clone(),
                e.entity_id.clone(),
                e.action.clone(),
                e.before.as_ref().map(|v| v.to_string()),
                e.after.as_ref().map(|v| v.to_string()),
                e.ip.clone(),
                e.ua.clone(),
                e.prev_hash.clone(),
                e.hash.clone(),
                e.request_id.clone(),
            );
            self.exec(&format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"), a).await?;
            let c = bind_all!(
                e.seq,
                e.ts.millis(),
                e.entity_type.clone(),
                e.entity_id.clone(),
                e.action.clone()
            );
            self.exec("INSERT INTO change_feed (seq, ts, entity_type, entity_id, action) VALUES ($1, $2, $3, $4, $5)", c).await?;
            events.push(e);
        }
        self.exec(
            "UPDATE audit_head SET hash = $1 WHERE id = 1",
            bind_all!(prev),
        )
        .await?;
        self.tx.commit().await.map_err(map_err)?;
        Ok(events)
    }
}

/// The master-key version of a sealed value, for its `_kv` column.
fn sealed_kv(sealed: Option<&[u8]>) -> Result<Option<i64>> {
    sealed
        .map(|s| {
            domain::envelope::sealed_version(s)
                .map(i64::from)
                .map_err(|e| StoreError::Internal(e.to_string()))
        })
        .transpose()
}
