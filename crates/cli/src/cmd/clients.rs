//! `padmin clients`: clients (tenant organisations).

use super::common::{done, Idem};
use crate::output;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::model::ClientFilter;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    Show {
        id: String,
    },
    Rename {
        id: String,
        name: String,
    },
    Create {
        #[arg(long)]
        name: String,
        /// free, starter, pro, enterprise
        #[arg(long, default_value = "free")]
        plan: String,
        /// active, trial, suspended, churned
        #[arg(long, default_value = "trial")]
        status: String,
        #[command(flatten)]
        idem: Idem,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List {
            search,
            limit,
            cursor,
        } => {
            let filter = ClientFilter {
                search,
                limit,
                cursor,
            };
            done(s, &p.list_clients(a, filter).await?, |p| {
                output::clients(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        Cmd::Show { id } => done(s, &p.get_client(a, &id).await?, |c| {
            output::clients(std::slice::from_ref(c))
        }),
        Cmd::Rename { id, name } => done(s, &p.rename_client(a, &id, &name).await?, |c| {
            output::clients(std::slice::from_ref(c))
        }),
        Cmd::Create {
            name,
            plan,
            status,
            idem,
        } => {
            let new = portal::NewClient { name, plan, status };
            done(
                s,
                &p.create_client(a, new, idem.idempotency_key.as_deref())
                    .await?,
                |c| output::clients(std::slice::from_ref(c)),
            )
        }
    }
}
