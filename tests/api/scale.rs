//! Idempotency under concurrency, rate limits, and scale-out: two server instances on one
//! PostgreSQL and one Redis share rate-limit budgets and revocations.

use crate::{actor, json_of, seed, Fixture};
use domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use store::prelude::*;
use stories::eventually;
use stories::remote::redis_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_retries_of_one_create_have_exactly_one_effect() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    let (head_before, _) = f.db.store.audit_head().await.unwrap();

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let http = f.http.clone();
        let url = f.url("/v1/keys");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "create-acme-1")
                .json(&json!({"name": "acme"}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut created_ids = std::collections::HashSet::new();
    let mut in_flight = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => {
                created_ids.insert(body["key"]["id"].as_str().unwrap().to_string());
            }
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "conflict");
                in_flight += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        created_ids.len(),
        1,
        "every success names the same single key"
    );
    let (head_after, _) = f.db.store.audit_head().await.unwrap();
    assert_eq!(
        head_after,
        head_before + 1,
        "one create, one audit event ({in_flight} retries were told the first was in flight)"
    );

    // A retry after completion replays the first response, full key included.
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "create-acme-1")
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let replay = json_of(r).await;
    assert!(created_ids.contains(replay["key"]["id"].as_str().unwrap()));
    // The same key with another body is a conflict, and changes nothing.
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "create-acme-1")
        .json(&json!({"name": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(f.db.store.audit_head().await.unwrap().0, head_before + 1);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_principal_over_budget_gets_429_with_retry_after() {
    let f = Fixture::start(&[("PORTAL_RATE_LIMIT_PRINCIPAL", "60/min burst 5")]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    for i in 0..5 {
        let r = f.get("/v1/oidc", &token).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "request {i} is within the burst"
        );
        assert_eq!(r.headers()["ratelimit-limit"], "5");
        assert_eq!(
            r.headers()["ratelimit-remaining"],
            (4 - i).to_string().as_str()
        );
    }
    let r = f.get("/v1/oidc", &token).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&retry),
        "one token refills in a second: {retry}"
    );
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    assert_eq!(json_of(r).await["code"], "rate_limited");
    let other = f.token(&actor("user:bob", Role::Provider));
    let r = f.get("/v1/oidc", &other).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "another principal has its own budget"
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_budget_and_revocations_reach_both_within_a_second() {
    let f = Fixture::start(&[("PORTAL_RATE_LIMIT_PRINCIPAL", "60/min burst 10")]).await;
    let s = seed(f.portal()).await;
    let b = f
        .second_instance(&[("PORTAL_RATE_LIMIT_PRINCIPAL", "60/min burst 10")])
        .await;
    let b_url = |p: &str| format!("{}{p}", b.url);

    // Rate limit: the budget of 10 is spent across both instances.
    let token = f.token(&actor("user:carol", Role::Provider));
    let mut ok = 0;
    let mut refused = 0;
    for i in 0..16 {
        let url = if i % 2 == 0 {
            f.url("/v1/oidc")
        } else {
            b_url("/v1/oidc")
        };
        let r = f.http.get(url).bearer_auth(&token).send().await.unwrap();
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (10..=11).contains(&ok) && refused >= 5,
        "one global budget of 10 (plus at most one refill): {ok} allowed, {refused} refused"
    );

    // Revocation: B has the key's verification cached; A revokes; B refuses within 1 s.
    let verify_on_b = || {
        f.http
            .post(b_url("/v1/federation/verify"))
            .bearer_auth(&s.full_key)
            .send()
    };
    assert_eq!(verify_on_b().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        verify_on_b().await.unwrap().status(),
        StatusCode::OK,
        "warm: served from B's cache"
    );
    let admin_token = f.token(&actor("user:alice", Role::Provider));
    let r = f
        .http
        .post(f.url(&format!("/v1/keys/{}/revoke", s.key_id)))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually(
        "instance B refuses a key revoked on A",
        Duration::from_secs(1),
        || async {
            (verify_on_b().await.unwrap().status() == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;
    b.stop().await;
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_finishes_the_requests_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    let body = br#"{"name":"in flight at shutdown"}"#;
    let addr = f.server.url.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Headers and half the body now; the rest after shutdown has begun. The Idempotency-Key
    // makes "the server is serving it" observable: its claim appears in Redis.
    let head = format!(
        "POST /v1/keys HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\nidempotency-key: at-shutdown\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..10]).await.unwrap();
    let claim = format!(
        "{}:inflight:{}#user:alice:at-shutdown",
        f.server.state.redis_prefix, f.issuer.url
    );
    let redis = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    eventually(
        "the server is serving the request (its idempotency claim is held)",
        Duration::from_secs(5),
        || {
            let mut redis = redis.clone();
            let claim = claim.clone();
            async move {
                let held: bool = redis::cmd("EXISTS")
                    .arg(&claim)
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                held.then_some(())
            }
        },
    )
    .await;
    let Fixture { db, server, .. } = f;
    let stopping = tokio::spawn(server.stop());
    // Shutdown has begun once the listener is closed: new connections are refused.
    eventually(
        "the server stops accepting connections",
        Duration::from_secs(5),
        || {
            let addr = addr.clone();
            async move {
                tokio::net::TcpStream::connect(&addr)
                    .await
                    .err()
                    .map(|_| ())
            }
        },
    )
    .await;
    conn.write_all(&body[10..]).await.unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 201"),
        "the request in flight when shutdown began is answered: {text}"
    );
    stopping.await.unwrap();
    let stored = db
        .store
        .keys(&store::KeyQuery {
            filter: Default::default(),
            now: stories::T0,
            limit: 50,
        })
        .await
        .unwrap();
    assert!(
        stored
            .items
            .iter()
            .any(|k| k.name == "in flight at shutdown"),
        "and its effect is committed"
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn made_up_key_ids_cannot_make_the_server_hammer_the_issuer() {
    // An unknown `kid` inside the floor waits for it (a rotation must not 401), so the made-up
    // ones arrive at once, as an attacker would send them: they share one fetch.
    let f = Fixture::start(&[("OIDC_JWKS_REFETCH_FLOOR_SECS", "1")]).await;
    let good = f.token(&actor("user:alice", Role::Provider));
    let r = f.get("/v1/me", &good).await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = f.issuer.fetches();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..25 {
        let forged = stories::remote::SigningPair::generate(&format!("made-up-{i}"))
            .sign(&f.issuer.claims_for(&actor("user:alice", Role::Provider)));
        let (http, url) = (f.http.clone(), f.url("/v1/me"));
        attempts.spawn(async move {
            http.get(url)
                .bearer_auth(forged)
                .send()
                .await
                .expect("the server answers")
                .status()
        });
    }
    while let Some(status) = attempts.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let after = f.issuer.fetches();
    assert!(
        after - before <= 1,
        "unknown kids refetch the JWKS at most once per floor interval: {} fetches",
        after - before
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_post_with_an_idempotency_key_has_one_effect() {
    let f = Fixture::start(&[]).await;
    let s = seed(f.portal()).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    let post = |path: String, key: &'static str, body: serde_json::Value| {
        f.http
            .post(f.url(&path))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    // A sync report retried: recorded once.
    let sync = format!("/v1/integrations/{}/syncs", s.integration_id);
    let head = f.db.store.audit_head().await.unwrap().0;
    let first = post(sync.clone(), "sync-1", json!({"error": "timeout"}))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = post(sync.clone(), "sync-1", json!({"error": "timeout"}))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        f.db.store.audit_head().await.unwrap().0,
        head + 1,
        "the retried sync report is not recorded twice"
    );
    let other = post(sync, "sync-1", json!({"error": null})).await.unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT, "same key, other body");

    // A master-key rotation request retried: the first report again, nothing run twice.
    let r1 = json_of(
        post(
            "/v1/secrets/rotations".into(),
            "rot-1",
            json!({"dry_run": true}),
        )
        .await
        .unwrap(),
    )
    .await;
    let r2 = post(
        "/v1/secrets/rotations".into(),
        "rot-1",
        json!({"dry_run": true}),
    )
    .await
    .unwrap();
    assert_eq!(r2.status(), StatusCode::OK);
    assert_eq!(json_of(r2).await, r1, "the kept report is replayed");
    let r3 = post(
        "/v1/secrets/rotations".into(),
        "rot-1",
        json!({"dry_run": false}),
    )
    .await
    .unwrap();
    assert_eq!(r3.status(), StatusCode::CONFLICT, "same key, other body");
    f.finish().await;
}

/// A request the timeout layer cuts off must not keep its `Idempotency-Key` claimed: a retry
/// after the 503 is served (not told, until a restart or the claim's TTL, that the first is
/// still in flight). The first request is held open by its client sending only half its body,
/// so it is still in the server when the timeout fires — no timing guesswork.
async fn a_timed_out_request_leaves_its_idempotency_key_free(redis: Option<&str>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::start_on(redis, &[("PORTAL_REQUEST_TIMEOUT_SECS", "2")]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    let alice = &format!("{}#user:alice", f.issuer.url);
    // The issuer's keys are fetched now, so the held request is authenticated at once.
    assert_eq!(f.get("/v1/me", &token).await.status(), StatusCode::OK);
    let key = "timed-out-1";
    let body = br#"{"name":"Timed Out Org","plan":"pro","status":"active"}"#;
    let addr = f.server.url.trim_start_matches("http://").to_string();
    let mut held = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/clients HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\nidempotency-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    held.write_all(head.as_bytes()).await.unwrap();
    held.write_all(&body[..10]).await.unwrap();
    eventually(
        "the held request claims its Idempotency-Key",
        Duration::from_secs(5),
        || async {
            f.server
                .state
                .idempotency_key_in_flight(alice, key)
                .await
                .then_some(())
        },
    )
    .await;
    let send = |body: &'static [u8]| {
        f.http
            .post(f.url("/v1/clients"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = send(body).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "while the first is being served, a retry is told so"
    );

    // The timeout layer cuts it off with 503.
    let mut answer = Vec::new();
    let cut_off = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = held.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed without an answer");
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(cut_off.is_ok(), "the server answers within its timeout");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 503"),
        "the held request is cut off: {text}"
    );

    // Its claim ends with it (in Redis, by a delete spawned as the request is dropped).
    eventually(
        "the cut-off request's claim is released",
        Duration::from_secs(3),
        || async { (!f.server.state.idempotency_key_in_flight(alice, key).await).then_some(()) },
    )
    .await;
    // A retry with the same key is served, and retried again it is replayed: one client.
    let r = send(body).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "a retry after the timeout is served, not refused as still in flight"
    );
    let created = json_of(r).await;
    let again = send(body).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(json_of(again).await["id"], created["id"]);
    let list = json_of(f.get("/v1/clients?limit=200", &token).await).await;
    let named = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Timed Out Org")
        .count();
    assert_eq!(named, 1, "the cut-off request had no effect of its own");
    drop(held);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timed_out_request_leaves_its_idempotency_key_free_in_redis() {
    a_timed_out_request_leaves_its_idempotency_key_free(Some(&redis_url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timed_out_request_leaves_its_idempotency_key_free_without_redis() {
    a_timed_out_request_leaves_its_idempotency_key_free(None).await;
}
