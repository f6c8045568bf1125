//! Incidents: the incident rows (the projection of each timeline), the append-only timeline, SLA
//! targets and escalation policies. SLA clocks are not stored: the portal computes them from the
//! timeline.

use crate::sql::rows::{
    bind_all, like_pattern, make_cursor, must_change, opt_text, opt_ts, page_cut,
    rows_per_statement, text, ts, two_part_cursor, uuid, Sql,
};
use crate::sql::{lock_suffix, map_err, SqlStore, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::model::{
    EscalationPolicy, Incident, IncidentEvent, IncidentEventKind, IncidentFilter, IncidentPerson,
    IncidentStatus, Page, Severity, SlaTarget,
};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

/// What the store filters on (the portal adds the SLA filter, which needs the timelines).
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    pub statuses: Vec<IncidentStatus>,
    pub severity: Option<Severity>,
    pub org_id: Option<Uuid>,
    pub assignee: Option<String>,
    pub search: Option<String>,
    pub cursor: Option<String>,
}

impl IncidentQuery {
    pub fn from_filter(f: &IncidentFilter) -> Self {
        IncidentQuery {
            statuses: f.status.map(|s| s.statuses().to_vec()).unwrap_or_default(),
            severity: f.severity,
            org_id: f.org_id,
            assignee: f.assignee.clone(),
            search: f.search.clone(),
            cursor: f.cursor.clone(),
        }
    }
}

/// Incident reads outside a transaction.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    async fn incident(&self, id: Uuid) -> Result<Option<Incident>>;
    /// Newest first (`opened_at`, then id), keyset-paginated.
    async fn incidents(&self, q: &IncidentQuery, limit: u32) -> Result<Page<Incident>>;
    /// The incidents with these ids that exist (any order).
    async fn incidents_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Incident>>;
    /// One incident's timeline, in the order it was recorded.
    async fn incident_events(&self, id: Uuid) -> Result<Vec<IncidentEvent>>;
    /// The timelines of several incidents (in recording order per incident).
    async fn incident_events_of(&self, ids: &[Uuid]) -> Result<Vec<IncidentEvent>>;
    /// The events of several incidents that move SLA clocks
    /// (`domain::incident::SLA_CLOCK_EVENTS`): a list's page reads these, not its comments.
    async fn incident_clock_events_of(&self, ids: &[Uuid]) -> Result<Vec<IncidentEvent>>;
    /// Incidents opened in `[from, to)`, optionally of one organisation.
    async fn incidents_opened_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        org: Option<Uuid>,
    ) -> Result<Vec<Incident>>;
    /// The incidents not resolved or closed, optionally of one organisation.
    async fn active_incidents(&self, org: Option<Uuid>) -> Result<Vec<Incident>>;
    /// Who acted on the timelines (or was assigned) of the incidents, optionally of one
    /// organisation: the most recently seen first, jobs (`system:`) left out.
    async fn incident_people(&self, org: Option<Uuid>, limit: u32) -> Result<Vec<IncidentPerson>>;
    /// The SLA targets providers set (a severity without one uses its default).
    async fn sla_targets(&self) -> Result<Vec<SlaTarget>>;
    async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>>;
}

/// Incident writes inside a [`crate::WriteTx`].
#[async_trait]
pub trait IncidentWrites: Send {
    /// The incident, locked for the rest of the transaction (PostgreSQL).
    async fn incident_for_update(&mut self, id: Uuid) -> Result<Option<Incident>>;
    /// The event with this id, if it was recorded (a retried change).
    async fn incident_event(&mut self, id: Uuid) -> Result<Option<IncidentEvent>>;
    /// An incident's events after version `after` (0: all), in recording order, read inside
    /// the transaction.
    async fn incident_events_since(&mut self, id: Uuid, after: i64) -> Result<Vec<IncidentEvent>>;
    /// A new incident and its first event.
    async fn insert_incident(&mut self, i: &Incident, opened: &IncidentEvent) -> Result<()>;
    /// The incident's next state and the event that made it: the update succeeds only when the
    /// stored version is `next.version - 1` (a concurrent change makes it `NotFound`).
    async fn record_incident_change(
        &mut self,
        next: &Incident,
        event: &IncidentEvent,
    ) -> Result<()>;
    async fn put_sla_targets(&mut self, targets: &[SlaTarget], now: Timestamp) -> Result<()>;
    async fn escalation_policy_for_update(&mut self, id: Uuid) -> Result<Option<EscalationPolicy>>;
    async fn put_escalation_policy(&mut self, p: &EscalationPolicy, now: Timestamp) -> Result<()>;
    async fn delete_escalation_policy(&mut self, id: Uuid) -> Result<()>;
}

