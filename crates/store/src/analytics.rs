//! Analytics: the facts (subscription changes, product events) and the daily snapshots the
//! charts read. Facts are written in bulk: a batch's rows travel as one JSON parameter (read by
//! `json_each` on SQLite, `jsonb_array_elements` on PostgreSQL), so a batch of thousands costs
//! one statement and one bind. Writing a fact marks its day dirty (`analytics_dirty_days`), which
//! is what an incremental refresh recomputes.

use crate::sql::rows::{text, Sql};
use crate::sql::{map_err, Backend, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::analytics::{Day, Movement, MovementKind, MrrDay, ProductEvent, SubscriptionChange};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Rows per bulk statement (one JSON parameter).
const ROWS_PER_STATEMENT: usize = 5_000;

/// Which facts a dirty day is dirty for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Revenue,
    Events,
}

impl Fact {
    fn as_str(self) -> &'static str {
        match self {
            Fact::Revenue => "revenue",
            Fact::Events => "events",
        }
    }
}

/// A day whose facts changed since its snapshot, with its mark (moved on each time the day is
/// marked again: a refresh forgets only the marks it read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirtyDay {
    pub day: Day,
    pub mark: i64,
}

/// The snapshots' version and when they were refreshed (last, and last in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotState {
    pub version: i64,
    pub refreshed_at: Option<Timestamp>,
    pub full_at: Option<Timestamp>,
}

/// Analytics reads outside a transaction.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Every subscription change effective on or before `until`, in `(day, seq)` order.
    async fn subscription_changes(&self, until: Day) -> Result<Vec<SubscriptionChange>>;
    /// Every change of these subscriptions, in `(day, seq)` order (what a new batch of their
    /// changes is checked against).
    async fn subscription_changes_of(&self, ids: &[Uuid]) -> Result<Vec<SubscriptionChange>>;
    /// The snapshot of the MRR ledger of `currency` over `[from, to]` (the days it has).
    async fn mrr_days(&self, currency: &str, from: Day, to: Day) -> Result<Vec<MrrDay>>;
    /// The movements behind the snapshot over `[from, to]`, optionally of one kind.
    async fn mrr_movements(
        &self,
        currency: &str,
        from: Day,
        to: Day,
        kind: Option<MovementKind>,
    ) -> Result<Vec<Movement>>;
    /// The days whose `fact`s changed since their snapshot, oldest first.
    async fn dirty_days(&self, fact: Fact) -> Result<Vec<DirtyDay>>;
    /// The organisations paying the most in `currency` at the end of `at`, most first (from the
    /// movements: each organisation's last one up to that day).
    async fn top_paying(&self, currency: &str, at: Day, limit: u32) -> Result<Vec<(Uuid, i64)>>;
    /// The snapshots' version (0 before the first refresh).
    async fn snapshot_state(&self) -> Result<SnapshotState>;
    /// Each currency with a snapshot: its last day, and its MRR at the end of that day.
    async fn mrr_currencies(&self) -> Result<Vec<(String, Day, i64)>>;
}

/// Analytics writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait AnalyticsWrites: Send {
    /// Stores the events not stored yet (an id already stored is skipped: a batch sent twice
    /// inserts nothing the second time) and marks their days dirty. Returns how many were new.
    async fn insert_product_events(
        &mut self,
        events: &[ProductEvent],
        now: Timestamp,
    ) -> Result<u64>;
    /// Stores subscription changes (each with its id; an id already stored is skipped) and
    /// marks their days dirty. Returns how many were new.
    async fn insert_subscription_changes(
        &mut self,
        changes: &[(Uuid, SubscriptionChange)],
        now: Timestamp,
    ) -> Result<u64>;
    /// Replaces the snapshot of `currency` over `[from, to]` with `days` and their movements.
    async fn put_mrr_snapshot(
        &mut self,
        currency: &str,
        from: Day,
        to: Day,
        days: &[MrrDay],
        movements: &[Movement],
    ) -> Result<()>;
    /// Moves the snapshots' version on (every refresh, in its transaction).
    /// Moves the snapshots' version on from `expected` (every refresh, in its transaction).
    /// Returns false, changing nothing, when another refresh moved it first: this refresh read
    /// facts older than what is now written, and must not overwrite it.
    async fn bump_snapshot_version(
        &mut self,
        expected: i64,
        now: Timestamp,
        full: bool,
    ) -> Result<bool>;
    /// Forgets these dirty marks of `fact` (the refresh that read them covered them); a day
    /// marked again since keeps its newer mark.
    async fn clear_dirty(&mut self, fact: Fact, read: &[DirtyDay]) -> Result<()>;
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(format!("analytics rows: {e}")))
}

