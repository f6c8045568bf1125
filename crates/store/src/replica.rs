//! Sync, on a device: the replica (a SQLite file) holds the last synced copy of each incident
//! and its timeline (`replica_incidents`, `replica_events`), the outbox of mutations not yet
//! settled (`sync_outbox`), the sync state (`sync_replica`), and the *view* — the ordinary
//! incident tables, which the portal's incident reads serve from: the synced copy with the
//! pending mutations rebased on it.
//!
//! The view is a cache the device rewrites (an incident's view rows are replaced at every
//! rebase), so the replica drops the timeline's append-only triggers when it opens it; the
//! system of record is upstream, where they stay. Replica writes are not audited: the audit
//! trail that counts is upstream's, where each mutation is audited as it is applied.

use crate::sql::rows::{bind_all, opt_text, text};
use crate::sql::{map_err, SqlStore};
use crate::{Result, StoreError};
use domain::model::{
    EscalationPolicy, Incident, IncidentEvent, Mutation, MutationOutcome, OutboxState, SlaTarget,
};
use domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

/// The replica's sync state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaState {
    pub client_id: Uuid,
    /// Whose data the replica holds (an actor id and role); another principal rebuilds it.
    pub principal: String,
    pub cursor: i64,
    pub next_mutation_id: i64,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub failures: u32,
    pub offline: bool,
    pub last_error: Option<String>,
}

/// One outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub mutation: Mutation,
    pub state: OutboxState,
    pub outcome: Option<MutationOutcome>,
    pub created_at: Timestamp,
}

pub(crate) fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("bad {what} in the replica: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| bad("value", e))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| bad(what, e))
}

fn state_from_row(r: &AnyRow) -> Result<ReplicaState> {
    let int = |c: &str| -> Result<i64> { r.try_get::<i64, _>(c).map_err(map_err) };
    let opt = |c: &str| -> Result<Option<Timestamp>> {
        Ok(r.try_get::<Option<i64>, _>(c)
            .map_err(map_err)?
            .map(Timestamp::from_millis))
    };
    Ok(ReplicaState {
        client_id: Uuid::parse_str(&text(r, "client_id")?).map_err(|e| bad("client id", e))?,
        principal: text(r, "principal")?,
        cursor: int("cursor")?,
        next_mutation_id: int("next_mutation_id")?,
        last_synced_at: opt("last_synced_at")?,
        last_attempt_at: opt("last_attempt_at")?,
        failures: u32::try_from(int("failures")?).unwrap_or(u32::MAX),
        offline: int("offline")? != 0,
        last_error: opt_text(r, "last_error")?,
    })
}

fn outbox_from_row(r: &AnyRow) -> Result<OutboxRow> {
    let state = text(r, "state")?;
    Ok(OutboxRow {
        mutation: from_json("mutation", &text(r, "body")?)?,
        state: OutboxState::parse(&state).ok_or_else(|| bad("outbox state", state))?,
        outcome: opt_text(r, "outcome")?
            .map(|o| from_json("outcome", &o))
            .transpose()?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
    })
}

const STATE_COLUMNS: &str = "client_id, principal, cursor, next_mutation_id, last_synced_at, \
     last_attempt_at, failures, offline, last_error";

impl SqlStore {
    /// Starts a replica write (one local transaction). `BEGIN IMMEDIATE`: the file's write lock
    /// is taken before anything is read, so what the transaction checks (is this edit a retry,
    /// the next mutation id) cannot be changed by another program on the same file (the app and
    /// `padmin`) before it writes; a deferred transaction would read a snapshot, then fail to
    /// write when the other committed first.
    pub async fn begin_replica(&self) -> Result<ReplicaTx> {
        Ok(ReplicaTx {
            tx: self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(map_err)?,
        })
    }

    pub async fn replica_state(&self) -> Result<Option<ReplicaState>> {
        let mut tx = self.begin_replica().await?;
        tx.state().await
    }

