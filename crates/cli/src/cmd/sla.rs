//! `padmin sla`: the SLA targets of each severity.

use super::common::done;
use crate::output_incidents as show;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::model::{Severity, SlaTarget};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The targets of every severity (configured or default), sev1 first.
    Show,
    /// Set one severity's targets (the others keep theirs).
    Set {
        /// sev1 (most severe), sev2, sev3 or sev4
        #[arg(value_parser = Severity::parse)]
        severity: Severity,
        /// Minutes to the first acknowledgement (1 to 43,200).
        #[arg(long, value_name = "MINS")]
        response: u32,
        /// Minutes to resolution, not counting time waiting on the customer (1 to 525,600;
        /// at least the response target).
        #[arg(long, value_name = "MINS")]
        resolve: u32,
        /// A clock past this share of its target is at risk (1 to 99). Default: unchanged.
        #[arg(long, value_name = "PCT")]
        at_risk: Option<u8>,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::Show => done(s, &p.sla_targets(a).await?, |v| show::sla_targets(v)),
        Cmd::Set {
            severity,
            response,
            resolve,
            at_risk,
        } => {
            let at_risk_percent = match at_risk {
                Some(pct) => pct,
                // Keep the severity's current threshold: the flag changes only what it names.
                None => p
                    .sla_targets(a)
                    .await?
                    .into_iter()
                    .find(|t| t.severity == severity)
                    .map_or(domain::model::AT_RISK_PERCENT_DEFAULT, |t| {
                        t.at_risk_percent
                    }),
            };
            let target = SlaTarget {
                severity,
                target_response_mins: response,
                target_resolve_mins: resolve,
                at_risk_percent,
            };
            done(s, &p.set_sla_targets(a, vec![target]).await?, |v| {
                println!("SLA targets of {severity} saved");
                show::sla_targets(v);
            })
        }
    }
}
