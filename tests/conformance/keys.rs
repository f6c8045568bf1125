//! Federation keys end to end.

use domain::model::{KeyFilter, KeyStatus};
use domain::{Error, ErrorCode};
use portal::NewKey;
use stories::{admin, count_rows, dump_all, on_every_portal, open_all_sealed, portal, TestDb};

async fn head(db: &TestDb) -> i64 {
    use store::prelude::*;
    db.store.audit_head().await.unwrap().0
}

fn new_key(name: &str) -> NewKey {
    NewKey {
        name: name.into(),
        expires_in: None,
    }
}

async fn key_lifecycle(db: &TestDb) {
    let (p, _clock) = portal(db).await;
    let a = admin();
    let base = head(db).await; // opening registered the master key (one event)
    let created = p.create_key(&a, new_key("acme"), None).await.unwrap();
    let full = created.full_key.expose().clone();
    assert_eq!(
        head(db).await,
        base + 1,
        "create leaves exactly one audit event"
    );
    assert!(
        !dump_all(db).await.contains(&full),
        "the full key must not be stored anywhere"
    );
    assert!(
        !dump_all(db).await.contains(&full[21..60]),
        "not even the secret part"
    );

    let v = p.verify_key(&a, &full).await.unwrap();
    assert_eq!(v.key_id, created.key.id);
    assert_eq!(head(db).await, base + 1, "verification is not a write");

    let revoked = p
        .revoke_key(&a, created.key.id.as_str(), None)
        .await
        .unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(
        head(db).await,
        base + 2,
        "revoke leaves exactly one audit event"
    );
    let err = p.verify_key(&a, &full).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Unauthenticated,
        "a revoked key must not verify: {err}"
    );

    let again = p
        .revoke_key(&a, created.key.id.as_str(), None)
        .await
        .unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at, "revoke is idempotent");
    assert_eq!(
        head(db).await,
        base + 2,
        "revoking a revoked key writes nothing"
    );
    let report = p.verify_audit(&a, None).await.unwrap();
    assert_eq!(
        (report.checked, report.first_broken),
        (base as u64 + 2, None)
    );
}