    /// Every outbox entry, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT body, state, outcome, created_at FROM sync_outbox ORDER BY mutation_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(outbox_from_row).collect()
    }
}

/// A replica write in progress; dropping it rolls back.
pub struct ReplicaTx {
    pub(crate) tx: Transaction<'static, Any>,
}

impl std::fmt::Debug for ReplicaTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaTx").finish_non_exhaustive()
    }
}

impl ReplicaTx {
    pub(crate) async fn exec(
        &mut self,
        sql: &str,
        args: sqlx::any::AnyArguments<'static>,
    ) -> Result<u64> {
        Ok(sqlx::query_with(sql, args)
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?
            .rows_affected())
    }

    pub(crate) async fn rows(
        &mut self,
        sql: &str,
        args: sqlx::any::AnyArguments<'static>,
    ) -> Result<Vec<AnyRow>> {
        sqlx::query_with(sql, args)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(map_err)
    }

    pub async fn state(&mut self) -> Result<Option<ReplicaState>> {
        let rows = self
            .rows(
                &format!("SELECT {STATE_COLUMNS} FROM sync_replica WHERE id = 1"),
                crate::sql::rows::args(),
            )
            .await?;
        rows.first().map(state_from_row).transpose()
    }

    pub async fn put_state(&mut self, s: &ReplicaState) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO sync_replica (id, {STATE_COLUMNS}) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, principal = excluded.principal, \
                 cursor = excluded.cursor, next_mutation_id = excluded.next_mutation_id, \
                 last_synced_at = excluded.last_synced_at, last_attempt_at = excluded.last_attempt_at, \
                 failures = excluded.failures, offline = excluded.offline, last_error = excluded.last_error"
            ),
            bind_all!(
                s.client_id.to_string(),
                s.principal.clone(),
                s.cursor,
                s.next_mutation_id,
                s.last_synced_at.map(Timestamp::millis),
                s.last_attempt_at.map(Timestamp::millis),
                i64::from(s.failures),
                i64::from(s.offline),
                s.last_error.clone()
            ),
        )
        .await?;
        Ok(())
    }

    pub async fn outbox_append(&mut self, m: &Mutation, now: Timestamp) -> Result<()> {
        self.exec(
            "INSERT INTO sync_outbox (mutation_id, incident_id, event_id, body, state, outcome, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', NULL, $5)",
            bind_all!(
                m.mutation_id,
                m.incident_id.to_string(),
                m.event_id.to_string(),
                to_json(m)?,
                now.millis()
            ),
        )
        .await?;
        Ok(())
    }

    /// The outbox entries of one incident (or all, with `None`), oldest first.
    pub async fn outbox_of(&mut self, incident: Option<Uuid>) -> Result<Vec<OutboxRow>> {
        let rows = match incident {
            Some(id) => {
                self.rows(
                    "SELECT body, state, outcome, created_at FROM sync_outbox WHERE incident_id = $1 ORDER BY mutation_id",
                    bind_all!(id.to_string()),
                )
                .await?
            }
            None => {
                self.rows(
                    "SELECT body, state, outcome, created_at FROM sync_outbox ORDER BY mutation_id",
                    crate::sql::rows::args(),
                )
                .await?
            }
        };
        rows.iter().map(outbox_from_row).collect()
    }

    pub async fn outbox_settle(
        &mut self,
        mutation_id: i64,
        state: OutboxState,
        outcome: Option<&MutationOutcome>,
    ) -> Result<()> {
        let outcome = outcome.map(to_json).transpose()?;
        self.exec(
            "UPDATE sync_outbox SET state = $1, outcome = $2 WHERE mutation_id = $3",
            bind_all!(state.as_str().to_string(), outcome, mutation_id),
        )
        .await?;
        Ok(())
    }

    /// Removes one entry (an applied one pulled back, or a rejection the person dismissed).
    /// `false` when it was not there.
    pub async fn outbox_remove(&mut self, mutation_id: i64) -> Result<bool> {
        Ok(self
            .exec(
                "DELETE FROM sync_outbox WHERE mutation_id = $1",
                bind_all!(mutation_id),
            )
            .await?
            > 0)
    }

    /// The last synced copy of an incident and its timeline (recording order).
    pub async fn base(&mut self, id: Uuid) -> Result<Option<(Incident, Vec<IncidentEvent>)>> {
        let rows = self
            .rows(
                "SELECT body FROM replica_incidents WHERE id = $1",
                bind_all!(id.to_string()),
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let incident: Incident = from_json("incident", &text(row, "body")?)?;
        let events = self
            .rows(
                "SELECT body FROM replica_events WHERE incident_id = $1 ORDER BY position",
                bind_all!(id.to_string()),
            )
            .await?
            .iter()
            .map(|r| from_json("event", &text(r, "body")?))
            .collect::<Result<Vec<IncidentEvent>>>()?;
        Ok(Some((incident, events)))
    }

    /// Replaces the synced copy of an incident and its timeline.
    pub async fn put_base(&mut self, incident: &Incident, events: &[IncidentEvent]) -> Result<()> {
        let id = incident.id.to_string();
        self.exec(
            "INSERT INTO replica_incidents (id, body) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            bind_all!(id.clone(), to_json(incident)?),
        )
        .await?;
        self.exec(
            "DELETE FROM replica_events WHERE incident_id = $1",
            bind_all!(id.clone()),
        )
        .await?;
        for (k, e) in events.iter().enumerate() {
            self.exec(
                "INSERT INTO replica_events (id, incident_id, position, body) VALUES ($1, $2, $3, $4)",
                bind_all!(e.id.to_string(), id.clone(), k as i64, to_json(e)?),
            )
            .await?;
        }
        Ok(())
    }

    /// Replaces what the device shows of an incident (`None`: nothing).
    pub async fn put_view(
        &mut self,
        id: Uuid,
        view: Option<(&Incident, &[IncidentEvent])>,
    ) -> Result<()> {
        let key = id.to_string();
        self.exec(
            "DELETE FROM incident_events WHERE incident_id = $1",
            bind_all!(key.clone()),
        )
        .await?;
        let Some((i, events)) = view else {
            self.exec("DELETE FROM incidents WHERE id = $1", bind_all!(key))
                .await?;
            return Ok(());
        };
        let updated = events.last().map_or(i.opened_at, |e| e.recorded_at);
        self.exec(
            "INSERT INTO incidents (id, title, severity, org_id, status, assignee, opened_at, \
             acknowledged_at, resolved_at, closed_at, impact_started_at, version, created_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, severity = excluded.severity, \
             org_id = excluded.org_id, status = excluded.status, assignee = excluded.assignee, \
             opened_at = excluded.opened_at, acknowledged_at = excluded.acknowledged_at, \
             resolved_at = excluded.resolved_at, closed_at = excluded.closed_at, \
             impact_started_at = excluded.impact_started_at, version = excluded.version, \
             created_by = excluded.created_by, updated_at = excluded.updated_at",
            crate::incidents::incident_args(i, updated),
        )
        .await?;
        for (k, e) in events.iter().enumerate() {
            self.exec(
                crate::incidents::INSERT_EVENT,
                crate::incidents::event_args(e, k as i64 + 1)?,
            )
            .await?;
        }
        Ok(())
    }

    /// What the device shows of an incident now (the view's row).
    pub async fn view_incident(&mut self, id: Uuid) -> Result<Option<Incident>> {
        let rows = self
            .rows(
                &format!(
                    "SELECT {} FROM incidents WHERE id = $1",
                    crate::incidents::INCIDENT_COLUMNS
                ),
                bind_all!(id.to_string()),
            )
            .await?;
        rows.first()
            .map(crate::incidents::incident_from_row)
            .transpose()
    }

    /// The version of the synced copy of an incident, if the device has one.
    pub async fn base_version(&mut self, id: Uuid) -> Result<Option<i64>> {
        let rows = self
            .rows(
                "SELECT body FROM replica_incidents WHERE id = $1",
                bind_all!(id.to_string()),
            )
            .await?;
        rows.first()
            .map(|r| from_json::<Incident>("incident", &text(r, "body")?).map(|i| i.version))
            .transpose()
    }

    /// Whether an outbox entry makes the event `event_id` (a retried edit).
    pub async fn outbox_has_event(&mut self, event_id: Uuid) -> Result<bool> {
        let rows = self
            .rows(
                "SELECT mutation_id FROM sync_outbox WHERE event_id = $1",
                bind_all!(event_id.to_string()),
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// The incident whose timeline, as the device shows it, holds the event `event_id` (an
    /// edit applied and pulled back, or queued): a retried edit whose entry left the outbox.
    pub async fn view_event_incident(&mut self, event_id: Uuid) -> Result<Option<Uuid>> {
        let rows = self
            .rows(
                "SELECT incident_id FROM incident_events WHERE id = $1",
                bind_all!(event_id.to_string()),
            )
            .await?;
        rows.first()
            .map(|r| {
                let id = text(r, "incident_id")?;
                Uuid::parse_str(&id).map_err(|e| bad("incident id", e))
            })
            .transpose()
    }

    /// Adds one event to what the device shows, with the incident it makes.
    pub async fn append_view(&mut self, next: &Incident, event: &IncidentEvent) -> Result<()> {
        self.put_views_rows(&[(next, std::slice::from_ref(event))], false)
            .await
    }

    /// The pending outbox entries, oldest first, at most `limit`.
    pub async fn pending(&mut self, limit: u32) -> Result<Vec<Mutation>> {
        let rows = self
            .rows(
                "SELECT body, state, outcome, created_at FROM sync_outbox WHERE state = 'pending' ORDER BY mutation_id LIMIT $1",
                bind_all!(i64::from(limit)),
            )
            .await?;
        rows.iter()
            .map(|r| outbox_from_row(r).map(|o| o.mutation))
            .collect()
    }

    /// Replaces the SLA targets.
    pub async fn put_sla_targets(&mut self, targets: &[SlaTarget], now: Timestamp) -> Result<()> {
        self.exec("DELETE FROM sla_targets", crate::sql::rows::args())
            .await?;
        for t in targets {
            self.exec(
                "INSERT INTO sla_targets (severity, target_response_mins, target_resolve_mins, at_risk_percent, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                bind_all!(
                    t.severity.as_str().to_string(),
                    i64::from(t.target_response_mins),
                    i64::from(t.target_resolve_mins),
                    i64::from(t.at_risk_percent),
                    now.millis()
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Replaces the escalation policies.
    pub async fn put_policies(
        &mut self,
        policies: &[EscalationPolicy],
        now: Timestamp,
    ) -> Result<()> {
        self.exec("DELETE FROM escalation_policies", crate::sql::rows::args())
            .await?;
        for p in policies {
            self.exec(
                "INSERT INTO escalation_policies (id, name, org_id, rules, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                bind_all!(
                    p.id.to_string(),
                    p.name.clone(),
                    p.org_id.map(|o| o.to_string()),
                    to_json(&p.rules)?,
                    now.millis(),
                    now.millis()
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Forgets every synced and shown incident (a rebuild pulls them again); `with_outbox`
    /// also empties the outbox and the sync state (a sign-out).
    pub async fn clear(&mut self, with_outbox: bool) -> Result<()> {
        let mut tables = vec![
            "incident_events",
            "incidents",
            "replica_events",
            "replica_incidents",
            "sla_targets",
            "escalation_policies",
        ];
        if with_outbox {
            tables.extend(["sync_outbox", "sync_replica"]);
        }
        for t in tables {
            self.exec(&format!("DELETE FROM {t}"), crate::sql::rows::args())
                .await?;
        }
        Ok(())
    }
}
