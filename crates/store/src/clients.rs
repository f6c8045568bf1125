//! Clients (tenants): reads, the overview's client count, and the client writes.

use crate::sql::rows::{
    bind_all, like_pattern, make_cursor, must_change, page_cut, text, ts, two_part_cursor, uuid,
    Sql,
};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::Result;
use async_trait::async_trait;
use domain::model::{Client, ClientFilter, Page};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// Client reads outside a transaction.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Number of clients.
    async fn client_count(&self) -> Result<u64>;
    async fn client(&self, id: Uuid) -> Result<Option<Client>>;
    async fn clients(&self, f: &ClientFilter, limit: u32) -> Result<Page<Client>>;
}

/// Client writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait ClientWrites: Send {
    async fn client_for_update(&mut self, id: Uuid) -> Result<Option<Client>>;
    async fn insert_client(&mut self, c: &Client) -> Result<()>;
    async fn update_client(&mut self, c: &Client) -> Result<()>;
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

#[async_trait]
impl ClientStore for SqlStore {
    async fn client_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM clients")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.try_get::<i64, _>("n").map_err(map_err)? as u64)
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
            let a = sql.bind(name);
            let c = sql.bind(id);
            sql.push(&format!(" AND (lower(name), id) > ({a}, {c})"));
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
}

#[async_trait]
impl ClientWrites for SqlTx {
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
}
