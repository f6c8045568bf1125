//! Analytics from product events: the reads a refresh aggregates (distinct daily activity,
//! sign-ups), the usage snapshots it writes (growth per day, usage per organisation and feature
//! per day — aggregated in SQL, `INSERT … SELECT … GROUP BY`), the reads the charts make of them,
//! and the raw reads of an ad-hoc funnel.

use crate::analytics::{day_of, from_json, int, json, uuid_of};
use crate::sql::rows::text;
use crate::sql::{map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::analytics::events::{FEATURE_USED, SIGNUP};
use domain::analytics::{Actives, Day, FeatureUsage, GrowthDay, OrgUsage};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;
use sqlx::Row;
use uuid::Uuid;

/// Growth rows per insert statement (one JSON parameter).
const ROWS_PER_STATEMENT: usize = 5_000;

/// How a top list of features is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureOrder {
    Uses,
    Orgs,
}

/// One funnel-relevant event: its subject (organisation, or organisation and user), name, time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectEvent {
    pub subject: String,
    pub name: String,
    pub at: i64,
}

/// Reads of product events and their snapshots.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The distinct (day, organisation, user) of every event over `[from, to]`, by day (`user`
    /// is `None` for events of no user).
    async fn activity(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, Uuid, Option<String>)>>;
    /// `signup` events per day over `[from, to]` (days with none left out).
    async fn signups(&self, org: Option<Uuid>, from: Day, to: Day) -> Result<Vec<(Day, u32)>>;
    /// The day of the earliest event, if any.
    async fn first_event_day(&self) -> Result<Option<Day>>;
    /// The growth snapshot over `[from, to]`.
    async fn growth_days(&self, from: Day, to: Day) -> Result<Vec<GrowthDay>>;
    /// The last day of the growth snapshot.
    async fn growth_last_day(&self) -> Result<Option<Day>>;
    /// The most used features over `[from, to]`, from the snapshot.
    async fn top_features(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
        order: FeatureOrder,
        limit: u32,
    ) -> Result<Vec<FeatureUsage>>;
    /// The organisations with the most events over `[from, to]`, from the snapshot.
    async fn top_orgs_by_usage(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
        limit: u32,
    ) -> Result<Vec<OrgUsage>>;
    /// How many events named `names` happened in `[from_ms, to_ms)`.
    async fn count_named_events(
        &self,
        org: Option<Uuid>,
        names: &[String],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u64>;
    /// The events named `names` in `[from_ms, to_ms)`, by subject then time then arrival; the
    /// subject is the organisation (`by_org`) or the organisation and user (events of no user
    /// left out).
    async fn named_events(
        &self,
        org: Option<Uuid>,
        names: &[String],
        from_ms: i64,
        to_ms: i64,
        by_org: bool,
    ) -> Result<Vec<SubjectEvent>>;
}

/// Writes of the usage snapshots, inside a [`crate::WriteTx`].
#[async_trait]
pub trait UsageWrites: Send {
    /// Replaces the growth snapshot over `[from, to]` with `days`.
    async fn put_growth(&mut self, from: Day, to: Day, days: &[GrowthDay]) -> Result<()>;
    /// Recomputes the per-organisation and per-feature usage of the days `[from, to]` from the
    /// events.
    async fn rebuild_usage(&mut self, from: Day, to: Day) -> Result<()>;
}

fn count(r: &AnyRow, c: &str) -> Result<u32> {
    let n: i64 = r.try_get(c).map_err(map_err)?;
    u32::try_from(n).map_err(|_| StoreError::Internal(format!("bad {c}: {n}")))
}

fn big(r: &AnyRow, c: &str) -> Result<u64> {
    let n: i64 = r.try_get(c).map_err(map_err)?;
    u64::try_from(n).map_err(|_| StoreError::Internal(format!("bad {c}: {n}")))
}

fn span(from: Day, to: Day) -> (i64, i64) {
    (i64::from(from.days()), i64::from(to.days()))
}

/// `$k, $k+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` AND org_id = $k` when the read is about one organisation.
fn of_org(org: Option<Uuid>, k: usize) -> String {
    org.map_or(String::new(), |_| format!(" AND org_id = ${k}"))
}

/// Binds the organisation of [`of_org`], when there is one.
trait BindOrg {
    fn bind_org(self, org: Option<Uuid>) -> Self;
}

