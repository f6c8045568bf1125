//! `padmin`: the Provider Admin command line. A thin front end: each subcommand parses its
//! arguments, calls one Portal method and renders the result. No SQL and no business rule here.
//!
//! Reading order: this file (the command tree, exit codes, dispatch), `session.rs` (how a local
//! or remote Portal is opened), then `cmd/<capability>.rs` (one module per capability: its clap
//! subcommands and their `run`), and `output.rs` (tables and JSON).

mod cmd;
mod output;
mod output_incidents;
mod session;

use clap::{Parser, Subcommand};
use cmd::{
    account, analytics, audit, clients, escalation, events, incidents, info, integrations, jobs,
    keys, oidc, secrets, seed, sla, sync,
};
use domain::error::{Error, ErrorCode};
use session::Session;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  usage error (bad flags)
  3  invalid input (the message names the field)
  4  not found
  5  conflict (e.g. idempotency key reused with other input, already rotated, acknowledging
     an incident that is not open)
  6  unauthenticated (e.g. a key that does not verify)
  7  forbidden
  8  rate limited
  9  unavailable (database or OS keychain)
  10 internal error
  11 the audit chain is broken, or a checkpoint does not hold
  12 an OIDC connection test found problems
  13 the checkpoint given to `audit verify --against` is not authentic

Environment:
  PADMIN_DB               database (same as --db)
  PADMIN_PORTAL           portal API URL (same as --portal)
  BROWSER                 the browser `login` opens (default: the system's)
  PADMIN_DATA_DIR         folder of the embedded workspace (default: the OS data folder)
  PORTAL_MASTER_KEY       master key set `1:<base64>[,2:<base64>]` instead of the OS keychain
  PORTAL_MASTER_KEY_FILE  file holding the master key set (created on first use)
  RUST_LOG                log level (default: warn)";

#[derive(Parser, Debug)]
#[command(name = "padmin", version, about = "Provider Admin: federation keys, OIDC, integrations, clients, incidents and audit of the provider portal.", after_help = EXIT_CODES)]
struct Cli {
    /// The database: a SQLite file path or a postgres:// URL. Default: the embedded workspace.
    #[arg(
        long,
        global = true,
        env = "PADMIN_DB",
        hide_env_values = true,
        conflicts_with = "portal"
    )]
    db: Option<String>,
    /// Work through a portal API (https://…) instead of a database; sign in first with `login`.
    #[arg(long, global = true, env = "PADMIN_PORTAL")]
    portal: Option<String>,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

// The command tree; the order here is the order of `padmin --help`.
#[derive(Subcommand, Debug)]
enum Command {
    /// Federation keys: create, list, revoke, rotate, verify.
    #[command(subcommand)]
    Keys(keys::Cmd),
    /// OIDC configurations.
    #[command(subcommand)]
    Oidc(oidc::Cmd),
    /// Provider integrations.
    #[command(subcommand)]
    Integrations(integrations::Cmd),
    /// Clients (tenant organisations).
    #[command(subcommand)]
    Clients(clients::Cmd),
    /// Incidents: open, triage and resolve them against their SLA; MTTA and MTTR.
    #[command(subcommand)]
    Incidents(incidents::Cmd),
    /// SLA targets per severity.
    #[command(subcommand)]
    Sla(sla::Cmd),
    /// Escalation policies: who is notified, and when, while an incident goes unanswered.
    #[command(subcommand)]
    Escalation(escalation::Cmd),
    /// Offline sync of a portal's incidents (with --portal): status, now, rebuild, keep, dismiss.
    #[command(subcommand)]
    Sync(sync::Cmd),
    /// Scheduled jobs (escalations, webhook deliveries, analytics refresh): last and next run, run one now.
    #[command(subcommand)]
    Jobs(jobs::Cmd),
    /// Analytics: MRR and its movements, growth, top clients and features, funnels; refresh.
    #[command(subcommand)]
    Analytics(analytics::Cmd),
    /// Product events: import a CSV or NDJSON file.
    #[command(subcommand)]
    Events(events::Cmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(audit::Cmd),
    /// Secrets at rest and the master key.
    #[command(subcommand)]
    Secrets(secrets::Cmd),
    /// Where the data and the master key live, and the version.
    Info,
    // `login`, `logout` and `whoami`, at the top level.
    #[command(flatten)]
    Account(account::Cmd),
    // `seed --demo` and `seed analytics`, at the top level.
    #[command(flatten)]
    Seed(seed::Cmd),
}

fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Invalid => 3,
        ErrorCode::NotFound => 4,
        ErrorCode::Conflict => 5,
        ErrorCode::Unauthenticated => 6,
        ErrorCode::Forbidden => 7,
        ErrorCode::RateLimited => 8,
        ErrorCode::Unavailable => 9,
        ErrorCode::Internal => 10,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.json;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(10);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(cause) = e.cause() {
                // For whoever runs padmin: the log (stderr, RUST_LOG) has what went wrong.
                tracing::error!(%cause, "internal error");
            }
            if json {
                output::json(
                    &serde_json::json!({"error": {"code": e.code(), "message": e.to_string(), "fields": e.fields()}}),
                );
            } else {
                print_error(&e);
            }
            ExitCode::from(exit_code(e.code()))
        }
    }
}

/// An error for a person, on standard error: invalid input names each bad field on a line of
/// its own (`rules[1].after_mins: must be …`).
fn print_error(e: &Error) {
    match e.fields() {
        [] => eprintln!("error: {e}"),
        fields => {
            eprintln!("error: invalid input");
            for f in fields {
                eprintln!("  {}: {}", f.field, f.message);
            }
        }
    }
}

/// Hands the command to its capability's module, with the session the flags ask for.
async fn run(cli: Cli) -> Result<u8, Error> {
    let Cli {
        db,
        portal,
        json,
        command,
    } = cli;
    let command = match command {
        // Signing in and out needs the portal's address, not an open session.
        Command::Account(c) => return account::run(db, portal.as_deref(), json, c).await,
        other => other,
    };
    let session = || Session::open(db, portal.as_deref(), json);
    match command {
        Command::Account(_) => unreachable!("handled above"),
        Command::Keys(c) => keys::run(&session().await?, c).await,
        Command::Oidc(c) => oidc::run(&session().await?, c).await,
        Command::Integrations(c) => integrations::run(&session().await?, c).await,
        Command::Clients(c) => clients::run(&session().await?, c).await,
        Command::Incidents(c) => incidents::run(&session().await?, c).await,
        Command::Sla(c) => sla::run(&session().await?, c).await,
        Command::Escalation(c) => escalation::run(&session().await?, c).await,
        Command::Jobs(c) => jobs::run(&session().await?, c).await,
        Command::Sync(c) => sync::run(&session().await?, c).await,
        Command::Audit(c) => audit::run(&session().await?, c).await,
        Command::Analytics(c) => analytics::run(&session().await?, c).await,
        Command::Events(c) => events::run(&session().await?, c).await,
        Command::Secrets(c) => secrets::run(&session().await?, c).await,
        Command::Info => info::run(&session().await?),
        Command::Seed(c) => seed::run(&session().await?, c).await,
    }
}
