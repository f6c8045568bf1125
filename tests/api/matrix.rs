//! The auth matrix: every route the running server declares (read from its own
//! `/openapi.json`, not from a list kept here) × {no token, expired, wrong audience, wrong
//! issuer, bad signature, `alg: none`, HMAC with the public key, a federation key, each role,
//! another tenant}. A route added without a guard fails here.

use crate::{actor, json_of, seed, Fixture};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::{Permission, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stories::remote::SigningPair;

fn fill(path: &str, s: &crate::Seeded) -> String {
    let id = if path.starts_with("/v1/keys/") {
        &s.key_id
    } else if path.starts_with("/v1/oidc/") {
        &s.oidc_id
    } else if path.starts_with("/v1/integrations/") {
        &s.integration_id
    } else if path.starts_with("/v1/clients/") {
        &s.own_org
    } else {
        ""
    };
    let filled = path.replace("{id}", id);
    assert!(
        !filled.contains('{'),
        "route {path} has a path parameter this test cannot fill: teach `fill` a sample value"
    );
    filled
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_is_guarded_and_each_role_gets_what_its_permissions_say() {
    let f = Fixture::start(&[]).await;
    let s = seed(f.portal()).await;
    let doc: Value = json_of(f.http.get(f.url("/openapi.json")).send().await.unwrap()).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 20, "the document lists the router's routes");

    let provider = actor("user:alice", Role::Provider);
    let developer = actor("user:dev", Role::Developer);
    let own: uuid::Uuid = s.own_org.parse().unwrap();
    let client = actor("user:tenant", Role::Client(own));
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

    // Partner routes first: the matrix revokes the seeded key later.
    let mut routes: Vec<(Method, String, Guard)> = Vec::new();
    for (path, item) in paths {
        for m in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(m) {
                let what = format!("{} {path}", m.to_uppercase());
                routes.push((
                    Method::from_bytes(m.to_uppercase().as_bytes()).unwrap(),
                    path.clone(),
                    guard(op, &what),
                ));
            }
        }
    }
    routes.sort_by_key(|(m, p, g)| (*g != Guard::Partner, m == Method::DELETE, p.clone()));

    let mut checked = 0;
    for (method, path, g) in &routes {
        let url = f.url(&fill(path, &s));
        let what = format!("{method} {path}");
        let send = |token: Option<&str>| {
            let mut r = f.http.request(method.clone(), &url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            if [Method::POST, Method::PUT, Method::PATCH].contains(method) {
                r = r.json(&json!({}));
            }
            r.send()
        };
        match g {
            Guard::Public => {
                let r = send(None).await.unwrap();
                assert!(
                    r.status().is_success(),
                    "{what} is public and must answer without a token, got {}",
                    r.status()
                );
            }
            Guard::Partner => {
                let r = send(None).await.unwrap();
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what} without a key");
                assert!(
                    r.headers().contains_key("www-authenticate"),
                    "{what}: 401 says how to authenticate"
                );
                let token = f.token(&provider);
                let r = send(Some(&token)).await.unwrap();
                assert_eq!(
                    r.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what}: an access token is not a federation key"
                );
                let r = send(Some(&s.full_key)).await.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{what} with a valid key");
            }
            Guard::User(scope) => {
                let r = send(None).await.unwrap();
                assert_eq!(
                    r.status(),
                    StatusCode::UNAUTHORIZED,
                    "{what} without a token"
                );
                assert!(
                    r.headers().contains_key("www-authenticate"),
                    "{what}: 401 carries WWW-Authenticate"
                );
                assert_eq!(
                    r.headers()["content-type"],
                    "application/problem+json",
                    "{what}: errors are problem+json"
                );
                for (why, token) in &bad_tokens {
                    let r = send(Some(token)).await.unwrap();
                    assert_eq!(
                        r.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with a token that is {why}"
                    );
                }
                for who in [&provider, &developer, &client] {
                    let allowed = match scope {
                        None => true,
                        Some(name) => who
                            .role
                            .permissions()
                            .iter()
                            .any(|p: &Permission| p.as_str() == name),
                    };
                    let r = send(Some(&f.token(who))).await.unwrap();
                    let status = r.status();
                    let body = json_of(r).await;
                    if allowed {
                        assert!(
                            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                            "{what} as {}: the role has {scope:?}, got {status} {body}",
                            who.role.name()
                        );
                    } else {
                        assert_eq!(
                            status,
                            StatusCode::FORBIDDEN,
                            "{what} as {}: the role lacks {scope:?}, got {body}",
                            who.role.name()
                        );
                    }
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, routes.len());

    // Another tenant's resource is a 404, as if it did not exist; its own is visible.
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

    let (head_before, _) = {
        use store::prelude::*;
        f.db.store.audit_head().await.unwrap()
    };
    let r = f
        .http
        .post(f.url("/v1/keys/0000000000000000/rotate"))
        .bearer_auth(&token)
        .json(&json!({"overlap": "forever"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let (head_after, _) = {
        use store::prelude::*;
        f.db.store.audit_head().await.unwrap()
    };
    assert_eq!(head_before, head_after, "bad input changes nothing");
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
        e["actor_id"], "user:dev",
        "the actor is the token's subject"
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
