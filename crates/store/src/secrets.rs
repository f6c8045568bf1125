//! Sealed columns and master keys: the fingerprints of registered master-key versions, and the
//! reads and writes master-key rotation uses to reseal every sealed value.

use crate::sql::rows::{bind_all, text};
use crate::sql::{map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use sqlx::Row;

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

/// Master-key and sealed-column reads outside a transaction.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn master_key_fingerprints(&self) -> Result<Vec<(u32, String)>>;
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
    /// Records a master-key version's fingerprint; false if it was already recorded.
    async fn register_master_key(&mut self, version: u32, fingerprint: &str) -> Result<bool>;
    /// Replaces one sealed value if it is still at `old_version`; false if it moved meanwhile.
    async fn reseal(
        &mut self,
        col: SealedColumn,
        id: &str,
        old_version: u32,
        sealed: &[u8],
        new_version: u32,
    ) -> Result<bool>;
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
}
