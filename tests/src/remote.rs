//! The remote side of the stories: a test token issuer, the portal API server on a loopback
//! port, and `RemotePortal` clients acting as a given [`Actor`].
//!
//! The test issuer is a minimal OIDC issuer (discovery document and JWKS over HTTP, ES256
//! tokens) for the many tokens the auth matrix needs — including deliberately broken ones a
//! real provider would never sign. It can rotate and withdraw its keys, fail its JWKS, name
//! itself with a trailing slash (as Auth0 does), and mint `at+jwt` access tokens and ID
//! tokens. The sign-in flow itself is tested against a real OIDC
//! provider (`tests/oidc`).

use crate::test_keys;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use client::{RemotePortal, TokenSource};
use domain::{Actor, ManualClock, Role, Sensitive};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePrivateKey;
use portal::LocalPortal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use store::prelude::*;
use tokio::net::TcpListener;

pub const AUDIENCE: &str = "portal-api";
/// The sign-in app's client id: the server's default `OIDC_CLIENT_ID`, an ID token's `aud`.
pub const CLIENT_ID: &str = "provider-admin";

/// An ES256 signing key and its public JWK.
#[derive(Clone)]
pub struct SigningPair {
    pub kid: String,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl std::fmt::Debug for SigningPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningPair({})", self.kid)
    }
}

impl SigningPair {
    pub fn generate(kid: &str) -> Self {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let der = key.to_pkcs8_der().expect("pkcs8");
        let point = key.verifying_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        });
        SigningPair {
            kid: kid.to_string(),
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            jwk,
        }
    }

    /// Signs `claims` with the header `typ: JWT`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typed(claims, Some("JWT"))
    }

    /// Signs `claims` with this `typ` header (none when `None`).
    pub fn sign_typed(&self, claims: &Value, typ: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = typ.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// A minimal OIDC issuer on a loopback port.
#[derive(Debug)]
pub struct TestIssuer {
    /// The issuer identifier, exactly as the discovery document states it and tokens carry it
    /// in `iss` (with a trailing slash from [`TestIssuer::start_with_trailing_slash`]).
    pub url: String,
    /// The key [`TestIssuer::token_for`] signs with; published from the start.
    pub key: SigningPair,
    /// How many times the JWKS was asked for (failed answers included).
    pub jwks_fetches: Arc<AtomicU64>,
    /// The public keys the JWKS lists now.
    published: Arc<RwLock<Vec<Value>>>,
    /// When set, the JWKS answers 500.
    failing: Arc<AtomicBool>,
}

impl TestIssuer {
    pub async fn start() -> TestIssuer {
        TestIssuer::start_named(false).await
    }

    /// An issuer whose identifier ends in `/` (`http://127.0.0.1:port/`), as Auth0's do.
    pub async fn start_with_trailing_slash() -> TestIssuer {
        TestIssuer::start_named(true).await
    }

    async fn start_named(trailing_slash: bool) -> TestIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind issuer");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let url = if trailing_slash {
            format!("{base}/")
        } else {
            base.clone()
        };
        let key = SigningPair::generate(&format!("k-{}", uuid::Uuid::new_v4().simple()));
        let fetches = Arc::new(AtomicU64::new(0));
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{base}/jwks"),
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
        });
        let published = Arc::new(RwLock::new(vec![key.jwk.clone()]));
        let failing = Arc::new(AtomicBool::new(false));
        let (keys, fail) = (published.clone(), failing.clone());
        let counter = fetches.clone();
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    let d = discovery.clone();
                    async move { Json(d) }
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let answer = if fail.load(Ordering::SeqCst) {
                        Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
                    } else {
                        let keys = keys.read().expect("published keys").clone();
                        Ok(Json(json!({ "keys": keys })))
                    };
                    async move { answer }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIssuer {
            url,
            key,
            jwks_fetches: fetches,
            published,
            failing,
        }
    }

    /// How many times the JWKS was asked for so far.
    pub fn fetches(&self) -> u64 {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Lists `pair`'s public key in the JWKS (beside those already there).
    pub fn publish(&self, pair: &SigningPair) {
        let mut keys = self.published.write().expect("published keys");
        keys.retain(|k| k["kid"] != pair.jwk["kid"]);
        keys.push(pair.jwk.clone());
    }

    /// Takes the key `kid` out of the JWKS.
    pub fn withdraw(&self, kid: &str) {
        self.published
            .write()
            .expect("published keys")
            .retain(|k| k["kid"] != kid);
    }

    /// A key rotation: a new signing key, published beside the old ones.
    pub fn rotate(&self) -> SigningPair {
        let next = SigningPair::generate(&format!("k-{}", uuid::Uuid::new_v4().simple()));
        self.publish(&next);
        next
    }

    /// Makes the JWKS answer 500 (`true`) or serve its keys again (`false`).
    pub fn fail_jwks(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// An RFC 9068 access token for `actor` (`typ: at+jwt`), signed by `key`.
    pub fn access_token_for(&self, actor: &Actor, key: &SigningPair) -> String {
        key.sign_typed(&self.claims_for(actor), Some("at+jwt"))
    }

    /// An ID token for `actor` as a provider gives it to the sign-in app: `typ: JWT`, the app's
    /// client id as audience, a `nonce` and an `at_hash` — with the portal role claim, so only
    /// its being an ID token can stop it.
    pub fn id_token_for(&self, actor: &Actor) -> String {
        let mut claims = self.claims_for(actor);
        claims["aud"] = json!(CLIENT_ID);
        claims["nonce"] = json!("n-0S6_WzA2Mj");
        claims["at_hash"] = json!("77QmUPtjPfzWtF2AnpK9RQ");
        claims["azp"] = json!(CLIENT_ID);
        self.key.sign(&claims)
    }

    /// Standard claims for `actor`, valid for five minutes.
    pub fn claims_for(&self, actor: &Actor) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": actor.id,
            "name": actor.name,
            "iat": now,
            "exp": now + 300,
        });
        // The role's own name, so a role added to the product gets tokens without a change here.
        if let Role::Client(org) = actor.role {
            claims["org_id"] = json!(org.to_string());
        }
        claims["portal_role"] = json!([actor.role.name()]);
        claims
    }

    pub fn token_for(&self, actor: &Actor) -> String {
        self.key.sign(&self.claims_for(actor))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }
}

