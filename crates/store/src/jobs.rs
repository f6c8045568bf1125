//! Scheduled jobs: the leader lease (a PostgreSQL session advisory lock), what each job last
//! did, and the webhook delivery queue. Job bookkeeping and delivery attempts are operational
//! records, written outside the audited `WriteTx` (like a key's last use): what a job changes in
//! the product (an escalation on an incident's timeline) goes through `WriteTx` and is audited.

use crate::sql::rows::{bind_all, opt_text, opt_ts, text, ts, uuid};
use crate::sql::{map_err, Backend, SqlStore, SqlTx};
use crate::Result;
use async_trait::async_trait;
use domain::model::DeliveryCounts;
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};
use uuid::Uuid;

/// What a job last did, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRecord {
    pub name: String,
    pub last_started_at: Option<Timestamp>,
    pub last_finished_at: Option<Timestamp>,
    pub last_outcome: Option<String>,
    pub last_summary: Option<String>,
    pub runs: i64,
    pub last_runner: Option<String>,
}

/// A webhook delivery to attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The `webhook-id` of every attempt.
    pub id: Uuid,
    pub incident_id: Uuid,
    pub step: u32,
    pub repeat: u32,
    pub url: String,
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status: u16,
    },
    /// Failed; `retry_at` none gives up.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// Leadership of one job: held while this value lives (PostgreSQL: a session advisory lock on
/// a connection of its own, released when the connection closes — also when the process is
/// killed; SQLite: one process owns the file, so always granted).
#[derive(Debug)]
pub struct Lease {
    conn: Option<AnyConnection>,
}

impl Lease {
    /// Whether the lease still holds (its connection answers).
    pub async fn alive(&mut self) -> bool {
        match &mut self.conn {
            None => true,
            Some(c) => c.ping().await.is_ok(),
        }
    }

    /// Gives leadership up now.
    pub async fn release(mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.close().await;
        }
    }
}

/// The advisory-lock key of a job: a stable 63-bit number from its name (FNV-1a).
fn lock_key(job: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("provider-admin/job/{job}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 1) as i64
}

/// Job bookkeeping outside a transaction.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Leadership of `job` if no other process holds it.
    async fn try_lead(&self, job: &str) -> Result<Option<Lease>>;
    async fn job_runs(&self) -> Result<Vec<JobRunRecord>>;
    async fn record_job_start(&self, job: &str, at: Timestamp, runner: &str) -> Result<()>;
    async fn record_job_end(
        &self,
        job: &str,
        at: Timestamp,
        outcome: &str,
        summary: &str,
    ) -> Result<()>;
    /// Deliveries due by `now`, oldest first.
    async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>>;
    /// Takes a delivery for an attempt: only one runner wins it (compare-and-set on
    /// `next_attempt_at`), and it is not due again before `until` should the runner die.
    async fn claim_delivery(&self, d: &Delivery, until: Timestamp) -> Result<bool>;
    async fn finish_attempt(&self, id: Uuid, at: Timestamp, outcome: &AttemptOutcome)
        -> Result<()>;
    async fn delivery_counts(&self) -> Result<DeliveryCounts>;
}