impl<'q> BindOrg for Query<'q, Any, AnyArguments<'q>> {
    fn bind_org(self, org: Option<Uuid>) -> Self {
        match org {
            Some(o) => self.bind(o.to_string()),
            None => self,
        }
    }
}

fn growth_from_row(r: &AnyRow) -> Result<GrowthDay> {
    Ok(GrowthDay {
        day: day_of(r, "day")?,
        signups: count(r, "signups")?,
        users: Actives {
            daily: count(r, "users_daily")?,
            weekly: count(r, "users_weekly")?,
            monthly: count(r, "users_monthly")?,
        },
        orgs: Actives {
            daily: count(r, "orgs_daily")?,
            weekly: count(r, "orgs_weekly")?,
            monthly: count(r, "orgs_monthly")?,
        },
    })
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn activity(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, Uuid, Option<String>)>> {
        let (a, b) = span(from, to);
        let sql = format!(
            "SELECT DISTINCT day, org_id, user_id FROM product_events \
             WHERE day >= $1 AND day <= $2{} ORDER BY day",
            of_org(org, 3)
        );
        let rows = sqlx::query(&sql)
            .bind(a)
            .bind(b)
            .bind_org(org)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    day_of(r, "day")?,
                    uuid_of(r, "org_id")?,
                    r.try_get::<Option<String>, _>("user_id").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn signups(&self, org: Option<Uuid>, from: Day, to: Day) -> Result<Vec<(Day, u32)>> {
        let (a, b) = span(from, to);
        let sql = format!(
            "SELECT day, COUNT(*) AS n FROM product_events \
             WHERE name = $1 AND day >= $2 AND day <= $3{} GROUP BY day ORDER BY day",
            of_org(org, 4)
        );
        let rows = sqlx::query(&sql)
            .bind(SIGNUP)
            .bind(a)
            .bind(b)
            .bind_org(org)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((day_of(r, "day")?, count(r, "n")?)))
            .collect()
    }

    async fn first_event_day(&self) -> Result<Option<Day>> {
        let row = sqlx::query("SELECT MIN(day) AS day FROM product_events")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        match row.try_get::<Option<i64>, _>("day").map_err(map_err)? {
            None => Ok(None),
            Some(_) => day_of(&row, "day").map(Some),
        }
    }

    async fn growth_days(&self, from: Day, to: Day) -> Result<Vec<GrowthDay>> {
        let (a, b) = span(from, to);
        let rows = sqlx::query(
            "SELECT day, signups, users_daily, users_weekly, users_monthly, orgs_daily, \
             orgs_weekly, orgs_monthly FROM analytics_growth_days \
             WHERE day >= $1 AND day <= $2 ORDER BY day",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(growth_from_row).collect()
    }

    async fn growth_last_day(&self) -> Result<Option<Day>> {
        let row = sqlx::query("SELECT MAX(day) AS day FROM analytics_growth_days")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        match row.try_get::<Option<i64>, _>("day").map_err(map_err)? {
            None => Ok(None),
            Some(_) => day_of(&row, "day").map(Some),
        }
    }

    async fn top_features(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
        order: FeatureOrder,
        limit: u32,
    ) -> Result<Vec<FeatureUsage>> {
        let (a, b) = span(from, to);
        let order = match order {
            FeatureOrder::Uses => "uses DESC, orgs DESC",
            FeatureOrder::Orgs => "orgs DESC, uses DESC",
        };
        let rows = sqlx::query(&format!(
            "SELECT feature, CAST(SUM(uses) AS BIGINT) AS uses, COUNT(DISTINCT org_id) AS orgs \
             FROM analytics_feature_days WHERE day >= $1 AND day <= $2{} \
             GROUP BY feature ORDER BY {order}, feature LIMIT $3",
            of_org(org, 4)
        ))
        .bind(a)
        .bind(b)
        .bind(i64::from(limit))
        .bind_org(org)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(FeatureUsage {
                    feature: text(r, "feature")?,
                    uses: big(r, "uses")?,
                    orgs: count(r, "orgs")?,
                })
            })
            .collect()
    }

    async fn top_orgs_by_usage(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
        limit: u32,
    ) -> Result<Vec<OrgUsage>> {
        let (a, b) = span(from, to);
        let sql = format!(
            "SELECT org_id, CAST(SUM(events) AS BIGINT) AS events, COUNT(*) AS active_days, \
             MAX(users) AS peak_users FROM analytics_org_days WHERE day >= $1 AND day <= $2{} \
             GROUP BY org_id ORDER BY events DESC, org_id LIMIT $3",
            of_org(org, 4)
        );
        let rows = sqlx::query(&sql)
            .bind(a)
            .bind(b)
            .bind(i64::from(limit))
            .bind_org(org)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(OrgUsage {
                    org_id: uuid_of(r, "org_id")?,
                    events: big(r, "events")?,
                    active_days: count(r, "active_days")?,
                    peak_users: count(r, "peak_users")?,
                })
            })
            .collect()
    }

    async fn count_named_events(
        &self,
        org: Option<Uuid>,
        names: &[String],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM product_events WHERE at >= $1 AND at < $2{} AND name IN ({})",
            of_org(org, 3),
            placeholders(3 + usize::from(org.is_some()), names.len())
        );
        let mut q = sqlx::query(&sql).bind(from_ms).bind(to_ms).bind_org(org);
        for n in names {
            q = q.bind(n.clone());
        }
        let row = q.fetch_one(&self.pool).await.map_err(map_err)?;
        big(&row, "n")
    }

    async fn named_events(
        &self,
        org: Option<Uuid>,
        names: &[String],
        from_ms: i64,
        to_ms: i64,
        by_org: bool,
    ) -> Result<Vec<SubjectEvent>> {
        let (subject, only_users) = if by_org {
            ("org_id", "")
        } else {
            ("org_id || ' ' || user_id", " AND user_id IS NOT NULL")
        };
        let sql = format!(
            "SELECT {subject} AS subject, name, at FROM product_events \
             WHERE at >= $1 AND at < $2{} AND name IN ({}){only_users} \
             ORDER BY subject, at, received_at, id",
            of_org(org, 3),
            placeholders(3 + usize::from(org.is_some()), names.len())
        );
        let mut q = sqlx::query(&sql).bind(from_ms).bind(to_ms).bind_org(org);
        for n in names {
            q = q.bind(n.clone());
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(SubjectEvent {
                    subject: text(r, "subject")?,
                    name: text(r, "name")?,
                    at: r.try_get("at").map_err(map_err)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl UsageWrites for SqlTx {
    async fn put_growth(&mut self, from: Day, to: Day, days: &[GrowthDay]) -> Result<()> {
        let (a, b) = span(from, to);
        sqlx::query("DELETE FROM analytics_growth_days WHERE day >= $1 AND day <= $2")
            .bind(a)
            .bind(b)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        for chunk in days.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<[i64; 8]> = chunk
                .iter()
                .map(|d| {
                    [
                        i64::from(d.day.days()),
                        i64::from(d.signups),
                        i64::from(d.users.daily),
                        i64::from(d.users.weekly),
                        i64::from(d.users.monthly),
                        i64::from(d.orgs.daily),
                        i64::from(d.orgs.weekly),
                        i64::from(d.orgs.monthly),
                    ]
                })
                .collect();
            let columns: Vec<String> = (0..8).map(int).collect();
            let sql = format!(
                "INSERT INTO analytics_growth_days (day, signups, users_daily, users_weekly, \
                 users_monthly, orgs_daily, orgs_weekly, orgs_monthly) SELECT {} FROM {}",
                columns.join(", "),
                from_json(self.backend)
            );
            self.json_rows(&sql, json(&rows)?).await?;
        }
        Ok(())
    }

    async fn rebuild_usage(&mut self, from: Day, to: Day) -> Result<()> {
        let (a, b) = span(from, to);
        let statements = [
            "DELETE FROM analytics_org_days WHERE day >= $1 AND day <= $2",
            "DELETE FROM analytics_feature_days WHERE day >= $1 AND day <= $2",
            "INSERT INTO analytics_org_days (day, org_id, events, users) \
             SELECT day, org_id, COUNT(*), COUNT(DISTINCT user_id) FROM product_events \
             WHERE day >= $1 AND day <= $2 GROUP BY day, org_id",
        ];
        for sql in statements {
            sqlx::query(sql)
                .bind(a)
                .bind(b)
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        }
        sqlx::query(
            "INSERT INTO analytics_feature_days (day, feature, org_id, uses) \
             SELECT day, feature, org_id, COUNT(*) FROM product_events \
             WHERE day >= $1 AND day <= $2 AND name = $3 AND feature IS NOT NULL \
             GROUP BY day, feature, org_id",
        )
        .bind(a)
        .bind(b)
        .bind(FEATURE_USED)
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
