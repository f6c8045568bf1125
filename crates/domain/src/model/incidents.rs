//! Incidents, their append-only timelines, SLA targets and escalation policies; and what the
//! rules in [`crate::incident`] compute from them (SLA clocks, due notifications, metrics).
//!
//! An incident's current fields ([`Incident`]) are a projection of its timeline
//! ([`IncidentEvent`]s): every change appends one event and increments the incident's
//! `version`, so `version` is the number of events in its timeline. SLA clocks are never
//! stored; [`crate::incident::sla_state`] computes them from the timeline.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use uuid::Uuid;

/// How bad an incident is: `sev1` is the most severe, `sev4` the least.
///
/// `Ord` follows severity, not the number: `Sev1 > Sev2 > Sev3 > Sev4`, so "at least as severe
/// as sev2" is `s >= Severity::Sev2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 4] = [Self::Sev1, Self::Sev2, Self::Sev3, Self::Sev4];

    /// 1 for `sev1` … 4 for `sev4`.
    pub fn number(self) -> u8 {
        match self {
            Self::Sev1 => 1,
            Self::Sev2 => 2,
            Self::Sev3 => 3,
            Self::Sev4 => 4,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sev1 => "sev1",
            Self::Sev2 => "sev2",
            Self::Sev3 => "sev3",
            Self::Sev4 => "sev4",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| {
                format!("`{s}` is not a severity: use sev1 (most severe), sev2, sev3 or sev4")
            })
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> Ordering {
        // A smaller number is a greater severity.
        other.number().cmp(&self.number())
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// Where an incident is in its life (see [`crate::incident::apply`] for the transitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IncidentStatus {
    /// Nobody has acknowledged it yet (or it was reopened).
    Open,
    /// Someone is on it.
    Acknowledged,
    /// Waiting on the customer: the resolve clock is paused.
    Waiting,
    Resolved,
    /// Resolved and done with; only a reopen changes it again.
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 5] = [
        Self::Open,
        Self::Acknowledged,
        Self::Waiting,
        Self::Resolved,
        Self::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Waiting => "waiting",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "`{s}` is not an incident status: use open, acknowledged, waiting, resolved or closed"
                )
            })
    }
    /// Resolved or closed: nothing is left to do unless it is reopened.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

impl std::str::FromStr for IncidentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// The longest incident title, in characters.
pub const TITLE_MAX: usize = 200;
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 10_000;
/// The longest actor id (an assignee, a notified user), in characters.
pub const ACTOR_ID_MAX: usize = 255;

/// An incident as stored and shown: the projection of its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    /// Chosen by the client that opened it (a UUIDv7 is recommended), so it can be opened offline.
    pub id: Uuid,
    pub title: String,
    pub severity: Severity,
    /// The client organisation affected, if any.
    pub org_id: Option<Uuid>,
    pub status: IncidentStatus,
    /// The actor id of the person working on it.
    pub assignee: Option<String>,
    pub opened_at: Timestamp,
    /// The first acknowledgement (kept across reopens: it is what MTTA measures).
    pub acknowledged_at: Option<Timestamp>,
    /// The latest resolution; cleared by a reopen.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed; cleared by a reopen.
    pub closed_at: Option<Timestamp>,
    /// When the impact began, if before it was opened: the SLA clocks start there.
    pub impact_started_at: Option<Timestamp>,
    /// The number of events in its timeline: every change increments it.
    pub version: i64,
    /// The actor id of who opened it.
    pub created_by: String,
}

/// Which SLA clock an event or a measurement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SlaClock {
    /// From opened (or impact start) to the first acknowledgement.
    Response,
    /// From opened (or impact start, or a reopen) to resolution, paused while waiting.
    Resolve,
}

/// Who an escalation step notifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EscalationTarget {
    /// One person, by actor id.
    User {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::actor_id))]
        id: String,
    },
    /// Everyone with a role: one of [`ESCALATION_ROLES`].
    Role {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::escalation_role))]
        role: String,
    },
    /// A JSON POST to an `https` URL (plain `http` only on loopback, for development).
    Webhook {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::webhook_url))]
        url: String,
    },
}

/// The roles an escalation may notify.
pub const ESCALATION_ROLES: &[&str] = &["provider", "developer", "support"];