pub(crate) const INCIDENT_COLUMNS: &str =
    "id, title, severity, org_id, status, assignee, opened_at, \
     acknowledged_at, resolved_at, closed_at, impact_started_at, version, created_by";
pub(crate) const EVENT_COLUMNS: &str =
    "id, incident_id, version, occurred_at, recorded_at, actor_id, \
     actor_name, data, base_version";
const POLICY_COLUMNS: &str = "id, name, org_id, rules";

fn bad(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("bad {col}: {e}"))
}

fn opt_uuid(r: &AnyRow, col: &str) -> Result<Option<Uuid>> {
    opt_text(r, col)?
        .map(|s| Uuid::parse_str(&s).map_err(|e| bad(col, e)))
        .transpose()
}

pub(crate) fn incident_from_row(r: &AnyRow) -> Result<Incident> {
    Ok(Incident {
        id: uuid(r, "id")?,
        title: text(r, "title")?,
        severity: Severity::parse(&text(r, "severity")?).map_err(|e| bad("severity", e))?,
        org_id: opt_uuid(r, "org_id")?,
        status: IncidentStatus::parse(&text(r, "status")?).map_err(|e| bad("status", e))?,
        assignee: opt_text(r, "assignee")?,
        opened_at: ts(r, "opened_at")?,
        acknowledged_at: opt_ts(r, "acknowledged_at")?,
        resolved_at: opt_ts(r, "resolved_at")?,
        closed_at: opt_ts(r, "closed_at")?,
        impact_started_at: opt_ts(r, "impact_started_at")?,
        version: r.try_get::<i64, _>("version").map_err(map_err)?,
        created_by: text(r, "created_by")?,
    })
}

pub(crate) fn event_from_row(r: &AnyRow) -> Result<IncidentEvent> {
    let kind: IncidentEventKind =
        serde_json::from_str(&text(r, "data")?).map_err(|e| bad("incident event data", e))?;
    Ok(IncidentEvent {
        id: uuid(r, "id")?,
        incident_id: uuid(r, "incident_id")?,
        occurred_at: ts(r, "occurred_at")?,
        recorded_at: ts(r, "recorded_at")?,
        actor_id: text(r, "actor_id")?,
        actor_name: text(r, "actor_name")?,
        kind,
        base_version: r.try_get::<i64, _>("base_version").map_err(map_err)?,
    })
}

fn target_from_row(r: &AnyRow) -> Result<SlaTarget> {
    let int = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(map_err) };
    Ok(SlaTarget {
        severity: Severity::parse(&text(r, "severity")?).map_err(|e| bad("severity", e))?,
        target_response_mins: u32::try_from(int("target_response_mins")?)
            .map_err(|e| bad("target_response_mins", e))?,
        target_resolve_mins: u32::try_from(int("target_resolve_mins")?)
            .map_err(|e| bad("target_resolve_mins", e))?,
        at_risk_percent: u8::try_from(int("at_risk_percent")?)
            .map_err(|e| bad("at_risk_percent", e))?,
    })
}

fn policy_from_row(r: &AnyRow) -> Result<EscalationPolicy> {
    Ok(EscalationPolicy {
        id: uuid(r, "id")?,
        name: text(r, "name")?,
        org_id: opt_uuid(r, "org_id")?,
        rules: serde_json::from_str(&text(r, "rules")?).map_err(|e| bad("policy rules", e))?,
    })
}

/// The JSON kept in `incident_events.data`: the kind, with its `type`.
fn event_data(e: &IncidentEvent) -> Result<String> {
    serde_json::to_string(&e.kind).map_err(|e| bad("incident event data", e))
}

