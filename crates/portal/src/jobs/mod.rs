//! Scheduled jobs: what the server runs on a schedule (one instance at a time, see the server's
//! scheduler) and an operator may run by hand. Each job is idempotent on its own — what it
//! records is keyed in the database (one escalation per incident, step and repeat; one attempt
//! of a delivery per claim) — so a run by hand, a second instance or a restart never records
//! anything twice.
//!
//! - `escalations`: records SLA notices (`sla_at_risk`, `sla_breached`) and escalation steps due
//!   on the incidents' timelines, and queues the webhook deliveries of each step.
//! - `webhook-deliveries`: sends the queued deliveries, signed per Standard Webhooks, retrying
//!   with backoff (`domain::webhook::retry_delay_secs`) under one stable `webhook-id`.
//! - `analytics-refresh`: recomputes the analytics snapshots of the days whose facts changed
//!   (`Analytics::refresh_analytics`, incremental); a refresh that loses a race to another one
//!   reads again, so runs anywhere never leave a snapshot older than the facts.

mod deliver;
mod escalate;
pub(crate) mod local;

use async_trait::async_trait;
use domain::error::Result;
use domain::model::{JobReport, JobStatus};
use domain::{Actor, Sensitive};

/// A job the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobDef {
    pub name: &'static str,
    pub every_secs: u32,
    pub description: &'static str,
}

pub const ESCALATIONS: &str = "escalations";
pub const WEBHOOK_DELIVERIES: &str = "webhook-deliveries";
pub const ANALYTICS_REFRESH: &str = "analytics-refresh";

/// Every job, in the order `GET /v1/jobs` lists them.
pub const JOBS: [JobDef; 3] = [
    JobDef {
        name: ESCALATIONS,
        every_secs: 30,
        description: "Records SLA notices and escalation steps due on open incidents, and queues their webhooks",
    },
    JobDef {
        name: WEBHOOK_DELIVERIES,
        every_secs: 5,
        description: "Sends queued escalation webhooks (Standard Webhooks signatures), retrying with backoff",
    },
    JobDef {
        name: ANALYTICS_REFRESH,
        every_secs: 300,
        description: "Recomputes the analytics snapshots of the days whose facts changed (a full rebuild: padmin analytics refresh --full)",
    },
];

/// Sends one webhook: a JSON POST with the given headers. Implemented by the front ends' HTTP
/// adapter (`outbound::HttpWebhooks`); an error is a short reason ("timed out", "connection
/// refused").
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    /// The response's status code, or why there was none.
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8])
        -> Result<u16, String>;
}

/// The scheduled jobs.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Every job, its schedule and its last run.
    async fn list_jobs(&self, actor: &Actor) -> Result<Vec<JobStatus>>;
    /// Runs one job now, here, and says what it did.
    async fn run_job(&self, actor: &Actor, name: &str) -> Result<JobReport>;
    /// The secret escalation webhooks are signed with (`whsec_…`), for receivers to verify.
    async fn webhook_signing_secret(&self, actor: &Actor) -> Result<Sensitive<String>>;
}

/// Body of `GET /v1/webhook-signing-secret`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningSecret {
    /// `whsec_<base64>`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// A job's name, as paths take it.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum JobName {
    Escalations,
    WebhookDeliveries,
    AnalyticsRefresh,
}
