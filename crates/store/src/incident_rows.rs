//! The incident and timeline rows of multi-row statements: a pull's page written to the replica,
//! and a push's mutations written upstream.

use crate::sql::rows::Sql;
use crate::{Result, StoreError};
use domain::model::{Incident, IncidentEvent};
use domain::Timestamp;

macro_rules! insert_incidents {
    () => {
        "INSERT INTO incidents (id, title, severity, org_id, status, assignee, opened_at, \
         acknowledged_at, resolved_at, closed_at, impact_started_at, version, created_by, updated_at)"
    };
}
macro_rules! insert_events {
    () => {
        "INSERT INTO incident_events (id, incident_id, version, occurred_at, recorded_at, \
         actor_id, actor_name, type, data, base_version)"
    };
}

pub(crate) const INSERT_INCIDENTS: &str = concat!(insert_incidents!(), " VALUES ");
pub(crate) const INSERT_EVENTS: &str = concat!(insert_events!(), " VALUES ");
/// The same inserts, for a `SELECT` of rows (the replica's `json_each`).
pub(crate) const INSERT_INCIDENTS_FROM: &str = insert_incidents!();
pub(crate) const INSERT_EVENTS_FROM: &str = insert_events!();

/// Bound parameters of one incident row ([`incident_values`]).
pub(crate) const INCIDENT_PARAMS: usize = 14;
/// Bound parameters of one event row ([`event_values`]).
pub(crate) const EVENT_PARAMS: usize = 10;

/// One `(…)` of [`INSERT_INCIDENTS`].
pub(crate) fn incident_values(sql: &mut Sql, i: &Incident, updated: Timestamp) -> String {
    let marks = [
        sql.bind(i.id.to_string()),
        sql.bind(i.title.clone()),
        sql.bind(i.severity.as_str().to_string()),
        sql.bind(i.org_id.map(|o| o.to_string())),
        sql.bind(i.status.as_str().to_string()),
        sql.bind(i.assignee.clone()),
        sql.bind(i.opened_at.millis()),
        sql.bind(i.acknowledged_at.map(Timestamp::millis)),
        sql.bind(i.resolved_at.map(Timestamp::millis)),
        sql.bind(i.closed_at.map(Timestamp::millis)),
        sql.bind(i.impact_started_at.map(Timestamp::millis)),
        sql.bind(i.version),
        sql.bind(i.created_by.clone()),
        sql.bind(updated.millis()),
    ];
    format!("({})", marks.join(", "))
}

/// One `(…)` of [`INSERT_EVENTS`]: `e`, which made the incident's version `version`.
pub(crate) fn event_values(sql: &mut Sql, e: &IncidentEvent, version: i64) -> Result<String> {
    let data = serde_json::to_string(&e.kind)
        .map_err(|x| StoreError::Internal(format!("bad incident event data: {x}")))?;
    let marks = [
        sql.bind(e.id.to_string()),
        sql.bind(e.incident_id.to_string()),
        sql.bind(version),
        sql.bind(e.occurred_at.millis()),
        sql.bind(e.recorded_at.millis()),
        sql.bind(e.actor_id.clone()),
        sql.bind(e.actor_name.clone()),
        sql.bind(e.kind.name().to_string()),
        sql.bind(data),
        sql.bind(e.base_version),
    ];
    Ok(format!("({})", marks.join(", ")))
}
