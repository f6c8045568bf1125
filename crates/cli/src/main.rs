//! `padmin`: the Provider Admin command line. A thin front end: each subcommand parses its
//! arguments, calls one Portal method and renders the result. No SQL and no business rule here.

mod output;

use clap::{Args, Parser, Subcommand};
use client::signin::SessionStore;
use domain::error::{Error, ErrorCode};
use domain::model::{AuditFilter, ClientFilter, KeyFilter, KeyStatus};
use domain::{Actor, Clock, Sensitive, SystemClock, Timestamp};
use indicatif::{ProgressBar, ProgressStyle};
use portal::{os, LocalPortal, Portal};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use store::{SqlStore, Store};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  usage error (bad flags)
  3  invalid input (the message names the field)
  4  not found
  5  conflict (e.g. idempotency key reused with other input, already rotated)
  6  unauthenticated (e.g. a key that does not verify)
  7  forbidden
  8  rate limited
  9  unavailable (database or OS keychain)
  10 internal error
  11 the audit chain is broken

Environment:
  PADMIN_DB               database (same as --db)
  PADMIN_PORTAL           portal API URL (same as --portal)
  BROWSER                 the browser `login` opens (default: the system's)
  PADMIN_DATA_DIR         folder of the embedded workspace (default: the OS data folder)
  PORTAL_MASTER_KEY       master key set `1:<base64>[,2:<base64>]` instead of the OS keychain
  PORTAL_MASTER_KEY_FILE  file holding the master key set (created on first use)
  RUST_LOG                log level (default: warn)";

#[derive(Parser, Debug)]
#[command(name = "padmin", version, about = "Provider Admin: federation keys, OIDC, integrations, clients and audit of the provider portal.", after_help = EXIT_CODES)]
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

#[derive(Subcommand, Debug)]
enum Command {
    /// Federation keys: create, list, revoke, rotate, verify.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// OIDC configurations.
    #[command(subcommand)]
    Oidc(OidcCmd),
    /// Provider integrations.
    #[command(subcommand)]
    Integrations(IntegrationsCmd),
    /// Clients (tenant organisations).
    #[command(subcommand)]
    Clients(ClientsCmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Secrets at rest and the master key.
    #[command(subcommand)]
    Secrets(SecretsCmd),
    /// Where the data and the master key live, and the version.
    Info,
    /// Sign in to the portal given by --portal (OIDC in your browser; tokens go to the OS keychain).
    Login {
        /// Print the sign-in URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign out of the portal: revoke the session at the identity provider and forget it.
    Logout,
    /// Who you are signed in as at the portal, and what your role allows.
    Whoami,
    /// Fill an empty workspace with realistic demo data.
    Seed {
        /// Demo data: 50 clients, keys in every state, OIDC configurations, integrations, a few thousand audit events.
        #[arg(long, required = true)]
        demo: bool,
    },
}

#[derive(Args, Debug)]
struct Idem {
    /// Makes a retry safe: the same key and input returns the first result (kept 24 h).
    #[arg(long)]
    idempotency_key: Option<String>,
}

#[derive(Subcommand, Debug)]
enum KeysCmd {
    /// Create a key. The full key is printed once and cannot be shown again.
    Create {
        #[arg(long)]
        name: String,
        /// Lifetime, e.g. 90d or 12h. Default: no expiry.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        idem: Idem,
    },
    /// List keys, newest first.
    List {
        /// active, revoked or expired
        #[arg(long, value_parser = KeyStatus::parse)]
        status: Option<KeyStatus>,
        /// Active keys expiring within this many days.
        #[arg(long)]
        expiring_within: Option<u32>,
        /// Keys not used for at least this many days.
        #[arg(long)]
        unused_for: Option<u32>,
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one key.
    Show { id: String },
    /// Revoke one or more keys (all or none).
    Revoke {
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        idem: Idem,
    },
    /// Mint a successor; the old key keeps working during the overlap.
    Rotate {
        id: String,
        /// 0, 1m, 15m, 1h, 6h, 24h (at most 7d).
        #[arg(long)]
        overlap: String,
        #[command(flatten)]
        idem: Idem,
    },
    /// End a rotated key's overlap now.
    EndOverlap { id: String },
    /// Verify a key read from standard input (never from the command line).
    Verify,
}

#[derive(Subcommand, Debug)]
enum OidcCmd {
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
}

#[derive(Subcommand, Debug)]
enum IntegrationsCmd {
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

#[derive(Subcommand, Debug)]
enum ClientsCmd {
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

#[derive(Args, Debug, Clone)]
struct AuditFilterArgs {
    #[arg(long)]
    entity_type: Option<String>,
    #[arg(long)]
    entity_id: Option<String>,
    /// Actor id or name.
    #[arg(long)]
    actor: Option<String>,
    #[arg(long)]
    action: Option<String>,
    /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
    #[arg(long, value_parser = parse_time)]
    from: Option<Timestamp>,
    /// Until this time, exclusive.
    #[arg(long, value_parser = parse_time)]
    to: Option<Timestamp>,
}

impl AuditFilterArgs {
    fn filter(self, limit: Option<u32>, cursor: Option<String>) -> AuditFilter {
        AuditFilter {
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            actor: self.actor,
            action: self.action,
            from: self.from,
            to: self.to,
            limit,
            cursor,
        }
    }
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
        .ok_or_else(|| format!("`{s}` is not a time: use 2026-11-26 or 2026-11-26T10:00:00Z"))
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Browse events, newest first.
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Check the hash chain and report the first broken link.
    Verify,
    /// Export matching events as CSV.
    Export {
        #[arg(long)]
        csv: PathBuf,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
}

#[derive(Subcommand, Debug)]
enum SecretsCmd {
    /// How many sealed secrets are behind the current master-key version.
    Status,
    /// Add a master-key version and re-encrypt every secret to it (resumable).
    RotateMaster {
        /// Only report what is behind.
        #[arg(long)]
        dry_run: bool,
        /// Secrets re-encrypted per transaction.
        #[arg(long, default_value_t = 100)]
        batch_size: u32,
        /// Stop after this many batches (spread the work; the next run resumes).
        #[arg(long)]
        max_batches: Option<u32>,
    },
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
            if json {
                output::json(
                    &serde_json::json!({"error": {"code": e.code(), "message": e.to_string(), "fields": e.fields()}}),
                );
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(exit_code(e.code()))
        }
    }
}

struct Session {
    portal: Arc<dyn Portal>,
    location: String,
    key_source: String,
    /// The local store and portal, when working on a database (not through the API).
    local: Option<(Arc<dyn Store>, Arc<LocalPortal>)>,
    /// The API client, when working through a portal.
    remote: Option<client::RemotePortal>,
    actor: Actor,
    json: bool,
}

impl Session {
    fn portal_remote(&self) -> Option<&client::RemotePortal> {
        self.remote.as_ref()
    }
}

fn local_login() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "admin".into())
}

const UA: &str = concat!("padmin/", env!("CARGO_PKG_VERSION"));

/// The keychain entry of a portal's session: one per portal URL.
fn portal_sessions(url: &str) -> Result<client::os::KeychainSessions, Error> {
    let base = client::parse_base_url(url)?;
    Ok(client::os::KeychainSessions::new(base.as_str()))
}

async fn sign_in_config(url: &str) -> Result<client::signin::SignInConfig, Error> {
    let info = client::RemotePortal::sign_in_info(url).await?;
    Ok(client::signin::SignInConfig {
        issuer: info.issuer,
        client_id: info.client_id,
        scopes: info.scopes,
    })
}

/// Works through the portal API as the signed-in user.
async fn open_remote(url: &str, json: bool) -> Result<Session, Error> {
    let store = Arc::new(portal_sessions(url)?);
    if store.load()?.is_none() {
        return Err(Error::Unauthenticated(format!(
            "not signed in to {url}: run `padmin --portal {url} login` first"
        )));
    }
    let config = sign_in_config(url).await?;
    let tokens = Arc::new(client::signin::SignedIn::load(config, store)?);
    let remote = client::RemotePortal::new(url, tokens)?;
    let location = remote.base_url().to_string();
    let mut actor = Actor::local_admin(&local_login(), UA);
    actor.ip = None;
    Ok(Session {
        portal: Arc::new(remote.clone()),
        location,
        key_source: "the portal server".into(),
        local: None,
        remote: Some(remote),
        actor,
        json,
    })
}

async fn open(db: Option<String>, json: bool) -> Result<Session, Error> {
    let workspace = os::workspace_id(db.as_deref());
    let target = match db {
        Some(t) => t,
        None => os::embedded_db_path()?.display().to_string(),
    };
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::connect(&target)
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?,
    );
    let location = store::redact_url(&target);
    let source = os::master_key_source(&workspace);
    let key_source = source.describe();
    let portal = Arc::new(LocalPortal::open(store.clone(), source, Arc::new(SystemClock)).await?);
    let actor = Actor::local_admin(&local_login(), UA);
    Ok(Session {
        portal: portal.clone(),
        location,
        key_source,
        local: Some((store, portal)),
        remote: None,
        actor,
        json,
    })
}

fn read_stdin(what: &str) -> Result<String, Error> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| Error::invalid(what, format!("cannot read standard input: {e}")))?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

fn read_json(field: &str, path: &PathBuf) -> Result<Sensitive<serde_json::Value>, Error> {
    let text = if path.as_os_str() == "-" {
        read_stdin(field)?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::invalid(field, format!("cannot read {}: {e}", path.display())))?
    };
    serde_json::from_str(&text)
        .map(Sensitive::new)
        .map_err(|e| Error::invalid(field, format!("is not valid JSON: {e}")))
}

fn progress_bar(hidden: bool, what: &'static str) -> ProgressBar {
    let pb = if hidden {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what);
    pb
}

async fn run(cli: Cli) -> Result<u8, Error> {
    match (&cli.command, &cli.portal) {
        (Command::Login { no_browser }, Some(url)) => {
            return login(url, *no_browser, cli.json).await
        }
        (Command::Logout, Some(url)) => return logout(url, cli.json).await,
        (Command::Login { .. } | Command::Logout | Command::Whoami, None) => {
            return Err(Error::invalid(
                "portal",
                "login, logout and whoami need the portal: --portal https://… (or PADMIN_PORTAL)",
            ))
        }
        _ => {}
    }
    let s = match &cli.portal {
        Some(url) => open_remote(url, cli.json).await?,
        None => open(cli.db, cli.json).await?,
    };
    match cli.command {
        Command::Login { .. } | Command::Logout => Ok(0),
        Command::Whoami => whoami(&s).await,
        Command::Keys(c) => keys(&s, c).await,
        Command::Oidc(c) => oidc(&s, c).await,
        Command::Integrations(c) => integrations(&s, c).await,
        Command::Clients(c) => clients(&s, c).await,
        Command::Audit(c) => audit(&s, c).await,
        Command::Secrets(c) => secrets(&s, c).await,
        Command::Seed { .. } => seed(&s).await,
        Command::Info => {
            let info = serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "database": s.location,
                "master_key": s.key_source,
                "data_folder": os::data_dir().ok().map(|d| d.display().to_string()),
            });
            done(&s, &info, |i| {
                for (k, v) in i.as_object().into_iter().flatten() {
                    println!(
                        "{k:12} {}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    );
                }
            })
        }
    }
}

