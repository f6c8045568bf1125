//! The write transaction: [`WriteTx`], the audit batch it must present to commit, and the SQL
//! commit that appends the audit events and change-feed entries. The one way to make a change
//! durable.

use crate::audit::AUDIT_COLUMNS;
use crate::clients::ClientWrites;
use crate::idempotency::IdempotencyWrites;
use crate::incidents::IncidentWrites;
use crate::integrations::IntegrationWrites;
use crate::jobs::JobWrites;
use crate::keys::KeyWrites;
use crate::oidc::OidcWrites;
use crate::secrets::SecretWrites;
use crate::sql::rows::{bind_all, text};
use crate::sql::{map_err, Backend, SqlTx};
use crate::sync::SyncWrites;
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
            let a = bind_all!(
                e.seq,
                e.id.clone(),
                e.ts.millis(),
                e.actor_id.clone(),
                e.actor_name.clone(),
                e.actor_type.as_str().to_string(),
                e.entity_type.clone(),
                e.entity_id.clone(),
                e.action.clone(),
                e.before.as_ref().map(|v| v.to_string()),
                e.after.as_ref().map(|v| v.to_string()),
                e.ip.clone(),
                e.ua.clone(),
                e.prev_hash.clone(),
                e.hash.clone(),
                e.request_id.clone(),
            );
            self.exec(&format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"), a).await?;
            let c = bind_all!(
                e.seq,
                e.ts.millis(),
                e.entity_type.clone(),
                e.entity_id.clone(),
                e.action.clone()
            );
            self.exec("INSERT INTO change_feed (seq, ts, entity_type, entity_id, action) VALUES ($1, $2, $3, $4, $5)", c).await?;
            events.push(e);
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
