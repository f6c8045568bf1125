//! Sealed columns and master keys: the fingerprints of registered master-key versions, and the
//! reads and writes master-key rotation uses to reseal every sealed value.

use crate::sql::rows::{bind_all, text};
use crate::sql::{map_err, Backend, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use sqlx::{Connection, Row};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A column that holds sealed (envelope-encrypted) values, with its key-version column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    pub version_column: &'static str,
}

/// Every sealed column of the schema. Master-key rotation walks exactly these.
pub const SEALED_COLUMNS: [SealedColumn; 3] = [
    SealedColumn {
        table: "oidc_configs",
        column: "client_secret",
        version_column: "client_secret_kv",
    },
    SealedColumn {
        table: "integrations",
        column: "config",
        version_column: "config_kv",
    },
    SealedColumn {
        table: "idempotency",
        column: "response",
        version_column: "response_kv",
    },
];

/// What registering a master-key version found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeyRegistration {
    /// The version was new: it is recorded now.
    Inserted,
    /// The version was already recorded, with this same fingerprint.
    AlreadyRegistered,
    /// The version is recorded with another key's fingerprint: two different keys claim it.
    Mismatch { registered: String },
}

/// Master-key and sealed-column reads outside a transaction.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn master_key_fingerprints(&self) -> Result<Vec<(u32, String)>>;
    /// The newest master-key version the database knows (0 before any was registered): a
    /// cheap check that another process has rotated.
    async fn newest_master_key(&self) -> Result<u32>;
    /// Takes the database's master-key rotation lock, or `None` when another process (or task)
    /// holds it. Held for a whole rotation run, across its many transactions, until
    /// [`RotationLock::release`] or drop. PostgreSQL: a session advisory lock on a connection of
    /// its own (a dropped or broken connection releases it). SQLite: a flag of this process plus,
    /// for a workspace file, an OS lock on `<file>.rotation-lock` for other processes (the single
    /// connection serialises transactions, not a run of many).
    async fn try_rotation_lock(&self) -> Result<Option<RotationLock>>;
    /// How many sealed values of `col` use a version below `version`, and how many there are.
    async fn count_sealed(&self, col: SealedColumn, below_version: u32) -> Result<(u64, u64)>;
    /// Up to `limit` (row id, sealed value) pairs of `col` below `version`.
    async fn sealed_below(
        &self,
        col: SealedColumn,
        version: u32,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>>;
}

/// Master-key registration and resealing inside a [`crate::WriteTx`].
#[async_trait]
pub trait SecretWrites: Send {
    /// Records a master-key version's fingerprint, or says what is already recorded for it.
    async fn register_master_key(
        &mut self,
        version: u32,
        fingerprint: &str,
    ) -> Result<MasterKeyRegistration>;
    /// Replaces one sealed value if it is still exactly `old_sealed` (compare-and-set on the
    /// ciphertext: a value replaced since it was read, even under the same key version, is left
    /// alone); false if it changed meanwhile.
    async fn reseal(
        &mut self,
        col: SealedColumn,
        id: &str,
        old_sealed: &[u8],
        sealed: &[u8],
        new_version: u32,
    ) -> Result<bool>;
}

/// The PostgreSQL advisory-lock key of master-key rotation (`padmin-r` in ASCII).
const ROTATION_LOCK_KEY: i64 = 0x7061_646d_696e_2d72;

/// Held while a master-key rotation runs; no other process on the database gets it meanwhile.
/// Released by [`RotationLock::release`], or when dropped.
#[must_use = "the lock is released when dropped"]
pub struct RotationLock {
    held: Option<Held>,
}

enum Held {
    /// A connection of its own holding a session advisory lock.
    Postgres(sqlx::AnyConnection),
    Local {
        flag: Arc<AtomicBool>,
        file: Option<std::fs::File>,
    },
}

impl std::fmt::Debug for RotationLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationLock").finish_non_exhaustive()
    }
}

