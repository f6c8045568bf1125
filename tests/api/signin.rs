//! Sign-in against a real OpenID Provider (panva/oidc-provider): authorization code + PKCE
//! through a loopback redirect, then the portal API through `RemotePortal` with the session's
//! tokens — silent refresh, role binding, sign-out with revocation.

use crate::json_of;
use client::signin::{self, MemorySessions, SessionStore, SignInConfig, SignedIn};
use client::RemotePortal;
use domain::ErrorCode;
use portal::prelude::*;
use portal::{NewClient, NewKey};
use std::sync::Arc;
use std::time::Duration;
use stories::oidc::{browse_and_sign_in, RealProvider};
use stories::remote::{redis_url, server_config_for, TestServer};
use stories::{admin, portal, TestDb, TestPortal};

async fn sign_in(config: &SignInConfig, user: &str) -> signin::Session {
    let pending = signin::begin(config)
        .await
        .expect("discovery and loopback listener");
    let url = pending.authorize_url.to_string();
    assert!(
        url.contains("code_challenge_method=S256"),
        "PKCE S256: {url}"
    );
    assert!(url.contains("state=") && url.contains("nonce="));
    let user = user.to_string();
    let browser = tokio::spawn(async move { browse_and_sign_in(&url, &user).await });
    let session = pending
        .finish(Duration::from_secs(30))
        .await
        .expect("signed in");
    browser.await.expect("browser finished");
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_with_a_real_provider_then_work_refresh_and_sign_out() {
    let db = TestDb::new(stories::Backend::Postgres).await;
    let (p, _clock) = portal(&db).await;
    let TestPortal::Local(local) = p else {
        unreachable!()
    };
    let tenant_org = local
        .create_client(
            &admin(),
            NewClient {
                name: "Tenant Org".into(),
                plan: "pro".into(),
                status: "active".into(),
            },
            None,
        )
        .await
        .unwrap();
    let provider = RealProvider::start(300, &tenant_org.id.to_string());
    let config = server_config_for(&provider.issuer, "portal-api", Some(&redis_url()), &[]);
    let server = TestServer::start(Arc::new(*local), &config).await;
    let signin_config = SignInConfig {
        issuer: provider.issuer.clone(),
        client_id: provider.client_id.clone(),
        scopes: vec!["portal".into()],
    };

    // Alice signs in and works through the API as a provider admin.
    let session = sign_in(&signin_config, "alice").await;
    assert_eq!(session.name, "Alice Admin");
    assert!(
        session.refresh_token.is_some(),
        "offline_access gives a refresh token for silent refresh"
    );
    assert!(
        !format!("{session:?}").contains(&session.access_token),
        "Debug never shows tokens"
    );
    let store = Arc::new(MemorySessions::default());
    store.save(&session).unwrap();
    let tokens = Arc::new(SignedIn::load(signin_config.clone(), store.clone()).unwrap());
    let remote = RemotePortal::new(&server.url, tokens.clone()).unwrap();
    let me = remote.whoami(&admin()).await.unwrap();
    let alice = format!("{}#alice", provider.issuer);
    assert_eq!(
        (me.id.as_str(), me.role.as_str()),
        (alice.as_str(), "provider"),
        "the actor is the subject, namespaced by its issuer"
    );
    assert!(me.permissions.contains(&"manage_keys".to_string()));
    let created = remote
        .create_key(
            &admin(),
            NewKey {
                name: "via-oidc".into(),
                expires_in: None,
            },
            None,
        )
        .await
        .unwrap();
    let page = remote
        .list_keys(&admin(), Default::default())
        .await
        .unwrap();
    assert!(page.items.iter().any(|k| k.id == created.key.id));
    let audit = remote
        .list_audit(
            &admin(),
            domain::model::AuditFilter {
                entity_id: Some(created.key.id.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        audit.items[0].actor_id, alice,
        "the audit names the signed-in user"
    );
    assert_eq!(audit.items[0].actor_name, "Alice Admin");

    // Silent refresh: an access token about to expire is renewed before the call.
    let mut stale = store.load().unwrap().unwrap();
    let old_access = stale.access_token.clone();
    stale.expires_at = 0;
    store.save(&stale).unwrap();
    let tokens = Arc::new(SignedIn::load(signin_config.clone(), store.clone()).unwrap());
    let remote = RemotePortal::new(&server.url, tokens.clone()).unwrap();
    remote
        .list_keys(&admin(), Default::default())
        .await
        .expect("works after a silent refresh");
    let renewed = store.load().unwrap().unwrap();
    assert_ne!(
        renewed.access_token, old_access,
        "a new access token was stored"
    );
    assert!(renewed.expires_at > 0);

    // Sign-out revokes at the provider and forgets the session.
    let report = signin::sign_out(Some(&signin_config), store.as_ref())
        .await
        .unwrap();
    assert!(report.revoked && report.deleted, "{report:?}");
    assert!(store.load().unwrap().is_none());
    let revoked_store = Arc::new(MemorySessions::default());
    revoked_store.save(&renewed).unwrap();
    let after = SignedIn::load(signin_config.clone(), revoked_store).unwrap();
    let err = after.refresh().await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Unauthenticated,
        "a revoked refresh token renews nothing: {err}"
    );

    // A tenant signs in and is bound to its organisation.
    let tenant = sign_in(&signin_config, "tenant").await;
    let http = reqwest::Client::new();
    let me = json_of(
        http.get(format!("{}/v1/me", server.url))
            .bearer_auth(&tenant.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["role"], "client");
    assert_eq!(me["org_id"], tenant_org.id.to_string());
    let r = http
        .get(format!("{}/v1/keys", server.url))
        .bearer_auth(&tenant.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        reqwest::StatusCode::FORBIDDEN,
        "a tenant may not read federation keys"
    );

    server.stop().await;
    db.drop_db().await;
}

/// A callback carrying another state (a forged or stale redirect) is refused with 400, and the
/// sign-in keeps waiting for the real one instead of ending on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_with_another_state_is_refused() {
    let provider = RealProvider::start(300, "00000000-0000-4000-8000-000000000001");
    let config = SignInConfig {
        issuer: provider.issuer.clone(),
        client_id: provider.client_id.clone(),
        scopes: vec![],
    };
    let pending = signin::begin(&config).await.unwrap();
    let forged = format!("{}?code=stolen&state=not-the-one", pending.redirect_uri());
    let waiting = tokio::spawn(async move { pending.finish(Duration::from_secs(3)).await });
    let status = reqwest::get(forged).await.unwrap().status();
    assert_eq!(
        status,
        reqwest::StatusCode::BAD_REQUEST,
        "the forged callback is refused"
    );
    let err = waiting.await.unwrap().unwrap_err();
    assert!(
        err.to_string().contains("timed out"),
        "the forged callback must not end the sign-in; it ends only by its own timeout: {err}"
    );
}
