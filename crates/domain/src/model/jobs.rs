//! The server's scheduled jobs as reported (`GET /v1/jobs`, `padmin jobs`).

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};

/// One scheduled job: what it does, how often, and its last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStatus {
    pub name: String,
    pub description: String,
    /// How often the scheduler runs it, in seconds.
    pub every_secs: u32,
    pub last_started_at: Option<Timestamp>,
    pub last_finished_at: Option<Timestamp>,
    /// `ok` or `failed`.
    pub last_outcome: Option<String>,
    /// What the last run did ("2 escalations recorded, 1 webhook delivered") or why it failed.
    pub last_summary: Option<String>,
    /// Runs so far, by any instance.
    pub runs: i64,
    /// Which instance ran it last.
    pub last_runner: Option<String>,
    /// When the scheduler will run it next (`None`: never ran yet, so at the next tick).
    pub next_run_at: Option<Timestamp>,
}

/// What one run of a job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobReport {
    pub name: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub summary: String,
}

/// The webhook delivery log's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryCounts {
    /// Not delivered yet, still to be tried.
    pub pending: u64,
    pub delivered: u64,
    /// Given up after every retry.
    pub failed: u64,
}