/// The incident's version after `e`: one more than the version it was applied to. Stored so a
/// timeline is numbered without gaps (`UNIQUE (incident_id, version)`).
pub(crate) fn event_args(
    e: &IncidentEvent,
    version: i64,
) -> Result<sqlx::any::AnyArguments<'static>> {
    Ok(bind_all!(
        e.id.to_string(),
        e.incident_id.to_string(),
        version,
        e.occurred_at.millis(),
        e.recorded_at.millis(),
        e.actor_id.clone(),
        e.actor_name.clone(),
        e.kind.name().to_string(),
        event_data(e)?,
        e.base_version
    ))
}

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO incident_events (id, incident_id, version, occurred_at, \
     recorded_at, actor_id, actor_name, type, data, base_version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

impl SqlStore {
    /// The timelines of `ids` (in recording order per incident), only the events of `kinds`
    /// when given (static names, written into the statement).
    async fn events_of(&self, ids: &[Uuid], kinds: Option<&[&str]>) -> Result<Vec<IncidentEvent>> {
        let only = kinds.map_or(String::new(), |k| {
            let names: Vec<String> = k.iter().map(|n| format!("'{n}'")).collect();
            format!(" AND type IN ({})", names.join(", "))
        });
        let mut all = Vec::new();
        for chunk in ids.chunks(rows_per_statement(self.backend, 1)) {
            let mut sql = Sql::new(&format!(
                "SELECT {EVENT_COLUMNS} FROM incident_events WHERE incident_id IN ("
            ));
            let marks: Vec<String> = chunk.iter().map(|i| sql.bind(i.to_string())).collect();
            sql.push(&marks.join(", "));
            sql.push(&format!("){only} ORDER BY incident_id, version"));
            let (text, args) = sql.query();
            let rows = sqlx::query_with(&text, args)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
            for r in &rows {
                all.push(event_from_row(r)?);
            }
        }
        Ok(all)
    }
}

#[async_trait]
impl IncidentStore for SqlStore {
    async fn incident(&self, id: Uuid) -> Result<Option<Incident>> {
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(incident_from_row).transpose()
    }

    async fn incidents(&self, q: &IncidentQuery, limit: u32) -> Result<Page<Incident>> {
        let mut sql = Sql::new(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1=1"
        ));
        if !q.statuses.is_empty() {
            let marks: Vec<String> = q
                .statuses
                .iter()
                .map(|s| sql.bind(s.as_str().to_string()))
                .collect();
            sql.push(&format!(" AND status IN ({})", marks.join(", ")));
        }
        if let Some(s) = q.severity {
            let p = sql.bind(s.as_str().to_string());
            sql.push(&format!(" AND severity = {p}"));
        }
        if let Some(o) = q.org_id {
            let p = sql.bind(o.to_string());
            sql.push(&format!(" AND org_id = {p}"));
        }
        if let Some(a) = q.assignee.as_deref().filter(|a| !a.trim().is_empty()) {
            let p = sql.bind(a.trim().to_string());
            sql.push(&format!(" AND assignee = {p}"));
        }
        if let Some(s) = q.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = sql.bind(like_pattern(s.trim()));
            sql.push(&format!(" AND lower(title) LIKE {p} ESCAPE '\\'"));
        }
        if let Some(c) = &q.cursor {
            let (at, id) = two_part_cursor(c)?;
            let at: i64 = at.parse().map_err(|_| StoreError::BadCursor)?;
            // A row value, so both stores read it as one index range (the `a < x OR (a = x
            // AND …)` form made a deep page scan every row above it).
            let a = sql.bind(at);
            let c = sql.bind(id);
            sql.push(&format!(" AND (opened_at, id) < ({a}, {c})"));
        }
        let l = sql.bind(i64::from(limit) + 1);
        sql.push(&format!(" ORDER BY opened_at DESC, id DESC LIMIT {l}"));
        let (text, args) = sql.query();
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut items = rows
            .iter()
            .map(incident_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cut(&mut items, limit, |i| {
            make_cursor(&i.opened_at.millis().to_string(), &i.id.to_string())
        });
        Ok(Page { items, next_cursor })
    }

    async fn incidents_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Incident>> {
        let mut all = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(rows_per_statement(self.backend, 1)) {
            let mut sql = Sql::new(&format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN ("
            ));
            let marks: Vec<String> = chunk.iter().map(|i| sql.bind(i.to_string())).collect();
            sql.push(&marks.join(", "));
            sql.push(")");
            all.extend(self.incident_rows(sql).await?);
        }
        Ok(all)
    }

    async fn incident_events(&self, id: Uuid) -> Result<Vec<IncidentEvent>> {
        self.incident_events_of(&[id]).await
    }

    async fn incident_events_of(&self, ids: &[Uuid]) -> Result<Vec<IncidentEvent>> {
        self.events_of(ids, None).await
    }

    async fn incident_clock_events_of(&self, ids: &[Uuid]) -> Result<Vec<IncidentEvent>> {
        self.events_of(ids, Some(&domain::incident::SLA_CLOCK_EVENTS))
            .await
    }

    async fn incidents_opened_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        org: Option<Uuid>,
    ) -> Result<Vec<Incident>> {
        let mut sql = Sql::new(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE opened_at >= "
        ));
        let a = sql.bind(from.millis());
        let b = sql.bind(to.millis());
        sql.push(&format!("{a} AND opened_at < {b}"));
        if let Some(o) = org {
            let p = sql.bind(o.to_string());
            sql.push(&format!(" AND org_id = {p}"));
        }
        sql.push(" ORDER BY opened_at, id");
        self.incident_rows(sql).await
    }

    async fn active_incidents(&self, org: Option<Uuid>) -> Result<Vec<Incident>> {
        let mut sql = Sql::new(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status IN ('open', 'acknowledged', 'waiting')"
        ));
        if let Some(o) = org {
            let p = sql.bind(o.to_string());
            sql.push(&format!(" AND org_id = {p}"));
        }
        sql.push(" ORDER BY opened_at, id");
        self.incident_rows(sql).await
    }

    async fn incident_people(&self, org: Option<Uuid>, limit: u32) -> Result<Vec<IncidentPerson>> {
        let mut sql = Sql::new("");
        let scope = match org {
            Some(o) => format!(" AND i.org_id = {}", sql.bind(o.to_string())),
            None => String::new(),
        };
        let cap = sql.bind(i64::from(limit));
        sql.push(&format!(
            "SELECT id, MAX(name) AS name, MAX(seen) AS seen FROM ( \
               SELECT e.actor_id AS id, e.actor_name AS name, e.recorded_at AS seen \
                 FROM incident_events e JOIN incidents i ON i.id = e.incident_id \
                WHERE e.actor_id NOT LIKE 'system:%'{scope} \
               UNION ALL \
               SELECT i.assignee AS id, NULL AS name, i.updated_at AS seen FROM incidents i \
                WHERE i.assignee IS NOT NULL AND i.assignee NOT LIKE 'system:%'{scope} \
             ) people GROUP BY id ORDER BY seen DESC, id LIMIT {cap}"
        ));
        let (statement, args) = sql.query();
        let rows = sqlx::query_with(&statement, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut people = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = text(r, "id")?;
            // A name the person acted under; an id only ever assigned names itself.
            let recorded: Option<String> = r.try_get("name").map_err(map_err)?;
            people.push(IncidentPerson {
                name: recorded.unwrap_or_else(|| id.clone()),
                id,
                last_seen_at: Timestamp::from_millis(r.try_get("seen").map_err(map_err)?),
            });
        }
        Ok(people)
    }

    async fn sla_targets(&self) -> Result<Vec<SlaTarget>> {
        let rows = sqlx::query(
            "SELECT severity, target_response_mins, target_resolve_mins, at_risk_percent FROM sla_targets ORDER BY severity",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(target_from_row).collect()
    }

    async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>> {
        let rows = sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM escalation_policies ORDER BY org_id IS NOT NULL, lower(name), id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(policy_from_row).collect()
    }
}

