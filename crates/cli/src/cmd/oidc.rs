//! `padmin oidc`: OIDC configurations.

use super::common::{done, read_stdin, Idem};
use crate::output;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::Sensitive;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    List,
    Show {
        id: String,
    },
    /// Create a configuration. The client secret is read from standard input with --client-secret-stdin.
    Create {
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        redirect_uri: String,
        #[arg(long)]
        client_secret_stdin: bool,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
        #[command(flatten)]
        idem: Idem,
    },
    Update {
        id: String,
        #[arg(long)]
        issuer: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        #[arg(long)]
        redirect_uri: Option<String>,
        /// Replace the secret with one read from standard input.
        #[arg(long)]
        client_secret_stdin: bool,
        #[arg(long, conflicts_with = "client_secret_stdin")]
        clear_client_secret: bool,
    },
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    Delete {
        id: String,
    },
    /// Test the connection: fetch the issuer's discovery document and key set, and say what is wrong.
    Test {
        id: String,
    },
}

/// The exit code of a connection test that found problems.
pub const TEST_FAILED: u8 = 12;

/// The client secret from standard input, when `--client-secret-stdin` asks for it.
fn secret(from_stdin: bool) -> Result<Option<Sensitive<String>>, Error> {
    if from_stdin {
        read_stdin("client_secret").map(|x| Some(Sensitive::new(x)))
    } else {
        Ok(None)
    }
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List => done(s, &p.list_oidc(a).await?, |v| output::oidc(v)),
        Cmd::Show { id } => done(s, &p.get_oidc(a, &id).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        Cmd::Create {
            issuer,
            client_id,
            redirect_uri,
            client_secret_stdin,
            disabled,
            idem,
        } => {
            let new = portal::NewOidc {
                issuer,
                client_id,
                redirect_uri,
                client_secret: secret(client_secret_stdin)?,
                enabled: !disabled,
            };
            done(
                s,
                &p.create_oidc(a, new, idem.idempotency_key.as_deref())
                    .await?,
                |c| output::oidc(std::slice::from_ref(c)),
            )
        }
        Cmd::Update {
            id,
            issuer,
            client_id,
            redirect_uri,
            client_secret_stdin,
            clear_client_secret,
        } => {
            let ch = portal::OidcChanges {
                issuer,
                client_id,
                redirect_uri,
                client_secret: secret(client_secret_stdin)?,
                clear_client_secret,
            };
            done(s, &p.update_oidc(a, &id, ch).await?, |c| {
                output::oidc(std::slice::from_ref(c))
            })
        }
        Cmd::Enable { id } => done(s, &p.set_oidc_enabled(a, &id, true).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        Cmd::Disable { id } => done(s, &p.set_oidc_enabled(a, &id, false).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        Cmd::Delete { id } => done(s, &p.delete_oidc(a, &id).await?, |_| println!("deleted")),
        Cmd::Test { id } => {
            let report = p.test_oidc(a, &id).await?;
            done(s, &report, output::oidc_test)?;
            Ok(if report.ok() { 0 } else { TEST_FAILED })
        }
    }
}
