//! The write transaction: [`WriteTx`], the audit batch it must present to commit, and the SQL
//! commit that appends the audit events and change-feed entries. The one way to make a change
//! durable.

use crate::analytics::AnalyticsWrites;
use crate::analytics_funnels::FunnelWrites;
use crate::analytics_usage::UsageWrites;
use crate::audit::AUDIT_COLUMNS;
use crate::clients::ClientWrites;
use crate::idempotency::IdempotencyWrites;
use crate::incidents::IncidentWrites;
use crate::integrations::IntegrationWrites;
use crate::jobs::JobWrites;
use crate::keys::KeyWrites;
use crate::oidc::OidcWrites;
use crate::secrets::SecretWrites;
use crate::sql::rows::{bind_all, rows_per_statement, text, Sql};
use crate::sql::{map_err, Backend, SqlTx};
use crate::sync::SyncWrites;
use crate::sync_batch::SyncBatchWrites;
use crate::Result;
use async_trait::async_trait;
use domain::audit::{AuditDraft, AuditEvent};
use sqlx::Row;
use uuid::Uuid;

/// A write in progress: every capability's writes. Dropping it rolls back. The only way to make
/// its changes durable is [`WriteTx::commit`], which takes the audit events of the write: a change
/// without its audit trail cannot be committed.
#[async_trait]
pub trait WriteTx:
    KeyWrites
    + OidcWrites
    + IntegrationWrites
    + ClientWrites
    + IncidentWrites
    + JobWrites
    + IdempotencyWrites
    + SecretWrites
    + SyncWrites
    + SyncBatchWrites
    + AnalyticsWrites
    + UsageWrites
    + FunnelWrites
    + Send
{
    /// Appends the audit events and change-feed entries, then commits everything atomically.
    async fn commit(self: Box<Self>, audit: AuditBatch) -> Result<Vec<AuditEvent>>;
}

/// One or more audit drafts: never empty, by construction.
#[derive(Debug, Clone)]
pub struct AuditBatch {
    first: AuditDraft,
    rest: Vec<AuditDraft>,
}

impl AuditBatch {
    pub fn one(d: AuditDraft) -> Self {
        AuditBatch {
            first: d,
            rest: Vec::new(),
        }
    }
    pub fn many(first: AuditDraft, rest: Vec<AuditDraft>) -> Self {
        AuditBatch { first, rest }
    }
    /// Builds a batch from a list; `None` when it is empty.
    pub fn from_vec(mut v: Vec<AuditDraft>) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        let first = v.remove(0);
        Some(AuditBatch { first, rest: v })
    }
    pub fn into_vec(self) -> Vec<AuditDraft> {
        let mut v = Vec::with_capacity(1 + self.rest.len());
        v.push(self.first);
        v.extend(self.rest);
        v
    }
}

#[async_trait]
impl WriteTx for SqlTx {
    async fn commit(mut self: Box<Self>, audit: AuditBatch) -> Result<Vec<AuditEvent>> {
        let drafts = audit.into_vec();
        let n = drafts.len() as i64;
        // Lock the chain's tip. Held until commit, so commits are numbered in commit order. On
        // PostgreSQL the tip is the owner's: locked through its definer function and moved by
        // the trigger that checks each inserted event continues the chain (the runtime role may
        // not write it). On SQLite (one local user) it is moved here.
        let postgres = self.backend == Backend::Postgres;
        let head = if postgres {
            sqlx::query("SELECT head_seq + $1 AS seq, head_hash AS hash FROM audit_lock_head()")
        } else {
            sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        }
        .bind(n)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(map_err)?;
        let last_seq: i64 = head.try_get("seq").map_err(map_err)?;
        let mut prev = text(&head, "hash")?;
        let mut events = Vec::with_capacity(drafts.len());
        for (i, d) in drafts.into_iter().enumerate() {
            let seq = last_seq - n + 1 + i as i64;
            let e = AuditEvent::chain(
                d,
                &self.actor,
                seq,
                Uuid::new_v4().to_string(),
                self.now,
                &prev,
            );
            prev = e.hash.clone();
            events.push(e);
        }
        // Many rows per statement (a sync push commits hundreds of events): rows are inserted
        // in order, so the chain's trigger sees each continue the one before.
        for chunk in events.chunks(rows_per_statement(self.backend, 16)) {
            let mut sql = Sql::new(&format!(
                "INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES "
            ));
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let marks = [
                    sql.bind(e.seq),
                    sql.bind(e.id.clone()),
                    sql.bind(e.ts.millis()),
                    sql.bind(e.actor_id.clone()),
                    sql.bind(e.actor_name.clone()),
                    sql.bind(e.actor_type.as_str().to_string()),
                    sql.bind(e.entity_type.clone()),
                    sql.bind(e.entity_id.clone()),
                    sql.bind(e.action.clone()),
                    sql.bind(e.before.as_ref().map(|v| v.to_string())),
                    sql.bind(e.after.as_ref().map(|v| v.to_string())),
                    sql.bind(e.ip.clone()),
                    sql.bind(e.ua.clone()),
                    sql.bind(e.prev_hash.clone()),
                    sql.bind(e.hash.clone()),
                    sql.bind(e.request_id.clone()),
                ];
                rows.push(format!("({})", marks.join(", ")));
            }
            sql.push(&rows.join(", "));
            let (text, args) = sql.query();
            self.exec(&text, args).await?;
            let mut sql = Sql::new(
                "INSERT INTO change_feed (seq, ts, entity_type, entity_id, action) VALUES ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let marks = [
                    sql.bind(e.seq),
                    sql.bind(e.ts.millis()),
                    sql.bind(e.entity_type.clone()),
                    sql.bind(e.entity_id.clone()),
                    sql.bind(e.action.clone()),
                ];
                rows.push(format!("({})", marks.join(", ")));
            }
            sql.push(&rows.join(", "));
            let (text, args) = sql.query();
            self.exec(&text, args).await?;
        }
        if !postgres {
            self.exec(
                "UPDATE audit_head SET hash = $1 WHERE id = 1",
                bind_all!(prev),
            )
            .await?;
        }
        self.tx.commit().await.map_err(map_err)?;
        Ok(events)
    }
}
