//! `padmin jobs`: the scheduled jobs (their last and next run), a run by hand, and the secret
//! escalation webhooks are signed with.

use super::common::done;
use crate::output::{table, when};
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Every job, its schedule, its last run and its next.
    List,
    /// Runs a job now (`escalations`, `webhook-deliveries` or `analytics-refresh`) and says what
    /// it did.
    Run { name: String },
    /// The secret escalation webhooks are signed with (`whsec_…`, Standard Webhooks): give it to
    /// the receivers so they can verify `webhook-signature`.
    Secret,
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List => done(s, &p.list_jobs(a).await?, |jobs| {
            let mut t = table(&[
                "job",
                "every",
                "last run",
                "outcome",
                "what it did",
                "by",
                "next run",
            ]);
            for j in jobs {
                t.add_row(vec![
                    j.name.clone(),
                    format!("{} s", j.every_secs),
                    when(j.last_started_at),
                    j.last_outcome.clone().unwrap_or_else(|| "never ran".into()),
                    j.last_summary.clone().unwrap_or_default(),
                    j.last_runner.clone().unwrap_or_else(|| "—".into()),
                    when(j.next_run_at),
                ]);
            }
            println!("{t}");
        }),
        Cmd::Run { name } => done(s, &p.run_job(a, &name).await?, |r| {
            println!("{}: {}", r.name, r.summary);
        }),
        Cmd::Secret => {
            let secret = p.webhook_signing_secret(a).await?;
            let body = serde_json::json!({ "secret": secret.expose() });
            done(s, &body, |_| println!("{}", secret.expose()))
        }
    }
}
