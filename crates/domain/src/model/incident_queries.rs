//! What the incident operations take and give besides the incident itself: the list's filter,
//! a listed incident with its SLA clocks, the detail with its timeline, a change as a front end
//! (or the offline outbox) sends it, and the metrics report's query.

use super::{
    EscalationStep, Incident, IncidentCommand, IncidentEvent, IncidentStatus, Severity, SlaState,
};
use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which statuses a list shows: one status, `active` (open, acknowledged or waiting) or `done`
/// (resolved or closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StatusFilter {
    Open,
    Acknowledged,
    Waiting,
    Resolved,
    Closed,
    Active,
    Done,
}

impl StatusFilter {
    /// The statuses it keeps.
    pub fn statuses(self) -> &'static [IncidentStatus] {
        use IncidentStatus as S;
        match self {
            Self::Open => &[S::Open],
            Self::Acknowledged => &[S::Acknowledged],
            Self::Waiting => &[S::Waiting],
            Self::Resolved => &[S::Resolved],
            Self::Closed => &[S::Closed],
            Self::Active => &[S::Open, S::Acknowledged, S::Waiting],
            Self::Done => &[S::Resolved, S::Closed],
        }
    }
}

impl std::str::FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "active" => Ok(Self::Active),
            "done" => Ok(Self::Done),
            other => match IncidentStatus::parse(other) {
                Ok(IncidentStatus::Open) => Ok(Self::Open),
                Ok(IncidentStatus::Acknowledged) => Ok(Self::Acknowledged),
                Ok(IncidentStatus::Waiting) => Ok(Self::Waiting),
                Ok(IncidentStatus::Resolved) => Ok(Self::Resolved),
                Ok(IncidentStatus::Closed) => Ok(Self::Closed),
                Err(_) => Err(format!(
                    "`{s}` is not a status filter: use open, acknowledged, waiting, resolved, closed, active or done"
                )),
            },
        }
    }
}

/// Which SLA standing a list shows (computed from each incident's timeline at the time of the
/// request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SlaFilter {
    /// A running clock past its at-risk threshold, none breached.
    AtRisk,
    /// A clock past its target.
    Breached,
    /// At risk or breached: what needs attention.
    Attention,
}

impl std::str::FromStr for SlaFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "at_risk" => Ok(Self::AtRisk),
            "breached" => Ok(Self::Breached),
            "attention" => Ok(Self::Attention),
            _ => Err(format!(
                "`{s}` is not an SLA filter: use at_risk, breached or attention"
            )),
        }
    }
}

/// The incident list's filters (all optional) and page. Newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct IncidentFilter {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::incident_status_filter), schema(schema_with = crate::schema::incident_status_filter))]
    pub status: Option<StatusFilter>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::severity_filter), schema(schema_with = crate::schema::severity_filter))]
    pub severity: Option<Severity>,
    /// The affected organisation.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::org_filter), schema(schema_with = crate::schema::org_filter))]
    pub org_id: Option<Uuid>,
    /// The assignee's actor id.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search), schema(schema_with = crate::schema::search))]
    pub assignee: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::sla_filter), schema(schema_with = crate::schema::sla_filter))]
    pub sla: Option<SlaFilter>,
    /// Words in the title.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search), schema(schema_with = crate::schema::search))]
    pub search: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit), schema(schema_with = crate::schema::page_limit))]
    pub limit: Option<u32>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::cursor), schema(schema_with = crate::schema::cursor))]
    pub cursor: Option<String>,
}

/// A listed incident with its SLA clocks now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentSummary {
    pub incident: Incident,
    pub sla: SlaState,
}

/// One incident with its whole timeline (oldest first) and its SLA clocks now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentDetail {
    pub incident: Incident,
    pub timeline: Vec<IncidentEvent>,
    pub sla: SlaState,
    /// The SLA targets its clocks are measured against (its severity's).
    pub target: super::SlaTarget,
}

/// A change to an incident as a person makes it: the command, and optionally what a client
/// working offline knows — the event's id (a retry with the same id is not applied twice), the
/// version it saw and when it happened. Without them the server uses a new id, the current
/// version and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentChange {
    #[serde(flatten)]
    pub command: IncidentCommand,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::uuid_or_null))]
    pub event_id: Option<Uuid>,
    #[serde(default, deserialize_with = "super::whole_i64_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::base_version_or_null))]
    pub base_version: Option<i64>,
    #[serde(default, deserialize_with = "super::rfc3339_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::rfc3339_or_null))]
    pub occurred_at: Option<Timestamp>,
}