fn done<T: serde::Serialize>(s: &Session, v: &T, human: impl FnOnce(&T)) -> Result<u8, Error> {
    if s.json {
        output::json(v);
    } else {
        human(v);
    }
    Ok(0)
}

async fn keys(s: &Session, c: KeysCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        KeysCmd::Create {
            name,
            expires_in,
            idem,
        } => {
            let k = p
                .create_key(
                    a,
                    portal::NewKey { name, expires_in },
                    idem.idempotency_key.as_deref(),
                )
                .await?;
            let shown = serde_json::json!({"key": k.key, "full_key": k.full_key.expose()});
            done(s, &shown, |_| {
                output::keys(std::slice::from_ref(&k.key));
                println!(
                    "\n{}\n\nCopy this key now: it is shown only once and cannot be recovered.",
                    k.full_key.expose()
                );
            })
        }
        KeysCmd::List {
            status,
            expiring_within,
            unused_for,
            search,
            limit,
            cursor,
        } => {
            let f = KeyFilter {
                status,
                expiring_within_days: expiring_within,
                unused_for_days: unused_for,
                search,
                limit,
                cursor,
            };
            let page = p.list_keys(a, f).await?;
            done(s, &page, |p| {
                output::keys(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        KeysCmd::Show { id } => done(s, &p.get_key(a, &id).await?, |k| {
            output::keys(std::slice::from_ref(k))
        }),
        KeysCmd::Revoke { ids, idem } => done(
            s,
            &p.revoke_keys(a, &ids, idem.idempotency_key.as_deref())
                .await?,
            |v| output::keys(v),
        ),
        KeysCmd::Rotate { id, overlap, idem } => {
            let r = p
                .rotate_key(a, &id, &overlap, idem.idempotency_key.as_deref())
                .await?;
            let shown = serde_json::json!({"old": r.old, "successor": {"key": r.successor.key, "full_key": r.successor.full_key.expose()}});
            done(s, &shown, |_| {
                output::keys(&[r.old.clone(), r.successor.key.clone()]);
                let until = r.old.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!("\n{}\n\nCopy the successor now: it is shown only once. The old key works until {until}.", r.successor.full_key.expose());
            })
        }
        KeysCmd::EndOverlap { id } => done(s, &p.end_overlap(a, &id).await?, |k| {
            output::keys(std::slice::from_ref(k))
        }),
        KeysCmd::Verify => {
            let key = read_stdin("key")?;
            let v = p.verify_key(a, &key).await?;
            done(s, &v, |v| {
                println!("valid: {} ({})", v.key_id.display_prefix(), v.name)
            })
        }
    }
}

async fn oidc(s: &Session, c: OidcCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    let secret = |yes: bool| -> Result<Option<Sensitive<String>>, Error> {
        if yes {
            read_stdin("client_secret").map(|x| Some(Sensitive::new(x)))
        } else {
            Ok(None)
        }
    };
    match c {
        OidcCmd::List => done(s, &p.list_oidc(a).await?, |v| output::oidc(v)),
        OidcCmd::Show { id } => done(s, &p.get_oidc(a, &id).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        OidcCmd::Create {
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
        OidcCmd::Update {
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
        OidcCmd::Enable { id } => done(s, &p.set_oidc_enabled(a, &id, true).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        OidcCmd::Disable { id } => done(s, &p.set_oidc_enabled(a, &id, false).await?, |c| {
            output::oidc(std::slice::from_ref(c))
        }),
        OidcCmd::Delete { id } => done(s, &p.delete_oidc(a, &id).await?, |_| println!("deleted")),
    }
}

async fn integrations(s: &Session, c: IntegrationsCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        IntegrationsCmd::List => done(s, &p.list_integrations(a).await?, |v| {
            output::integrations(v)
        }),
        IntegrationsCmd::Show { id } => done(s, &p.get_integration(a, &id).await?, |i| {
            output::integrations(std::slice::from_ref(i))
        }),
        IntegrationsCmd::Create {
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
        IntegrationsCmd::Update { id, name, config } => {
            let config = config
                .as_ref()
                .map(|c| read_json("config", c))
                .transpose()?;
            done(
                s,
                &p.update_integration(a, &id, portal::IntegrationChanges { name, config })
                    .await?,
                |i| output::integrations(std::slice::from_ref(i)),
            )
        }
        IntegrationsCmd::Pause { id } => {
            done(s, &p.set_integration_paused(a, &id, true).await?, |i| {
                output::integrations(std::slice::from_ref(i))
            })
        }
        IntegrationsCmd::Resume { id } => {
            done(s, &p.set_integration_paused(a, &id, false).await?, |i| {
                output::integrations(std::slice::from_ref(i))
            })
        }
        IntegrationsCmd::Delete { id } => done(s, &p.delete_integration(a, &id).await?, |_| {
            println!("deleted")
        }),
    }
}

async fn clients(s: &Session, c: ClientsCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        ClientsCmd::List {
            search,
            limit,
            cursor,
        } => {
            let page = p
                .list_clients(
                    a,
                    ClientFilter {
                        search,
                        limit,
                        cursor,
                    },
                )
                .await?;
            done(s, &page, |p| {
                output::clients(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        ClientsCmd::Show { id } => done(s, &p.get_client(a, &id).await?, |c| {
            output::clients(std::slice::from_ref(c))
        }),
        ClientsCmd::Rename { id, name } => done(s, &p.rename_client(a, &id, &name).await?, |c| {
            output::clients(std::slice::from_ref(c))
        }),
        ClientsCmd::Create {
            name,
            plan,
            status,
            idem,
        } => {
            let c = p
                .create_client(
                    a,
                    portal::NewClient { name, plan, status },
                    idem.idempotency_key.as_deref(),
                )
                .await?;
            done(s, &c, |c| output::clients(std::slice::from_ref(c)))
        }
    }
}

async fn audit(s: &Session, c: AuditCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        AuditCmd::List {
            filter,
            limit,
            cursor,
        } => {
            let page = p.list_audit(a, filter.filter(limit, cursor)).await?;
            done(s, &page, |p| {
                output::audit(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        AuditCmd::Verify => {
            let report = p.verify_audit(a).await?;
            done(s, &report, |r| match &r.first_broken {
                None => println!("audit chain intact: {} events verified", r.checked),
                Some(b) => println!(
                    "audit chain BROKEN at event {} ({}): {}. {} events before it verified.",
                    b.seq, b.event_id, b.reason, r.checked
                ),
            })?;
            Ok(if report.first_broken.is_some() { 11 } else { 0 })
        }
        AuditCmd::Export { csv, filter } => {
            let mut file = std::fs::File::create(&csv).map_err(|e| {
                Error::invalid("csv", format!("cannot create {}: {e}", csv.display()))
            })?;
            let n = p
                .export_audit_csv(a, filter.filter(None, None), &mut file)
                .await?;
            done(s, &serde_json::json!({"exported": n, "file": csv}), |_| {
                println!("exported {n} events to {}", csv.display())
            })
        }
    }
}

async fn secrets(s: &Session, c: SecretsCmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        SecretsCmd::Status => done(s, &p.master_key_status(a).await?, |st| {
            println!(
                "master key version {}: {} of {} secrets behind it",
                st.current_version, st.behind, st.total
            )
        }),
        SecretsCmd::RotateMaster {
            dry_run,
            batch_size,
            max_batches,
        } => {
            let pb = progress_bar(s.json || dry_run, "re-encrypting");
            let progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let report = p
                .rotate_master_key(
                    a,
                    portal::MasterKeyRotation {
                        dry_run,
                        batch_size,
                        max_batches,
                    },
                    &progress,
                )
                .await?;
            pb.finish_and_clear();
            done(s, &report, |r| {
                if dry_run {
                    println!(
                        "dry run: {} of {} secrets are behind master key version {}",
                        r.status.behind, r.status.total, r.status.current_version
                    );
                } else {
                    if let Some(v) = r.added_version {
                        println!("added master key version {v}");
                    }
                    println!(
                        "re-encrypted {} secrets; {} behind version {}",
                        r.resealed, r.status.behind, r.status.current_version
                    );
                }
            })
        }
    }
}

async fn seed(s: &Session) -> Result<u8, Error> {
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

async fn login(url: &str, no_browser: bool, json: bool) -> Result<u8, Error> {
    let store = portal_sessions(url)?;
    let config = sign_in_config(url).await?;
    let pending = client::signin::begin(&config).await?;
    let link = pending.authorize_url.to_string();
    if no_browser || !client::os::open_in_browser(&link) {
        eprintln!("Open this address in your browser to sign in:\n\n  {link}\n");
    } else {
        eprintln!(
            "Signing in with {} in your browser…\n(if nothing opened: {link})",
            config.issuer
        );
    }
    let session = pending.finish(std::time::Duration::from_secs(300)).await?;
    store.save(&session)?;
    let tokens = Arc::new(client::signin::SignedIn::load(config, Arc::new(store))?);
    let me = client::RemotePortal::new(url, tokens)?
        .me(&Actor::local_admin(&local_login(), UA))
        .await?;
    if json {
        output::json(&me);
    } else {
        println!("Signed in to {url} as {} ({}).", me.name, me.role);
    }
    Ok(0)
}

async fn logout(url: &str, json: bool) -> Result<u8, Error> {
    let store = portal_sessions(url)?;
    let config = sign_in_config(url).await;
    let report = match config {
        Ok(c) => client::signin::sign_out(&c, &store).await?,
        Err(_) => {
            // The portal cannot be reached: still forget the session here.
            let had = store.load()?.is_some();
            store.delete()?;
            client::signin::SignOutReport {
                revoked: false,
                deleted: had,
            }
        }
    };
    if json {
        output::json(&report);
    } else if !report.deleted {
        println!("You were not signed in to {url}.");
    } else if report.revoked {
        println!("Signed out of {url}; the session was revoked at the identity provider.");
    } else {
        println!("Signed out of {url}; the identity provider could not revoke the session (it expires on its own).");
    }
    Ok(0)
}

async fn whoami(s: &Session) -> Result<u8, Error> {
    let Some(remote) = s.portal_remote() else {
        return Err(Error::invalid("portal", "whoami needs --portal"));
    };
    let me = remote.me(&s.actor).await?;
    done(s, &me, |m| {
        println!("{} ({}) — role {}", m.name, m.id, m.role);
        if let Some(org) = m.org_id {
            println!("organisation {org}");
        }
        println!("may: {}", m.permissions.join(", "));
    })
}
