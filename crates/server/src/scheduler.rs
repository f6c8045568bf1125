//! The scheduler: runs each of the portal's jobs (`portal::jobs::JOBS`) on its schedule, on one
//! instance at a time. Each job has a leader: the instance holding its lease, a PostgreSQL
//! session advisory lock on a connection of its own (`store::JobStore::try_lead`). The lock goes
//! with the connection, so a leader that stops, crashes or is killed frees it at once, and a
//! follower — polling every [`FOLLOW_SECS`] — takes over within seconds. A leader that loses its
//! connection stops running the job until it leads again.
//!
//! Leadership only spares the work: the jobs themselves record everything under keys in the
//! database, so even two runs at once (a run by hand beside the scheduler) record nothing twice.

use portal::jobs::{JobDef, JOBS};
use portal::LocalPortal;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often a follower tries to take a job over.
pub const FOLLOW_SECS: u64 = 2;

/// The scheduler's tasks; dropping it stops them (and frees the leases).
#[derive(Debug)]
pub struct Scheduler {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Scheduler {
    /// Starts one task per job, for the instance called `runner`.
    pub fn start(portal: Arc<LocalPortal>, runner: String) -> Self {
        Self::start_with(portal, runner, &JOBS, Duration::from_secs(FOLLOW_SECS))
    }

    /// [`Scheduler::start`] with given jobs and follower poll (tests use short ones).
    pub fn start_with(
        portal: Arc<LocalPortal>,
        runner: String,
        jobs: &[JobDef],
        follow: Duration,
    ) -> Self {
        let tasks = jobs
            .iter()
            .map(|def| tokio::spawn(run_job(portal.clone(), runner.clone(), *def, follow)))
            .collect();
        Scheduler { tasks }
    }
}

async fn run_job(portal: Arc<LocalPortal>, runner: String, def: JobDef, follow: Duration) {
    loop {
        let mut lease = match portal.store().try_lead(def.name).await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                tokio::time::sleep(follow).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(job = def.name, error = %e, "cannot ask for the job's lease");
                tokio::time::sleep(follow).await;
                continue;
            }
        };
        tracing::info!(job = def.name, runner = %runner, "leading the job");
        while lease.alive().await {
            match portal.run_named(def.name, &runner).await {
                Ok(report) => {
                    tracing::debug!(job = def.name, summary = %report.summary, "job ran")
                }
                Err(e) => {
                    tracing::warn!(job = def.name, error = %e, cause = ?e.cause(), "job failed")
                }
            }
            tokio::time::sleep(Duration::from_secs(u64::from(def.every_secs))).await;
        }
        tracing::warn!(job = def.name, "lost the job's lease; following again");
        lease.release().await;
    }
}
