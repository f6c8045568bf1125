//! Saved funnels and their daily snapshot: for each funnel, day and subject that entered it that
//! day, how far the subject went and how fast (`domain::analytics::Progress`). A period's report
//! merges a subject's days (`domain::analytics::merge`), so it equals an ad-hoc run exactly.

use crate::analytics::{col, day_of, from_json, int, json, uuid_of};
use crate::sql::rows::{text, ts};
use crate::sql::{map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::analytics::{Day, FunnelSpec};
use domain::model::analytics::{FunnelSubject, SavedFunnel};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// Snapshot rows per insert statement (one JSON parameter).
const ROWS_PER_STATEMENT: usize = 5_000;

/// One subject's progress through a saved funnel, entering on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelRow {
    pub day: Day,
    pub org_id: Uuid,
    /// The organisation, or the organisation and user (`"<org> <user>"`).
    pub subject: String,
    pub depth: u32,
    /// The fastest time to each step reached, milliseconds (`times[0]` is 0).
    pub times: Vec<i64>,
}

/// Reads of saved funnels.
#[async_trait]
pub trait FunnelStore: Send + Sync {
    /// Every saved funnel, by name.
    async fn funnels(&self) -> Result<Vec<SavedFunnel>>;
    async fn funnel(&self, id: Uuid) -> Result<Option<SavedFunnel>>;
    /// The snapshot rows of `id` over `[from, to]`, by subject then day (one organisation's
    /// only, when asked).
    async fn funnel_rows(
        &self,
        id: Uuid,
        org: Option<Uuid>,
        from: Day,
        to: Day,
    ) -> Result<Vec<FunnelRow>>;
}

/// Writes of saved funnels, inside a [`crate::WriteTx`].
#[async_trait]
pub trait FunnelWrites: Send {
    /// Stores a new funnel (a name already used is a conflict).
    async fn insert_funnel(&mut self, f: &SavedFunnel) -> Result<()>;
    /// Deletes a funnel and its snapshot; false when there was none.
    async fn delete_funnel(&mut self, id: Uuid) -> Result<bool>;
    /// Replaces the snapshot of `id` over `[from, to]` with `rows`, and records `to` as its
    /// last day; false (writing nothing) when the funnel was deleted meanwhile.
    async fn put_funnel_days(
        &mut self,
        id: Uuid,
        from: Day,
        to: Day,
        rows: &[FunnelRow],
    ) -> Result<bool>;
}

fn subject_name(s: FunnelSubject) -> &'static str {
    match s {
        FunnelSubject::User => "user",
        FunnelSubject::Org => "org",
    }
}

fn funnel_of(r: &AnyRow) -> Result<SavedFunnel> {
    let spec: FunnelSpec = serde_json::from_str(&text(r, "spec")?)
        .map_err(|e| StoreError::Internal(format!("bad funnel spec: {e}")))?;
    let by = match text(r, "subject")?.as_str() {
        "user" => FunnelSubject::User,
        "org" => FunnelSubject::Org,
        other => return Err(StoreError::Internal(format!("bad funnel subject {other}"))),
    };
    let snapshot_to: Option<i64> = r.try_get("snapshot_to").map_err(map_err)?;
    Ok(SavedFunnel {
        id: uuid_of(r, "id")?,
        name: text(r, "name")?,
        spec,
        by,
        created_at: ts(r, "created_at")?,
        created_by: text(r, "created_by")?,
        snapshot_to: snapshot_to
            .map(|d| {
                i32::try_from(d)
                    .ok()
                    .and_then(Day::from_days)
                    .ok_or_else(|| StoreError::Internal(format!("bad day {d}")))
            })
            .transpose()?,
    })
}

const FUNNEL_COLUMNS: &str = "id, name, spec, subject, created_at, created_by, snapshot_to";

fn times_of(text_: &str) -> Result<Vec<i64>> {
    if text_.is_empty() {
        return Ok(Vec::new());
    }
    text_
        .split(',')
        .map(|t| {
            t.parse()
                .map_err(|_| StoreError::Internal(format!("bad funnel times {text_:?}")))
        })
        .collect()
}

#[async_trait]
impl FunnelStore for SqlStore {
    async fn funnels(&self) -> Result<Vec<SavedFunnel>> {
        let sql = format!("SELECT {FUNNEL_COLUMNS} FROM analytics_funnels ORDER BY name, id");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(funnel_of).collect()
    }

    async fn funnel(&self, id: Uuid) -> Result<Option<SavedFunnel>> {
        let sql = format!("SELECT {FUNNEL_COLUMNS} FROM analytics_funnels WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(funnel_of).transpose()
    }

    async fn funnel_rows(
        &self,
        id: Uuid,
        org: Option<Uuid>,
        from: Day,
        to: Day,
    ) -> Result<Vec<FunnelRow>> {
        let sql = format!(
            "SELECT day, org_id, subject, depth, times FROM analytics_funnel_days \
             WHERE funnel_id = $1 AND day >= $2 AND day <= $3{} ORDER BY subject, day",
            org.map_or("", |_| " AND org_id = $4")
        );
        let mut q = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(i64::from(from.days()))
            .bind(i64::from(to.days()));
        if let Some(org) = org {
            q = q.bind(org.to_string());
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let depth: i64 = r.try_get("depth").map_err(map_err)?;
                Ok(FunnelRow {
                    day: day_of(r, "day")?,
                    org_id: uuid_of(r, "org_id")?,
                    subject: text(r, "subject")?,
                    depth: u32::try_from(depth)
                        .map_err(|_| StoreError::Internal(format!("bad depth {depth}")))?,
                    times: times_of(&text(r, "times")?)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl FunnelWrites for SqlTx {
    async fn insert_funnel(&mut self, f: &SavedFunnel) -> Result<()> {
        let spec = json(&f.spec)?;
        sqlx::query(
            "INSERT INTO analytics_funnels (id, name, spec, subject, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(f.id.to_string())
        .bind(f.name.clone())
        .bind(spec)
        .bind(subject_name(f.by))
        .bind(f.created_at.millis())
        .bind(f.created_by.clone())
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_funnel(&mut self, id: Uuid) -> Result<bool> {
        sqlx::query("DELETE FROM analytics_funnel_days WHERE funnel_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        let done = sqlx::query("DELETE FROM analytics_funnels WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_funnel_days(
        &mut self,
        id: Uuid,
        from: Day,
        to: Day,
        rows: &[FunnelRow],
    ) -> Result<bool> {
        let (a, b) = (i64::from(from.days()), i64::from(to.days()));
        // First: the funnel's row is held from here, so a delete waits for this snapshot.
        let kept = sqlx::query("UPDATE analytics_funnels SET snapshot_to = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(b)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        if kept.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM analytics_funnel_days WHERE funnel_id = $1 AND day >= $2 AND day <= $3",
        )
        .bind(id.to_string())
        .bind(a)
        .bind(b)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<(i64, String, String, i64, String)> = chunk
                .iter()
                .map(|r| {
                    let times: Vec<String> = r.times.iter().map(i64::to_string).collect();
                    (
                        i64::from(r.day.days()),
                        r.org_id.to_string(),
                        r.subject.clone(),
                        i64::from(r.depth),
                        times.join(","),
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO analytics_funnel_days (funnel_id, day, org_id, subject, depth, times) \
                 SELECT $2, {}, {}, {}, {}, {} FROM {}",
                int(0),
                col(1),
                col(2),
                int(3),
                col(4),
                from_json(self.backend)
            );
            sqlx::query(&sql)
                .bind(json(&values)?)
                .bind(id.to_string())
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        }
        Ok(true)
    }
}
