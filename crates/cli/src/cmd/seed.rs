//! `padmin seed --demo`: fill an empty workspace with demo data.

use super::common::{done, progress_bar};
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Fill an empty workspace with realistic demo data.
    Seed {
        /// Demo data: 50 clients, keys in every state, OIDC configurations, integrations, a few thousand audit events.
        #[arg(long, required = true)]
        demo: bool,
    },
}

/// One Portal call: it checks the `seed` permission and that the workspace is empty.
pub async fn run(s: &Session, Cmd::Seed { .. }: Cmd) -> Result<u8, Error> {
    let pb = progress_bar(s.json, "seeding");
    let progress = |done: u64, total: u64| {
        pb.set_length(total);
        pb.set_position(done);
    };
    let report = s.portal.seed_demo(&s.actor, &progress).await?;
    pb.finish_and_clear();
    done(s, &report, |r| {
        println!(
            "seeded {} clients, {} keys, {} OIDC configurations, {} integrations; the audit trail holds {} events",
            r.clients, r.keys, r.oidc_configs, r.integrations, r.audit_events
        )
    })
}