/// `FROM …` of a statement reading the JSON array bound as `$1`, each element an array.
pub(crate) fn from_json(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "json_each($1)",
        Backend::Postgres => "jsonb_array_elements($1::jsonb) AS r(value)",
    }
}

/// The `k`th element of a row as text, or as a 64-bit integer.
pub(crate) fn col(k: usize) -> String {
    format!("(value->>{k})")
}
pub(crate) fn int(k: usize) -> String {
    format!("CAST(value->>{k} AS BIGINT)")
}

pub(crate) fn day_of(r: &AnyRow, col: &str) -> Result<Day> {
    let n: i64 = r.try_get(col).map_err(map_err)?;
    i32::try_from(n)
        .ok()
        .and_then(Day::from_days)
        .ok_or_else(|| StoreError::Internal(format!("bad day {n}")))
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Internal(format!("bad {what}: {e}")))
}

pub(crate) fn uuid_of(r: &AnyRow, c: &str) -> Result<Uuid> {
    Uuid::parse_str(&text(r, c)?).map_err(|e| StoreError::Internal(format!("bad {c}: {e}")))
}

fn kind_name(k: MovementKind) -> &'static str {
    match k {
        MovementKind::New => "new",
        MovementKind::Expansion => "expansion",
        MovementKind::Reactivation => "reactivation",
        MovementKind::Contraction => "contraction",
        MovementKind::Churn => "churn",
    }
}

fn kind_of(s: &str) -> Result<MovementKind> {
    parse("movement kind", &format!("\"{s}\""))
}

fn change_from_row(r: &AnyRow) -> Result<SubscriptionChange> {
    Ok(SubscriptionChange {
        subscription_id: uuid_of(r, "subscription_id")?,
        org_id: uuid_of(r, "org_id")?,
        day: day_of(r, "day")?,
        seq: r.try_get("seq").map_err(map_err)?,
        event: parse("subscription event", &text(r, "event")?)?,
    })
}

const MRR_DAY_COLUMNS: &str = "day, mrr_start, new, expansion, reactivation, contraction, churn, \
     mrr_end, customers_start, customers_end, new_customers, reactivated_customers, churned_customers";

fn mrr_day_from_row(r: &AnyRow) -> Result<MrrDay> {
    let n = |c: &str| r.try_get::<i64, _>(c).map_err(map_err);
    let count = |c: &str| -> Result<u32> {
        u32::try_from(n(c)?).map_err(|_| StoreError::Internal(format!("bad {c}")))
    };
    Ok(MrrDay {
        day: day_of(r, "day")?,
        start: n("mrr_start")?,
        new: n("new")?,
        expansion: n("expansion")?,
        reactivation: n("reactivation")?,
        contraction: n("contraction")?,
        churn: n("churn")?,
        end: n("mrr_end")?,
        customers_start: count("customers_start")?,
        customers_end: count("customers_end")?,
        new_customers: count("new_customers")?,
        reactivated_customers: count("reactivated_customers")?,
        churned_customers: count("churned_customers")?,
    })
}

#[async_trait]
impl AnalyticsStore for SqlStore {
    async fn subscription_changes(&self, until: Day) -> Result<Vec<SubscriptionChange>> {
        let rows = sqlx::query(
            "SELECT subscription_id, org_id, day, seq, event FROM subscription_changes \
             WHERE day <= $1 ORDER BY day, seq, id",
        )
        .bind(i64::from(until.days()))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(change_from_row).collect()
    }