/// [`IncidentChange`] as read: serde reads an internally tagged enum's tag as a variant *index*
/// when it is a number (`"command": 0` would be a comment), so the tag is checked to be text
/// first.
#[derive(Deserialize)]
struct IncidentChangeFields {
    #[serde(flatten)]
    command: IncidentCommand,
    #[serde(default)]
    event_id: Option<Uuid>,
    #[serde(default, deserialize_with = "super::whole_i64_or_none")]
    base_version: Option<i64>,
    #[serde(default, deserialize_with = "super::rfc3339_or_none")]
    occurred_at: Option<Timestamp>,
}

impl<'de> Deserialize<'de> for IncidentChange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        match value.get("command") {
            Some(serde_json::Value::String(_)) => {}
            Some(_) => {
                return Err(D::Error::custom(
                    "`command` must be a command's name, as text",
                ))
            }
            None => return Err(D::Error::missing_field("command")),
        }
        let f: IncidentChangeFields = serde_json::from_value(value).map_err(D::Error::custom)?;
        Ok(IncidentChange {
            command: f.command,
            event_id: f.event_id,
            base_version: f.base_version,
            occurred_at: f.occurred_at,
        })
    }
}

impl IncidentChange {
    pub fn now(command: IncidentCommand) -> Self {
        IncidentChange {
            command,
            event_id: None,
            base_version: None,
            occurred_at: None,
        }
    }

    /// The same change, said to have happened at `when` (none: now).
    pub fn at(mut self, when: Option<Timestamp>) -> Self {
        self.occurred_at = when;
        self
    }
}

/// Opening an incident: the id is optional (the server makes a UUIDv7 when it is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenIncident {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::uuid_or_null))]
    pub id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::incident_title))]
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::uuid_or_null))]
    pub org_id: Option<Uuid>,
    /// When the impact began, if before it was opened: the SLA clocks start there.
    #[serde(default, deserialize_with = "super::rfc3339_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::rfc3339_or_null))]
    pub impact_started_at: Option<Timestamp>,
    /// When the person opened it (offline); the server's clock when absent.
    #[serde(default, deserialize_with = "super::rfc3339_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::rfc3339_or_null))]
    pub occurred_at: Option<Timestamp>,
}

/// Creating or replacing an escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::name))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::escalation_steps))]
    pub rules: Vec<EscalationStep>,
    /// The organisation it covers; absent for the default policy.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::uuid_or_null))]
    pub org_id: Option<Uuid>,
}

/// The period of an MTTA / MTTR report: `from` included, `to` excluded (RFC 3339). Both
/// absent: the last 7 days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct MetricsQuery {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::instant), schema(schema_with = crate::schema::instant))]
    pub from: Option<Timestamp>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::instant), schema(schema_with = crate::schema::instant))]
    pub to: Option<Timestamp>,
    /// Only this organisation's incidents.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::org_filter), schema(schema_with = crate::schema::org_filter))]
    pub org_id: Option<Uuid>,
}

/// Someone who worked on incidents (the people an incident can be assigned to): whoever acted on
/// a timeline the caller may see, or was assigned an incident there. Jobs are not people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentPerson {
    /// The actor id an assignment names (as the audit trail shows it).
    pub id: String,
    /// Their display name, as last recorded (the id for someone only ever assigned).
    pub name: String,
    /// When they last acted on an incident (or were assigned one).
    pub last_seen_at: Timestamp,
}

/// At most this many people are listed (the most recently seen).
pub const PEOPLE_MAX: u32 = 500;

/// Incidents needing attention, for the overview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentCounts {
    /// Active incidents (open, acknowledged, waiting) per severity, sev1 first.
    pub active_by_severity: Vec<SeverityCount>,
    pub at_risk: u32,
    pub breached: u32,
}

/// How many incidents of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: u32,
}

impl std::fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Done => "done",
            other => other.statuses()[0].as_str(),
        })
    }
}

impl std::fmt::Display for SlaFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
            Self::Attention => "attention",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_its_command_as_text() {
        let read = |s: &str| serde_json::from_str::<IncidentChange>(s);
        let c = read(r#"{"command":"comment","text":"on it","base_version":3}"#).unwrap();
        assert_eq!(c.base_version, Some(3));
        assert!(matches!(c.command, IncidentCommand::Comment { .. }));
        let e = read(r#"{"command":0,"text":"on it"}"#).unwrap_err();
        assert!(e.to_string().contains("as text"), "{e}");
        let e = read(r#"{"text":"on it"}"#).unwrap_err();
        assert!(e.to_string().contains("command"), "{e}");
        assert!(read(r#"{"command":"comment","text":"x","event_id":""}"#).is_err());
        let back = serde_json::to_string(&c).unwrap();
        assert_eq!(read(&back).unwrap(), c);
    }
}
