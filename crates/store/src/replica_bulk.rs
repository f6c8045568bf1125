//! A pull's page written to the replica in a few statements (hundreds of incidents at once),
//! and the one-event append an edit on the device makes. The replica is always SQLite: a page's
//! rows travel as one JSON parameter (`json_each`), so a statement costs one bind whatever its
//! size (binding thousands of numbered parameters is quadratic in SQLite's driver, see
//! `rows_per_statement`).

use crate::incident_rows::{INSERT_EVENTS_FROM, INSERT_INCIDENTS_FROM};
use crate::replica::{to_json, ReplicaTx};
use crate::sql::rows::Sql;
use crate::{Result, StoreError};
use domain::model::{Incident, IncidentEvent};
use domain::Timestamp;

/// Rows per statement: one JSON array each, bounded so a statement stays a few MiB.
const ROWS_PER_STATEMENT: usize = 2_000;

fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Internal(format!("replica rows: {e}")))
}

/// `value->>0, value->>1, …`: the columns of a `json_each` row that is an array.
fn columns(n: usize) -> String {
    (0..n)
        .map(|k| format!("value->>{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An incident's row: the columns of `INSERT_INCIDENTS`, in order.
type IncidentRow<'a> = (
    String,
    &'a str,
    &'a str,
    Option<String>,
    &'a str,
    Option<&'a str>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    &'a str,
    i64,
);

fn incident_row(i: &Incident, updated: Timestamp) -> IncidentRow<'_> {
    (
        i.id.to_string(),
        &i.title,
        i.severity.as_str(),
        i.org_id.map(|o| o.to_string()),
        i.status.as_str(),
        i.assignee.as_deref(),
        i.opened_at.millis(),
        i.acknowledged_at.map(Timestamp::millis),
        i.resolved_at.map(Timestamp::millis),
        i.closed_at.map(Timestamp::millis),
        i.impact_started_at.map(Timestamp::millis),
        i.version,
        &i.created_by,
        updated.millis(),
    )
}

/// An event's row: the columns of `INSERT_EVENTS`, in order (`data` as JSON text).
type EventRow<'a> = (
    String,
    String,
    i64,
    i64,
    i64,
    &'a str,
    &'a str,
    &'static str,
    String,
    i64,
);

fn event_row(e: &IncidentEvent, version: i64) -> Result<EventRow<'_>> {
    Ok((
        e.id.to_string(),
        e.incident_id.to_string(),
        version,
        e.occurred_at.millis(),
        e.recorded_at.millis(),
        &e.actor_id,
        &e.actor_name,
        e.kind.name(),
        serde_json::to_string(&e.kind)
            .map_err(|x| StoreError::Internal(format!("bad incident event data: {x}")))?,
        e.base_version,
    ))
}

impl ReplicaTx {
    /// Runs `text` with one parameter, `$1`: a JSON array.
    async fn run_json(&mut self, text: &str, json: String) -> Result<()> {
        let mut sql = Sql::new(text);
        sql.bind(json);
        let (text, args) = sql.query();
        self.exec(&text, args).await.map(|_| ())
    }

