//! Offline sync: the mutations a device queues in its outbox, what the upstream answers when
//! they are pushed, what a pull brings back, and the sync state a person sees. The rules are in
//! [`crate::sync`].

use super::{EscalationPolicy, Incident, IncidentCommand, IncidentEvent, NewIncident, SlaTarget};
use crate::clock::Timestamp;
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most mutations one push may carry.
pub const PUSH_MAX: usize = 500;
/// The most changes of the feed one pull reads (the default is the same).
pub const PULL_MAX: u32 = 2_000;

/// What a mutation does: its `name` and its `args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "args", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationOp {
    /// Opens an incident; its id is the mutation's `incident_id`.
    OpenIncident(NewIncident),
    /// A person's change to an incident: a comment, a transition or a field edit.
    ChangeIncident(IncidentCommand),
}

impl MutationOp {
    /// The operation's name as the outbox and the audit trail write it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OpenIncident(_) => "open_incident",
            Self::ChangeIncident(_) => "change_incident",
        }
    }
}

/// One queued edit: applied to the device's replica and appended to its outbox in one local
/// transaction, then pushed in order. `(client_id, mutation_id)` identifies it upstream: a
/// mutation pushed twice is applied once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// 1 for a device's first mutation, then +1 for each: never reused.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub mutation_id: i64,
    pub incident_id: Uuid,
    /// The id of the timeline event it makes (the same on the device and upstream).
    pub event_id: Uuid,
    #[serde(flatten)]
    pub op: MutationOp,
    /// The incident version the device last synced when the person made the edit (0 to open).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub base_version: i64,
    /// When the person made it, on their device's clock.
    pub occurred_at: Timestamp,
}

/// One field edit that met another person's edit of the same field since its base version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    /// `title`, `severity` or `assignee`.
    pub field: String,
    /// The value this device set (`None`: unassigned).
    pub mine: Option<String>,
    /// The value upstream now.
    pub theirs: Option<String>,
}

/// What became of one pushed mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationOutcome {
    /// Applied upstream (once): the incident's version after it.
    Applied {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        version: i64,
    },
    /// Not applied, and will not be: why (a transition that no longer makes sense, a value
    /// refused, a permission missing).
    Rejected { code: ErrorCode, reason: String },
    /// A field edit based on a version since which someone else changed the same field: not
    /// applied; the person chooses per field.
    Conflict {
        fields: Vec<FieldConflict>,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        current_version: i64,
    },
}

/// One mutation's outcome, as the push answers it (also for a mutation pushed before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub mutation_id: i64,
    pub incident_id: Uuid,
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

/// A device's outbox, in order, from its oldest unacknowledged mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// The device's id (chosen once, kept with its replica).
    pub client_id: Uuid,
    /// 1 to [`PUSH_MAX`] mutations with consecutive ids.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::push_mutations))]
    pub mutations: Vec<Mutation>,
}

/// What a push did: every mutation's outcome, and the last mutation id the upstream holds for
/// this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub last_mutation_id: i64,
    pub results: Vec<MutationResult>,
}

/// What changed since a cursor, as far as the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Pass it back to the next pull.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub cursor: i64,
    /// More changes wait after `cursor`: pull again.
    pub more: bool,
    /// The incidents changed, as they are now.
    pub incidents: Vec<Incident>,
    /// The whole timeline of each incident in `incidents`, in recording order.
    pub events: Vec<IncidentEvent>,
    /// Every severity's SLA target, when they changed (or on the first pull).
    pub sla_targets: Option<Vec<SlaTarget>>,
    /// The escalation policies, when they changed (or on the first pull) and the caller may
    /// read them.
    pub policies: Option<Vec<EscalationPolicy>>,
}

/// Where an outbox entry stands on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutboxState {
    /// Saved on the device, not yet acknowledged upstream.
    Pending,
    /// Applied upstream; kept until the pull brings it back.
    Applied,
    /// Refused upstream: kept until the person dismisses it.
    Rejected,
    /// A field edit that met another edit: kept until the person chooses.
    Conflict,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Rejected => "rejected",
            Self::Conflict => "conflict",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Applied, Self::Rejected, Self::Conflict]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One outbox entry as the sync panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxEntry {
    pub mutation: Mutation,
    pub state: OutboxState,
    /// The incident's title on the device (for the list).
    pub incident_title: Option<String>,
    /// What it does, in words ("acknowledge", "severity → sev1", "comment").
    pub summary: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The fields in conflict, with both values.
    pub conflicts: Vec<FieldConflict>,
}

/// The one-word state the sidebar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SyncHealth {
    /// Nothing waiting, the last attempt worked.
    Synced,
    /// Edits waiting to be pushed (the upstream answered last time).
    Pending,
    /// The upstream cannot be reached: edits are kept and retried.
    Offline,
    /// Conflicts or rejected edits wait for the person.
    Attention,
    /// The upstream answered with an error other than being unreachable.
    Error,
}

/// The device's sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub health: SyncHealth,
    pub client_id: Uuid,
    /// The change-feed position the replica has pulled up to.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub cursor: i64,
    pub last_synced_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
    /// The last attempt's error, in words.
    pub last_error: Option<String>,
    pub pending: u32,
    pub rejected: u32,
    pub conflicts: u32,
    /// Every entry not yet gone: pending, applied-awaiting-pull, rejected and conflicts.
    pub entries: Vec<OutboxEntry>,
}
