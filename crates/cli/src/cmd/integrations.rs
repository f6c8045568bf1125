//! `padmin integrations`: provider integrations.

use super::common::{done, read_json, Idem};
use crate::output;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    List,
    Show {
        id: String,
    },
    /// Create an integration; its configuration JSON is read from a file or standard input (`-`).
    Create {
        #[arg(long)]
        name: String,
        /// stripe, salesforce, hubspot, slack, zendesk, webhook, custom
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        idem: Idem,
    },
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    Delete {
        id: String,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List => done(s, &p.list_integrations(a).await?, |v| {
            output::integrations(v)
        }),
        Cmd::Show { id } => done(s, &p.get_integration(a, &id).await?, |i| {
            output::integrations(std::slice::from_ref(i))
        }),
        Cmd::Create {
            name,
            kind,
            config,
            idem,
        } => {
            let new = portal::NewIntegration {
                name,
                kind,
                config: read_json("config", &config)?,
            };
            done(
                s,
                &p.create_integration(a, new, idem.idempotency_key.as_deref())
                    .await?,
                |i| output::integrations(std::slice::from_ref(i)),
            )
        }
        Cmd::Update { id, name, config } => {
            let config = config
                .as_deref()
                .map(|c| read_json("config", c))
                .transpose()?;
            done(
                s,
                &p.update_integration(a, &id, portal::IntegrationChanges { name, config })
                    .await?,
                |i| output::integrations(std::slice::from_ref(i)),
            )
        }
        Cmd::Pause { id } => done(s, &p.set_integration_paused(a, &id, true).await?, |i| {
            output::integrations(std::slice::from_ref(i))
        }),
        Cmd::Resume { id } => done(s, &p.set_integration_paused(a, &id, false).await?, |i| {
            output::integrations(std::slice::from_ref(i))
        }),
        Cmd::Delete { id } => done(s, &p.delete_integration(a, &id).await?, |_| {
            println!("deleted")
        }),
    }
}