    /// Deletes the rows of `table` whose `column` is one of `ids`.
    async fn delete_in(&mut self, table: &str, column: &str, ids: &[String]) -> Result<()> {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            self.run_json(
                &format!("DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each($1))"),
                json_rows(chunk)?,
            )
            .await?;
        }
        Ok(())
    }

    /// Drops the synced copies of incidents with nothing queued (their view is their synced
    /// state: a copy is made again at their next edit on the device, [`Self::base_from_view`]).
    pub async fn forget_bases(&mut self, ids: &[String]) -> Result<()> {
        self.delete_in("replica_events", "incident_id", ids).await?;
        self.delete_in("replica_incidents", "id", ids).await
    }

    /// Keeps the view of an incident with nothing queued as its synced copy, if it has none:
    /// the base the device's first edit of it is rebased on.
    pub async fn base_from_view(&mut self, id: uuid::Uuid) -> Result<()> {
        if self.base_version(id).await?.is_some() {
            return Ok(());
        }
        let Some(incident) = self.view_incident(id).await? else {
            return Ok(());
        };
        let rows = self
            .rows(
                &format!(
                    "SELECT {} FROM incident_events WHERE incident_id = $1 ORDER BY version",
                    crate::incidents::EVENT_COLUMNS
                ),
                crate::sql::rows::bind_all!(id.to_string()),
            )
            .await?;
        let events = rows
            .iter()
            .map(crate::incidents::event_from_row)
            .collect::<Result<Vec<IncidentEvent>>>()?;
        self.put_base(&incident, &events).await
    }

    /// [`ReplicaTx::put_base`] for many incidents at once (a pull's page).
    pub async fn put_bases(&mut self, items: &[(&Incident, &[IncidentEvent])]) -> Result<()> {
        let ids: Vec<String> = items.iter().map(|(i, _)| i.id.to_string()).collect();
        self.delete_in("replica_events", "incident_id", &ids)
            .await?;
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let rows = chunk
                .iter()
                .map(|(i, _)| Ok((i.id.to_string(), to_json(*i)?)))
                .collect::<Result<Vec<(String, String)>>>()?;
            self.run_json(
                &format!(
                    "INSERT INTO replica_incidents (id, body) SELECT {} FROM json_each($1) WHERE true \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    columns(2)
                ),
                json_rows(&rows)?,
            )
            .await?;
        }
        let events: Vec<(usize, &IncidentEvent)> = items
            .iter()
            .flat_map(|(_, e)| e.iter().enumerate())
            .collect();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let rows = chunk
                .iter()
                .map(|(k, e)| {
                    Ok((
                        e.id.to_string(),
                        e.incident_id.to_string(),
                        *k as i64,
                        to_json(*e)?,
                    ))
                })
                .collect::<Result<Vec<(String, String, i64, String)>>>()?;
            self.run_json(
                &format!(
                    "INSERT INTO replica_events (id, incident_id, position, body) SELECT {} FROM json_each($1)",
                    columns(4)
                ),
                json_rows(&rows)?,
            )
            .await?;
        }
        Ok(())
    }

    /// [`ReplicaTx::put_view`] for many incidents at once.
    pub async fn put_views(&mut self, items: &[(&Incident, &[IncidentEvent])]) -> Result<()> {
        self.put_views_rows(items, true).await
    }

    /// Writes the incidents' view rows and their events: the whole timelines (`replace`), or
    /// events to append after what is there (each the last: numbered with the incident's
    /// version).
    pub(crate) async fn put_views_rows(
        &mut self,
        items: &[(&Incident, &[IncidentEvent])],
        replace: bool,
    ) -> Result<()> {
        if replace {
            let ids: Vec<String> = items.iter().map(|(i, _)| i.id.to_string()).collect();
            self.delete_in("incident_events", "incident_id", &ids)
                .await?;
        }
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<IncidentRow> = chunk
                .iter()
                .map(|(i, events)| {
                    incident_row(i, events.last().map_or(i.opened_at, |e| e.recorded_at))
                })
                .collect();
            self.run_json(
                &format!(
                    "{INSERT_INCIDENTS_FROM} SELECT {} FROM json_each($1) WHERE true \
                     ON CONFLICT (id) DO UPDATE SET title = excluded.title, severity = excluded.severity, \
                     org_id = excluded.org_id, status = excluded.status, assignee = excluded.assignee, \
                     opened_at = excluded.opened_at, acknowledged_at = excluded.acknowledged_at, \
                     resolved_at = excluded.resolved_at, closed_at = excluded.closed_at, \
                     impact_started_at = excluded.impact_started_at, version = excluded.version, \
                     created_by = excluded.created_by, updated_at = excluded.updated_at",
                    columns(14)
                ),
                json_rows(&rows)?,
            )
            .await?;
        }
        let events: Vec<(i64, &IncidentEvent)> = items
            .iter()
            .flat_map(|(i, e)| {
                let first = if replace {
                    1
                } else {
                    i.version - e.len() as i64 + 1
                };
                e.iter()
                    .enumerate()
                    .map(move |(k, e)| (first + k as i64, e))
            })
            .collect();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let rows = chunk
                .iter()
                .map(|(k, e)| event_row(e, *k))
                .collect::<Result<Vec<EventRow>>>()?;
            self.run_json(
                &format!(
                    "{INSERT_EVENTS_FROM} SELECT {} FROM json_each($1)",
                    columns(10)
                ),
                json_rows(&rows)?,
            )
            .await?;
        }
        Ok(())
    }
}
