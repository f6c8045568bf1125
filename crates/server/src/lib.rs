//! The portal API server: every [`portal::Portal`] operation over HTTP, for partner systems,
//! shared administration and `RemotePortal` (the desktop app's and `padmin`'s portal profile).
//!
//! It owns the HTTP concerns only — routes and their OpenAPI document, problem+json errors,
//! OIDC bearer-token and federation-key authentication, rate limits, the idempotency in-flight
//! guard, request ids and the cross-instance key-revocation broadcast. Every business rule,
//! audit event and stored idempotent response belongs to [`portal::LocalPortal`] underneath.
//! The server runs on PostgreSQL only and is stateless: run several behind a load balancer with
//! one Redis.

pub mod auth;
pub mod chart_cache;
pub mod config;
mod context;
mod doc_rules;
use doc_rules::SecuritySchemes;
pub mod events;
mod extract;
pub mod guards;
mod inflight;
pub mod limits;
mod problem;
mod routes;
pub mod scheduler;

pub use config::Config;
pub use context::client_ip;
pub use problem::ApiError;

use auth::TokenVerifier;
use axum::Router;
use config::Limits;
use domain::error::{Error, Result};
use ipnet::IpNet;
use portal::LocalPortal;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

#[doc(hidden)]
#[derive(Debug)]
pub struct Inner {
    pub portal: Arc<LocalPortal>,
    pub tokens: TokenVerifier,
    pub limiter: Arc<limits::RateLimiter>,
    inflight: inflight::InFlight,
    pub limits: Limits,
    pub trusted_proxies: Vec<IpNet>,
    pub guards: guards::Guards,
    /// The prefix of this deployment's Redis keys and channels.
    pub redis_prefix: String,
    redis: Option<redis::aio::ConnectionManager>,
    /// Requests running longer are cut off with 503 (`PORTAL_REQUEST_TIMEOUT_SECS`).
    pub request_timeout: std::time::Duration,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("portal", &self.portal)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Assembles the state over an open portal. With Redis configured, rate limits, in-flight
    /// claims and key revocations are shared with every other instance on that Redis.
    pub async fn new(portal: Arc<LocalPortal>, config: &Config) -> anyhow::Result<Self> {
        let prefix = config.redis_prefix.clone();
        let redis = match config.redis_url.as_deref() {
            Some(url) => {
                let client =
                    redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
                let manager = redis::aio::ConnectionManager::new(client.clone())
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("cannot reach Redis at {}: {e}", store::redact_url(url))
                    })?;
                events::connect(portal.clone(), client, &prefix).await?;
                // Analytics answers are shared by every instance on this Redis.
                portal.set_chart_cache(Arc::new(chart_cache::RedisChartCache::new(
                    manager.clone(),
                    &prefix,
                )));
                Some(manager)
            }
            None => None,
        };
        portal.set_hashing_queue(config.hashing_queue, config.hashing_wait);
        let limiter = Arc::new(limits::RateLimiter::new(redis.clone(), &prefix));
        if redis.is_some() {
            // Settles this instance's copy of the partner budgets with Redis every 50 ms, until
            // the state is gone.
            let weak = Arc::downgrade(&limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(limiter) = weak.upgrade() else { break };
                    limiter.settle().await;
                }
            });
        }
        Ok(AppState(Arc::new(Inner {
            portal,
            tokens: TokenVerifier::new(config.oidc.clone()),
            limiter,
            inflight: inflight::InFlight::new(redis.clone(), &prefix),
            limits: config.limits,
            trusted_proxies: config.trusted_proxies.clone(),
            guards: route_guards()?,
            redis_prefix: prefix,
            redis,
            request_timeout: config.request_timeout,
        })))
    }

    /// Whether a request of `principal` (an actor id) with this `Idempotency-Key` is being
    /// served now, on any instance sharing this one's Redis.
    #[doc(hidden)]
    pub async fn idempotency_key_in_flight(&self, principal: &str, key: &str) -> bool {
        self.inflight
            .is_held(&context::inflight_key(principal, key))
            .await
    }

    /// Ready when the database (and Redis, when configured) answer.
    pub async fn ready(&self) -> Result<()> {
        self.portal.ready().await?;
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
            pong.map_err(|e| Error::Unavailable(format!("Redis does not answer: {e}")))?;
        }
        Ok(())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provider Portal API",
        description = "The provider portal's API: federation keys, OIDC configurations, provider integrations, clients and the audit trail.\n\n\
Authentication: admins and users send an OIDC access token from the portal's identity provider (`Authorization: Bearer <JWT>`); \
the permission each operation needs is given as the scope of its `bearer` requirement. Partner systems send their federation key \
(`Authorization: Bearer pak_…`) on the partner routes.\n\n\
Outcomes: no, expired or invalid token → 401 with `WWW-Authenticate`; a role that may not do this → 403; \
**another tenant's resource → 404**, exactly as if it did not exist, so that ids of other organisations cannot be probed; \
a method a path does not declare → 405 with `Allow`.\n\n\
Inputs: every limit the server checks is stated on its schema (lengths, ranges, enums, patterns); an empty query parameter \
(`?cursor=`) is the same as an absent one.\n\n\
Errors are `application/problem+json` (RFC 9457) with a `code` from one vocabulary: unauthenticated 401, forbidden 403, \
not_found 404, conflict 409, invalid 422 (with `fields`), rate_limited 429 (with `Retry-After`), unavailable 503, internal 500.\n\n\
Idempotency: every POST accepts `Idempotency-Key`. A retry with the same key and body gets the first response again for 24 hours \
and has no further effect; the same key with a different body is **409 conflict**; a retry while the first request is still \
being served is also **409 conflict** (retry after it finishes).\n\n\
Rate limits: token buckets per principal, per federation key and per client IP, shared by all instances through Redis; \
every guarded response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.\n\n\
Lists are keyset-paginated: pass `next_cursor` back as `cursor`.",
        version = "1.0.0"
    ),
    components(schemas(
        domain::model::StatusFilter,
        domain::model::SlaFilter,
        portal::jobs::JobName
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "session", description = "Who is signed in"),
        (name = "keys", description = "Federation keys: shown once, stored as argon2id hashes"),
        (name = "partners", description = "For partner systems presenting a federation key"),
        (name = "oidc", description = "OIDC configurations; client secrets are write-only"),
        (name = "integrations", description = "Provider integrations; configurations are write-only"),
        (name = "clients", description = "Tenant organisations"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "overview", description = "What needs attention"),
        (name = "secrets", description = "Encryption at rest and master-key rotation"),
        (name = "incidents", description = "Incidents, their timelines, SLA targets and escalation policies"),
        (name = "jobs", description = "The server's scheduled jobs"),
        (name = "sync", description = "Offline sync: a device pushes its outbox and pulls what changed"),
        (name = "analytics", description = "Revenue, growth, usage and funnels from daily snapshots"),
        (name = "operations", description = "Health, readiness and this document"),
    )
)]
struct ApiDoc;

