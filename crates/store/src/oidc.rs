//! OIDC configurations: reads and writes of `oidc_configs` (the client secret stays sealed).

use crate::secrets::sealed_kv;
use crate::sql::rows::{bind_all, must_change, text, ts, uuid};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::Result;
use async_trait::async_trait;
use domain::model::OidcRecord;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// OIDC configuration reads outside a transaction.
#[async_trait]
pub trait OidcStore: Send + Sync {
    async fn oidc_config(&self, id: Uuid) -> Result<Option<OidcRecord>>;
    async fn oidc_configs(&self) -> Result<Vec<OidcRecord>>;
}

/// OIDC configuration writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait OidcWrites: Send {
    async fn oidc_for_update(&mut self, id: Uuid) -> Result<Option<OidcRecord>>;
    async fn insert_oidc(&mut self, o: &OidcRecord) -> Result<()>;
    async fn update_oidc(&mut self, o: &OidcRecord) -> Result<()>;
    async fn delete_oidc(&mut self, id: Uuid) -> Result<()>;
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

#[async_trait]
impl OidcStore for SqlStore {
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
}

#[async_trait]
impl OidcWrites for SqlTx {
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
}
