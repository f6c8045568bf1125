//! `padmin seed --demo`: fill an empty workspace with demo data. `padmin seed analytics`: add a
//! generated analytics history (deterministic for a seed) and refresh the snapshots.

use super::common::{done, progress_bar};
use crate::session::Session;
use clap::Subcommand;
use domain::analytics::Day;
use domain::error::Error;
use domain::Clock;
use portal::analytics::generate::{self, GenerateSpec};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Fill an empty workspace with realistic demo data (--demo), or add a generated analytics
    /// history (`seed analytics`).
    Seed {
        /// Demo data: 50 clients, keys in every state, OIDC configurations, integrations, a few thousand audit events.
        #[arg(long)]
        demo: bool,
        #[command(subcommand)]
        what: Option<What>,
    },
}

#[derive(Subcommand, Debug)]
pub enum What {
    /// Generate organisations' subscriptions (growth, seasonality, upgrades, discounts, churn,
    /// reactivations) and their users' product events, the same for the same --seed; then
    /// refresh the snapshots.
    Analytics {
        /// Organisations.
        #[arg(long, default_value_t = 200)]
        orgs: u32,
        /// Product events in all.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days of history, up to yesterday.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Leave the snapshots as they are (refresh later with `padmin analytics refresh`).
        #[arg(long)]
        no_refresh: bool,
    },
}

async fn demo(s: &Session) -> Result<u8, Error> {
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

async fn analytics(s: &Session, spec: GenerateSpec, refresh: bool) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    let pb = progress_bar(s.json, "generating");
    let progress = |done: u64, total: u64| {
        pb.set_length(total);
        pb.set_position(done);
    };
    let loaded = generate::load(p.as_ref(), a, &spec, &progress).await?;
    pb.finish_and_clear();
    let (subscriptions, events) = (loaded.subscription_changes, loaded.events);
    let refreshed = if refresh {
        Some(p.refresh_analytics(a, false).await?)
    } else {
        None
    };
    let report = serde_json::json!({
        "subscription_changes": subscriptions, "events": events, "refresh": refreshed,
    });
    done(s, &report, |_| {
        println!(
            "generated {} organisations over {} days up to {}: {subscriptions} new subscription changes, {events} new events{}",
            spec.orgs,
            spec.days,
            spec.until,
            if refresh { "; snapshots refreshed" } else { "" }
        )
    })
}

pub async fn run(s: &Session, Cmd::Seed { demo: d, what }: Cmd) -> Result<u8, Error> {
    match (d, what) {
        (true, None) => demo(s).await,
        (
            false,
            Some(What::Analytics {
                orgs,
                events,
                seed,
                days,
                no_refresh,
            }),
        ) => {
            if orgs == 0 || days == 0 {
                return Err(Error::invalid("orgs", "--orgs and --days are at least 1"));
            }
            let spec = GenerateSpec {
                orgs,
                events,
                seed,
                until: Day::of(domain::SystemClock.now()).plus(-1),
                days,
            };
            analytics(s, spec, !no_refresh).await
        }
        _ => Err(Error::invalid(
            "seed",
            "say what to seed: `padmin seed --demo` or `padmin seed analytics`",
        )),
    }
}