/// What happened to an incident: one entry of its timeline, with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IncidentEventKind {
    /// The first event of every timeline.
    Opened {
        title: String,
        severity: Severity,
        org_id: Option<Uuid>,
        /// When the impact began, if before the incident was opened.
        #[serde(default)]
        impact_started_at: Option<Timestamp>,
    },
    Comment {
        text: String,
    },
    Acknowledged,
    Assigned {
        assignee: Option<String>,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    /// The title was edited.
    Renamed {
        from: String,
        to: String,
    },
    /// Waiting on the customer (`to: waiting`) and back (`to: acknowledged`).
    StatusChanged {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    Resolved,
    Closed,
    /// Back to `open`: a new resolve cycle starts.
    Reopened,
    /// The server notified the `targets` of escalation step `step` (its `repeat`th repeat).
    Escalated {
        step: usize,
        repeat: u32,
        targets: Vec<EscalationTarget>,
    },
    /// The server noticed a clock past its at-risk threshold.
    SlaAtRisk {
        clock: SlaClock,
    },
    /// The server noticed a clock past its target.
    SlaBreached {
        clock: SlaClock,
    },
}

impl IncidentEventKind {
    /// The kind's name as its `type` is written.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "opened",
            Self::Comment { .. } => "comment",
            Self::Acknowledged => "acknowledged",
            Self::Assigned { .. } => "assigned",
            Self::SeverityChanged { .. } => "severity_changed",
            Self::Renamed { .. } => "renamed",
            Self::StatusChanged { .. } => "status_changed",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Reopened => "reopened",
            Self::Escalated { .. } => "escalated",
            Self::SlaAtRisk { .. } => "sla_at_risk",
            Self::SlaBreached { .. } => "sla_breached",
        }
    }
}

/// One entry of an incident's append-only timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentEvent {
    /// Chosen by the client that made the change (a UUIDv7 is recommended).
    pub id: Uuid,
    pub incident_id: Uuid,
    /// When the person did it (their device's clock, possibly offline).
    pub occurred_at: Timestamp,
    /// When the server (or the local replica) recorded it.
    pub recorded_at: Timestamp,
    pub actor_id: String,
    pub actor_name: String,
    #[serde(flatten)]
    pub kind: IncidentEventKind,
    /// The incident's version the change was based on (0 for the opening event).
    pub base_version: i64,
}

/// A change to an incident, as the portal (and the offline outbox) carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IncidentCommand {
    Comment {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::comment))]
        text: String,
    },
    Acknowledge,
    /// `None` unassigns.
    Assign {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::assignee_or_null))]
        assignee: Option<String>,
    },
    ChangeSeverity {
        severity: Severity,
    },
    /// Edits the title.
    Rename {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::incident_title))]
        title: String,
    },
    /// Waiting on the customer: pauses the resolve clock.
    Wait,
    /// Back from waiting.
    Resume,
    Resolve,
    Close,
    Reopen,
    /// The escalation job notified a step's targets.
    RecordEscalation {
        step: usize,
        repeat: u32,
        targets: Vec<EscalationTarget>,
    },
    /// The SLA job noticed a clock at risk.
    RecordSlaAtRisk {
        clock: SlaClock,
    },
    /// The SLA job noticed a clock breached.
    RecordSlaBreached {
        clock: SlaClock,
    },
}

/// What opening an incident needs besides who and when ([`crate::incident::Change`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewIncident {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::incident_title))]
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::uuid_or_null))]
    pub org_id: Option<Uuid>,
    #[serde(default, deserialize_with = "super::rfc3339_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::rfc3339_or_null))]
    pub impact_started_at: Option<Timestamp>,
}

/// The SLA targets of one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaTarget {
    pub severity: Severity,
    /// Minutes to the first acknowledgement: 1 to 43 200 (30 days).
    #[serde(deserialize_with = "super::whole_u32")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::response_mins))]
    pub target_response_mins: u32,
    /// Minutes to resolution, not counting time waiting on the customer: 1 to 525 600 (a
    /// year), and at least the response target.
    #[serde(deserialize_with = "super::whole_u32")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::resolve_mins))]
    pub target_resolve_mins: u32,
    /// A running clock past this share of its target is at risk: 1 to 99 (default 75).
    #[serde(
        default = "default_at_risk_percent",
        deserialize_with = "super::whole_u8"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::at_risk_percent))]
    pub at_risk_percent: u8,
}

pub const AT_RISK_PERCENT_DEFAULT: u8 = 75;

fn default_at_risk_percent() -> u8 {
    AT_RISK_PERCENT_DEFAULT
}

/// When an escalation step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EscalationCondition {
    /// While nobody has acknowledged the incident (it is `open`).
    Unacknowledged,
    /// While it is not resolved or closed (waiting on the customer included).
    Unresolved,
}

/// One rule of an escalation policy: `after_mins` after the incident was opened, if the
/// condition still holds, notify the targets; then again every `repeat_every_mins`, `repeat`
/// more times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationStep {
    /// 1 to 10 080 (a week).
    #[serde(deserialize_with = "super::whole_u32")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::step_mins))]
    pub after_mins: u32,
    pub condition: EscalationCondition,
    /// 1 to 10 targets.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::escalation_targets))]
    pub targets: Vec<EscalationTarget>,
    /// Further notifications after the first: 0 to 10.
    #[serde(default, deserialize_with = "super::whole_u32")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::repeat))]
    pub repeat: u32,
    /// Minutes between repeats: required (1 to 10 080) when `repeat` is more than 0.
    #[serde(default, deserialize_with = "super::whole_u32_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::repeat_every_mins_or_null))]
    pub repeat_every_mins: Option<u32>,
    /// The step applies to incidents at least this severe.
    pub min_severity: Severity,
}

