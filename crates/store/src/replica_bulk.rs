//! A pull's page written to the replica in a few multi-row statements (hundreds of incidents at
//! once), and the one-event append an edit on the device makes.

use crate::incident_rows::{
    event_values, incident_values, EVENTS_PER_STATEMENT, INCIDENTS_PER_STATEMENT, INSERT_EVENTS,
    INSERT_INCIDENTS,
};
use crate::replica::{to_json, ReplicaTx};
use crate::sql::rows::Sql;
use crate::Result;
use domain::model::{Incident, IncidentEvent};

impl ReplicaTx {
    async fn run(&mut self, sql: Sql) -> Result<()> {
        let (text, args) = sql.query();
        self.exec(&text, args).await.map(|_| ())
    }

    /// Deletes the rows of `table` whose `column` is one of `ids`.
    async fn delete_in(&mut self, table: &str, column: &str, ids: &[String]) -> Result<()> {
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE {column} IN ("));
            let marks: Vec<String> = chunk.iter().map(|i| sql.bind(i.clone())).collect();
            sql.push(&marks.join(", "));
            sql.push(")");
            self.run(sql).await?;
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

    /// [`ReplicaTx::put_base`] for many incidents at once (a pull's page): a few multi-row
    /// statements instead of several per incident.
    pub async fn put_bases(&mut self, items: &[(&Incident, &[IncidentEvent])]) -> Result<()> {
        let ids: Vec<String> = items.iter().map(|(i, _)| i.id.to_string()).collect();
        self.delete_in("replica_events", "incident_id", &ids)
            .await?;
        for chunk in items.chunks(500) {
            let mut sql = Sql::new("INSERT INTO replica_incidents (id, body) VALUES ");
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, _) in chunk {
                let a = sql.bind(i.id.to_string());
                let b = sql.bind(to_json(*i)?);
                rows.push(format!("({a}, {b})"));
            }
            sql.push(&rows.join(", "));
            sql.push(" ON CONFLICT (id) DO UPDATE SET body = excluded.body");
            self.run(sql).await?;
        }
        let events: Vec<(usize, &IncidentEvent)> = items
            .iter()
            .flat_map(|(_, e)| e.iter().enumerate())
            .collect();
        for chunk in events.chunks(500) {
            let mut sql =
                Sql::new("INSERT INTO replica_events (id, incident_id, position, body) VALUES ");
            let mut rows = Vec::with_capacity(chunk.len());
            for (k, e) in chunk {
                let a = sql.bind(e.id.to_string());
                let b = sql.bind(e.incident_id.to_string());
                let c = sql.bind(*k as i64);
                let d = sql.bind(to_json(*e)?);
                rows.push(format!("({a}, {b}, {c}, {d})"));
            }
            sql.push(&rows.join(", "));
            self.run(sql).await?;
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
        for chunk in items.chunks(INCIDENTS_PER_STATEMENT) {
            let mut sql = Sql::new(INSERT_INCIDENTS);
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, events) in chunk {
                let updated = events.last().map_or(i.opened_at, |e| e.recorded_at);
                rows.push(incident_values(&mut sql, i, updated));
            }
            sql.push(&rows.join(", "));
            sql.push(
                " ON CONFLICT (id) DO UPDATE SET title = excluded.title, severity = excluded.severity, \
                 org_id = excluded.org_id, status = excluded.status, assignee = excluded.assignee, \
                 opened_at = excluded.opened_at, acknowledged_at = excluded.acknowledged_at, \
                 resolved_at = excluded.resolved_at, closed_at = excluded.closed_at, \
                 impact_started_at = excluded.impact_started_at, version = excluded.version, \
                 created_by = excluded.created_by, updated_at = excluded.updated_at",
            );
            self.run(sql).await?;
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
        for chunk in events.chunks(EVENTS_PER_STATEMENT) {
            let mut sql = Sql::new(INSERT_EVENTS);
            let mut rows = Vec::with_capacity(chunk.len());
            for (k, e) in chunk {
                rows.push(event_values(&mut sql, e, *k)?);
            }
            sql.push(&rows.join(", "));
            self.run(sql).await?;
        }
        Ok(())
    }
}