impl SqlStore {
    async fn incident_rows(&self, sql: Sql) -> Result<Vec<Incident>> {
        let (text, args) = sql.query();
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(incident_from_row).collect()
    }
}

pub(crate) fn incident_args(
    i: &Incident,
    updated_at: Timestamp,
) -> sqlx::any::AnyArguments<'static> {
    bind_all!(
        i.id.to_string(),
        i.title.clone(),
        i.severity.as_str().to_string(),
        i.org_id.map(|o| o.to_string()),
        i.status.as_str().to_string(),
        i.assignee.clone(),
        i.opened_at.millis(),
        i.acknowledged_at.map(Timestamp::millis),
        i.resolved_at.map(Timestamp::millis),
        i.closed_at.map(Timestamp::millis),
        i.impact_started_at.map(Timestamp::millis),
        i.version,
        i.created_by.clone(),
        updated_at.millis()
    )
}

impl SqlTx {
    /// Writes an incident's new state over the one read at version `read_at`
    /// ([`StoreError::NotFound`] if it moved meanwhile).
    pub(crate) async fn update_incident(
        &mut self,
        next: &Incident,
        read_at: i64,
        updated_at: Timestamp,
    ) -> Result<()> {
        let a = bind_all!(
            next.title.clone(),
            next.severity.as_str().to_string(),
            next.status.as_str().to_string(),
            next.assignee.clone(),
            next.acknowledged_at.map(Timestamp::millis),
            next.resolved_at.map(Timestamp::millis),
            next.closed_at.map(Timestamp::millis),
            next.version,
            updated_at.millis(),
            next.id.to_string(),
            read_at
        );
        let n = self
            .exec(
                "UPDATE incidents SET title = $1, severity = $2, status = $3, assignee = $4, \
                 acknowledged_at = $5, resolved_at = $6, closed_at = $7, version = $8, updated_at = $9 \
                 WHERE id = $10 AND version = $11",
                a,
            )
            .await?;
        must_change(n)
    }
}

