//! The workspace as a whole, on every Portal: who am I (the one rule table), whether the
//! workspace is empty (the one definition), seeding demo data behind the `seed` permission,
//! OIDC *Test connection* against a real loopback issuer, and a master-key rotation retried
//! with its idempotency key.

use crate::audit_head;
use domain::{ErrorCode, Permission, Role, Sensitive};
use portal::{MasterKeyRotation, NewClient, NewOidc};
use stories::remote::TestIssuer;
use stories::{admin, on_every_portal, portal, portal_with_key_file, TestDb};

async fn whoami_is_the_role_table(db: &TestDb) {
    let (p, _) = portal(db).await;
    let me = p.whoami(&admin()).await.unwrap();
    assert_eq!(
        (me.id, me.role.as_str()),
        (p.actor_id(&admin()), "provider")
    );
    assert_eq!(
        me.permissions.len(),
        Permission::ALL.len(),
        "a provider may do everything: {:?}",
        me.permissions
    );
    let mut dev = admin();
    dev.id = "user:dave".into();
    dev.role = Role::Developer;
    let me = p.whoami(&dev).await.unwrap();
    assert_eq!(me.role, "developer");
    let expected: Vec<String> = Role::Developer
        .permissions()
        .into_iter()
        .map(|p| p.as_str().to_string())
        .collect();
    assert_eq!(
        me.permissions, expected,
        "whoami reports the rule table's permissions"
    );
    assert!(!me
        .permissions
        .iter()
        .any(|p| p == "seed" || p == "manage_oidc"));
    let org = uuid::Uuid::new_v4();
    let mut tenant = admin();
    tenant.role = Role::Client(org);
    let me = p.whoami(&tenant).await.unwrap();
    assert_eq!((me.role.as_str(), me.org_id), ("client", Some(org)));
}

async fn seeding_fills_only_an_empty_workspace(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    assert!(
        p.workspace_status(&a).await.unwrap().empty,
        "a new workspace is empty"
    );

    let mut dev = admin();
    dev.role = Role::Developer;
    let before = audit_head(db).await;
    let err = p.seed_demo(&dev, &|_, _| {}).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Forbidden,
        "seeding needs the seed permission: {err}"
    );
    assert_eq!(
        audit_head(db).await,
        before,
        "a refused seed writes nothing"
    );

    let report = p.seed_demo(&a, &|_, _| {}).await.unwrap();
    assert_eq!(report.clients, 50, "{report:?}");
    assert!(report.keys >= 40 && report.oidc_configs == 6 && report.integrations == 10);
    assert!(
        report.audit_events > 1000,
        "a few thousand events of history: {report:?}"
    );
    assert!(
        !p.workspace_status(&a).await.unwrap().empty,
        "seeded is not empty"
    );
    // Every incident widget has something to show.
    assert_eq!(report.incidents, 29, "{report:?}");
    let counts = p.incident_counts(&a).await.unwrap();
    assert!(
        counts.breached >= 2 && counts.at_risk >= 1,
        "some breached, some at risk: {counts:?}"
    );
    let week = p.incident_metrics(&a, Default::default()).await.unwrap();
    assert!(
        week.overall.count > 0 && week.overall.mtta_mean_ms.is_some(),
        "a week of MTTA: {week:?}"
    );
    assert_eq!(p.list_escalation_policies(&a).await.unwrap().len(), 2);
    assert!(
        p.verify_audit(&a, None)
            .await
            .unwrap()
            .first_broken
            .is_none(),
        "every seeded event is on an intact chain"
    );

    let head = audit_head(db).await;
    let again = p.seed_demo(&a, &|_, _| {}).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict, "{again}");
    assert_eq!(audit_head(db).await, head, "a second seed changes nothing");
}

async fn one_client_makes_a_workspace_not_empty(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    p.create_client(
        &a,
        NewClient {
            name: "Acme".into(),
            plan: "pro".into(),
            status: "active".into(),
        },
        None,
    )
    .await
    .unwrap();
    assert!(!p.workspace_status(&a).await.unwrap().empty);
    let err = p.seed_demo(&a, &|_, _| {}).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
}

async fn oidc_test_connection_reads_the_real_issuer(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let issuer = TestIssuer::start().await;
    let good = p
        .create_oidc(
            &a,
            NewOidc {
                issuer: issuer.url.clone(),
                client_id: "portal".into(),
                redirect_uri: "https://portal.example.com/cb".into(),
                client_secret: Some(Sensitive::new("probe-secret".into())),
                enabled: true,
            },
            None,
        )
        .await
        .unwrap();
    let head = audit_head(db).await;
    let report = p.test_oidc(&a, &good.id.to_string()).await.unwrap();
    assert!(
        report.ok(),
        "a working issuer passes: {:?}",
        report.problems
    );
    assert_eq!(report.found_issuer.as_deref(), Some(issuer.url.as_str()));
    assert_eq!(report.signing_keys.len(), 1, "the issuer's key is listed");
    assert_eq!(audit_head(db).await, head, "a test writes nothing");

    // An issuer nobody answers for: a report with the reason, not an error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = p
        .create_oidc(
            &a,
            NewOidc {
                issuer: format!("http://127.0.0.1:{port}"),
                client_id: "portal".into(),
                redirect_uri: "https://portal.example.com/cb".into(),
                client_secret: None,
                enabled: false,
            },
            None,
        )
        .await
        .unwrap();
    let report = p.test_oidc(&a, &dead.id.to_string()).await.unwrap();
    assert!(!report.ok());
    assert!(
        report.problems[0].contains("discovery document"),
        "{:?}",
        report.problems
    );

    let mut tenant = admin();
    tenant.role = Role::Client(uuid::Uuid::new_v4());
    let err = p
        .test_oidc(&tenant, &good.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    let err = p.test_oidc(&a, "not-an-id").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
}

async fn a_retried_master_key_rotation_runs_once(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = portal_with_key_file(db, &dir.path().join("master.key")).await;
    let a = admin();
    p.create_oidc(
        &a,
        NewOidc {
            issuer: "https://idp.example.com".into(),
            client_id: "portal".into(),
            redirect_uri: "https://portal.example.com/cb".into(),
            client_secret: Some(Sensitive::new("sealed-secret".into())),
            enabled: true,
        },
        None,
    )
    .await
    .unwrap();
    let opts = MasterKeyRotation {
        batch_size: 10,
        ..Default::default()
    };
    let first = p
        .rotate_master_key(&a, opts, &|_, _| {}, Some("rotation-1"))
        .await
        .unwrap();
    assert_eq!(first.added_version, Some(2));
    let retry = p
        .rotate_master_key(&a, opts, &|_, _| {}, Some("rotation-1"))
        .await
        .unwrap();
    assert_eq!(retry, first, "a retry gets the first run's report");
    assert_eq!(
        p.master_key_status(&a).await.unwrap().current_version,
        2,
        "the retry added no version"
    );
    let other = MasterKeyRotation {
        batch_size: 20,
        ..opts
    };
    let err = p
        .rotate_master_key(&a, other, &|_, _| {}, Some("rotation-1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Conflict,
        "same key, other input: {err}"
    );
    let next = p
        .rotate_master_key(&a, opts, &|_, _| {}, Some("rotation-2"))
        .await
        .unwrap();
    assert_eq!(next.added_version, Some(3), "a new key is a new rotation");
}

on_every_portal!(
    whoami_is_the_role_table,
    seeding_fills_only_an_empty_workspace,
    one_client_makes_a_workspace_not_empty,
    oidc_test_connection_reads_the_real_issuer,
    a_retried_master_key_rotation_runs_once
);
