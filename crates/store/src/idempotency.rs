//! Idempotency records: the stored, sealed result of an idempotent write, replayed on a retry,
//! and deleted once expired. How long a record lives is the portal's rule: it passes the cutoff.

use crate::sql::rows::{bind_all, text, ts};
use crate::sql::{map_err, Backend, SqlStore, SqlTx};
use crate::Result;
use async_trait::async_trait;
use domain::Timestamp;
use sqlx::Row;

/// A stored result of an idempotent write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub id: String,
    pub request_hash: String,
    pub response_sealed: Vec<u8>,
    pub response_kv: i64,
    pub created_at: Timestamp,
}

/// Idempotency reads outside a transaction.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn idempotency(&self, id: &str) -> Result<Option<IdempotencyRecord>>;
    /// Deletes up to `limit` records created before `created_before`, oldest first, and says how
    /// many it deleted. Concurrent calls delete disjoint rows and never wait for each other.
    /// Not an audited change (housekeeping: see ARCHITECTURE.md, "What is audited").
    async fn delete_expired_idempotency(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<u64>;
}

/// Idempotency writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait IdempotencyWrites: Send {
    /// Stores the replayable result of an idempotent write, replacing an expired record (one
    /// created before `expired_before`) under the same id. A concurrent duplicate fails with
    /// [`crate::StoreError::Conflict`] (on PostgreSQL it first waits for the other to finish).
    async fn put_idempotency(
        &mut self,
        r: &IdempotencyRecord,
        expired_before: Timestamp,
    ) -> Result<()>;
}

#[async_trait]
impl IdempotencyStore for SqlStore {
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

    async fn delete_expired_idempotency(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<u64> {
        // On PostgreSQL, rows another sweep is deleting are skipped rather than waited for.
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let q = format!(
            "DELETE FROM idempotency WHERE id IN (SELECT id FROM idempotency WHERE created_at < $1 ORDER BY created_at LIMIT $2{skip_locked})"
        );
        let r = sqlx::query(&q)
            .bind(created_before.millis())
            .bind(i64::from(limit))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
}

#[async_trait]
impl IdempotencyWrites for SqlTx {
    async fn put_idempotency(
        &mut self,
        r: &IdempotencyRecord,
        expired_before: Timestamp,
    ) -> Result<()> {
        // An expired record under the same key is replaced.
        self.exec(
            "DELETE FROM idempotency WHERE id = $1 AND created_at < $2",
            bind_all!(r.id.clone(), expired_before.millis()),
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
}
