//! `impl Jobs for LocalPortal`, and the one entry the scheduler calls ([`LocalPortal::run_named`]).

use super::{Jobs, JOBS};
use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::error::{Error, Result};
use domain::model::{JobReport, JobStatus};
use domain::webhook::WebhookSecret;
use domain::{Actor, Permission, Sensitive, Timestamp};

impl LocalPortal {
    /// Runs job `name` as `runner` (an instance name), recording its start, end and outcome.
    pub async fn run_named(&self, name: &str, runner: &str) -> Result<JobReport> {
        let def = JOBS
            .iter()
            .find(|j| j.name == name)
            .ok_or_else(|| unknown(name))?;
        let started_at = self.now();
        self.store
            .record_job_start(def.name, started_at, runner)
            .await
            .map_err(store_err)?;
        let outcome = match def.name {
            super::ESCALATIONS => self.run_escalations().await,
            super::ANALYTICS_REFRESH => self.run_analytics_refresh().await,
            _ => self.run_deliveries().await,
        };
        let finished_at = self.now();
        let (status, summary) = match &outcome {
            Ok(s) => ("ok", s.clone()),
            Err(e) => ("failed", e.to_string()),
        };
        self.store
            .record_job_end(def.name, finished_at, status, &summary)
            .await
            .map_err(store_err)?;
        let summary = outcome?;
        Ok(JobReport {
            name: def.name.to_string(),
            started_at,
            finished_at,
            summary,
        })
    }

    async fn run_analytics_refresh(&self) -> Result<String> {
        let actor = Actor::system(super::ANALYTICS_REFRESH);
        let r = self.refresh(&actor, false).await?;
        Ok(match (r.from, r.usage_from) {
            (None, None) => "nothing changed".into(),
            _ => format!(
                "recomputed {} ledger days ({} movements) and {} usage days",
                r.days, r.movements, r.usage_days
            ),
        })
    }

    /// The escalation webhooks' signing secret: derived from the oldest master-key version this
    /// portal holds, so it stays the same across master-key rotations until that version is
    /// retired.
    pub(crate) fn webhook_secret(&self) -> Result<WebhookSecret> {
        let keys = self.master_keys()?;
        let version = keys
            .versions()
            .min()
            .ok_or_else(|| Error::Internal("no master key".into()))?;
        let bytes = keys
            .mac(version, "escalation-webhooks", b"signing secret")
            .ok_or_else(|| Error::Internal("deriving the webhook secret failed".into()))?;
        WebhookSecret::from_bytes(bytes.to_vec()).map_err(Error::Internal)
    }
}

fn unknown(name: &str) -> Error {
    Error::NotFound(format!(
        "no job `{name}`: the jobs are {}",
        JOBS.iter().map(|j| j.name).collect::<Vec<_>>().join(", ")
    ))
}

#[async_trait]
impl Jobs for LocalPortal {
    async fn list_jobs(&self, actor: &Actor) -> Result<Vec<JobStatus>> {
        self.authorize(actor, Permission::OperateJobs, None)?;
        let runs = self.store.job_runs().await.map_err(store_err)?;
        Ok(JOBS
            .iter()
            .map(|def| {
                let run = runs.iter().find(|r| r.name == def.name);
                let last_started_at = run.and_then(|r| r.last_started_at);
                JobStatus {
                    name: def.name.to_string(),
                    description: def.description.to_string(),
                    every_secs: def.every_secs,
                    last_started_at,
                    last_finished_at: run.and_then(|r| r.last_finished_at),
                    last_outcome: run.and_then(|r| r.last_outcome.clone()),
                    last_summary: run.and_then(|r| r.last_summary.clone()),
                    runs: run.map_or(0, |r| r.runs),
                    last_runner: run.and_then(|r| r.last_runner.clone()),
                    next_run_at: last_started_at
                        .map(|t: Timestamp| t.plus_secs(i64::from(def.every_secs))),
                }
            })
            .collect())
    }

    async fn run_job(&self, actor: &Actor, name: &str) -> Result<JobReport> {
        self.authorize(actor, Permission::OperateJobs, None)?;
        self.run_named(name, &format!("by hand ({})", actor.name))
            .await
    }

    async fn webhook_signing_secret(&self, actor: &Actor) -> Result<Sensitive<String>> {
        self.authorize(actor, Permission::ManageSla, None)?;
        Ok(self.webhook_secret()?.to_whsec())
    }
}
