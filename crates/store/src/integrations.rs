//! Integrations: reads and writes of `integrations` (the config stays sealed).

use crate::secrets::sealed_kv;
use crate::sql::rows::{bind_all, must_change, opt_text, opt_ts, text, ts, uuid};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::model::{IntegrationRecord, IntegrationStatus};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// Integration reads outside a transaction.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn integration(&self, id: Uuid) -> Result<Option<IntegrationRecord>>;
    async fn integrations(&self) -> Result<Vec<IntegrationRecord>>;
}

/// Integration writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait IntegrationWrites: Send {
    async fn integration_for_update(&mut self, id: Uuid) -> Result<Option<IntegrationRecord>>;
    async fn insert_integration(&mut self, i: &IntegrationRecord) -> Result<()>;
    async fn update_integration(&mut self, i: &IntegrationRecord) -> Result<()>;
    async fn delete_integration(&mut self, id: Uuid) -> Result<()>;
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

#[async_trait]
impl IntegrationStore for SqlStore {
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
}

#[async_trait]
impl IntegrationWrites for SqlTx {
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
}
