//! Partners under attack (issue 9, finding 6). Anyone can forge a well-formed key for a real id
//! (the checksum is public); each wrong secret costs the server an argon2id run. The partner
//! whose id it is must keep verifying, the attacker must run out of tries, and a flood must
//! meet a bounded queue (503 + Retry-After), never an endless one.

use super::*;
use reqwest::StatusCode;
use std::collections::HashMap;

/// A key with `id` and a random secret, well-formed down to its checksum: what an attacker
/// who saw the id (in a log, a URL) can build without the secret.
fn forged(id: &str, n: u64) -> String {
    use data_encoding::BASE32_DNSSEC;
    let mut secret = n.to_be_bytes().to_vec();
    secret.extend_from_slice(&[0x5a; 24]);
    let body = format!("pak_{id}_{}", BASE32_DNSSEC.encode(&secret));
    let sum = BASE32_DNSSEC.encode(&crc32fast::hash(body.as_bytes()).to_be_bytes());
    let key = format!("{body}{sum}");
    assert!(
        domain::key::FullKey::parse(&key).is_ok(),
        "the forged key is well-formed"
    );
    key
}

async fn verify(f: &Fixture, key: &str, from: &str) -> reqwest::Response {
    f.http
        .post(f.url("/v1/federation/verify"))
        .bearer_auth(key)
        .header("x-forwarded-for", from)
        .send()
        .await
        .expect("the server answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partner_still_verifies_while_an_attacker_floods_its_id_with_wrong_secrets() {
    // The key's budget is small enough that 200 forged keys charged to it would empty it.
    let f = Fixture::start(&[
        ("PORTAL_RATE_LIMIT_FEDERATION_FAILURES", "6/min burst 10"),
        ("PORTAL_RATE_LIMIT_FEDERATION_KEY", "600/min burst 300"),
    ])
    .await;
    let s = seed(f.portal()).await;
    let partner = "198.51.100.10";
    assert_eq!(
        verify(&f, &s.full_key, partner).await.status(),
        StatusCode::OK
    );

    // 8 attackers × 25 forged keys from one address, while the partner verifies 40 times.
    let f = Arc::new(f);
    let mut attackers = Vec::new();
    for a in 0..8u64 {
        let (f, id) = (f.clone(), s.key_id.clone());
        attackers.push(tokio::spawn(async move {
            let mut seen: HashMap<u16, usize> = HashMap::new();
            for n in 0..25 {
                let r = verify(&f, &forged(&id, a * 100 + n), "203.0.113.66").await;
                if r.status() == StatusCode::TOO_MANY_REQUESTS {
                    assert!(r.headers().contains_key("retry-after"), "429 says when");
                }
                *seen.entry(r.status().as_u16()).or_default() += 1;
            }
            seen
        }));
    }
    let mut partner_ok = 0;
    for _ in 0..40 {
        let r = verify(&f, &s.full_key, partner).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the partner's valid key verifies throughout the flood"
        );
        partner_ok += 1;
    }
    let mut totals: HashMap<u16, usize> = HashMap::new();
    for a in attackers {
        for (status, n) in a.await.expect("attacker task") {
            *totals.entry(status).or_default() += n;
        }
    }
    let tried = totals.get(&401).copied().unwrap_or(0);
    let refused = totals.get(&429).copied().unwrap_or(0);
    assert_eq!(tried + refused, 200, "only 401 and 429: {totals:?}");
    assert!(
        tried <= 10 + 8 + 2,
        "the attacker's network gets about its burst of 10 tries (plus the ones in flight when \
         the budget ran out): {tried} reached argon2id"
    );
    assert_eq!(partner_ok, 40);

    // The key's own budget was spent by the partner's successes only.
    let r = verify(&f, &s.full_key, partner).await;
    let remaining: u32 = r.headers()["ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        remaining >= 300 - 42 - 1,
        "forged keys never spent the partner's budget ({remaining} left of 300)"
    );

    // IPv6: the attacker's whole /64 is one network; another /64 has its own budget.
    for n in 0..10 {
        let r = verify(
            &f,
            &forged(&s.key_id, 5_000 + n),
            &format!("2001:db8:1:2::{n:x}"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = verify(&f, &forged(&s.key_id, 6_000), "2001:db8:1:2:ffff::9").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "rotating addresses within a /64 does not buy more tries"
    );
    let r = verify(&f, &forged(&s.key_id, 6_001), "2001:db8:1:3::1").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "another /64 is another network"
    );
    Arc::try_unwrap(f).expect("tasks are done").finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_cold_verifications_meets_a_bounded_queue_answering_503_with_retry_after() {
    let f = Fixture::start(&[
        (
            "PORTAL_RATE_LIMIT_FEDERATION_FAILURES",
            "100000/min burst 100000",
        ),
        ("PORTAL_HASHING_QUEUE", "0"),
        ("PORTAL_HASHING_WAIT_MS", "1"),
    ])
    .await;
    let s = seed(f.portal()).await;
    assert_eq!(
        verify(&f, &s.full_key, "198.51.100.10").await.status(),
        StatusCode::OK
    );
    let f = Arc::new(f);
    let mut flood = Vec::new();
    for n in 0..48u64 {
        let (f, id) = (f.clone(), s.key_id.clone());
        flood.push(tokio::spawn(async move {
            let r = verify(&f, &forged(&id, n), &format!("203.0.113.{}", n + 1)).await;
            let retry = r.headers().get("retry-after").cloned();
            (r.status(), retry)
        }));
    }
    // The partner's verification is warm: served from the cache, no permit needed.
    for _ in 0..10 {
        assert_eq!(
            verify(&f, &s.full_key, "198.51.100.10").await.status(),
            StatusCode::OK,
            "a warm verification never waits behind the flood"
        );
    }
    let mut busy = 0;
    for t in flood {
        let (status, retry) = t.await.expect("flood task");
        match status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(
                    retry.as_ref().and_then(|v| v.to_str().ok()),
                    Some("1"),
                    "503 says when to come back"
                );
                busy += 1;
            }
            other => panic!("a cold verification answers 401 or 503, not {other}"),
        }
    }
    assert!(
        busy > 0,
        "48 concurrent cold verifications on a queue of 0 find it full at least once"
    );
    Arc::try_unwrap(f).expect("tasks are done").finish().await;
}

/// The partner budgets are decided from each instance's copy and settled with Redis every
/// 50 ms: a guesser who spent their tries at one instance finds them spent at the other too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_spent_at_one_instance_are_spent_at_the_other() {
    let budget = ("PORTAL_RATE_LIMIT_FEDERATION_FAILURES", "6/min burst 5");
    let f = Fixture::start(&[budget]).await;
    let s = seed(f.portal()).await;
    let b = f.second_instance(&[budget]).await;
    let attacker = "203.0.113.77";
    for n in 0..5 {
        assert_eq!(
            verify(&f, &forged(&s.key_id, 9_000 + n), attacker)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Instance B learns of A's spending at its next settling (50 ms; a few to be safe).
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let at_b = |n: u64| {
        f.http
            .post(format!("{}/v1/federation/verify", b.url))
            .bearer_auth(forged(&s.key_id, n))
            .header("x-forwarded-for", attacker)
            .send()
    };
    // B's first look may come before its copy exists: it then settles with Redis and knows.
    let _ = at_b(9_100).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        at_b(9_101).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the tries spent at A are spent at B"
    );
    b.stop().await;
    f.finish().await;
}
