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
    pub status: Option<StatusFilter>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub severity: Option<Severity>,
    /// The affected organisation.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub org_id: Option<Uuid>,
    /// The assignee's actor id.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search), schema(schema_with = crate::schema::search))]
    pub assignee: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentChange {
    #[serde(flatten)]
    pub command: IncidentCommand,
    #[serde(default)]
    pub event_id: Option<Uuid>,
    #[serde(default)]
    pub base_version: Option<i64>,
    #[serde(default)]
    pub occurred_at: Option<Timestamp>,
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
    pub id: Option<Uuid>,
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub org_id: Option<Uuid>,
    #[serde(default)]
    pub impact_started_at: Option<Timestamp>,
    /// When the person opened it (offline); the server's clock when absent.
    #[serde(default)]
    pub occurred_at: Option<Timestamp>,
}

/// Creating or replacing an escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyInput {
    pub name: String,
    pub rules: Vec<EscalationStep>,
    /// The organisation it covers; absent for the default policy.
    #[serde(default)]
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
    pub from: Option<Timestamp>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Timestamp>,
    /// Only this organisation's incidents.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub org_id: Option<Uuid>,
}

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
