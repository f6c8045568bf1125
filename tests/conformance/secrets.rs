//! Secrets at rest: sealed, never returned, re-encrypted by a resumable master-key rotation.

use domain::envelope::Binding;
use domain::{ErrorCode, ManualClock, Sensitive};
use portal::prelude::*;
use portal::secrets::{FileKeys, MasterKeySource};
use portal::{LocalPortal, MasterKeyRotation, NewIntegration, NewOidc};
use sqlx::Row;
use std::sync::Arc;
use stories::{admin, dump_all, on_both_stores, on_every_portal, TestDb, T0};

fn oidc(issuer: &str, secret: &str, enabled: bool) -> NewOidc {
    NewOidc {
        issuer: issuer.into(),
        client_id: "portal".into(),
        redirect_uri: "https://portal.example.com/cb".into(),
        client_secret: Some(Sensitive::new(secret.into())),
        enabled,
    }
}

async fn secrets_are_sealed_and_write_only(db: &TestDb) {
    let (p, _) = stories::portal(db).await;
    let a = admin();
    let c = p
        .create_oidc(
            &a,
            oidc("https://idp.example.com", "oidc-plaintext-secret-1", true),
            None,
        )
        .await
        .unwrap();
    assert!(c.has_client_secret);
    let json = serde_json::to_string(&p.get_oidc(&a, &c.id.to_string()).await.unwrap()).unwrap();
    assert!(
        !json.contains("oidc-plaintext-secret-1"),
        "reads never return the secret"
    );
    let clash = p
        .create_oidc(&a, oidc("https://idp.example.com", "s2", true), None)
        .await
        .unwrap_err();
    assert_eq!(
        clash.code(),
        ErrorCode::Conflict,
        "at most one enabled configuration per issuer: {clash}"
    );
    let disabled = p
        .create_oidc(&a, oidc("https://idp.example.com", "s3", false), None)
        .await
        .unwrap();
    let enable = p
        .set_oidc_enabled(&a, &disabled.id.to_string(), true)
        .await
        .unwrap_err();
    assert_eq!(enable.code(), ErrorCode::Conflict);
    let updated = p
        .update_oidc(
            &a,
            &c.id.to_string(),
            portal::OidcChanges {
                client_secret: Some(Sensitive::new("oidc-plaintext-secret-2".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(updated.has_client_secret);
    let it = p
        .create_integration(
            &a,
            NewIntegration {
                name: "Stripe".into(),
                kind: "stripe".into(),
                config: Sensitive::new(serde_json::json!({"api_key": "sk_live_plaintext_xyz"})),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(it.config_fields, vec!["api_key"]);
    p.set_integration_paused(&a, &it.id.to_string(), true)
        .await
        .unwrap();
    let bad = p
        .create_integration(
            &a,
            NewIntegration {
                name: "x".into(),
                kind: "stripe".into(),
                config: Sensitive::new(serde_json::json!([1])),
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.fields()[0].field, "config");
    let dump = dump_all(db).await;
    for secret in [
        "oidc-plaintext-secret-1",
        "oidc-plaintext-secret-2",
        "sk_live_plaintext_xyz",
        "s3",
    ] {
        assert!(
            !dump.contains(secret) || secret == "s3" && !dump.contains("\ts3\t"),
            "{secret} must not be stored in plaintext"
        );
    }
    let trail = p.list_audit(&a, Default::default()).await.unwrap();
    let secret_change = trail.items.iter().find(|e| e.action == "update").unwrap();
    assert_eq!(
        secret_change.after.as_ref().unwrap()["client_secret"],
        "<redacted>",
        "the trail says the secret changed, never its value"
    );
}

async fn master_key_rotation_is_resumable(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(FileKeys::new(dir.path().join("master.key")));
    let clock = Arc::new(ManualClock::at(T0));
    let p = LocalPortal::open(db.arc(), source.clone(), clock.clone())
        .await
        .unwrap();
    let a = admin();
    let mut expected = Vec::new();
    for i in 0..5 {
        let secret = format!("secret-number-{i}");
        let c = p
            .create_oidc(
                &a,
                oidc(&format!("https://idp{i}.example.com"), &secret, true),
                None,
            )
            .await
            .unwrap();
        expected.push(("oidc_configs", "client_secret", c.id.to_string(), secret));
        let cfg = format!("{{\"token\":\"cfg-{i}\"}}");
        let it = p
            .create_integration(
                &a,
                NewIntegration {
                    name: format!("i{i}"),
                    kind: "webhook".into(),
                    config: Sensitive::new(serde_json::from_str(&cfg).unwrap()),
                },
                None,
            )
            .await
            .unwrap();
        expected.push(("integrations", "config", it.id.to_string(), cfg));
    }
    let dry = p
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                dry_run: true,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            dry.status.current_version,
            dry.status.behind,
            dry.status.total
        ),
        (1, 0, 10)
    );

    // Interrupted after one batch of 3.
    let partial = p
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                batch_size: 3,
                max_batches: Some(1),
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!(partial.added_version, Some(2));
    assert_eq!((partial.resealed, partial.status.behind), (3, 7));

    // A new process (new portal, keys reloaded from the file) resumes and finishes.
    let p2 = LocalPortal::open(db.arc(), source.clone(), clock.clone())
        .await
        .unwrap();
    let dry2 = p2
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                dry_run: true,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!(dry2.status.behind, 7, "the dry run reports what is left");
    let rest = p2
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                batch_size: 3,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        rest.added_version, None,
        "a resumed rotation adds no version"
    );
    assert_eq!(
        (
            rest.resealed,
            rest.status.behind,
            rest.status.current_version
        ),
        (7, 0, 2)
    );

    // Nothing lost, nothing double-encrypted: every value opens at version 2 to its plaintext.
    let keys = source.load().unwrap();
    for (table, column, id, plain) in expected {
        let row = sqlx::query(&format!("SELECT {column} AS v FROM {table} WHERE id = $1"))
            .bind(id.clone())
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        let sealed: Vec<u8> = row.try_get("v").unwrap();
        assert_eq!(domain::envelope::sealed_version(&sealed).unwrap(), 2);
        let opened = keys
            .open(
                Binding {
                    table,
                    column,
                    row_id: &id,
                },
                &sealed,
            )
            .unwrap();
        assert_eq!(String::from_utf8(opened.expose().clone()).unwrap(), plain);
    }
    assert_eq!(p2.verify_audit(&a, None).await.unwrap().first_broken, None);

    // A different master key is refused with a clear message.
    let wrong = Arc::new(FileKeys::new(dir.path().join("other.key")));
    let err = LocalPortal::open(db.arc(), wrong, clock).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unavailable);
    assert!(
        err.to_string().contains("does not match this database"),
        "{err}"
    );
}

on_both_stores!(master_key_rotation_is_resumable);

/// Every Portal reports what is sealed under which master key, and a dry run changes nothing.
async fn master_key_status_and_dry_run(db: &TestDb) {
    let (p, _) = stories::portal(db).await;
    let a = admin();
    let empty = p.master_key_status(&a).await.unwrap();
    assert_eq!(
        (empty.current_version, empty.behind, empty.total),
        (1, 0, 0),
        "a new workspace has one master key and nothing sealed"
    );
    p.create_oidc(&a, oidc("https://idp.example.com", "sealed-1", true), None)
        .await
        .unwrap();
    p.create_oidc(
        &a,
        NewOidc {
            client_secret: None,
            ..oidc("https://other.example.com", "unused", true)
        },
        None,
    )
    .await
    .unwrap();
    p.create_integration(
        &a,
        NewIntegration {
            name: "Hooks".into(),
            kind: "webhook".into(),
            config: Sensitive::new(serde_json::json!({"url": "https://h.example.com"})),
        },
        None,
    )
    .await
    .unwrap();
    let status = p.master_key_status(&a).await.unwrap();
    assert_eq!(
        (status.current_version, status.behind, status.total),
        (1, 0, 2),
        "one OIDC secret and one integration configuration are sealed (a missing secret is not)"
    );
    let head = {
        use store::prelude::*;
        db.store.audit_head().await.unwrap().0
    };
    let dry = p
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                dry_run: true,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!((dry.added_version, dry.resealed), (None, 0));
    assert_eq!(dry.status, status, "a dry run reports the status");
    assert_eq!(
        {
            use store::prelude::*;
            db.store.audit_head().await.unwrap().0
        },
        head,
        "and changes nothing"
    );
    let bad = p
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                batch_size: 0,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.fields()[0].field, "batch_size");
    let fixed = p
        .rotate_master_key(&a, MasterKeyRotation::default(), &|_, _| {}, None)
        .await
        .unwrap_err();
    assert_eq!(
        fixed.code(),
        ErrorCode::Conflict,
        "a portal opened with a fixed key set cannot add a version, and says so: {fixed}"
    );
    let mut dev = admin();
    dev.role = domain::Role::Developer;
    for err in [
        p.master_key_status(&dev).await.unwrap_err(),
        p.rotate_master_key(
            &dev,
            MasterKeyRotation {
                dry_run: true,
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap_err(),
    ] {
        assert_eq!(
            err.code(),
            ErrorCode::Forbidden,
            "no secrets admin for developers: {err}"
        );
    }
}

/// A full master-key rotation through every Portal: a version added, every secret resealed under
/// it (and still opening to its plaintext), the rotation audited.
async fn master_key_rotation_reseals_everything(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let (p, _) = stories::portal_with_key_file(db, &key_file).await;
    let a = admin();
    let c = p
        .create_oidc(
            &a,
            oidc("https://idp.example.com", "rotated-oidc-secret", true),
            None,
        )
        .await
        .unwrap();
    let cfg = r#"{"api_key":"rotated-config-secret"}"#;
    let it = p
        .create_integration(
            &a,
            NewIntegration {
                name: "Billing".into(),
                kind: "stripe".into(),
                config: Sensitive::new(serde_json::from_str(cfg).unwrap()),
            },
            None,
        )
        .await
        .unwrap();
    let report = p
        .rotate_master_key(&a, MasterKeyRotation::default(), &|_, _| {}, None)
        .await
        .unwrap();
    assert_eq!(report.added_version, Some(2), "a rotation adds a version");
    assert_eq!(report.resealed, 2, "and reseals every secret");
    assert_eq!(
        (
            report.status.current_version,
            report.status.behind,
            report.status.total
        ),
        (2, 0, 2)
    );
    assert_eq!(p.master_key_status(&a).await.unwrap(), report.status);

    let keys = FileKeys::new(key_file).load().unwrap();
    for (table, column, id, plain) in [
        (
            "oidc_configs",
            "client_secret",
            c.id.to_string(),
            "rotated-oidc-secret",
        ),
        ("integrations", "config", it.id.to_string(), cfg),
    ] {
        let row = sqlx::query(&format!("SELECT {column} AS v FROM {table} WHERE id = $1"))
            .bind(id.clone())
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        let sealed: Vec<u8> = row.try_get("v").unwrap();
        assert_eq!(
            domain::envelope::sealed_version(&sealed).unwrap(),
            2,
            "{table}.{column} is sealed under the new version"
        );
        let opened = keys
            .open(
                Binding {
                    table,
                    column,
                    row_id: &id,
                },
                &sealed,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(opened.expose().clone()).unwrap(),
            plain,
            "nothing lost"
        );
    }
    assert!(
        p.get_oidc(&a, &c.id.to_string())
            .await
            .unwrap()
            .has_client_secret
    );
    let trail = p
        .list_audit(
            &a,
            domain::model::AuditFilter {
                entity_type: Some("master_key".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"add") && actions.contains(&"reseal"),
        "the rotation is in the trail: {actions:?}"
    );
    assert_eq!(p.verify_audit(&a, None).await.unwrap().first_broken, None);
}

/// A stored replay (a one-time key, locked under the caller's idempotency key, then sealed) is
/// re-sealed by a master-key rotation like any secret, and a retry still gets the key back.
async fn a_stored_replay_survives_a_master_key_rotation(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = stories::portal_with_key_file(db, &dir.path().join("master.key")).await;
    let a = admin();
    let new = || portal::NewKey {
        name: "acme".into(),
        expires_in: None,
    };
    let created = p
        .create_key(&a, new(), Some("before-rotation"))
        .await
        .unwrap();
    let report = p
        .rotate_master_key(&a, MasterKeyRotation::default(), &|_, _| {}, None)
        .await
        .unwrap();
    assert_eq!(report.resealed, 1, "the stored replay is re-sealed");
    let again = p
        .create_key(&a, new(), Some("before-rotation"))
        .await
        .unwrap();
    assert_eq!(again.key.id, created.key.id);
    assert_eq!(again.full_key.expose(), created.full_key.expose());
}

on_every_portal!(
    secrets_are_sealed_and_write_only,
    master_key_status_and_dry_run,
    master_key_rotation_reseals_everything,
    a_stored_replay_survives_a_master_key_rotation
);