impl RotationLock {
    /// Releases the lock now (PostgreSQL: unlocks and closes its connection).
    pub async fn release(mut self) {
        // SQLite's is released by `Drop`.
        if let Some(Held::Postgres(mut conn)) =
            self.held.take_if(|h| matches!(h, Held::Postgres(_)))
        {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(ROTATION_LOCK_KEY)
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for RotationLock {
    fn drop(&mut self) {
        match self.held.take() {
            Some(Held::Local { flag, file }) => {
                drop(file); // closing the file releases its OS lock
                flag.store(false, Ordering::SeqCst);
            }
            // Dropping the connection closes the session, and the server ends its locks.
            Some(Held::Postgres(conn)) => drop(conn),
            None => {}
        }
    }
}

/// SQLite's rotation lock: a flag shared by the clones of one store, and a lock file for other
/// processes on the same workspace file.
#[derive(Debug, Clone)]
pub(crate) struct LocalRotationLock {
    held: Arc<AtomicBool>,
    file: Option<PathBuf>,
}

impl LocalRotationLock {
    pub(crate) fn new(file: Option<PathBuf>) -> Self {
        LocalRotationLock {
            held: Arc::new(AtomicBool::new(false)),
            file,
        }
    }

    fn try_acquire(&self) -> Result<Option<RotationLock>> {
        if self
            .held
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(None);
        }
        // From here on, dropping `lock` (an early return) lowers the flag again.
        let mut lock = RotationLock {
            held: Some(Held::Local {
                flag: self.held.clone(),
                file: None,
            }),
        };
        if let Some(path) = &self.file {
            let unavailable = |e: std::io::Error| {
                StoreError::Unavailable(format!(
                    "cannot lock {} for the master-key rotation: {e}",
                    path.display()
                ))
            };
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(unavailable)?;
            match f.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(unavailable(e)),
            }
            if let Some(Held::Local { file, .. }) = &mut lock.held {
                *file = Some(f);
            }
        }
        Ok(Some(lock))
    }
}

/// The master-key version of a sealed value, for its `_kv` column.
pub(crate) fn sealed_kv(sealed: Option<&[u8]>) -> Result<Option<i64>> {
    sealed
        .map(|s| {
            domain::envelope::sealed_version(s)
                .map(i64::from)
                .map_err(|e| StoreError::Internal(e.to_string()))
        })
        .transpose()
}

#[async_trait]
impl SecretStore for SqlStore {
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

    async fn newest_master_key(&self) -> Result<u32> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM master_keys")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.try_get::<i64, _>("v").map_err(map_err)? as u32)
    }

    async fn try_rotation_lock(&self) -> Result<Option<RotationLock>> {
        match self.backend {
            Backend::Sqlite => self.rotation.try_acquire(),
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await.map_err(map_err)?.detach();
                let row = sqlx::query("SELECT pg_try_advisory_lock($1) AS ok")
                    .bind(ROTATION_LOCK_KEY)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(map_err)?;
                if row.try_get::<bool, _>("ok").map_err(map_err)? {
                    Ok(Some(RotationLock {
                        held: Some(Held::Postgres(conn)),
                    }))
                } else {
                    let _ = conn.close().await;
                    Ok(None)
                }
            }
        }
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

#[async_trait]
impl SecretWrites for SqlTx {
    async fn register_master_key(
        &mut self,
        version: u32,
        fingerprint: &str,
    ) -> Result<MasterKeyRegistration> {
        let a = bind_all!(
            i64::from(version),
            fingerprint.to_string(),
            self.now.millis()
        );
        let n = self
            .exec("INSERT INTO master_keys (version, fingerprint, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING", a)
            .await?;
        if n == 1 {
            return Ok(MasterKeyRegistration::Inserted);
        }
        let row = sqlx::query("SELECT fingerprint FROM master_keys WHERE version = $1")
            .bind(i64::from(version))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_err)?;
        let registered = text(&row, "fingerprint")?;
        Ok(if registered == fingerprint {
            MasterKeyRegistration::AlreadyRegistered
        } else {
            MasterKeyRegistration::Mismatch { registered }
        })
    }

    async fn reseal(
        &mut self,
        col: SealedColumn,
        id: &str,
        old_sealed: &[u8],
        sealed: &[u8],
        new_version: u32,
    ) -> Result<bool> {
        let q = format!(
            "UPDATE {t} SET {c} = $1, {v} = $2 WHERE id = $3 AND {c} = $4",
            t = col.table,
            c = col.column,
            v = col.version_column
        );
        let a = bind_all!(
            sealed.to_vec(),
            i64::from(new_version),
            id.to_string(),
            old_sealed.to_vec()
        );
        Ok(self.exec(&q, a).await? == 1)
    }
}