fn assembled(state: Option<AppState>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut user = routes::user_routes();
    let mut partner = routes::partner_routes();
    if let Some(state) = state {
        user = user.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::authenticate,
        ));
        partner = partner.route_layer(axum::middleware::from_fn_with_state(
            state,
            context::partner,
        ));
    }
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(user)
        .merge(partner)
        .merge(routes::public_routes())
        .split_for_parts();
    doc_rules::cross_field_rules(&mut doc);
    (router, doc)
}

/// Every route's guard, from the routes' own declarations.
pub fn route_guards() -> anyhow::Result<guards::Guards> {
    let doc = serde_json::to_value(openapi())?;
    guards::from_openapi(&doc)
        .map_err(|p| anyhow::anyhow!("routes without a usable guard: {}", p.join("; ")))
}

/// The OpenAPI 3.1 document, generated from the routes themselves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    assembled(None).1
}

/// The whole application: routes, guards, request ids, body limits and timeouts.
pub fn app(state: AppState) -> Router {
    let (router, _) = assembled(Some(state.clone()));
    router
        .fallback(|| async {
            ApiError(Error::NotFound(
                "no such route: see /openapi.json for this API's routes".into(),
            ))
        })
        // An undeclared method on a declared path: 405, and axum adds `Allow` with the
        // path's declared methods. Routing runs before the guards (`route_layer`), so this
        // answer needs no token.
        .method_not_allowed_fallback(|| async { problem::method_not_allowed() })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        // A request cut off here is dropped mid-way: its transaction rolls back and its
        // idempotency claim is released by the claim's `Drop` (`inflight.rs`).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            state.request_timeout,
        ))
        .layer(axum::middleware::from_fn(context::request_context))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small JSON answers go out at once instead of waiting on Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Opens the portal the configuration describes: PostgreSQL (migrations applied), the master
