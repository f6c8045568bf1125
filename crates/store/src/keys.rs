//! Federation keys: reads, usage telemetry and the overview's key counts, and the key writes.

use crate::sql::rows::{
    bind_all, like_pattern, make_cursor, must_change, opt_text, opt_ts, page_cut, text, ts,
    two_part_cursor, Sql,
};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::key::KeyId;
use domain::model::{KeyCounts, KeyFilter, KeyRecord, KeyStatus, Page};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Key-list query with the instant the status filters are evaluated at.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    pub filter: KeyFilter,
    pub now: Timestamp,
    pub limit: u32,
}

/// Key reads outside a transaction, and usage telemetry.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn key(&self, id: &KeyId) -> Result<Option<KeyRecord>>;
    /// Every key id (for the in-memory index that rejects unknown keys without a lookup).
    async fn key_ids(&self) -> Result<Vec<KeyId>>;
    async fn keys(&self, q: &KeyQuery) -> Result<Page<KeyRecord>>;
    /// Records usage telemetry: last use (time, IP) and `verifications` more uses on `at`'s day.
    /// Not an audited change: see ARCHITECTURE.md, "What is audited".
    async fn touch_key(
        &self,
        id: &KeyId,
        at: Timestamp,
        ip: Option<&str>,
        verifications: u64,
    ) -> Result<()>;
    async fn key_counts(&self, now: Timestamp) -> Result<KeyCounts>;
    /// Keys created and verifications per UTC day, for days `from_day..=to_day` (days since epoch).
    async fn key_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<(i64, u64, u64)>>;
}

/// Key writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait KeyWrites: Send {
    async fn key_for_update(&mut self, id: &KeyId) -> Result<Option<KeyRecord>>;
    async fn insert_key(&mut self, k: &KeyRecord) -> Result<()>;
    async fn update_key(&mut self, k: &KeyRecord) -> Result<()>;
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

#[async_trait]
impl KeyStore for SqlStore {
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
                KeyStatus::Active => {
                    let p = sql.bind(now);
                    format!(" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {p})")
                }
                KeyStatus::Revoked => " AND revoked_at IS NOT NULL".to_string(),
                KeyStatus::Expired => {
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
            let c = sql.bind(id);
            sql.push(&format!(" AND (created_at, id) < ({a}, {c})"));
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

    async fn key_counts(&self, now: Timestamp) -> Result<KeyCounts> {
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
        Ok(KeyCounts {
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
}

#[async_trait]
impl KeyWrites for SqlTx {
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
}
