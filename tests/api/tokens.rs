//! Bearer tokens against an issuer that rotates and withdraws its keys, fails, names itself
//! with a trailing slash, and hands out ID tokens beside its access tokens (issue 9, finding 9).

use crate::{actor, json_of, Fixture};
use domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use stories::remote::{TestIssuer, CLIENT_ID};

/// The status of `GET /v1/me` with `token`, and the problem's detail when refused.
async fn me(f: &Fixture, token: &str) -> (StatusCode, String) {
    let r = f.get("/v1/me", token).await;
    let status = r.status();
    let detail = json_of(r).await["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, detail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_the_issuer_withdraws_stops_verifying_within_the_jwks_ttl() {
    let f = Fixture::start(&[
        ("OIDC_JWKS_TTL_SECS", "1"),
        ("OIDC_JWKS_REFETCH_FLOOR_SECS", "1"),
    ])
    .await;
    let alice = actor("user:alice", Role::Provider);
    let old = f.token(&alice);
    assert_eq!(me(&f, &old).await.0, StatusCode::OK);
    // The issuer rotates and withdraws the old key (it leaked, say).
    let next = f.issuer.rotate();
    f.issuer.withdraw(&f.issuer.key.kid);
    stories::eventually(
        "a token signed by the withdrawn key is refused once the JWKS is past its TTL",
        Duration::from_secs(15),
        || async { (me(&f, &old).await.0 == StatusCode::UNAUTHORIZED).then_some(()) },
    )
    .await;
    let (status, detail) = me(&f, &old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(detail.contains("does not publish"), "{detail}");
    let fresh = next.sign(&f.issuer.claims_for(&alice));
    assert_eq!(me(&f, &fresh).await.0, StatusCode::OK, "the new key works");
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_from_the_issuers_new_key_is_accepted_right_after_a_fetch() {
    let f = Fixture::start(&[("OIDC_JWKS_REFETCH_FLOOR_SECS", "2")]).await;
    let alice = actor("user:alice", Role::Provider);
    assert_eq!(me(&f, &f.token(&alice)).await.0, StatusCode::OK);
    let before = f.issuer.fetches();
    // Inside the floor of that fetch, the issuer rotates and signs with its new key at once.
    let next = f.issuer.rotate();
    let token = next.sign(&f.issuer.claims_for(&alice));
    let (a, b, c, d, e) = tokio::join!(
        me(&f, &token),
        me(&f, &token),
        me(&f, &token),
        me(&f, &token),
        me(&f, &token)
    );
    for (status, detail) in [a, b, c, d, e] {
        assert_eq!(
            status,
            StatusCode::OK,
            "a rotation never refuses a legitimate token: {detail}"
        );
    }
    assert_eq!(
        f.issuer.fetches() - before,
        1,
        "every request waiting for the floor shares one fetch"
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_jwks_is_not_asked_again_inside_the_floor() {
    let f = Fixture::start(&[("OIDC_JWKS_REFETCH_FLOOR_SECS", "5")]).await;
    let alice = actor("user:alice", Role::Provider);
    f.issuer.fail_jwks(true);
    for _ in 0..6 {
        let (status, detail) = me(&f, &f.token(&alice)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{detail}");
    }
    assert_eq!(
        f.issuer.fetches(),
        1,
        "a failed fetch starts the floor too: the failing issuer is asked once"
    );
    f.issuer.fail_jwks(false);
    stories::eventually(
        "the issuer is asked again after the floor and tokens verify",
        Duration::from_secs(15),
        || async { (me(&f, &f.token(&alice)).await.0 == StatusCode::OK).then_some(()) },
    )
    .await;
    assert_eq!(f.issuer.fetches(), 2, "one more fetch, after the floor");
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn access_tokens_are_accepted_and_id_tokens_refused() {
    let f = Fixture::start(&[]).await;
    let alice = actor("user:alice", Role::Provider);
    let claims = f.issuer.claims_for(&alice);
    let key = &f.issuer.key;
    for (what, token) in [
        (
            "typ at+jwt (RFC 9068)",
            f.issuer.access_token_for(&alice, key),
        ),
        (
            "typ application/at+jwt",
            key.sign_typed(&claims, Some("application/at+jwt")),
        ),
        ("typ AT+JWT", key.sign_typed(&claims, Some("AT+JWT"))),
        ("a plain JWT access token", key.sign(&claims)),
        ("no typ at all", key.sign_typed(&claims, None)),
    ] {
        let (status, detail) = me(&f, &token).await;
        assert_eq!(status, StatusCode::OK, "{what}: {detail}");
    }
    let with = |extra: serde_json::Value| {
        let mut c = claims.clone();
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    for (what, token, says) in [
        (
            "an ID token with a nonce",
            key.sign(&with(json!({"nonce": "n-0S6"}))),
            "ID token",
        ),
        (
            "an ID token with an at_hash, untyped",
            key.sign_typed(&with(json!({"at_hash": "77QmUPtj"})), None),
            "ID token",
        ),
        (
            "an ID token with a c_hash",
            key.sign(&with(json!({"c_hash": "LDktKdoQ"}))),
            "ID token",
        ),
        (
            "a Keycloak ID token (typ ID in the payload)",
            key.sign(&with(json!({"typ": "ID"}))),
            "ID token",
        ),
        (
            "a token for the sign-in app and the API",
            key.sign(&with(json!({"aud": ["portal-api", CLIENT_ID]}))),
            "sign-in app",
        ),
        (
            "a DPoP proof",
            key.sign_typed(&claims, Some("dpop+jwt")),
            "not an access token",
        ),
        (
            "an at+jwt with the wrong audience",
            key.sign_typed(&with(json!({"aud": CLIENT_ID})), Some("at+jwt")),
            "another audience",
        ),
    ] {
        let (status, detail) = me(&f, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {detail}");
        assert!(detail.contains(says), "{what}: {detail}");
    }
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_oidc_require_at_jwt_only_at_jwt_tokens_are_accepted() {
    // The API's audience is the sign-in app's client id: only the type tells the tokens apart.
    let f = Fixture::start(&[
        ("OIDC_AUDIENCE", CLIENT_ID),
        ("OIDC_REQUIRE_AT_JWT", "true"),
    ])
    .await;
    let alice = actor("user:alice", Role::Provider);
    let mut claims = f.issuer.claims_for(&alice);
    claims["aud"] = json!(CLIENT_ID);
    let (status, detail) = me(&f, &f.issuer.id_token_for(&alice)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the app's ID token: {detail}"
    );
    let (status, detail) = me(&f, &f.issuer.key.sign(&claims)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a plain JWT: {detail}");
    assert!(detail.contains("at+jwt"), "{detail}");
    let access = f.issuer.key.sign_typed(&claims, Some("at+jwt"));
    let (status, detail) = me(&f, &access).await;
    assert_eq!(status, StatusCode::OK, "an at+jwt access token: {detail}");
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issuer_ending_in_a_slash_is_compared_exactly_as_discovered() {
    let issuer = TestIssuer::start_with_trailing_slash().await;
    assert!(issuer.url.ends_with('/'));
    let f = Fixture::start_with_issuer(issuer, &[]).await;
    let alice = actor("user:alice", Role::Provider);
    let (status, detail) = me(&f, &f.token(&alice)).await;
    assert_eq!(status, StatusCode::OK, "`iss` as discovered: {detail}");
    let mut claims = f.issuer.claims_for(&alice);
    claims["iss"] = json!(f.issuer.url.trim_end_matches('/'));
    let (status, detail) = me(&f, &f.issuer.sign(&claims)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "`iss` without the slash is another issuer: {detail}"
    );
    assert!(detail.contains("another issuer"), "{detail}");
    // The server advertises the issuer as configured, and the app's sign-in discovers it whether
    // the slash is given or not (discovery wants the identifier byte for byte).
    let info = json_of(f.http.get(f.url("/v1/sign-in")).send().await.unwrap()).await;
    assert_eq!(info["issuer"], f.issuer.url.as_str(), "{info}");
    for issuer in [
        f.issuer.url.clone(),
        f.issuer.url.trim_end_matches('/').into(),
    ] {
        let config = client::signin::SignInConfig {
            issuer: issuer.clone(),
            client_id: CLIENT_ID.into(),
            scopes: vec![],
        };
        if let Err(e) = client::signin::begin(&config).await {
            panic!("sign-in discovers {issuer}: {e}");
        }
    }
    f.finish().await;
}

/// Finding 14: an identity provider's subject is namespaced by its issuer, so a subject named
/// like one of the desktop's local actors (`local:alice`) is not that actor: it does not share
/// its idempotency scope (a replay would hand it the other's one-time key) nor its history.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idp_subject_named_like_a_local_actor_is_not_that_actor() {
    use portal::prelude::*;
    let f = Fixture::start(&[]).await;
    let local_alice = actor("local:alice", Role::Provider);
    let body = portal::NewKey {
        name: "shared-name".into(),
        expires_in: None,
    };
    let local = f
        .portal()
        .create_key(&local_alice, body, Some("same-idempotency-key"))
        .await
        .expect("the local actor creates a key");
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(f.token(&local_alice))
        .header("idempotency-key", "same-idempotency-key")
        .json(&json!({"name": "shared-name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = json_of(r).await;
    assert_ne!(
        created["key"]["id"].as_str(),
        Some(local.key.id.as_str()),
        "the IdP's `local:alice` gets its own key, not a replay of the local actor's"
    );
    assert_ne!(
        created["full_key"].as_str(),
        Some(local.full_key.expose().as_str())
    );
    let me = json_of(f.get("/v1/me", &f.token(&local_alice)).await).await;
    assert_eq!(me["id"], format!("{}#local:alice", f.issuer.url));
    f.finish().await;
}