/// keys, and the shared state.
pub async fn start(config: &Config) -> anyhow::Result<AppState> {
    let keys: Arc<dyn portal::secrets::MasterKeySource> = match &config.master_key {
        config::MasterKeyConfig::Env(text) => Arc::new(portal::secrets::StaticKeys::new(
            "PORTAL_MASTER_KEY",
            domain::Sensitive::new(text.clone()),
        )),
        config::MasterKeyConfig::File(path) => {
            Arc::new(portal::secrets::FileKeys::new(path.clone()))
        }
    };
    if let Some(owner) = &config.database_owner_url {
        let role = store::SqlStore::prepare_postgres(owner, &config.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("migrating as the schema's owner: {e}"))?;
        tracing::info!(
            runtime_role = %role,
            "migrations applied as the schema's owner; the runtime role may only append to the audit trail"
        );
    }
    let mut open = portal::session::OpenLocal::new(config.database_url.clone(), keys);
    if let Some(fetcher) = outbound::HttpFetcher::shared() {
        open = open.with_fetcher(fetcher);
    }
    match outbound::HttpWebhooks::new() {
        Ok(sender) => open = open.with_webhooks(Arc::new(sender)),
        Err(e) => {
            tracing::warn!(error = %e, "escalation webhooks cannot be sent from this instance")
        }
    }
    let session = open.open().await.map_err(|e| match e.cause() {
        // The operator starting the server reads this: show the cause, not the fixed sentence.
        Some(cause) => anyhow::anyhow!("{e} ({cause})"),
        None => anyhow::anyhow!("{e}"),
    })?;
    let state = AppState::new(session.portal, config).await?;
    if let Some(every) = config.audit_checkpoint_every {
        tokio::spawn(log_audit_checkpoints(state.portal.clone(), every));
    }
    if config.scheduler {
        let runner = format!("{}:{}", hostname(), std::process::id());
        // Runs for the life of the process.
        std::mem::forget(scheduler::Scheduler::start(state.portal.clone(), runner));
    }
    Ok(state)
}

/// Logs a signed checkpoint of the audit chain every `every` (and once at start), on the
/// `audit_checkpoint` target: shipped to a log sink, it anchors the chain outside the database
/// (`padmin audit verify --against` takes one).
async fn log_audit_checkpoints(portal: Arc<LocalPortal>, every: std::time::Duration) {
    use portal::prelude::*;
    let actor = domain::Actor::system("audit-checkpoint");
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match portal.audit_checkpoint(&actor).await {
            Ok(cp) => match serde_json::to_string(&cp) {
                Ok(json) => {
                    tracing::info!(target: "audit_checkpoint", checkpoint = %json, seq = cp.seq, "audit checkpoint")
                }
                Err(e) => tracing::warn!(error = %e, "rendering an audit checkpoint failed"),
            },
            Err(e) => tracing::warn!(error = %e, "making an audit checkpoint failed"),
        }
    }
}

