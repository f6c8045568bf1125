//! The server's configuration: environment variables, over an optional TOML file
//! (`PORTAL_CONFIG`), validated at start so a mistake is one clear message, not a runtime
//! surprise. `Debug` never shows a password or a key.

use ipnet::IpNet;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `postgres://…` — the shared source of truth. Migrations are applied at start.
    pub database_url: String,
    /// `postgres://…` as the schema's owner (`PORTAL_DATABASE_OWNER_URL`): when set, migrations
    /// run as that role and `database_url`'s role is granted only what it needs at run time
    /// (append-only on the audit trail). Unset: `database_url`'s role migrates and owns all.
    pub database_owner_url: Option<String>,
    /// `redis://…` — shared rate-limit budgets, in-flight idempotency keys and key-revocation
    /// broadcasts across instances. Unset: all of these stay in this process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so deployments (or tests) can share one Redis.
    pub redis_prefix: String,
    pub oidc: OidcSettings,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<IpNet>,
    pub limits: Limits,
    /// Where the master key set comes from.
    pub master_key: MasterKeyConfig,
    /// How long a request may take before it is cut off with 503 (its work is dropped, its
    /// idempotency claim released). At most [`MAX_REQUEST_TIMEOUT_SECS`].
    pub request_timeout: Duration,
    /// Cold verifications allowed to wait for an argon2id run (`PORTAL_HASHING_QUEUE`).
    pub hashing_queue: usize,
    /// The longest one waits (`PORTAL_HASHING_WAIT_MS`); past either bound: 503 + Retry-After.
    pub hashing_wait: Duration,
    /// How often the server logs a signed audit checkpoint (`PORTAL_AUDIT_CHECKPOINT_SECS`,
    /// default 3600; 0: never), for the log sink to keep outside the database.
    pub audit_checkpoint_every: Option<Duration>,
    /// Whether this instance takes part in running the scheduled jobs (`PORTAL_SCHEDULER`,
    /// `on` by default; with several instances any number may: one runs each job at a time).
    pub scheduler: bool,
}

/// The longest request timeout: below the in-flight claim's TTL (60 s), so a request still
/// being served never loses its claim to a retry.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 50;

/// How bearer tokens are checked.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer (https; http only on loopback, for tests), as configured and advertised at
    /// `/v1/sign-in`. It names the provider with or without a trailing slash; tokens' `iss` must
    /// equal the issuer its discovery document states, exactly.
    pub issuer: String,
    /// The audience the tokens must name in `aud`.
    pub audience: String,
    /// The claim holding the role (`provider`, `developer`, `client`); a string or an array.
    pub role_claim: String,
    /// The claim holding a client-role principal's organisation id.
    pub org_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// The least time between two JWKS fetches, failed ones included, in seconds
    /// (`OIDC_JWKS_REFETCH_FLOOR_SECS`, default 10, 1 to 60). A token with an unknown `kid`
    /// inside the floor waits for it once, then is answered from the set fetched then.
    pub jwks_refetch_floor_secs: u64,
    /// How long a fetched JWKS is used before it is fetched again, in seconds
    /// (`OIDC_JWKS_TTL_SECS`, default 600, 1 to 86400): a key the issuer withdraws stops
    /// verifying within this (or the floor, when longer).
    pub jwks_ttl_secs: u64,
    /// Accept only tokens typed `at+jwt` (RFC 9068) (`OIDC_REQUIRE_AT_JWT`, default false: plain
    /// `JWT` access tokens are accepted too, unless they look like ID tokens). Required when
    /// `OIDC_AUDIENCE` equals `OIDC_CLIENT_ID`: then only the type tells an access token from
    /// an ID token.
    pub require_at_jwt: bool,
    /// The public client id the desktop app and `padmin` sign in with (advertised at
    /// `/v1/sign-in`).
    pub app_client_id: String,
    /// Extra scopes apps must ask for to get a token for this API (advertised).
    pub app_scopes: Vec<String>,
}

/// Token-bucket budgets: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

/// The budgets of each kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per signed-in principal (admins, users).
    pub principal: Budget,
    /// Per federation key, on the partner routes: spent by successful verifications only.
    pub federation_key: Budget,
    /// Per (federation key id, client network): spent by failed verifications only.
    pub federation_failures: Budget,
    /// Per client network (an IPv4 address, an IPv6 /64) on routes without a principal.
    pub ip: Budget,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            principal: Budget {
                per_minute: 1200,
                burst: 200,
            },
            // 1,000 verifications a second per key, sustained: a busy partner's gateway.
            federation_key: Budget {
                per_minute: 60_000,
                burst: 2_000,
            },
            // Wrong secrets for one id from one network: a misconfigured partner is told at
            // once; a guesser gets one try every two seconds, each costing an argon2id run.
            federation_failures: Budget {
                per_minute: 30,
                burst: 10,
            },
            ip: Budget {
                per_minute: 120_000,
                burst: 4_000,
            },
        }
    }
}