/// Mints a token for whichever actor a call is made as.
#[derive(Debug, Clone)]
pub struct MintedTokens(pub Arc<TestIssuer>);

#[async_trait::async_trait]
impl TokenSource for MintedTokens {
    async fn access_token(&self, actor: &Actor) -> domain::error::Result<Sensitive<String>> {
        Ok(Sensitive::new(self.0.token_for(actor)))
    }
}

/// The server's configuration for tests: this issuer, loopback trusted as a proxy (so a
/// `RemotePortal` acting for an actor can pass on the actor's IP), and the given Redis.
pub fn server_config(
    issuer: &TestIssuer,
    redis_url: Option<&str>,
    extra: &[(&str, &str)],
) -> server::Config {
    server_config_for(&issuer.url, AUDIENCE, redis_url, extra)
}

/// The server's configuration for tests, for any issuer (e.g. the real provider).
pub fn server_config_for(
    issuer: &str,
    audience: &str,
    redis_url: Option<&str>,
    extra: &[(&str, &str)],
) -> server::Config {
    let mut env: HashMap<String, String> = HashMap::from([
        (
            "DATABASE_URL".into(),
            "postgres://unused@127.0.0.1/unused".into(),
        ),
        ("OIDC_ISSUER".into(), issuer.to_string()),
        ("OIDC_AUDIENCE".into(), audience.to_string()),
        ("PORTAL_MASTER_KEY".into(), "unused".into()),
        ("PORTAL_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
        (
            "PORTAL_REDIS_PREFIX".into(),
            format!("t{}", uuid::Uuid::new_v4().simple()),
        ),
    ]);
    if let Some(r) = redis_url {
        env.insert("REDIS_URL".into(), r.into());
    }
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    server::Config::from_lookup(|k| env.get(k).cloned()).expect("test server config")
}

/// A running server.
#[derive(Debug)]
pub struct TestServer {
    pub url: String,
    pub state: server::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Serves `portal` with `config` on a free loopback port.
    pub async fn start(portal: Arc<LocalPortal>, config: &server::Config) -> TestServer {
        Self::start_on(portal, config, "127.0.0.1:0").await
    }

    /// Serves `portal` on `addr` (`host:port`): a server started again where it was.
    pub async fn start_on(
        portal: Arc<LocalPortal>,
        config: &server::Config,
        addr: &str,
    ) -> TestServer {
        let state = server::AppState::new(portal, config)
            .await
            .expect("server state");
        let listener = TcpListener::bind(addr).await.expect("bind server");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = server::app(state.clone());
        let done = tokio::spawn(async move {
            let _ = server::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await;
        });
        TestServer {
            url,
            state,
            stop: Some(stop),
            done: Some(done),
        }
    }

    /// Asks the server to stop and waits until every in-flight request has finished.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }
}

/// The Redis tests use: `REDIS_URL`, else the local default (the test script starts one).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Everything a remote story needs: the issuer, the server over a LocalPortal with a manual
/// clock, and a RemotePortal that mints a token for each call's actor.
#[derive(Debug)]
pub struct RemoteHarness {
    pub issuer: Arc<TestIssuer>,
    pub server: TestServer,
    pub local: Arc<LocalPortal>,
    pub remote: RemotePortal,
}

impl RemoteHarness {
    pub async fn start(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> RemoteHarness {
        let local = LocalPortal::with_keys(store, test_keys(), clock)
            .await
            .expect("portal opens")
            .with_fetcher(crate::fetcher());
        RemoteHarness::serve(Arc::new(local)).await
    }

    /// A server over this LocalPortal, and a RemotePortal to it.
    pub async fn serve(local: Arc<LocalPortal>) -> RemoteHarness {
        let issuer = Arc::new(TestIssuer::start().await);
        // The longest request of the stories is seeding demo data (a few thousand audited
        // writes): in a debug build on a loaded machine it can near the default 30 s.
        let config = server_config(
            &issuer,
            Some(&redis_url()),
            &[("PORTAL_REQUEST_TIMEOUT_SECS", "50")],
        );
        let server = TestServer::start(local.clone(), &config).await;
        let remote = RemotePortal::new(&server.url, Arc::new(MintedTokens(issuer.clone())))
            .expect("remote portal");
        RemoteHarness {
            issuer,
            server,
            local,
            remote,
        }
    }
}
