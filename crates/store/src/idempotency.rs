//! Idempotency records: the stored, sealed result of an idempotent write, replayed on a retry.

use crate::sql::rows::{bind_all, text, ts};
use crate::sql::{map_err, SqlStore, SqlTx};
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
}

/// Idempotency writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait IdempotencyWrites: Send {
    /// Stores the replayable result of an idempotent write. A concurrent duplicate fails with
    /// [`crate::StoreError::Conflict`] (on PostgreSQL it first waits for the other to finish).
    async fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()>;
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
}

#[async_trait]
impl IdempotencyWrites for SqlTx {
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
}