    async fn subscription_changes_of(&self, ids: &[Uuid]) -> Result<Vec<SubscriptionChange>> {
        let mut all = Vec::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let list: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let sql = format!(
                "SELECT subscription_id, org_id, day, seq, event FROM subscription_changes \
                 WHERE subscription_id IN (SELECT value FROM {}) ORDER BY day, seq, id",
                match self.backend {
                    Backend::Sqlite => "json_each($1)",
                    Backend::Postgres => "jsonb_array_elements_text($1::jsonb) AS r(value)",
                }
            );
            let rows = sqlx::query(&sql)
                .bind(json(&list)?)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
            for r in &rows {
                all.push(change_from_row(r)?);
            }
        }
        all.sort_by_key(|c| (c.day, c.seq));
        Ok(all)
    }

    async fn mrr_days(&self, currency: &str, from: Day, to: Day) -> Result<Vec<MrrDay>> {
        let rows = sqlx::query(&format!(
            "SELECT {MRR_DAY_COLUMNS} FROM analytics_mrr_days \
             WHERE currency = $1 AND day >= $2 AND day <= $3 ORDER BY day"
        ))
        .bind(currency.to_string())
        .bind(i64::from(from.days()))
        .bind(i64::from(to.days()))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(mrr_day_from_row).collect()
    }

    async fn mrr_movements(
        &self,
        currency: &str,
        from: Day,
        to: Day,
        kind: Option<MovementKind>,
    ) -> Result<Vec<Movement>> {
        let mut sql = Sql::new(
            "SELECT day, org_id, kind, before, after FROM analytics_movements WHERE currency = ",
        );
        let c = sql.bind(currency.to_string());
        let a = sql.bind(i64::from(from.days()));
        let b = sql.bind(i64::from(to.days()));
        sql.push(&format!("{c} AND day >= {a} AND day <= {b}"));
        if let Some(k) = kind {
            let p = sql.bind(kind_name(k).to_string());
            sql.push(&format!(" AND kind = {p}"));
        }
        sql.push(" ORDER BY day, org_id");
        let (text_, args) = sql.query();
        let rows = sqlx::query_with(&text_, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Movement {
                    day: day_of(r, "day")?,
                    org_id: uuid_of(r, "org_id")?,
                    kind: kind_of(&text(r, "kind")?)?,
                    before: r.try_get("before").map_err(map_err)?,
                    after: r.try_get("after").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn dirty_days(&self, fact: Fact) -> Result<Vec<DirtyDay>> {
        let rows =
            sqlx::query("SELECT day, mark FROM analytics_dirty_days WHERE fact = $1 ORDER BY day")
                .bind(fact.as_str().to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(DirtyDay {
                    day: day_of(r, "day")?,
                    mark: r.try_get("mark").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn top_paying(&self, currency: &str, at: Day, limit: u32) -> Result<Vec<(Uuid, i64)>> {
        let rows = sqlx::query(
            "SELECT org_id, after FROM (SELECT org_id, after, ROW_NUMBER() OVER \
             (PARTITION BY org_id ORDER BY day DESC) AS rn FROM analytics_movements \
             WHERE currency = $1 AND day <= $2) t WHERE rn = 1 AND after > 0 \
             ORDER BY after DESC, org_id LIMIT $3",
        )
        .bind(currency.to_string())
        .bind(i64::from(at.days()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((uuid_of(r, "org_id")?, r.try_get("after").map_err(map_err)?)))
            .collect()
    }

    async fn snapshot_state(&self) -> Result<SnapshotState> {
        let row =
            sqlx::query("SELECT version, refreshed_at, full_at FROM analytics_state WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        let Some(r) = row else {
            return Ok(SnapshotState::default());
        };
        Ok(SnapshotState {
            version: r.try_get("version").map_err(map_err)?,
            refreshed_at: Some(Timestamp::from_millis(
                r.try_get("refreshed_at").map_err(map_err)?,
            )),
            full_at: r
                .try_get::<Option<i64>, _>("full_at")
                .map_err(map_err)?
                .map(Timestamp::from_millis),
        })
    }

    async fn mrr_currencies(&self) -> Result<Vec<(String, Day, i64)>> {
        let rows = sqlx::query(
            "SELECT d.currency, d.day, d.mrr_end FROM analytics_mrr_days d \
             JOIN (SELECT currency, MAX(day) AS last FROM analytics_mrr_days GROUP BY currency) l \
             ON l.currency = d.currency AND l.last = d.day ORDER BY d.mrr_end DESC, d.currency",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    text(r, "currency")?,
                    day_of(r, "day")?,
                    r.try_get("mrr_end").map_err(map_err)?,
                ))
            })
            .collect()
    }
}

impl SqlTx {
    /// Runs `text` with the JSON array `rows` bound as `$1`; returns the rows it returns.
    pub(crate) async fn json_rows(&mut self, text: &str, rows: String) -> Result<Vec<AnyRow>> {
        sqlx::query(text)
            .bind(rows)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    async fn mark_dirty(&mut self, fact: Fact, days: BTreeSet<i64>) -> Result<()> {
        if days.is_empty() {
            return Ok(());
        }
        let list: Vec<i64> = days.into_iter().collect();
        let sql = format!(
            "INSERT INTO analytics_dirty_days (fact, day) SELECT '{}', {} FROM {} WHERE true \
             ON CONFLICT (fact, day) DO UPDATE SET mark = analytics_dirty_days.mark + 1",
            fact.as_str(),
            "CAST(value AS BIGINT)",
            match self.backend {
                Backend::Sqlite => "json_each($1)",
                Backend::Postgres => "jsonb_array_elements_text($1::jsonb) AS r(value)",
            }
        );
        self.json_rows(&sql, json(&list)?).await.map(|_| ())
    }
}

#[async_trait]
impl AnalyticsWrites for SqlTx {
    async fn insert_product_events(
        &mut self,
        events: &[ProductEvent],
        now: Timestamp,
    ) -> Result<u64> {
        let mut inserted = 0;
        let mut days = BTreeSet::new();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|e| {
                    (
                        e.id.to_string(),
                        e.org_id.to_string(),
                        e.user_id.as_deref(),
                        e.name.as_str(),
                        e.feature.as_deref(),
                        e.at.millis(),
                        i64::from(Day::of(e.at).days()),
                        now.millis(),
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO product_events (id, org_id, user_id, name, feature, at, day, received_at) \
                 SELECT {}, {}, {}, {}, {}, {}, {}, {} FROM {} WHERE true \
                 ON CONFLICT (id) DO NOTHING RETURNING day",
                col(0),
                col(1),
                col(2),
                col(3),
                col(4),
                int(5),
                int(6),
                int(7),
                from_json(self.backend)
            );
            for r in self.json_rows(&sql, json(&rows)?).await? {
                inserted += 1;
                days.insert(r.try_get::<i64, _>("day").map_err(map_err)?);
            }
        }
        self.mark_dirty(Fact::Events, days).await?;
        Ok(inserted)
    }

    async fn insert_subscription_changes(
        &mut self,
        changes: &[(Uuid, SubscriptionChange)],
        now: Timestamp,
    ) -> Result<u64> {
        let mut inserted = 0;
        let mut days = BTreeSet::new();
        for chunk in changes.chunks(ROWS_PER_STATEMENT) {
            let rows = chunk
                .iter()
                .map(|(id, c)| {
                    Ok((
                        id.to_string(),
                        c.subscription_id.to_string(),
                        c.org_id.to_string(),
                        i64::from(c.day.days()),
                        c.seq,
                        json(&c.event)?,
                        now.millis(),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let sql = format!(
                "INSERT INTO subscription_changes (id, subscription_id, org_id, day, seq, event, recorded_at) \
                 SELECT {}, {}, {}, {}, {}, {}, {} FROM {} WHERE true \
                 ON CONFLICT (id) DO NOTHING RETURNING day",
                col(0),
                col(1),
                col(2),
                int(3),
                int(4),
                col(5),
                int(6),
                from_json(self.backend)
            );
            for r in self.json_rows(&sql, json(&rows)?).await? {
                inserted += 1;
                days.insert(r.try_get::<i64, _>("day").map_err(map_err)?);
            }
        }
        self.mark_dirty(Fact::Revenue, days).await?;
        Ok(inserted)
    }

    async fn put_mrr_snapshot(
        &mut self,
        currency: &str,
        from: Day,
        to: Day,
        days: &[MrrDay],
        movements: &[Movement],
    ) -> Result<()> {
        for table in ["analytics_mrr_days", "analytics_movements"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE currency = $1 AND day >= $2 AND day <= $3"
            ))
            .bind(currency.to_string())
            .bind(i64::from(from.days()))
            .bind(i64::from(to.days()))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        }
        for chunk in days.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|d| {
                    [
                        i64::from(d.day.days()),
                        d.start,
                        d.new,
                        d.expansion,
                        d.reactivation,
                        d.contraction,
                        d.churn,
                        d.end,
                        i64::from(d.customers_start),
                        i64::from(d.customers_end),
                        i64::from(d.new_customers),
                        i64::from(d.reactivated_customers),
                        i64::from(d.churned_customers),
                    ]
                })
                .collect();
            let columns: Vec<String> = (0..13).map(int).collect();
            let sql = format!(
                "INSERT INTO analytics_mrr_days (currency, {MRR_DAY_COLUMNS}) SELECT '{}', {} FROM {}",
                currency_literal(currency)?,
                columns.join(", "),
                from_json(self.backend)
            );
            self.json_rows(&sql, json(&rows)?).await?;
        }
        for chunk in movements.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|m| {
                    (
                        i64::from(m.day.days()),
                        m.org_id.to_string(),
                        kind_name(m.kind),
                        m.before,
                        m.after,
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO analytics_movements (currency, day, org_id, kind, before, after) \
                 SELECT '{}', {}, {}, {}, {}, {} FROM {}",
                currency_literal(currency)?,
                int(0),
                col(1),
                col(2),
                int(3),
                int(4),
                from_json(self.backend)
            );
            self.json_rows(&sql, json(&rows)?).await?;
        }
        Ok(())
    }

    async fn bump_snapshot_version(
        &mut self,
        expected: i64,
        now: Timestamp,
        full: bool,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO analytics_state (id, version, refreshed_at, full_at) VALUES (1, $1 + 1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET version = analytics_state.version + 1, \
             refreshed_at = excluded.refreshed_at, \
             full_at = COALESCE(excluded.full_at, analytics_state.full_at) \
             WHERE analytics_state.version = $1",
        )
        .bind(expected)
        .bind(now.millis())
        .bind(full.then_some(now.millis()))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn clear_dirty(&mut self, fact: Fact, read: &[DirtyDay]) -> Result<()> {
        for chunk in read.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<[i64; 2]> = chunk
                .iter()
                .map(|d| [i64::from(d.day.days()), d.mark])
                .collect();
            let sql = format!(
                "DELETE FROM analytics_dirty_days WHERE fact = '{}' AND EXISTS \
                 (SELECT 1 FROM {} WHERE {} = analytics_dirty_days.day AND {} = analytics_dirty_days.mark)",
                fact.as_str(),
                from_json(self.backend),
                int(0),
                int(1)
            );
            self.json_rows(&sql, json(&rows)?).await?;
        }
        Ok(())
    }
}

/// A currency code checked to be three capital letters, so it can be written into a statement.
fn currency_literal(code: &str) -> Result<&str> {
    domain::analytics::check_currency(code).map_err(StoreError::Internal)?;
    Ok(code)
}