async fn bad_input_changes_nothing(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let k = p
        .create_key(&a, new_key("ok"), Some("idem-1"))
        .await
        .unwrap();
    let before = head(db).await;
    let full = k.full_key.expose().clone();

    let mut wrong_sum = full.clone();
    let last = wrong_sum.pop().unwrap();
    wrong_sum.push(if last == '0' { '1' } else { '0' });
    let cases: Vec<(Error, &str)> = vec![
        (p.verify_key(&a, "pak_not-a-key").await.unwrap_err(), "key"),
        (p.verify_key(&a, &wrong_sum).await.unwrap_err(), "key"),
        (p.get_key(&a, "nope").await.unwrap_err(), "id"),
        (
            p.create_key(&a, new_key("   "), None).await.unwrap_err(),
            "name",
        ),
        (
            p.create_key(&a, new_key(&"x".repeat(101)), None)
                .await
                .unwrap_err(),
            "name",
        ),
        (
            p.create_key(
                &a,
                NewKey {
                    name: "x".into(),
                    expires_in: Some("forever".into()),
                },
                None,
            )
            .await
            .unwrap_err(),
            "expires_in",
        ),
        (
            p.rotate_key(&a, k.key.id.as_str(), "2w", None)
                .await
                .unwrap_err(),
            "overlap",
        ),
        (
            p.rotate_key(&a, k.key.id.as_str(), "8d", None)
                .await
                .unwrap_err(),
            "overlap",
        ),
        (
            p.create_oidc(
                &a,
                portal::NewOidc {
                    issuer: "not a url".into(),
                    client_id: "c".into(),
                    redirect_uri: "https://a.example/cb".into(),
                    client_secret: None,
                    enabled: true,
                },
                None,
            )
            .await
            .unwrap_err(),
            "issuer",
        ),
        (
            p.create_oidc(
                &a,
                portal::NewOidc {
                    issuer: "http://idp.example.com".into(),
                    client_id: "c".into(),
                    redirect_uri: "https://a.example/cb".into(),
                    client_secret: None,
                    enabled: true,
                },
                None,
            )
            .await
            .unwrap_err(),
            "issuer",
        ),
        (
            p.rename_client(&a, "00000000-0000-0000-0000-000000000000", "")
                .await
                .unwrap_err(),
            "name",
        ),
        (
            p.list_keys(
                &a,
                KeyFilter {
                    limit: Some(0),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
            "limit",
        ),
        (
            p.list_keys(
                &a,
                KeyFilter {
                    cursor: Some("zz".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
            "cursor",
        ),
        (
            p.revoke_keys(&a, &["bad".into()], None).await.unwrap_err(),
            "ids[0]",
        ),
    ];
    for (err, field) in &cases {
        assert_eq!(
            err.code(),
            ErrorCode::Invalid,
            "expected a field error on {field}, got {err:?}"
        );
        assert!(
            err.fields().iter().any(|f| f.field == *field),
            "the error must name `{field}`: {err:?}"
        );
    }
    let unknown = p.get_key(&a, "0000000000000000").await.unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    let unknown_verify = p.verify_key(&a, &stories::other_key()).await.unwrap_err();
    assert_eq!(unknown_verify.code(), ErrorCode::Unauthenticated);
    let reused = p
        .create_key(&a, new_key("other name"), Some("idem-1"))
        .await
        .unwrap_err();
    assert_eq!(
        reused.code(),
        ErrorCode::Conflict,
        "a reused idempotency key with other parameters: {reused}"
    );
    assert_eq!(head(db).await, before, "bad input must change nothing");
    let page = p.list_keys(&a, KeyFilter::default()).await.unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "no key was created by the failed calls"
    );
}

async fn idempotent_create_returns_the_first_result(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let base = head(db).await;
    let first = p
        .create_key(&a, new_key("acme"), Some("k-1"))
        .await
        .unwrap();
    let second = p
        .create_key(&a, new_key("acme"), Some("k-1"))
        .await
        .unwrap();
    assert_eq!(first.key.id, second.key.id);
    assert_eq!(
        first.full_key.expose(),
        second.full_key.expose(),
        "a retry gets the same one-time key back"
    );
    assert_eq!(head(db).await, base + 1, "one effect");
    assert!(
        !dump_all(db).await.contains(first.full_key.expose()),
        "the stored replay is sealed"
    );
    clock.advance_secs(25 * 3600);
    let later = p
        .create_key(&a, new_key("acme"), Some("k-1"))
        .await
        .unwrap();
    assert_ne!(later.key.id, first.key.id, "idempotency keys are kept 24 h");
}

/// The random part of a full key (after `pak_<id>_`), which alone must never be at rest.
fn secret_of(full_key: &str) -> &str {
    full_key.rsplit('_').next().expect("a full key")
}

/// A stored replay holds a one-time key, but the row and the master key together cannot open
/// it: it is locked under the caller's idempotency key, which only the caller has. Retries
/// still get it back, from this process or another.
async fn a_stored_replay_does_not_open_with_the_master_key_alone(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let created = p
        .create_key(&a, new_key("acme"), Some("lock-create-1"))
        .await
        .unwrap();
    let rotated = p
        .rotate_key(&a, created.key.id.as_str(), "1h", Some("lock-rotate-1"))
        .await
        .unwrap();
    assert_eq!(count_rows(db, "idempotency").await, 2);
    let readable = open_all_sealed(db).await;
    for (what, full) in [
        ("created", created.full_key.expose()),
        ("rotated", rotated.successor.full_key.expose()),
    ] {
        assert!(
            !readable.contains(secret_of(full)),
            "the {what} key's secret opens with the master key alone"
        );
        assert!(!dump_all(db).await.contains(secret_of(full)));
    }
    assert!(
        !readable.contains(created.key.id.as_str()),
        "nothing of the response is readable with the master key alone"
    );

    let other = p.another_instance(db, clock.clone()).await;
    for q in [&p, &other] {
        let again = q
            .create_key(&a, new_key("acme"), Some("lock-create-1"))
            .await
            .unwrap();
        assert_eq!(again.key.id, created.key.id);
        assert_eq!(again.full_key.expose(), created.full_key.expose());
        let again = q
            .rotate_key(&a, created.key.id.as_str(), "1h", Some("lock-rotate-1"))
            .await
            .unwrap();
        assert_eq!(
            again.successor.full_key.expose(),
            rotated.successor.full_key.expose(),
            "a retry, here or on another instance, gets the one-time key back"
        );
    }
    assert_eq!(
        p.list_keys(&a, KeyFilter::default())
            .await
            .unwrap()
            .items
            .len(),
        2,
        "one create and one rotation, however often retried"
    );
}

/// A record stored before responses were locked (the sealed JSON itself) is still replayed
/// within its window, so a retry across the upgrade keeps its one effect. The record is made
/// by opening a new one with what only the caller has — which also shows the lock does open.
async fn a_replay_stored_before_the_lock_is_still_served(db: &TestDb) {
    use sqlx::Row;
    let (p, _) = portal(db).await;
    let a = admin();
    let created = p
        .create_key(&a, new_key("acme"), Some("legacy-1"))
        .await
        .unwrap();
    let row = sqlx::query("SELECT id, response FROM idempotency")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let id: String = row.try_get("id").unwrap();
    let sealed: Vec<u8> = row.try_get("response").unwrap();
    let at = domain::envelope::Binding {
        table: "idempotency",
        column: "response",
        row_id: &id,
    };
    let keys = stories::test_keys();
    let locked = keys.open(at, &sealed).unwrap();
    let json = domain::envelope::unlock(b"legacy-1", &id, locked.expose())
        .expect("the caller's idempotency key opens it");
    assert!(String::from_utf8_lossy(json.expose()).contains(created.full_key.expose()));
    let legacy = keys
        .seal(&mut rand::rngs::OsRng, at, json.expose())
        .unwrap();
    sqlx::query("UPDATE idempotency SET response = $1 WHERE id = $2")
        .bind(legacy)
        .bind(id)
        .execute(db.store.pool())
        .await
        .unwrap();
    let again = p
        .create_key(&a, new_key("acme"), Some("legacy-1"))
        .await
        .unwrap();
    assert_eq!(again.full_key.expose(), created.full_key.expose());
}

/// After the retry window, a stored replay is gone: the next idempotent write sweeps expired
/// records, and so does `sweep_idempotency` (for a job). Nothing of the one-time key is left,
/// even for someone holding the database and the master key.
async fn stored_replays_are_deleted_after_the_retry_window(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let first = p
        .create_key(&a, new_key("acme"), Some("window-1"))
        .await
        .unwrap();
    let rotated = p
        .rotate_key(&a, first.key.id.as_str(), "1h", Some("window-2"))
        .await
        .unwrap();
    let secrets = [
        secret_of(first.full_key.expose()).to_string(),
        secret_of(rotated.successor.full_key.expose()).to_string(),
    ];

    clock.advance_secs(24 * 3600 - 60);
    let again = p
        .create_key(&a, new_key("acme"), Some("window-1"))
        .await
        .unwrap();
    assert_eq!(again.key.id, first.key.id, "still replayed within 24 h");
    assert_eq!(count_rows(db, "idempotency").await, 2);

    clock.advance_secs(120); // the window is over
    let next = p
        .create_key(&a, new_key("beta"), Some("window-3"))
        .await
        .unwrap();
    assert_eq!(
        count_rows(db, "idempotency").await,
        1,
        "the idempotent write swept the expired records; only its own is left"
    );
    let readable = format!("{}{}", dump_all(db).await, open_all_sealed(db).await);
    for s in &secrets {
        assert!(
            !readable.contains(s.as_str()),
            "no trace of an expired one-time key, even with the master key"
        );
    }
    let later = p
        .create_key(&a, new_key("acme"), Some("window-1"))
        .await
        .unwrap();
    assert_ne!(
        later.key.id, first.key.id,
        "an expired record is never replayed"
    );

    clock.advance_secs(24 * 3600 + 1);
    assert_eq!(
        p.local().sweep_idempotency().await.unwrap(),
        2,
        "the sweep a job calls deletes the rest"
    );
    assert_eq!(count_rows(db, "idempotency").await, 0);
    assert!(!open_all_sealed(db)
        .await
        .contains(secret_of(next.full_key.expose())));
    assert_eq!(p.local().sweep_idempotency().await.unwrap(), 0);
}

async fn rotation_with_overlap(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let old = p
        .create_key(
            &a,
            NewKey {
                name: "acme".into(),
                expires_in: Some("90d".into()),
            },
            None,
        )
        .await
        .unwrap();
    let r1 = p
        .rotate_key(&a, old.key.id.as_str(), "1h", Some("rot-1"))
        .await
        .unwrap();
    let r2 = p
        .rotate_key(&a, old.key.id.as_str(), "1h", Some("rot-1"))
        .await
        .unwrap();
    assert_eq!(
        r1.successor.key.id, r2.successor.key.id,
        "a retried rotate returns the same successor"
    );
    assert_eq!(
        r1.successor.full_key.expose(),
        r2.successor.full_key.expose()
    );
    let all = p.list_keys(&a, KeyFilter::default()).await.unwrap();
    assert_eq!(all.items.len(), 2, "never a second successor");
    assert_eq!(r1.old.rotated_to.as_ref(), Some(&r1.successor.key.id));
    assert_eq!(r1.old.expires_at, Some(stories::T0.plus_secs(3600)));
    let third = p
        .rotate_key(&a, old.key.id.as_str(), "1h", Some("rot-2"))
        .await
        .unwrap_err();
    assert_eq!(
        third.code(),
        ErrorCode::Conflict,
        "a rotated key cannot be rotated again"
    );

    p.verify_key(&a, old.full_key.expose())
        .await
        .expect("the old key works during the overlap");
    p.verify_key(&a, r1.successor.full_key.expose())
        .await
        .expect("the successor works");
    clock.advance_secs(3601);
    assert_eq!(
        p.verify_key(&a, old.full_key.expose())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Unauthenticated,
        "the old key stops after the overlap"
    );
    p.verify_key(&a, r1.successor.full_key.expose())
        .await
        .expect("the successor still works");

    let k = p.create_key(&a, new_key("b"), None).await.unwrap();
    p.rotate_key(&a, k.key.id.as_str(), "24h", None)
        .await
        .unwrap();
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    let ended = p.end_overlap(&a, k.key.id.as_str()).await.unwrap();
    assert_eq!(
        ended.status,
        KeyStatus::Expired,
        "cutting the overlap short ends the old key now"
    );
    assert!(
        p.verify_key(&a, k.full_key.expose()).await.is_err(),
        "and the verification cache must not keep it alive"
    );
}

async fn warm_verify_uses_the_cache_and_revoke_invalidates_it(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let k = p.create_key(&a, new_key("acme"), None).await.unwrap();
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    // Break the stored hash behind the portal's back: only a cached verification still passes.
    db.superuser_exec(&format!(
        "UPDATE federation_keys SET hashed_key = 'x' WHERE id = '{}'",
        k.key.id
    ))
    .await;
    p.verify_key(&a, k.full_key.expose())
        .await
        .expect("a warm verification does not recompute argon2");
    clock.advance_secs(61);
    assert!(
        p.verify_key(&a, k.full_key.expose()).await.is_err(),
        "cache entries expire and the store is asked again"
    );

    let k2 = p.create_key(&a, new_key("b"), None).await.unwrap();
    p.verify_key(&a, k2.full_key.expose()).await.unwrap();
    p.revoke_key(&a, k2.key.id.as_str(), None).await.unwrap();
    assert!(
        p.verify_key(&a, k2.full_key.expose()).await.is_err(),
        "revoke invalidates the cache"
    );
}

async fn last_used_is_written_at_most_once_a_minute(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let k = p.create_key(&a, new_key("acme"), None).await.unwrap();
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    let first = p.get_key(&a, k.key.id.as_str()).await.unwrap();
    assert_eq!(first.last_used_at, Some(stories::T0));
    assert_eq!(first.last_used_ip.as_deref(), Some("192.0.2.10"));
    clock.advance_secs(30);
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    assert_eq!(
        p.get_key(&a, k.key.id.as_str()).await.unwrap().last_used_at,
        Some(stories::T0),
        "no write within a minute"
    );
    clock.advance_secs(31);
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    assert_eq!(
        p.get_key(&a, k.key.id.as_str()).await.unwrap().last_used_at,
        Some(stories::T0.plus_secs(61))
    );
}

async fn list_filters_and_pagination(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let never = p
        .create_key(&a, new_key("never expires"), None)
        .await
        .unwrap();
    clock.advance_secs(1);
    let soon = p
        .create_key(
            &a,
            NewKey {
                name: "expires soon".into(),
                expires_in: Some("3d".into()),
            },
            None,
        )
        .await
        .unwrap();
    clock.advance_secs(1);
    let gone = p
        .create_key(
            &a,
            NewKey {
                name: "expires fast".into(),
                expires_in: Some("1h".into()),
            },
            None,
        )
        .await
        .unwrap();
    clock.advance_secs(1);
    let revoked = p.create_key(&a, new_key("revoked"), None).await.unwrap();
    p.revoke_key(&a, revoked.key.id.as_str(), None)
        .await
        .unwrap();
    for i in 0..6 {
        clock.advance_secs(1);
        p.create_key(&a, new_key(&format!("bulk {i}")), None)
            .await
            .unwrap();
    }
    clock.advance_secs(2 * 3600);
    let ids = |page: domain::model::Page<domain::model::FederationKey>| {
        page.items.into_iter().map(|k| k.id).collect::<Vec<_>>()
    };
    let q = |f: KeyFilter| p.list_keys(&a, f);
    assert_eq!(
        ids(q(KeyFilter {
            status: Some(KeyStatus::Revoked),
            ..Default::default()
        })
        .await
        .unwrap()),
        vec![revoked.key.id.clone()]
    );
    assert_eq!(
        ids(q(KeyFilter {
            status: Some(KeyStatus::Expired),
            ..Default::default()
        })
        .await
        .unwrap()),
        vec![gone.key.id.clone()]
    );
    assert_eq!(
        ids(q(KeyFilter {
            expiring_within_days: Some(7),
            ..Default::default()
        })
        .await
        .unwrap()),
        vec![soon.key.id.clone()]
    );
    assert_eq!(
        q(KeyFilter {
            status: Some(KeyStatus::Active),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len(),
        8
    );
    assert_eq!(
        ids(q(KeyFilter {
            search: Some("NEVER".into()),
            ..Default::default()
        })
        .await
        .unwrap()),
        vec![never.key.id.clone()]
    );
    clock.advance_secs(31 * 86400);
    p.verify_key(&a, never.full_key.expose()).await.unwrap();
    let unused = q(KeyFilter {
        unused_for_days: Some(30),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        unused.items.len(),
        9,
        "every key but the one just used is unused for 30 days"
    );
    assert!(!unused.items.iter().any(|k| k.id == never.key.id));
    // Pages of 3 walk all 10 keys, newest first, without repeats.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = q(KeyFilter {
            limit: Some(3),
            cursor: cursor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        seen.extend(page.items.iter().map(|k| k.created_at));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
}

/// A wrong secret, a revoked key and an expired key on a known id get one and the same answer:
/// someone who knows an id but not its secret learns nothing about the key's state.
async fn every_failure_on_a_known_key_gets_the_same_answer(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let revoked = p.create_key(&a, new_key("revoked"), None).await.unwrap();
    p.revoke_key(&a, revoked.key.id.as_str(), None)
        .await
        .unwrap();
    let expired = p
        .create_key(
            &a,
            NewKey {
                name: "expired".into(),
                expires_in: Some("1h".into()),
            },
            None,
        )
        .await
        .unwrap();
    clock.advance_secs(3601);
    // A wrong secret for a known, active id: its record holds another key's hash.
    let wrong = p.create_key(&a, new_key("wrong"), None).await.unwrap();
    let other = p.create_key(&a, new_key("other"), None).await.unwrap();
    db.superuser_exec(&format!(
        "UPDATE federation_keys SET hashed_key = \
         (SELECT hashed_key FROM federation_keys WHERE id = '{}') WHERE id = '{}'",
        other.key.id, wrong.key.id
    ))
    .await;
    p.verify_key(&a, other.full_key.expose())
        .await
        .expect("the other key still verifies");

    let mut answers = Vec::new();
    for k in [&wrong, &revoked, &expired] {
        let err = p.verify_key(&a, k.full_key.expose()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthenticated, "{err}");
        answers.push(err.to_string());
    }
    assert_eq!(
        answers,
        vec!["this federation key is not valid".to_string(); 3],
        "wrong secret, revoked, expired: one answer"
    );
    // The admin-facing views still tell them apart.
    for (k, status) in [
        (&revoked, KeyStatus::Revoked),
        (&expired, KeyStatus::Expired),
    ] {
        assert_eq!(
            p.get_key(&a, k.key.id.as_str()).await.unwrap().status,
            status
        );
    }
}

on_every_portal!(
    key_lifecycle,
    bad_input_changes_nothing,
    idempotent_create_returns_the_first_result,
    a_stored_replay_does_not_open_with_the_master_key_alone,
    stored_replays_are_deleted_after_the_retry_window,
    a_replay_stored_before_the_lock_is_still_served,
    rotation_with_overlap,
    warm_verify_uses_the_cache_and_revoke_invalidates_it,
    last_used_is_written_at_most_once_a_minute,
    list_filters_and_pagination,
    every_failure_on_a_known_key_gets_the_same_answer,
);

async fn keys_created_elsewhere_are_recognised_within_a_second(db: &TestDb) {
    let (here, clock) = portal(db).await;
    let (elsewhere, _) = portal(db).await;
    let a = admin();
    assert!(
        here.verify_key(&a, &stories::other_key()).await.is_err(),
        "loads the key index"
    );
    let k = elsewhere
        .create_key(&a, new_key("made by another process"), None)
        .await
        .unwrap();
    clock.advance_secs(1);
    here.verify_key(&a, k.full_key.expose())
        .await
        .expect("another process's new key works here after the index refresh");
}

on_every_portal!(keys_created_elsewhere_are_recognised_within_a_second);

async fn revoking_several_keys_is_all_or_none(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let mut keys = Vec::new();
    for name in ["one", "two", "three"] {
        keys.push(p.create_key(&a, new_key(name), None).await.unwrap());
    }
    let id = |i: usize| keys[i].key.id.to_string();
    let base = head(db).await;

    // One id unknown: nothing is revoked.
    let err = p
        .revoke_keys(&a, &[id(0), "0000000000000000".into()], None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert_eq!(head(db).await, base, "a refused batch writes nothing");
    assert_eq!(
        p.get_key(&a, &id(0)).await.unwrap().status,
        KeyStatus::Active,
        "all or none: the known key of a refused batch stays active"
    );

    // Two keys (one named twice): both revoked, one event each, and neither verifies.
    let revoked = p
        .revoke_keys(&a, &[id(0), id(1), id(0)], Some("batch-1"))
        .await
        .unwrap();
    let ids: Vec<String> = revoked.iter().map(|k| k.id.to_string()).collect();
    assert_eq!(ids, vec![id(0), id(1)], "each key once, in the order given");
    assert!(revoked.iter().all(|k| k.status == KeyStatus::Revoked));
    assert_eq!(head(db).await, base + 2, "one audit event per revoked key");
    for k in &keys[..2] {
        let err = p.verify_key(&a, k.full_key.expose()).await.unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::Unauthenticated,
            "a revoked key must not verify"
        );
    }
    p.verify_key(&a, keys[2].full_key.expose())
        .await
        .expect("the key not in the batch still verifies");

    // A retry replays the first answer; revoking revoked keys again writes nothing.
    let retried = p
        .revoke_keys(&a, &[id(0), id(1), id(0)], Some("batch-1"))
        .await
        .unwrap();
    assert_eq!(retried, revoked);
    let again = p.revoke_keys(&a, &[id(1)], None).await.unwrap();
    assert_eq!(again[0].revoked_at, revoked[1].revoked_at, "idempotent");
    assert_eq!(head(db).await, base + 2, "nothing new to write");
    let mut dev = admin();
    dev.role = domain::Role::Developer;
    p.revoke_keys(&dev, &[id(2)], None)
        .await
        .expect("a developer manages keys");
    let mut tenant = admin();
    tenant.role = domain::Role::Client(uuid::Uuid::new_v4());
    assert_eq!(
        p.revoke_keys(&tenant, &[id(2)], None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
}

on_every_portal!(revoking_several_keys_is_all_or_none);

async fn overview_counts_and_activity(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let k1 = p.create_key(&a, new_key("a"), None).await.unwrap();
    p.create_key(
        &a,
        NewKey {
            name: "b".into(),
            expires_in: Some("3d".into()),
        },
        None,
    )
    .await
    .unwrap();
    let k3 = p.create_key(&a, new_key("c"), None).await.unwrap();
    p.revoke_key(&a, k3.key.id.as_str(), None).await.unwrap();
    for _ in 0..5 {
        p.verify_key(&a, k1.full_key.expose()).await.unwrap();
    }
    clock.advance_secs(61); // the sixth verification flushes the five counted before it
    p.verify_key(&a, k1.full_key.expose()).await.unwrap();
    let o = p.overview(&a).await.unwrap();
    assert_eq!(
        (o.keys.active, o.keys.expiring_within_7_days, o.keys.revoked),
        (2, 1, 1)
    );
    assert_eq!(o.activity.len(), 30);
    let today = o.activity.last().unwrap();
    assert_eq!(today.day, "2026-11-26");
    assert_eq!(today.keys_created, 3);
    assert_eq!(
        today.verifications, 6,
        "every verification is counted, written at most once a minute"
    );
}

on_every_portal!(overview_counts_and_activity);
