//! The audit trail and change feed: filtered reads, chain-order reads for verification, the
//! chain's tip and the feed. Appending happens only in [`crate::WriteTx::commit`].

use crate::sql::rows::{json_col, opt_text, page_cut, text, ts, Sql};
use crate::sql::{map_err, SqlStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::model::{AuditFilter, Page};
use domain::{ActorType, Timestamp};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A committed change, as the change feed serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub ts: Timestamp,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
}

/// Audit trail and change-feed reads.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, f: &AuditFilter, limit: u32) -> Result<Page<AuditEvent>>;
    /// Events in chain order with `seq > after`, at most `limit`.
    async fn audit_chain(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>>;
    /// The chain's tip: (seq, hash) of the last committed event.
    async fn audit_head(&self) -> Result<(i64, String)>;
    async fn changes_after(&self, cursor: i64, limit: u32) -> Result<Vec<Change>>;
}

pub(crate) const AUDIT_COLUMNS: &str = "seq, id, ts, actor_id, actor_name, actor_type, entity_type, entity_id, action, before, after, ip, ua, prev_hash, hash, request_id";

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

#[async_trait]
impl AuditStore for SqlStore {
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
}
