//! Sync, upstream: the last mutation applied per device and every pushed mutation's outcome
//! (inside the push's [`crate::WriteTx`]), and the savepoints that let one mutation of a batch
//! fail without taking the others down. The device's side is `replica.rs`.

use crate::sql::rows::{bind_all, rows_per_statement, text, Sql};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::model::{MutationOutcome, MutationResult};
use domain::Timestamp;
use sqlx::Row;
use uuid::Uuid;

/// A device known upstream: who pushes with it and the last mutation applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncClient {
    pub actor_id: String,
    pub last_mutation_id: i64,
}

/// Sync reads outside a transaction.
#[async_trait]
pub trait SyncStore: Send + Sync {
    async fn sync_client(&self, client_id: Uuid) -> Result<Option<SyncClient>>;
}

/// Sync writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait SyncWrites: Send {
    /// The device's row, locked until commit (PostgreSQL): pushes of one device run one at a
    /// time.
    async fn sync_client_for_update(&mut self, client_id: Uuid) -> Result<Option<SyncClient>>;
    async fn put_sync_client(
        &mut self,
        client_id: Uuid,
        client: &SyncClient,
        now: Timestamp,
    ) -> Result<()>;
    /// The recorded outcomes of the device's mutations `from..=to`, in order.
    async fn sync_results(
        &mut self,
        client_id: Uuid,
        from: i64,
        to: i64,
    ) -> Result<Vec<MutationResult>>;
    /// Records pushed mutations' outcomes (with the event each made or would have made).
    async fn record_sync_results(
        &mut self,
        client_id: Uuid,
        results: &[(MutationResult, Uuid)],
        now: Timestamp,
    ) -> Result<()>;
    /// The events this device's applied mutations made on one incident.
    async fn own_sync_events(&mut self, client_id: Uuid, incident_id: Uuid) -> Result<Vec<Uuid>>;
    /// Marks a point the transaction can return to ([`SyncWrites::rollback_to_savepoint`]).
    async fn savepoint(&mut self) -> Result<()>;
    /// Undoes everything since the savepoint (which stays usable); the transaction goes on.
    async fn rollback_to_savepoint(&mut self) -> Result<()>;
    async fn release_savepoint(&mut self) -> Result<()>;
}

const SAVEPOINT: &str = "sync_mutation";

#[async_trait]
impl SyncStore for SqlStore {
    async fn sync_client(&self, client_id: Uuid) -> Result<Option<SyncClient>> {
        let row =
            sqlx::query("SELECT actor_id, last_mutation_id FROM sync_clients WHERE client_id = $1")
                .bind(client_id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.map(|r| {
            Ok(SyncClient {
                actor_id: text(&r, "actor_id")?,
                last_mutation_id: r.try_get("last_mutation_id").map_err(map_err)?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl SyncWrites for SqlTx {
    async fn sync_client_for_update(&mut self, client_id: Uuid) -> Result<Option<SyncClient>> {
        let q = format!(
            "SELECT actor_id, last_mutation_id FROM sync_clients WHERE client_id = '{client_id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q)
            .await?
            .map(|r| {
                Ok(SyncClient {
                    actor_id: text(&r, "actor_id")?,
                    last_mutation_id: r.try_get("last_mutation_id").map_err(map_err)?,
                })
            })
            .transpose()
    }

    async fn put_sync_client(
        &mut self,
        client_id: Uuid,
        client: &SyncClient,
        now: Timestamp,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO sync_clients (client_id, actor_id, last_mutation_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE SET \
             last_mutation_id = excluded.last_mutation_id, updated_at = excluded.updated_at",
            bind_all!(
                client_id.to_string(),
                client.actor_id.clone(),
                client.last_mutation_id,
                now.millis(),
                now.millis()
            ),
        )
        .await?;
        Ok(())
    }

    async fn sync_results(
        &mut self,
        client_id: Uuid,
        from: i64,
        to: i64,
    ) -> Result<Vec<MutationResult>> {
        let rows = sqlx::query_with(
            "SELECT mutation_id, incident_id, outcome FROM sync_results \
             WHERE client_id = $1 AND mutation_id >= $2 AND mutation_id <= $3 ORDER BY mutation_id",
            bind_all!(client_id.to_string(), from, to),
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let outcome: MutationOutcome = serde_json::from_str(&text(r, "outcome")?)
                    .map_err(|e| StoreError::Internal(format!("bad sync outcome: {e}")))?;
                Ok(MutationResult {
                    mutation_id: r.try_get("mutation_id").map_err(map_err)?,
                    incident_id: Uuid::parse_str(&text(r, "incident_id")?)
                        .map_err(|e| StoreError::Internal(format!("bad incident id: {e}")))?,
                    outcome,
                })
            })
            .collect()
    }

    async fn record_sync_results(
        &mut self,
        client_id: Uuid,
        results: &[(MutationResult, Uuid)],
        now: Timestamp,
    ) -> Result<()> {
        for chunk in results.chunks(rows_per_statement(self.backend, 6)) {
            let mut sql = Sql::new(
                "INSERT INTO sync_results (client_id, mutation_id, incident_id, event_id, outcome, recorded_at) VALUES ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for (result, event_id) in chunk {
                let outcome = serde_json::to_string(&result.outcome)
                    .map_err(|e| StoreError::Internal(format!("sync outcome: {e}")))?;
                let marks = [
                    sql.bind(client_id.to_string()),
                    sql.bind(result.mutation_id),
                    sql.bind(result.incident_id.to_string()),
                    sql.bind(event_id.to_string()),
                    sql.bind(outcome),
                    sql.bind(now.millis()),
                ];
                rows.push(format!("({})", marks.join(", ")));
            }
            sql.push(&rows.join(", "));
            let (text, args) = sql.query();
            self.exec(&text, args).await?;
        }
        Ok(())
    }

    async fn own_sync_events(&mut self, client_id: Uuid, incident_id: Uuid) -> Result<Vec<Uuid>> {
        let rows = sqlx::query_with(
            "SELECT event_id, outcome FROM sync_results WHERE incident_id = $1 AND client_id = $2",
            bind_all!(incident_id.to_string(), client_id.to_string()),
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        let mut own = Vec::with_capacity(rows.len());
        for r in &rows {
            let outcome: MutationOutcome = serde_json::from_str(&text(r, "outcome")?)
                .map_err(|e| StoreError::Internal(format!("bad sync outcome: {e}")))?;
            if matches!(outcome, MutationOutcome::Applied { .. }) {
                own.push(
                    Uuid::parse_str(&text(r, "event_id")?)
                        .map_err(|e| StoreError::Internal(format!("bad event id: {e}")))?,
                );
            }
        }
        Ok(own)
    }

    async fn savepoint(&mut self) -> Result<()> {
        sqlx::query(&format!("SAVEPOINT {SAVEPOINT}"))
            .persistent(false)
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        sqlx::query(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
            .persistent(false)
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::query(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
            .persistent(false)
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