#[async_trait]
impl IncidentWrites for SqlTx {
    async fn incident_for_update(&mut self, id: Uuid) -> Result<Option<Incident>> {
        let q = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = '{id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q)
            .await?
            .as_ref()
            .map(incident_from_row)
            .transpose()
    }

    async fn incident_event(&mut self, id: Uuid) -> Result<Option<IncidentEvent>> {
        let q = format!("SELECT {EVENT_COLUMNS} FROM incident_events WHERE id = '{id}'");
        self.one(q).await?.as_ref().map(event_from_row).transpose()
    }

    async fn incident_events_since(&mut self, id: Uuid, after: i64) -> Result<Vec<IncidentEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM incident_events WHERE incident_id = $1 AND version > $2 ORDER BY version"
        ))
        .bind(id.to_string())
        .bind(after)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn insert_incident(&mut self, i: &Incident, opened: &IncidentEvent) -> Result<()> {
        self.exec(
            "INSERT INTO incidents (id, title, severity, org_id, status, assignee, opened_at, \
             acknowledged_at, resolved_at, closed_at, impact_started_at, version, created_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            incident_args(i, opened.recorded_at),
        )
        .await?;
        self.exec(INSERT_EVENT, event_args(opened, i.version)?)
            .await?;
        Ok(())
    }

    async fn record_incident_change(
        &mut self,
        next: &Incident,
        event: &IncidentEvent,
    ) -> Result<()> {
        self.update_incident(next, next.version - 1, event.recorded_at)
            .await?;
        self.exec(INSERT_EVENT, event_args(event, next.version)?)
            .await?;
        Ok(())
    }

    async fn put_sla_targets(&mut self, targets: &[SlaTarget], now: Timestamp) -> Result<()> {
        for t in targets {
            let a = bind_all!(
                t.severity.as_str().to_string(),
                i64::from(t.target_response_mins),
                i64::from(t.target_resolve_mins),
                i64::from(t.at_risk_percent),
                now.millis()
            );
            self.exec(
                "INSERT INTO sla_targets (severity, target_response_mins, target_resolve_mins, at_risk_percent, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (severity) DO UPDATE SET target_response_mins = excluded.target_response_mins, \
                 target_resolve_mins = excluded.target_resolve_mins, at_risk_percent = excluded.at_risk_percent, \
                 updated_at = excluded.updated_at",
                a,
            )
            .await?;
        }
        Ok(())
    }

    async fn escalation_policy_for_update(&mut self, id: Uuid) -> Result<Option<EscalationPolicy>> {
        let q = format!(
            "SELECT {POLICY_COLUMNS} FROM escalation_policies WHERE id = '{id}'{}",
            lock_suffix(self.backend)
        );
        self.one(q).await?.as_ref().map(policy_from_row).transpose()
    }

    async fn put_escalation_policy(&mut self, p: &EscalationPolicy, now: Timestamp) -> Result<()> {
        let rules = serde_json::to_string(&p.rules).map_err(|e| bad("policy rules", e))?;
        let a = bind_all!(
            p.id.to_string(),
            p.name.clone(),
            p.org_id.map(|o| o.to_string()),
            rules,
            now.millis(),
            now.millis()
        );
        self.exec(
            "INSERT INTO escalation_policies (id, name, org_id, rules, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, org_id = excluded.org_id, \
             rules = excluded.rules, updated_at = excluded.updated_at",
            a,
        )
        .await?;
        Ok(())
    }

    async fn delete_escalation_policy(&mut self, id: Uuid) -> Result<()> {
        let n = self
            .exec(
                "DELETE FROM escalation_policies WHERE id = $1",
                bind_all!(id.to_string()),
            )
            .await?;
        must_change(n)
    }
}
