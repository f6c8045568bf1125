//! OIDC configurations end to end: create, read, update, enable and disable, delete — each
//! change audited once, the client secret written but never read back, and the roles' limits.

use crate::{actions, audit_head, trail};
use domain::model::OidcConfig;
use domain::{ErrorCode, Role, Sensitive};
use portal::prelude::*;
use portal::{NewOidc, OidcChanges};
use stories::{admin, dump_all, on_every_portal, portal, TestDb, T0};

const ENTITY: &str = "oidc_config";

fn new_oidc(issuer: &str, secret: Option<&str>, enabled: bool) -> NewOidc {
    NewOidc {
        issuer: issuer.into(),
        client_id: "portal".into(),
        redirect_uri: "https://portal.example.com/cb".into(),
        client_secret: secret.map(|s| Sensitive::new(s.into())),
        enabled,
    }
}

/// Every way a configuration can be read, as JSON, to look for secrets in.
async fn every_read(p: &dyn Portal, id: &str) -> String {
    let a = admin();
    let one = p.get_oidc(&a, id).await.expect("get");
    let all = p.list_oidc(&a).await.expect("list");
    let events = trail(p, ENTITY, id).await;
    format!(
        "{}{}{}",
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&all).unwrap(),
        serde_json::to_string(&events).unwrap()
    )
}

