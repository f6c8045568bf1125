//! `padmin seed --demo`: fill an empty workspace with demo data.

use super::common::{done, progress_bar};
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::model::ClientFilter;
use domain::{Clock, SystemClock};
// The capability traits: needed in scope once `Portal` is their sum (issue 8); today the
// methods resolve on `dyn Portal` itself.
#[allow(unused_imports)]
use portal::prelude::*;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Fill an empty workspace with realistic demo data.
    Seed {
        /// Demo data: 50 clients, keys in every state, OIDC configurations, integrations, a few thousand audit events.
        #[arg(long, required = true)]
        demo: bool,
    },
}

// Today this decides "empty workspace" itself (no clients) and writes through the store,
// bypassing the Portal and `Permission::Seed`; issue 8 moves both into a Portal operation.
pub async fn run(s: &Session, Cmd::Seed { .. }: Cmd) -> Result<u8, Error> {
    let existing = s
        .portal
        .list_clients(
            &s.actor,
            ClientFilter {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await?;
    if !existing.items.is_empty() {
        return Err(Error::Conflict("this workspace already has data: seed only an empty workspace (use another --db or PADMIN_DATA_DIR)".into()));
    }
    let pb = progress_bar(s.json, "seeding");
    let progress = |done: u64, total: u64| {
        pb.set_length(total);
        pb.set_position(done);
    };
    let Some((store, local)) = &s.local else {
        return Err(Error::invalid(
            "portal",
            "seeding writes to a database directly: use --db or the embedded workspace, not --portal",
        ));
    };
    let keys = local.master_key_set()?;
    let report = portal::seed::demo(store.clone(), keys, SystemClock.now(), &progress).await?;
    pb.finish_and_clear();
    done(s, &report, |r| {
        println!(
            "seeded {} clients, {} keys, {} OIDC configurations, {} integrations; the audit trail holds {} events",
            r.clients, r.keys, r.oidc_configs, r.integrations, r.audit_events
        )
    })
}