/// Who is notified, and when, while an incident goes unanswered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationPolicy {
    pub id: Uuid,
    pub name: String,
    /// 1 to 20 steps.
    pub rules: Vec<EscalationStep>,
    /// The organisation whose incidents it covers; `None` is the default policy.
    pub org_id: Option<Uuid>,
}

/// How an SLA clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClockStatus {
    /// Counting, under its at-risk threshold.
    Running,
    /// Counting and past its at-risk threshold, not yet past its target.
    AtRisk,
    /// Not counting (waiting on the customer), not past its target.
    Paused,
    /// Stopped within its target.
    Met,
    /// Past its target, running or stopped.
    Breached,
}

/// One SLA clock at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockState {
    pub target_ms: i64,
    /// Time counted so far (pauses excluded).
    pub elapsed_ms: i64,
    /// `target_ms - elapsed_ms`: negative once breached.
    pub remaining_ms: i64,
    pub status: ClockStatus,
    /// When the target ran out, once breached.
    pub breached_at: Option<Timestamp>,
}

/// One resolve cycle: the first starts when the incident opens (or its impact starts), each
/// reopen starts another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveCycle {
    pub started_at: Timestamp,
    /// When it was resolved; `None` for the live cycle.
    pub ended_at: Option<Timestamp>,
    pub clock: ClockState,
}

/// An incident's SLA clocks at an instant, computed from its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaState {
    pub response: ClockState,
    /// The current (last) resolve cycle's clock.
    pub resolve: ClockState,
    /// Every resolve cycle, oldest first (never empty).
    pub cycles: Vec<ResolveCycle>,
}

/// An escalation notification due: step `step` of the policy, its `repeat`th repeat (0 is the
/// first notification), scheduled at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Due {
    pub step: usize,
    pub repeat: u32,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_by_how_severe_they_are() {
        assert!(Severity::Sev1 > Severity::Sev2 && Severity::Sev3 > Severity::Sev4);
        assert!(
            Severity::Sev1 >= Severity::Sev2,
            "sev1 is at least as severe as sev2"
        );
        assert_eq!(Severity::ALL.iter().max(), Some(&Severity::Sev1));
        assert_eq!(serde_json::to_string(&Severity::Sev3).unwrap(), "\"sev3\"");
        assert_eq!(" sev2".parse::<Severity>(), Ok(Severity::Sev2));
        assert!(Severity::parse("p1").unwrap_err().contains("sev1"));
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn every_event_kind_round_trips_through_json_flat() {
        let kinds = vec![
            IncidentEventKind::Opened {
                title: "Login fails".into(),
                severity: Severity::Sev1,
                org_id: Some(Uuid::from_u128(9)),
                impact_started_at: Some(Timestamp::from_millis(1_800_000_000_000)),
            },
            IncidentEventKind::Comment {
                text: "on it".into(),
            },
            IncidentEventKind::Acknowledged,
            IncidentEventKind::Assigned { assignee: None },
            IncidentEventKind::SeverityChanged {
                from: Severity::Sev3,
                to: Severity::Sev1,
            },
            IncidentEventKind::StatusChanged {
                from: IncidentStatus::Acknowledged,
                to: IncidentStatus::Waiting,
            },
            IncidentEventKind::Resolved,
            IncidentEventKind::Closed,
            IncidentEventKind::Reopened,
            IncidentEventKind::Escalated {
                step: 2,
                repeat: 1,
                targets: vec![
                    EscalationTarget::Role {
                        role: "support".into(),
                    },
                    EscalationTarget::Webhook {
                        url: "https://hooks.example.com/x".into(),
                    },
                ],
            },
            IncidentEventKind::SlaAtRisk {
                clock: SlaClock::Response,
            },
            IncidentEventKind::SlaBreached {
                clock: SlaClock::Resolve,
            },
        ];
        for kind in kinds {
            let event = IncidentEvent {
                id: Uuid::from_u128(2),
                incident_id: Uuid::from_u128(1),
                occurred_at: Timestamp::from_millis(1_800_000_000_000),
                recorded_at: Timestamp::from_millis(1_800_000_000_500),
                actor_id: "user:ana".into(),
                actor_name: "Ana".into(),
                kind,
                base_version: 3,
            };
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(
                json["type"],
                event.kind.name(),
                "the kind is a flat `type` field"
            );
            let back: IncidentEvent = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
        }
    }

    #[test]
    fn commands_are_tagged_for_the_outbox() {
        let c: IncidentCommand =
            serde_json::from_str(r#"{"command":"assign","assignee":"user:bo"}"#).unwrap();
        assert_eq!(
            c,
            IncidentCommand::Assign {
                assignee: Some("user:bo".into())
            }
        );
        let c: IncidentCommand = serde_json::from_str(r#"{"command":"acknowledge"}"#).unwrap();
        assert_eq!(c, IncidentCommand::Acknowledge);
    }
}