/// Where the master keys come from: `PORTAL_MASTER_KEY` (the key set as text) or
/// `PORTAL_MASTER_KEY_FILE` (a mode-600 file, created on first use).
#[derive(Clone)]
pub enum MasterKeyConfig {
    Env(String),
    File(PathBuf),
}

impl std::fmt::Debug for MasterKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeyConfig::Env(_) => f.write_str("Env(<redacted>)"),
            MasterKeyConfig::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &store::redact_url(&self.database_url))
            .field(
                "database_owner_url",
                &self.database_owner_url.as_deref().map(store::redact_url),
            )
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(store::redact_url),
            )
            .field("redis_prefix", &self.redis_prefix)
            .field("oidc", &self.oidc)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("limits", &self.limits)
            .field("master_key", &self.master_key)
            .field("request_timeout", &self.request_timeout)
            .field("hashing_queue", &self.hashing_queue)
            .field("hashing_wait", &self.hashing_wait)
            .field("audit_checkpoint_every", &self.audit_checkpoint_every)
            .field("scheduler", &self.scheduler)
            .finish()
    }
}

/// The optional file: the same settings as the environment, in TOML, lower-case names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    database_owner_url: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    oidc_issuer: Option<String>,
    oidc_audience: Option<String>,
    oidc_role_claim: Option<String>,
    oidc_org_claim: Option<String>,
    oidc_leeway_secs: Option<u64>,
    oidc_jwks_ttl_secs: Option<u64>,
    oidc_jwks_refetch_floor_secs: Option<u64>,
    oidc_require_at_jwt: Option<bool>,
    oidc_client_id: Option<String>,
    oidc_scopes: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    master_key_file: Option<String>,
    rate_limit_principal: Option<String>,
    rate_limit_federation_key: Option<String>,
    rate_limit_federation_failures: Option<String>,
    rate_limit_ip: Option<String>,
    request_timeout_secs: Option<u64>,
    hashing_queue: Option<u64>,
    hashing_wait_ms: Option<u64>,
    audit_checkpoint_secs: Option<u64>,
    scheduler: Option<bool>,
}