fn delivery_from_row(r: &AnyRow) -> Result<Delivery> {
    let int = |c: &str| -> Result<u32> {
        Ok(u32::try_from(r.try_get::<i64, _>(c).map_err(map_err)?).unwrap_or(0))
    };
    Ok(Delivery {
        id: uuid(r, "id")?,
        incident_id: uuid(r, "incident_id")?,
        step: int("step")?,
        repeat: int("repeat")?,
        url: text(r, "url")?,
        payload: text(r, "payload")?,
        attempts: int("attempts")?,
        next_attempt_at: ts(r, "next_attempt_at")?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, incident_id, step, repeat, url, payload, attempts, next_attempt_at";

#[async_trait]
impl JobStore for SqlStore {
    async fn try_lead(&self, job: &str) -> Result<Option<Lease>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Lease { conn: None }));
        }
        // A pooled connection: a follower that does not win gives it back (it holds nothing),
        // so polling costs no new connection; the winner takes it out of the pool for the lease.
        let mut pooled = self.pool.acquire().await.map_err(map_err)?;
        let row = sqlx::query("SELECT pg_try_advisory_lock($1) AS held")
            .bind(lock_key(job))
            .fetch_one(&mut *pooled)
            .await
            .map_err(map_err)?;
        if !row.try_get::<bool, _>("held").map_err(map_err)? {
            return Ok(None);
        }
        let mut conn = pooled.detach();
        // Should the leader's host vanish without closing its socket, PostgreSQL drops the session
        // — and the lock with it — after ~25 s of silence instead of the OS default of hours.
        // (Unix-socket sessions ignore these settings; a dead local process closes its socket.)
        for set in [
            "SET tcp_keepalives_idle = 10",
            "SET tcp_keepalives_interval = 5",
            "SET tcp_keepalives_count = 3",
        ] {
            sqlx::query(set).execute(&mut conn).await.map_err(map_err)?;
        }
        Ok(Some(Lease { conn: Some(conn) }))
    }

    async fn job_runs(&self) -> Result<Vec<JobRunRecord>> {
        let rows = sqlx::query(
            "SELECT name, last_started_at, last_finished_at, last_outcome, last_summary, runs, last_runner FROM job_runs ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(JobRunRecord {
                    name: text(r, "name")?,
                    last_started_at: opt_ts(r, "last_started_at")?,
                    last_finished_at: opt_ts(r, "last_finished_at")?,
                    last_outcome: opt_text(r, "last_outcome")?,
                    last_summary: opt_text(r, "last_summary")?,
                    runs: r.try_get::<i64, _>("runs").map_err(map_err)?,
                    last_runner: opt_text(r, "last_runner")?,
                })
            })
            .collect()
    }

    async fn record_job_start(&self, job: &str, at: Timestamp, runner: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_runs (name, last_started_at, runs, last_runner) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (name) DO UPDATE SET last_started_at = excluded.last_started_at, \
             runs = job_runs.runs + 1, last_runner = excluded.last_runner",
        )
        .bind(job.to_string())
        .bind(at.millis())
        .bind(runner.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn record_job_end(
        &self,
        job: &str,
        at: Timestamp,
        outcome: &str,
        summary: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET last_finished_at = $1, last_outcome = $2, last_summary = $3 WHERE name = $4",
        )
        .bind(at.millis())
        .bind(outcome.to_string())
        .bind(summary.to_string())
        .bind(job.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn claim_delivery(&self, d: &Delivery, until: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 \
             WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL AND failed_at IS NULL",
        )
        .bind(until.millis())
        .bind(d.id.to_string())
        .bind(d.next_attempt_at.millis())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn finish_attempt(
        &self,
        id: Uuid,
        at: Timestamp,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        let q = match outcome {
            AttemptOutcome::Delivered { status } => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = $1, \
                 last_status = $2, last_error = NULL WHERE id = $3",
            )
            .bind(at.millis())
            .bind(i64::from(*status))
            .bind(id.to_string()),
            AttemptOutcome::Failed {
                status,
                error,
                retry_at,
            } => sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, \
                 next_attempt_at = COALESCE($3, next_attempt_at), \
                 failed_at = CASE WHEN $4 = 1 THEN $5 ELSE NULL END WHERE id = $6",
            )
            .bind(status.map(i64::from))
            .bind(error.clone())
            .bind(retry_at.map(Timestamp::millis))
            .bind(i64::from(retry_at.is_none()))
            .bind(at.millis())
            .bind(id.to_string()),
        };
        q.execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn delivery_counts(&self) -> Result<DeliveryCounts> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
               COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered, \
               COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed \
             FROM webhook_deliveries",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        let n = |c: &str| -> Result<u64> { Ok(u64::try_from(r_i64(&row, c)?).unwrap_or(0)) };
        Ok(DeliveryCounts {
            pending: n("pending")?,
            delivered: n("delivered")?,
            failed: n("failed")?,
        })
    }
}

/// A SUM is NUMERIC on PostgreSQL and INTEGER on SQLite: read either as an i64.
fn r_i64(r: &AnyRow, col: &str) -> Result<i64> {
    r.try_get::<i64, _>(col)
        .or_else(|_| {
            r.try_get::<String, _>(col)
                .map(|s| s.parse::<f64>().unwrap_or(0.0) as i64)
        })
        .map_err(map_err)
}

/// Escalation bookkeeping inside the transaction that records the escalation.
#[async_trait]
pub trait JobWrites: Send {
    /// Records that step `step`'s `repeat` of an incident was notified; `false` when it already
    /// was (another run, another instance): the caller records nothing then.
    async fn record_notification(
        &mut self,
        incident: Uuid,
        step: u32,
        repeat: u32,
        event_id: Uuid,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Queues a webhook delivery, due now.
    async fn queue_delivery(&mut self, d: &Delivery, now: Timestamp) -> Result<()>;
}

#[async_trait]
impl JobWrites for SqlTx {
    async fn record_notification(
        &mut self,
        incident: Uuid,
        step: u32,
        repeat: u32,
        event_id: Uuid,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let n = self
            .exec(
                "INSERT INTO incident_notifications (incident_id, step, repeat, event_id, due_at, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (incident_id, step, repeat) DO NOTHING",
                bind_all!(
                    incident.to_string(),
                    i64::from(step),
                    i64::from(repeat),
                    event_id.to_string(),
                    due_at.millis(),
                    now.millis()
                ),
            )
            .await?;
        Ok(n == 1)
    }

    async fn queue_delivery(&mut self, d: &Delivery, now: Timestamp) -> Result<()> {
        self.exec(
            "INSERT INTO webhook_deliveries (id, incident_id, step, repeat, url, payload, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) ON CONFLICT (incident_id, step, repeat, url) DO NOTHING",
            bind_all!(
                d.id.to_string(),
                d.incident_id.to_string(),
                i64::from(d.step),
                i64::from(d.repeat),
                d.url.clone(),
                d.payload.clone(),
                d.next_attempt_at.millis(),
                now.millis()
            ),
        )
        .await?;
        Ok(())
    }
}
