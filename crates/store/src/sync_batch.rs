//! A push's reads and writes in bulk: everything a batch of mutations needs is read in a few
//! statements (its incidents locked), the mutations are decided in memory, and what they change
//! is written in a few multi-row statements — a batch of 500 costs tens of round trips, not
//! thousands.

use crate::incident_rows::{
    event_values, incident_values, EVENT_PARAMS, INCIDENT_PARAMS, INSERT_EVENTS, INSERT_INCIDENTS,
};
use crate::incidents::{event_from_row, incident_from_row, EVENT_COLUMNS, INCIDENT_COLUMNS};
use crate::sql::rows::{rows_per_statement, text, Sql};
use crate::sql::{lock_suffix, map_err, SqlTx};
use crate::{Result, StoreError};
use async_trait::async_trait;
use domain::model::{Incident, IncidentEvent, MutationOutcome};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

#[async_trait]
pub trait SyncBatchWrites {
    /// The incidents among `ids` that exist, locked until the transaction ends (taken in id
    /// order, so two pushes never deadlock).
    async fn incidents_for_update(&mut self, ids: &[Uuid]) -> Result<Vec<Incident>>;
    /// `(event id, incident id)` of the events among `ids` that exist.
    async fn event_incidents(&mut self, ids: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>>;
    /// The events of each `(incident, version)` after that version, in recording order, each
    /// with the version it made.
    async fn incident_events_after(
        &mut self,
        from: &[(Uuid, i64)],
    ) -> Result<Vec<(IncidentEvent, i64)>>;
    /// `(incident id, event id)` of what the device's applied mutations recorded on `incidents`.
    async fn own_sync_events_of(
        &mut self,
        client_id: Uuid,
        incidents: &[Uuid],
    ) -> Result<Vec<(Uuid, Uuid)>>;
    /// Writes a push's changes: `new` incidents as the push left them, every event with the
    /// version it made, and the new state of the `changed` incidents (each with the version it
    /// was read at: [`crate::StoreError::NotFound`] if it moved meanwhile).
    async fn write_incident_batch(
        &mut self,
        new: &[&Incident],
        events: &[(&IncidentEvent, i64)],
        changed: &[(&Incident, i64)],
        now: Timestamp,
    ) -> Result<()>;
}

fn uuid_of(r: &AnyRow, col: &str) -> Result<Uuid> {
    Uuid::parse_str(&text(r, col)?).map_err(|e| StoreError::Internal(format!("bad {col}: {e}")))
}

impl SqlTx {
    async fn rows(&mut self, sql: Sql) -> Result<Vec<AnyRow>> {
        let (text, args) = sql.query();
        sqlx::query_with(&text, args)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    /// `prefix` + `(…ids…)` + `suffix` per chunk of ids, every row.
    async fn rows_in(&mut self, prefix: &str, ids: &[Uuid], suffix: &str) -> Result<Vec<AnyRow>> {
        let mut all = Vec::new();
        for chunk in ids.chunks(rows_per_statement(self.backend, 1)) {
            let mut sql = Sql::new(prefix);
            let marks: Vec<String> = chunk.iter().map(|i| sql.bind(i.to_string())).collect();
            sql.push(&format!("({}){suffix}", marks.join(", ")));
            all.extend(self.rows(sql).await?);
        }
        Ok(all)
    }
}

#[async_trait]
impl SyncBatchWrites for SqlTx {
    async fn incidents_for_update(&mut self, ids: &[Uuid]) -> Result<Vec<Incident>> {
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        let prefix = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN ");
        let suffix = format!(" ORDER BY id{}", lock_suffix(self.backend));
        let rows = self.rows_in(&prefix, &sorted, &suffix).await?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn event_incidents(&mut self, ids: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>> {
        let rows = self
            .rows_in(
                "SELECT id, incident_id FROM incident_events WHERE id IN ",
                ids,
                "",
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_of(r, "id")?, uuid_of(r, "incident_id")?)))
            .collect()
    }

    async fn incident_events_after(
        &mut self,
        from: &[(Uuid, i64)],
    ) -> Result<Vec<(IncidentEvent, i64)>> {
        let mut all = Vec::new();
        for chunk in from.chunks(rows_per_statement(self.backend, 2)) {
            let mut sql = Sql::new(&format!(
                "SELECT {EVENT_COLUMNS} FROM incident_events WHERE "
            ));
            let mut terms = Vec::with_capacity(chunk.len());
            for (id, after) in chunk {
                let a = sql.bind(id.to_string());
                let b = sql.bind(*after);
                terms.push(format!("(incident_id = {a} AND version > {b})"));
            }
            sql.push(&terms.join(" OR "));
            sql.push(" ORDER BY incident_id, version");
            for r in self.rows(sql).await? {
                let version: i64 = r.try_get("version").map_err(map_err)?;
                all.push((event_from_row(&r)?, version));
            }
        }
        Ok(all)
    }

    async fn own_sync_events_of(
        &mut self,
        client_id: Uuid,
        incidents: &[Uuid],
    ) -> Result<Vec<(Uuid, Uuid)>> {
        let mut own = Vec::new();
        for chunk in incidents.chunks(rows_per_statement(self.backend, 1) - 1) {
            let mut sql = Sql::new(
                "SELECT incident_id, event_id, outcome FROM sync_results WHERE client_id = ",
            );
            let c = sql.bind(client_id.to_string());
            let marks: Vec<String> = chunk.iter().map(|i| sql.bind(i.to_string())).collect();
            sql.push(&format!("{c} AND incident_id IN ({})", marks.join(", ")));
            for r in self.rows(sql).await? {
                let outcome: MutationOutcome = serde_json::from_str(&text(&r, "outcome")?)
                    .map_err(|e| StoreError::Internal(format!("bad sync outcome: {e}")))?;
                if matches!(outcome, MutationOutcome::Applied { .. }) {
                    own.push((uuid_of(&r, "incident_id")?, uuid_of(&r, "event_id")?));
                }
            }
        }
        Ok(own)
    }

    async fn write_incident_batch(
        &mut self,
        new: &[&Incident],
        events: &[(&IncidentEvent, i64)],
        changed: &[(&Incident, i64)],
        now: Timestamp,
    ) -> Result<()> {
        for chunk in new.chunks(rows_per_statement(self.backend, INCIDENT_PARAMS)) {
            let mut sql = Sql::new(INSERT_INCIDENTS);
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| incident_values(&mut sql, i, now))
                .collect();
            sql.push(&rows.join(", "));
            let (text, args) = sql.query();
            self.exec(&text, args).await?;
        }
        // The incidents first: an event's row refers to its incident's.
        for (next, read_at) in changed {
            self.update_incident(next, *read_at, now).await?;
        }
        for chunk in events.chunks(rows_per_statement(self.backend, EVENT_PARAMS)) {
            let mut sql = Sql::new(INSERT_EVENTS);
            let mut rows = Vec::with_capacity(chunk.len());
            for (e, version) in chunk {
                rows.push(event_values(&mut sql, e, *version)?);
            }
            sql.push(&rows.join(", "));
            let (text, args) = sql.query();
            self.exec(&text, args).await?;
        }
        Ok(())
    }
}