/// A configuration that cannot start the server, with every problem found.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "the server configuration is not usable:")?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        write!(
            f,
            "Set these as environment variables or in the file named by PORTAL_CONFIG (see README, \"Running the portal API\")."
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment (and `PORTAL_CONFIG`, when set).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `env` (tests pass a map), then the file it names.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let file = match env("PORTAL_CONFIG") {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => match toml::from_str::<FileConfig>(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        return Err(ConfigError(vec![format!(
                            "PORTAL_CONFIG={path}: {}",
                            e.message()
                        )]))
                    }
                },
                Err(e) => {
                    return Err(ConfigError(vec![format!(
                        "PORTAL_CONFIG={path}: cannot read it ({e})"
                    )]))
                }
            },
            None => FileConfig::default(),
        };
        let get = |k: &str, from_file: &Option<String>| {
            env(k)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| from_file.clone())
        };

        let listen_text = get("PORTAL_LISTEN", &file.listen).unwrap_or("127.0.0.1:8080".into());
        let listen = listen_text.parse().unwrap_or_else(|_| {
            problems.push(format!(
                "PORTAL_LISTEN `{listen_text}` is not an address:port, e.g. 0.0.0.0:8080"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });

        let database_url = get("DATABASE_URL", &file.database_url).unwrap_or_default();
        if database_url.is_empty() {
            problems.push(
                "DATABASE_URL is not set: the server needs PostgreSQL (postgres://user@host/db)"
                    .into(),
            );
        } else if !(database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push(format!(
                "DATABASE_URL `{}` is not a PostgreSQL URL: the server runs on PostgreSQL only (postgres://…)",
                store::redact_url(&database_url)
            ));
        }

        let database_owner_url =
            get("PORTAL_DATABASE_OWNER_URL", &file.database_owner_url).filter(|u| !u.is_empty());
        if let Some(u) = &database_owner_url {
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                problems.push(format!(
                    "PORTAL_DATABASE_OWNER_URL `{}` is not a PostgreSQL URL",
                    store::redact_url(u)
                ));
            }
        }

        let redis_url = get("REDIS_URL", &file.redis_url);
        if let Some(r) = &redis_url {
            if !(r.starts_with("redis://") || r.starts_with("rediss://")) {
                problems.push(format!(
                    "REDIS_URL `{}` is not a Redis URL (redis://host:6379)",
                    store::redact_url(r)
                ));
            }
        }

        let issuer = get("OIDC_ISSUER", &file.oidc_issuer).unwrap_or_default();
        if issuer.is_empty() {
            problems.push(
                "OIDC_ISSUER is not set: the issuer whose access tokens this server accepts".into(),
            );
        } else if let Err(e) = check_issuer(&issuer) {
            problems.push(format!("OIDC_ISSUER `{issuer}`: {e}"));
        }
        let audience = get("OIDC_AUDIENCE", &file.oidc_audience).unwrap_or_default();
        if audience.is_empty() {
            problems.push(
                "OIDC_AUDIENCE is not set: the `aud` this server's access tokens carry".into(),
            );
        }
        let leeway_secs = match env("OIDC_LEEWAY_SECS") {
            Some(v) => v.parse().unwrap_or_else(|_| {
                problems.push(format!("OIDC_LEEWAY_SECS `{v}` is not a number of seconds"));
                30
            }),
            None => file.oidc_leeway_secs.unwrap_or(30),
        };
        if leeway_secs > 300 {
            problems.push(format!(
                "OIDC_LEEWAY_SECS {leeway_secs} is too lax: at most 300"
            ));
        }

        let mut secs = |name: &str, from_file: Option<u64>, default: u64, range: (u64, u64)| {
            let v = match env(name).filter(|v| !v.trim().is_empty()) {
                Some(v) => match v.trim().parse() {
                    Ok(n) => n,
                    Err(_) => {
                        problems.push(format!("{name} `{v}` is not a number of seconds"));
                        return default;
                    }
                },
                None => from_file.unwrap_or(default),
            };
            if !(range.0..=range.1).contains(&v) {
                problems.push(format!(
                    "{name} {v} is out of range: {} to {} seconds",
                    range.0, range.1
                ));
            }
            v
        };
        let jwks_ttl_secs = secs(
            "OIDC_JWKS_TTL_SECS",
            file.oidc_jwks_ttl_secs,
            600,
            (1, 86_400),
        );
        let jwks_refetch_floor_secs = secs(
            "OIDC_JWKS_REFETCH_FLOOR_SECS",
            file.oidc_jwks_refetch_floor_secs,
            10,
            (1, 60),
        );
        let require_at_jwt = match env("OIDC_REQUIRE_AT_JWT").filter(|v| !v.trim().is_empty()) {
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    problems.push(format!("OIDC_REQUIRE_AT_JWT `{v}` is not true or false"));
                    false
                }
            },
            None => file.oidc_require_at_jwt.unwrap_or(false),
        };
        let app_client_id =
            get("OIDC_CLIENT_ID", &file.oidc_client_id).unwrap_or("provider-admin".into());
        if !audience.is_empty() && audience == app_client_id && !require_at_jwt {
            problems.push(format!(
                "OIDC_AUDIENCE equals OIDC_CLIENT_ID (`{audience}`): the app's ID tokens would carry this audience too, so set OIDC_REQUIRE_AT_JWT=true (the provider types its access tokens `at+jwt`) or give the API its own audience"
            ));
        }

        let timeout_secs = match env("PORTAL_REQUEST_TIMEOUT_SECS").filter(|v| !v.trim().is_empty())
        {
            Some(v) => v.trim().parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "PORTAL_REQUEST_TIMEOUT_SECS `{v}` is not a number of seconds"
                ));
                30
            }),
            None => file.request_timeout_secs.unwrap_or(30),
        };
        if !(1..=MAX_REQUEST_TIMEOUT_SECS).contains(&timeout_secs) {
            problems.push(format!(
                "PORTAL_REQUEST_TIMEOUT_SECS {timeout_secs} is out of range: 1 to {MAX_REQUEST_TIMEOUT_SECS} seconds (an idempotency claim lasts 60 s)"
            ));
        }

        let mut number = |name: &str,
                          from_file: Option<u64>,
                          default: u64,
                          range: std::ops::RangeInclusive<u64>| {
            let n = match env(name).filter(|v| !v.trim().is_empty()) {
                Some(v) => match v.trim().parse() {
                    Ok(n) => n,
                    Err(_) => {
                        problems.push(format!("{name} `{v}` is not a whole number"));
                        return default;
                    }
                },
                None => from_file.unwrap_or(default),
            };
            if !range.contains(&n) {
                problems.push(format!(
                    "{name} {n} is out of range: {} to {}",
                    range.start(),
                    range.end()
                ));
            }
            n
        };
        let hashing_queue = number(
            "PORTAL_HASHING_QUEUE",
            file.hashing_queue,
            portal::keys::hashing::DEFAULT_QUEUE as u64,
            0..=10_000,
        ) as usize;
        let hashing_wait = Duration::from_millis(number(
            "PORTAL_HASHING_WAIT_MS",
            file.hashing_wait_ms,
            portal::keys::hashing::DEFAULT_WAIT_MS,
            1..=30_000,
        ));
        let checkpoint_secs = number(
            "PORTAL_AUDIT_CHECKPOINT_SECS",
            file.audit_checkpoint_secs,
            3600,
            0..=7 * 24 * 3600,
        );
        let audit_checkpoint_every =
            (checkpoint_secs > 0).then(|| Duration::from_secs(checkpoint_secs));
        let scheduler = match env("PORTAL_SCHEDULER").as_deref().map(str::trim) {
            Some("off" | "0" | "false") => false,
            Some("on" | "1" | "true") => true,
            Some(other) => {
                problems.push(format!("PORTAL_SCHEDULER: `{other}` is not on or off"));
                true
            }
            None => file.scheduler.unwrap_or(true),
        };

        let mut trusted_proxies = Vec::new();
        let proxies: Vec<String> = match env("PORTAL_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => file.trusted_proxies.clone().unwrap_or_default(),
        };
        for p in proxies {
            match parse_net(&p) {
                Some(net) => trusted_proxies.push(net),
                None => problems.push(format!(
                    "PORTAL_TRUSTED_PROXIES: `{p}` is not an IP address or CIDR range"
                )),
            }
        }

        let mut limits = Limits::default();
        for (name, from_file, slot) in [
            (
                "PORTAL_RATE_LIMIT_PRINCIPAL",
                &file.rate_limit_principal,
                &mut limits.principal,
            ),
            (
                "PORTAL_RATE_LIMIT_FEDERATION_KEY",
                &file.rate_limit_federation_key,
                &mut limits.federation_key,
            ),
            (
                "PORTAL_RATE_LIMIT_FEDERATION_FAILURES",
                &file.rate_limit_federation_failures,
                &mut limits.federation_failures,
            ),
            ("PORTAL_RATE_LIMIT_IP", &file.rate_limit_ip, &mut limits.ip),
        ] {
            if let Some(v) = get(name, from_file) {
                match parse_budget(&v) {
                    Some(b) => *slot = b,
                    None => problems.push(format!(
                        "{name} `{v}` is not a budget: `<requests>/min` or `<requests>/min burst <n>`"
                    )),
                }
            }
        }

        let master_key = if let Some(text) = env("PORTAL_MASTER_KEY").filter(|v| !v.is_empty()) {
            MasterKeyConfig::Env(text)
        } else if let Some(path) = get("PORTAL_MASTER_KEY_FILE", &file.master_key_file) {
            MasterKeyConfig::File(PathBuf::from(path))
        } else {
            problems.push(
                "no master key: set PORTAL_MASTER_KEY (the key set, `1:<base64 of 32 bytes>`) or PORTAL_MASTER_KEY_FILE (a file only the server can read)"
                    .into(),
            );
            MasterKeyConfig::File(PathBuf::new())
        };

        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            listen,
            database_url,
            database_owner_url,
            redis_url,
            redis_prefix: get("PORTAL_REDIS_PREFIX", &file.redis_prefix).unwrap_or("padmin".into()),
            oidc: OidcSettings {
                issuer,
                audience,
                role_claim: get("OIDC_ROLE_CLAIM", &file.oidc_role_claim)
                    .unwrap_or("portal_role".into()),
                org_claim: get("OIDC_ORG_CLAIM", &file.oidc_org_claim).unwrap_or("org_id".into()),
                leeway_secs,
                jwks_refetch_floor_secs,
                jwks_ttl_secs,
                require_at_jwt,
                app_client_id,
                app_scopes: get("OIDC_SCOPES", &file.oidc_scopes)
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
            },
            trusted_proxies,
            limits,
            master_key,
            request_timeout: Duration::from_secs(timeout_secs),
            hashing_queue,
            hashing_wait,
            audit_checkpoint_every,
            scheduler,
        })
    }
}

/// An issuer must be https, except on a loopback host (a provider started by tests).
pub fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("must be an https URL (http is accepted only on loopback, for tests)".into()),
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// `600/min` or `600/min burst 50`.
fn parse_budget(s: &str) -> Option<Budget> {
    let mut parts = s.split_whitespace();
    let rate = parts.next()?.strip_suffix("/min")?.parse::<u32>().ok()?;
    let burst = match (parts.next(), parts.next()) {
        (Some("burst"), Some(n)) => n.parse::<u32>().ok()?,
        (None, None) => rate.max(1),
        _ => return None,
    };
    if parts.next().is_some() || rate == 0 || burst == 0 {
        return None;
    }
    Some(Budget {
        per_minute: rate,
        burst,
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