async fn oidc_lifecycle(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let base = audit_head(db).await;

    // Create.
    let c = p
        .create_oidc(
            &a,
            new_oidc("https://idp.example.com", Some("first-oidc-secret"), true),
            None,
        )
        .await
        .unwrap();
    let id = c.id.to_string();
    assert_eq!(
        (
            c.issuer.as_str(),
            c.client_id.as_str(),
            c.redirect_uri.as_str()
        ),
        (
            "https://idp.example.com",
            "portal",
            "https://portal.example.com/cb"
        )
    );
    assert!(
        c.enabled && c.has_client_secret,
        "created enabled, with a secret"
    );
    assert_eq!((c.created_at, c.updated_at), (T0, T0));
    assert_eq!(
        audit_head(db).await,
        base + 1,
        "create leaves exactly one audit event"
    );
    assert_eq!(
        p.get_oidc(&a, &id).await.unwrap(),
        c,
        "get reads what create returned"
    );
    assert_eq!(p.list_oidc(&a).await.unwrap(), vec![c.clone()]);

    // Update: only the given fields change.
    clock.advance_secs(60);
    let u = p
        .update_oidc(
            &a,
            &id,
            OidcChanges {
                client_id: Some("portal-web".into()),
                redirect_uri: Some("https://portal.example.com/callback".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            u.issuer.as_str(),
            u.client_id.as_str(),
            u.redirect_uri.as_str()
        ),
        (
            "https://idp.example.com",
            "portal-web",
            "https://portal.example.com/callback"
        )
    );
    assert!(u.has_client_secret, "the secret is kept when not given");
    assert_eq!(u.updated_at, T0.plus_secs(60));
    assert_eq!(
        p.get_oidc(&a, &id).await.unwrap(),
        u,
        "the update is durable"
    );
    let update = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(update.action, "update");
    assert_eq!(update.before.as_ref().unwrap()["client_id"], "portal");
    assert_eq!(update.after.as_ref().unwrap()["client_id"], "portal-web");
    assert!(
        update.after.as_ref().unwrap().get("issuer").is_none(),
        "the trail keeps only what changed"
    );

    // A new secret, then none.
    let replaced = p
        .update_oidc(
            &a,
            &id,
            OidcChanges {
                client_secret: Some(Sensitive::new("second-oidc-secret".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(replaced.has_client_secret);
    let change = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(
        change.after.as_ref().unwrap()["client_secret"],
        "<redacted>",
        "the trail says the secret changed, never its value"
    );
    let cleared = p
        .update_oidc(
            &a,
            &id,
            OidcChanges {
                clear_client_secret: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!cleared.has_client_secret, "a cleared secret is gone");
    assert!(!p.get_oidc(&a, &id).await.unwrap().has_client_secret);

    // Disable and enable: one event each; a no-op writes nothing.
    let off = p.set_oidc_enabled(&a, &id, false).await.unwrap();
    assert!(!off.enabled);
    assert!(
        !p.get_oidc(&a, &id).await.unwrap().enabled,
        "disabled durably"
    );
    let before_noop = audit_head(db).await;
    let again = p.set_oidc_enabled(&a, &id, false).await.unwrap();
    assert_eq!(
        again, off,
        "disabling a disabled configuration returns it unchanged"
    );
    assert_eq!(audit_head(db).await, before_noop, "and writes nothing");
    let on = p.set_oidc_enabled(&a, &id, true).await.unwrap();
    assert!(on.enabled);
    assert_eq!(
        actions(&*p, ENTITY, &id).await,
        vec!["create", "update", "update", "update", "disable", "enable"]
    );
    assert_eq!(
        audit_head(db).await,
        base + 6,
        "every change, and only a change, is one audit event"
    );

    // The secrets given were sealed and never come back.
    let reads = every_read(&*p, &id).await;
    let dump = dump_all(db).await;
    for secret in ["first-oidc-secret", "second-oidc-secret"] {
        assert!(!reads.contains(secret), "reads never return {secret}");
        assert!(
            !dump.contains(secret),
            "{secret} is not stored in plaintext"
        );
    }

    // Delete: gone from reads, audited with what it was.
    let other = p
        .create_oidc(&a, new_oidc("https://other.example.com", None, false), None)
        .await
        .unwrap();
    p.delete_oidc(&a, &id).await.unwrap();
    let gone = p.get_oidc(&a, &id).await.unwrap_err();
    assert_eq!(
        gone.code(),
        ErrorCode::NotFound,
        "a deleted configuration: {gone}"
    );
    assert_eq!(
        p.list_oidc(&a).await.unwrap(),
        vec![other],
        "only the other configuration is left"
    );
    let deleted = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(deleted.action, "delete");
    assert_eq!(
        deleted.before.as_ref().unwrap()["issuer"],
        "https://idp.example.com",
        "the trail keeps what was deleted"
    );
    assert!(deleted.after.is_none());
    let head = audit_head(db).await;
    for err in [
        p.delete_oidc(&a, &id).await.unwrap_err(),
        p.set_oidc_enabled(&a, &id, false).await.unwrap_err(),
        p.update_oidc(
            &a,
            &id,
            OidcChanges {
                client_id: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    }
    assert_eq!(
        audit_head(db).await,
        head,
        "changes to nothing write nothing"
    );
    assert_eq!(p.verify_audit(&a, None).await.unwrap().first_broken, None);
}

async fn oidc_bad_input_and_roles_change_nothing(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let c = p
        .create_oidc(
            &a,
            new_oidc("https://idp.example.com", Some("s"), true),
            None,
        )
        .await
        .unwrap();
    let id = c.id.to_string();
    let head = audit_head(db).await;

    let invalid = [
        (
            p.create_oidc(&a, new_oidc("ftp://idp.example.com", None, true), None)
                .await
                .unwrap_err(),
            "issuer",
        ),
        (
            p.create_oidc(
                &a,
                NewOidc {
                    redirect_uri: "not a uri".into(),
                    ..new_oidc("https://b.example.com", None, true)
                },
                None,
            )
            .await
            .unwrap_err(),
            "redirect_uri",
        ),
        (
            p.create_oidc(&a, new_oidc("https://c.example.com", Some(""), true), None)
                .await
                .unwrap_err(),
            "client_secret",
        ),
        (
            p.update_oidc(
                &a,
                &id,
                OidcChanges {
                    client_secret: Some(Sensitive::new("new".into())),
                    clear_client_secret: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
            "client_secret",
        ),
        (
            p.update_oidc(
                &a,
                &id,
                OidcChanges {
                    issuer: Some("nope".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
            "issuer",
        ),
        (p.get_oidc(&a, "not-a-uuid").await.unwrap_err(), "id"),
        (p.delete_oidc(&a, "not-a-uuid").await.unwrap_err(), "id"),
    ];
    for (err, field) in invalid {
        assert_eq!(err.code(), ErrorCode::Invalid, "{field}: {err}");
        assert_eq!(
            err.fields()[0].field,
            field,
            "the error names the field: {err}"
        );
    }
    let missing = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        p.get_oidc(&a, &missing).await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    // A developer reads OIDC settings but does not administer them; a client sees none.
    let mut dev = admin();
    dev.role = Role::Developer;
    assert_eq!(p.get_oidc(&dev, &id).await.unwrap(), c);
    assert_eq!(p.list_oidc(&dev).await.unwrap().len(), 1);
    let mut tenant = admin();
    tenant.role = Role::Client(uuid::Uuid::new_v4());
    for (who, err) in [
        (
            "developer",
            p.create_oidc(&dev, new_oidc("https://d.example.com", None, true), None)
                .await
                .unwrap_err(),
        ),
        (
            "developer",
            p.update_oidc(
                &dev,
                &id,
                OidcChanges {
                    client_id: Some("x".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
        ),
        (
            "developer",
            p.set_oidc_enabled(&dev, &id, false).await.unwrap_err(),
        ),
        ("developer", p.delete_oidc(&dev, &id).await.unwrap_err()),
        ("client", p.list_oidc(&tenant).await.unwrap_err()),
        ("client", p.get_oidc(&tenant, &id).await.unwrap_err()),
    ] {
        assert_eq!(err.code(), ErrorCode::Forbidden, "{who}: {err}");
    }
    assert_eq!(
        audit_head(db).await,
        head,
        "refused and invalid requests change nothing"
    );
    let unchanged: OidcConfig = p.get_oidc(&a, &id).await.unwrap();
    assert_eq!(unchanged, c);
}

on_every_portal!(oidc_lifecycle, oidc_bad_input_and_roles_change_nothing);