/// This machine's name, for telling instances apart in `GET /v1/jobs`.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "portal-server".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/openapi.json` is the document the code generates; `UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn the_committed_openapi_document_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let generated = openapi().to_pretty_json().expect("serialise") + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("write docs/openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p server` and commit it"
        );
    }

    /// Every string input with a server-side limit states it in the document, with the number
    /// the validator uses (`domain` constants), so a schema-valid request is not refused for its
    /// length and a too-long one is known to be refused.
    #[test]
    fn every_limited_string_input_states_its_limit() {
        use domain::model::{AUDIT_FILTER_MAX, SEARCH_MAX, SYNC_ERROR_MAX};
        use domain::model::{COMMENT_MAX, TITLE_MAX};
        use domain::validate::{CLIENT_ID_MAX, IDEMPOTENCY_KEY_MAX, NAME_MAX, SECRET_MAX, URL_MAX};
        let doc = serde_json::to_value(openapi()).expect("the document serialises");
        let schemas = &doc["components"]["schemas"];
        let property = |schema: &str, field: &str| {
            let s = &schemas[schema];
            // A schema with cross-field rules is `allOf: [fields, rules]`.
            let fields = if s["allOf"].is_array() {
                &s["allOf"][0]
            } else {
                s
            };
            fields["properties"][field].clone()
        };
        let parameter = |path: &str, method: &str, name: &str| {
            doc["paths"][path][method]["parameters"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == name))
                .map(|p| p["schema"].clone())
                .unwrap_or_default()
        };
        let table = [
            ("NewKey.name", property("NewKey", "name"), NAME_MAX),
            ("NewClient.name", property("NewClient", "name"), NAME_MAX),
            ("RenameBody.name", property("RenameBody", "name"), NAME_MAX),
            (
                "NewIntegrationBody.name",
                property("NewIntegrationBody", "name"),
                NAME_MAX,
            ),
            (
                "IntegrationChangesBody.name",
                property("IntegrationChangesBody", "name"),
                NAME_MAX,
            ),
            (
                "SyncBody.error",
                property("SyncBody", "error"),
                SYNC_ERROR_MAX,
            ),
            (
                "NewOidcBody.issuer",
                property("NewOidcBody", "issuer"),
                URL_MAX,
            ),
            (
                "NewOidcBody.redirect_uri",
                property("NewOidcBody", "redirect_uri"),
                URL_MAX,
            ),
            (
                "NewOidcBody.client_id",
                property("NewOidcBody", "client_id"),
                CLIENT_ID_MAX,
            ),
            (
                "NewOidcBody.client_secret",
                property("NewOidcBody", "client_secret"),
                SECRET_MAX,
            ),
            (
                "OidcChangesBody.issuer",
                property("OidcChangesBody", "issuer"),
                URL_MAX,
            ),
            (
                "OidcChangesBody.redirect_uri",
                property("OidcChangesBody", "redirect_uri"),
                URL_MAX,
            ),
            (
                "OidcChangesBody.client_id",
                property("OidcChangesBody", "client_id"),
                CLIENT_ID_MAX,
            ),
            (
                "OidcChangesBody.client_secret",
                property("OidcChangesBody", "client_secret"),
                SECRET_MAX,
            ),
            (
                "GET /v1/keys search",
                parameter("/v1/keys", "get", "search"),
                SEARCH_MAX,
            ),
            (
                "GET /v1/clients search",
                parameter("/v1/clients", "get", "search"),
                SEARCH_MAX,
            ),
            (
                "GET /v1/audit entity_type",
                parameter("/v1/audit", "get", "entity_type"),
                AUDIT_FILTER_MAX,
            ),
            (
                "GET /v1/audit entity_id",
                parameter("/v1/audit", "get", "entity_id"),
                AUDIT_FILTER_MAX,
            ),
            (
                "GET /v1/audit actor",
                parameter("/v1/audit", "get", "actor"),
                AUDIT_FILTER_MAX,
            ),
            (
                "GET /v1/audit action",
                parameter("/v1/audit", "get", "action"),
                AUDIT_FILTER_MAX,
            ),
            (
                "POST /v1/keys Idempotency-Key",
                parameter("/v1/keys", "post", "Idempotency-Key"),
                IDEMPOTENCY_KEY_MAX,
            ),
            (
                "OpenIncident.title",
                property("OpenIncident", "title"),
                TITLE_MAX,
            ),
            (
                "NewComment.text",
                property("NewComment", "text"),
                COMMENT_MAX,
            ),
            (
                "PolicyInput.name",
                property("PolicyInput", "name"),
                NAME_MAX,
            ),
            (
                "GET /v1/incidents search",
                parameter("/v1/incidents", "get", "search"),
                SEARCH_MAX,
            ),
        ];
        for (input, schema, max) in table {
            assert_eq!(
                schema["maxLength"],
                serde_json::json!(max),
                "{input}: the server refuses more than {max} characters, so the document must say so ({schema})"
            );
        }
    }

    /// No string input of any operation is left unconstrained: each states a length limit, a
    /// pattern, an enumeration or formats — except the ones listed, which say why.
    #[test]
    fn no_string_input_is_unconstrained() {
        // An opaque token minted by the server; a made-up one is refused (422).
        let opaque = ["cursor", "VerifyBody.key"];
        let doc = serde_json::to_value(openapi()).expect("the document serialises");
        let constrained = |s: &serde_json::Value| {
            ["maxLength", "pattern", "enum", "anyOf", "$ref", "format"]
                .iter()
                .any(|k| s.get(k).is_some())
        };
        let is_string = |s: &serde_json::Value| {
            s["type"] == "string"
                || s["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&"string".into()))
        };
        let mut loose = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap_or_default();
                    if is_string(&p["schema"])
                        && !constrained(&p["schema"])
                        && !opaque.contains(&name)
                    {
                        loose.push(format!("{method} {path} {name}"));
                    }
                }
            }
        }
        for (name, schema) in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let is_input = name.ends_with("Body")
                && !name.starts_with("Created")
                && !name.starts_with("Rotation")
                || ["NewKey", "NewClient"].contains(&name.as_str());
            if !is_input {
                continue;
            }
            let fields = if schema["allOf"].is_array() {
                &schema["allOf"][0]
            } else {
                schema
            };
            for (field, s) in fields["properties"].as_object().into_iter().flatten() {
                let id = format!("{name}.{field}");
                if is_string(s) && !constrained(s) && !opaque.contains(&id.as_str()) {
                    loose.push(id);
                }
            }
        }
        assert!(
            loose.is_empty(),
            "string inputs the document leaves unconstrained: {loose:?}"
        );
    }

    #[test]
    fn every_route_declares_a_guard() {
        let guards = route_guards().expect("every route declares a usable guard");
        assert!(guards.len() >= 30, "{} routes", guards.len());
        assert_eq!(
            guards.get(&(axum::http::Method::POST, "/v1/federation/verify".into())),
            Some(&guards::Guard::Partner)
        );
    }
}
