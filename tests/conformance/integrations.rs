//! Provider integrations end to end: create, read, update, pause and resume, sync reports,
//! delete — each change audited once, the configuration sealed and never read back (reads name
//! its fields only), and the roles' limits.

use crate::{actions, audit_head, trail};
use domain::model::IntegrationStatus;
use domain::{ErrorCode, Role, Sensitive};
use portal::{IntegrationChanges, NewIntegration};
use serde_json::json;
use stories::{admin, dump_all, on_every_portal, portal, TestDb, T0};

const ENTITY: &str = "integration";

fn new_integration(name: &str, kind: &str, config: serde_json::Value) -> NewIntegration {
    NewIntegration {
        name: name.into(),
        kind: kind.into(),
        config: Sensitive::new(config),
    }
}

async fn integration_lifecycle(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let base = audit_head(db).await;

    // Create: the configuration's field names are shown, never its values.
    let it = p
        .create_integration(
            &a,
            new_integration(
                "Billing",
                "stripe",
                json!({"api_key": "sk_live_conformance_1", "account": "acct_42"}),
            ),
            None,
        )
        .await
        .unwrap();
    let id = it.id.to_string();
    assert_eq!((it.name.as_str(), it.kind.as_str()), ("Billing", "stripe"));
    assert_eq!(
        it.status,
        IntegrationStatus::Active,
        "a new integration is active"
    );
    assert_eq!(it.config_fields, vec!["account", "api_key"]);
    assert_eq!((it.last_sync_at, it.last_error.as_deref()), (None, None));
    assert_eq!((it.created_at, it.updated_at), (T0, T0));
    assert_eq!(audit_head(db).await, base + 1, "create is one audit event");
    assert_eq!(p.get_integration(&a, &id).await.unwrap(), it);
    assert_eq!(p.list_integrations(&a).await.unwrap(), vec![it.clone()]);

    // Update: a new name keeps the configuration; a new configuration replaces it whole.
    clock.advance_secs(60);
    let renamed = p
        .update_integration(
            &a,
            &id,
            IntegrationChanges {
                name: Some("Billing (EU)".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Billing (EU)");
    assert_eq!(
        renamed.config_fields, it.config_fields,
        "the configuration is kept"
    );
    assert_eq!(renamed.updated_at, T0.plus_secs(60));
    let rename = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(rename.before.as_ref().unwrap()["name"], "Billing");
    assert_eq!(rename.after.as_ref().unwrap()["name"], "Billing (EU)");
    let reconfigured = p
        .update_integration(
            &a,
            &id,
            IntegrationChanges {
                config: Some(Sensitive::new(
                    json!({"api_key": "sk_live_conformance_2", "webhook_secret": "whsec_9"}),
                )),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        reconfigured.config_fields,
        vec!["api_key", "webhook_secret"]
    );
    assert_eq!(
        p.get_integration(&a, &id).await.unwrap(),
        reconfigured,
        "the update is durable"
    );
    let change = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(
        change.after.as_ref().unwrap()["config"],
        "<redacted>",
        "the trail says the configuration changed, never its values"
    );

    // Pause and resume: one event each; pausing a paused integration writes nothing.
    let paused = p.set_integration_paused(&a, &id, true).await.unwrap();
    assert_eq!(paused.status, IntegrationStatus::Paused);
    let head = audit_head(db).await;
    assert_eq!(
        p.set_integration_paused(&a, &id, true).await.unwrap(),
        paused
    );
    assert_eq!(audit_head(db).await, head, "a no-op writes nothing");
    let refused = p
        .record_integration_sync(&a, &id, None, None)
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        ErrorCode::Conflict,
        "a paused integration does not sync: {refused}"
    );
    assert_eq!(audit_head(db).await, head, "a refused sync writes nothing");
    let resumed = p.set_integration_paused(&a, &id, false).await.unwrap();
    assert_eq!(resumed.status, IntegrationStatus::Active);

    // Sync reports: an error puts it in error; a clean run clears it.
    clock.advance_secs(60);
    let failed = p
        .record_integration_sync(&a, &id, Some("timeout after 30 s".into()), None)
        .await
        .unwrap();
    assert_eq!(failed.status, IntegrationStatus::Error);
    assert_eq!(failed.last_error.as_deref(), Some("timeout after 30 s"));
    assert_eq!(failed.last_sync_at, Some(T0.plus_secs(120)));
    assert_eq!(p.get_integration(&a, &id).await.unwrap(), failed);
    clock.advance_secs(60);
    let ok = p
        .record_integration_sync(&a, &id, None, Some("sync-report-7"))
        .await
        .unwrap();
    assert_eq!(ok.status, IntegrationStatus::Active);
    assert_eq!(ok.last_error, None, "a clean run clears the error");
    assert_eq!(ok.last_sync_at, Some(T0.plus_secs(180)));
    let head = audit_head(db).await;
    let retried = p
        .record_integration_sync(&a, &id, None, Some("sync-report-7"))
        .await
        .unwrap();
    assert_eq!(retried, ok, "a retried report replays the first answer");
    assert_eq!(audit_head(db).await, head, "and is recorded once");
    let other = p
        .record_integration_sync(&a, &id, Some("other".into()), Some("sync-report-7"))
        .await
        .unwrap_err();
    assert_eq!(other.code(), ErrorCode::Conflict, "same key, other report");
    // Resuming an integration in error clears the error.
    p.record_integration_sync(&a, &id, Some("again".into()), None)
        .await
        .unwrap();
    p.set_integration_paused(&a, &id, true).await.unwrap();
    let back = p.set_integration_paused(&a, &id, false).await.unwrap();
    assert_eq!(
        (back.status, back.last_error),
        (IntegrationStatus::Active, None)
    );
    assert_eq!(
        actions(&*p, ENTITY, &id).await,
        vec![
            "create", "update", "update", "pause", "resume", "sync", "sync", "sync", "pause",
            "resume"
        ]
    );

    // The configuration never comes back, and is not stored in plaintext.
    let reads = format!(
        "{}{}{}",
        serde_json::to_string(&p.get_integration(&a, &id).await.unwrap()).unwrap(),
        serde_json::to_string(&p.list_integrations(&a).await.unwrap()).unwrap(),
        serde_json::to_string(&trail(&*p, ENTITY, &id).await).unwrap()
    );
    let dump = dump_all(db).await;
    for secret in [
        "sk_live_conformance_1",
        "sk_live_conformance_2",
        "acct_42",
        "whsec_9",
    ] {
        assert!(!reads.contains(secret), "reads never return {secret}");
        assert!(
            !dump.contains(secret),
            "{secret} is not stored in plaintext"
        );
    }

    // Delete: gone, audited with what it was; acting on it afterwards finds nothing.
    p.delete_integration(&a, &id).await.unwrap();
    let gone = p.get_integration(&a, &id).await.unwrap_err();
    assert_eq!(gone.code(), ErrorCode::NotFound, "{gone}");
    assert!(p.list_integrations(&a).await.unwrap().is_empty());
    let deleted = trail(&*p, ENTITY, &id).await.pop().unwrap();
    assert_eq!(deleted.action, "delete");
    assert_eq!(deleted.before.as_ref().unwrap()["name"], "Billing (EU)");
    assert!(deleted.after.is_none());
    let head = audit_head(db).await;
    for err in [
        p.delete_integration(&a, &id).await.unwrap_err(),
        p.set_integration_paused(&a, &id, true).await.unwrap_err(),
        p.record_integration_sync(&a, &id, None, None)
            .await
            .unwrap_err(),
        p.update_integration(
            &a,
            &id,
            IntegrationChanges {
                name: Some("x".into()),
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

async fn integration_bad_input_and_roles(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let it = p
        .create_integration(
            &a,
            new_integration(
                "Hooks",
                "webhook",
                json!({"url": "https://hooks.example.com"}),
            ),
            None,
        )
        .await
        .unwrap();
    let id = it.id.to_string();
    let head = audit_head(db).await;

    let invalid = [
        (
            p.create_integration(&a, new_integration("  ", "stripe", json!({})), None)
                .await
                .unwrap_err(),
            "name",
        ),
        (
            p.create_integration(&a, new_integration("x", "carrier-pigeon", json!({})), None)
                .await
                .unwrap_err(),
            "type",
        ),
        (
            p.create_integration(&a, new_integration("x", "stripe", json!("sk")), None)
                .await
                .unwrap_err(),
            "config",
        ),
        (
            p.update_integration(
                &a,
                &id,
                IntegrationChanges {
                    config: Some(Sensitive::new(json!([1, 2]))),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
            "config",
        ),
        (
            p.record_integration_sync(&a, &id, Some("e".repeat(2001)), None)
                .await
                .unwrap_err(),
            "error",
        ),
        (p.get_integration(&a, "not-a-uuid").await.unwrap_err(), "id"),
    ];
    for (err, field) in invalid {
        assert_eq!(err.code(), ErrorCode::Invalid, "{field}: {err}");
        assert_eq!(
            err.fields()[0].field,
            field,
            "the error names the field: {err}"
        );
    }
    assert_eq!(
        p.get_integration(&a, &uuid::Uuid::new_v4().to_string())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(audit_head(db).await, head, "bad input changes nothing");

    // A developer manages integrations; a client sees none.
    let mut dev = admin();
    dev.role = Role::Developer;
    let by_dev = p
        .create_integration(
            &dev,
            new_integration("Dev's", "slack", json!({"token": "xoxb"})),
            None,
        )
        .await
        .expect("a developer creates integrations");
    p.set_integration_paused(&dev, &by_dev.id.to_string(), true)
        .await
        .expect("and pauses them");
    p.delete_integration(&dev, &by_dev.id.to_string())
        .await
        .expect("and deletes them");
    let mut tenant = admin();
    tenant.role = Role::Client(uuid::Uuid::new_v4());
    let head = audit_head(db).await;
    for err in [
        p.list_integrations(&tenant).await.unwrap_err(),
        p.get_integration(&tenant, &id).await.unwrap_err(),
        p.set_integration_paused(&tenant, &id, true)
            .await
            .unwrap_err(),
        p.delete_integration(&tenant, &id).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::Forbidden, "a client: {err}");
    }
    assert_eq!(
        audit_head(db).await,
        head,
        "refused requests change nothing"
    );
    assert_eq!(p.get_integration(&a, &id).await.unwrap(), it);
}

on_every_portal!(integration_lifecycle, integration_bad_input_and_roles);
