//! The portal API server over HTTP: the auth matrix over every route the router declares,
//! checked against the product's role table (`docs/roles.md`),
//! problem+json errors, idempotency under concurrency, rate limits, and two instances sharing
//! one PostgreSQL and one Redis. Real PostgreSQL, real Redis, real sockets.

mod contract;
mod errors;
mod exports;
mod matrix;
mod partners;
mod roles;
mod scale;
mod signin;
mod tokens;

use domain::Actor;
use portal::prelude::*;
use portal::{LocalPortal, NewClient, NewIntegration, NewKey, NewOidc};
use serde_json::{json, Value};
use std::sync::Arc;
use stories::remote::{redis_url, server_config, TestIssuer, TestServer};
use stories::{admin, portal, TestDb, TestPortal};

/// A server over a fresh PostgreSQL database, with this issuer.
#[derive(Debug)]
pub struct Fixture {
    pub db: TestDb,
    pub issuer: Arc<TestIssuer>,
    pub server: TestServer,
    pub http: reqwest::Client,
}

impl Fixture {
    pub async fn start(extra: &[(&str, &str)]) -> Fixture {
        Fixture::start_on(Some(&redis_url()), extra).await
    }

    /// A server on `redis`, or keeping its shared state in the process when `None`.
    pub async fn start_on(redis: Option<&str>, extra: &[(&str, &str)]) -> Fixture {
        let db = TestDb::new(stories::Backend::Postgres).await;
        let issuer = Arc::new(TestIssuer::start().await);
        let (p, _clock) = portal(&db).await;
        let TestPortal::Local(local) = p else {
            unreachable!("a PostgreSQL test database gives a local portal")
        };
        Fixture::serve_on(db, issuer, *local, redis, extra).await
    }

    /// A server over a fresh PostgreSQL database, trusting `issuer`.
    pub async fn start_with_issuer(issuer: TestIssuer, extra: &[(&str, &str)]) -> Fixture {
        let db = TestDb::new(stories::Backend::Postgres).await;
        let (p, _clock) = portal(&db).await;
        let TestPortal::Local(local) = p else {
            unreachable!("a PostgreSQL test database gives a local portal")
        };
        Fixture::serve(db, Arc::new(issuer), *local, extra).await
    }

    /// A server over `local` (a portal over `db`), trusting `issuer`.
    pub async fn serve(
        db: TestDb,
        issuer: Arc<TestIssuer>,
        local: LocalPortal,
        extra: &[(&str, &str)],
    ) -> Fixture {
        Fixture::serve_on(db, issuer, local, Some(&redis_url()), extra).await
    }

    async fn serve_on(
        db: TestDb,
        issuer: Arc<TestIssuer>,
        local: LocalPortal,
        redis: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Fixture {
        let config = server_config(&issuer, redis, extra);
        let server = TestServer::start(Arc::new(local), &config).await;
        Fixture {
            db,
            issuer,
            server,
            http: reqwest::Client::new(),
        }
    }

    /// A second instance, as a second process would be: its own LocalPortal (own caches) over
    /// the same database, the same Redis and the same prefix, with these settings.
    pub async fn second_instance(&self, extra: &[(&str, &str)]) -> TestServer {
        let portal = Arc::new(
            LocalPortal::with_keys(
                self.db.arc(),
                stories::test_keys(),
                Arc::new(domain::ManualClock::at(stories::T0)),
            )
            .await
            .expect("the second instance's portal opens"),
        );
        let mut settings = extra.to_vec();
        settings.push(("PORTAL_REDIS_PREFIX", &self.server.state.redis_prefix));
        let config = server_config(&self.issuer, Some(&redis_url()), &settings);
        TestServer::start(portal, &config).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    /// `GET path` with `token` as the bearer.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers")
    }

    pub fn token(&self, actor: &Actor) -> String {
        self.issuer.token_for(actor)
    }

    pub fn portal(&self) -> &LocalPortal {
        &self.server.state.portal
    }

    pub async fn finish(self) {
        self.server.stop().await;
        self.db.drop_db().await;
    }
}

pub fn actor(id: &str, role: domain::Role) -> Actor {
    Actor {
        id: id.into(),
        name: id.into(),
        role,
        ..admin()
    }
}

/// What a test needs to exist: one of each resource, and two organisations.
#[derive(Debug)]
pub struct Seeded {
    pub key_id: String,
    pub full_key: String,
    pub oidc_id: String,
    /// A configuration whose issuer answers (the matrix points it at its own test issuer).
    pub probe_oidc_id: String,
    pub integration_id: String,
    pub own_org: String,
    pub other_org: String,
}

pub async fn seed(p: &dyn Portal) -> Seeded {
    let a = admin();
    let key = p
        .create_key(
            &a,
            NewKey {
                name: "acme".into(),
                expires_in: None,
            },
            None,
        )
        .await
        .expect("key");
    let oidc = p
        .create_oidc(
            &a,
            NewOidc {
                issuer: "https://id.example.com".into(),
                client_id: "portal".into(),
                redirect_uri: "https://portal.example.com/cb".into(),
                client_secret: Some(domain::Sensitive::new("s3cret-value".into())),
                enabled: true,
            },
            None,
        )
        .await
        .expect("oidc");
    let integration = p
        .create_integration(
            &a,
            NewIntegration {
                name: "Stripe".into(),
                kind: "stripe".into(),
                config: domain::Sensitive::new(json!({"api_key": "sk_live_x"})),
            },
            None,
        )
        .await
        .expect("integration");
    let mut orgs = Vec::new();
    for name in ["Own Org", "Other Org"] {
        let c = p
            .create_client(
                &a,
                NewClient {
                    name: name.into(),
                    plan: "pro".into(),
                    status: "active".into(),
                },
                None,
            )
            .await
            .expect("client");
        orgs.push(c.id.to_string());
    }
    Seeded {
        key_id: key.key.id.to_string(),
        full_key: key.full_key.expose().clone(),
        oidc_id: oidc.id.to_string(),
        probe_oidc_id: oidc.id.to_string(),
        integration_id: integration.id.to_string(),
        own_org: orgs[0].clone(),
        other_org: orgs[1].clone(),
    }
}

pub async fn json_of(r: reqwest::Response) -> Value {
    r.json::<Value>().await.unwrap_or(Value::Null)
}
