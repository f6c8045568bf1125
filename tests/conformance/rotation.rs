//! Master-key rotation against other processes: one rotation at a time across every process on a
//! database, key sets reloaded when another process rotated, and no secret reverted by a rotation
//! that read it before it changed.

use domain::envelope::{Binding, MasterKeySet};
use domain::{ErrorCode, ManualClock, Sensitive};
use portal::prelude::*;
use portal::secrets::{FileKeys, MasterKeySource};
use portal::{LocalPortal, MasterKeyRotation, NewIntegration, NewOidc, OidcChanges};
use sqlx::Row;
use std::path::Path;
use std::sync::Arc;
use store::{SqlStore, Store};
use stories::{admin, Backend, TestDb, T0};

fn oidc(issuer: &str, secret: &str) -> NewOidc {
    NewOidc {
        issuer: issuer.into(),
        client_id: "portal".into(),
        redirect_uri: "https://portal.example.com/cb".into(),
        client_secret: Some(Sensitive::new(secret.into())),
        enabled: true,
    }
}

/// Another process on the same database: its own connections (PostgreSQL) or the same store.
async fn other_process_store(db: &TestDb) -> Arc<dyn Store> {
    match &db.pg {
        Some((url, _)) => Arc::new(SqlStore::connect(url).await.expect("second connection")),
        None => db.arc(),
    }
}

async fn open(store: Arc<dyn Store>, key_file: &Path) -> LocalPortal {
    LocalPortal::open(
        store,
        Arc::new(FileKeys::new(key_file.to_path_buf())),
        Arc::new(ManualClock::at(T0)),
    )
    .await
    .expect("portal opens")
}

/// Creates `n` OIDC secrets and `n` integration configurations; returns (table, column, id,
/// plaintext) of each.
async fn seed_secrets(
    p: &LocalPortal,
    n: usize,
) -> Vec<(&'static str, &'static str, String, String)> {
    let a = admin();
    let mut out = Vec::new();
    for i in 0..n {
        let secret = format!("oidc-secret-{i}");
        let c = p
            .create_oidc(
                &a,
                oidc(&format!("https://idp{i}.example.com"), &secret),
                None,
            )
            .await
            .unwrap();
        out.push(("oidc_configs", "client_secret", c.id.to_string(), secret));
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
        out.push(("integrations", "config", it.id.to_string(), cfg));
    }
    out
}

async fn sealed_value(db: &TestDb, table: &str, column: &str, id: &str) -> Vec<u8> {
    let row = sqlx::query(&format!("SELECT {column} AS v FROM {table} WHERE id = $1"))
        .bind(id.to_string())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    row.try_get("v").unwrap()
}

/// Every value opens with `keys` to its plaintext, sealed under `keys`' newest version.
async fn assert_all_open(
    db: &TestDb,
    keys: &MasterKeySet,
    expected: &[(&'static str, &'static str, String, String)],
) {
    for (table, column, id, plain) in expected {
        let sealed = sealed_value(db, table, column, id).await;
        let opened = keys
            .open(
                Binding {
                    table,
                    column,
                    row_id: id,
                },
                &sealed,
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{table}.{column} {id} (version {:?}) no longer opens with the key set: {e}",
                    domain::envelope::sealed_version(&sealed)
                )
            });
        assert_eq!(&String::from_utf8(opened.expose().clone()).unwrap(), plain);
        assert_eq!(
            domain::envelope::sealed_version(&sealed).unwrap(),
            keys.current(),
            "{table}.{column} {id} is sealed under the newest version"
        );
    }
}

fn rotation(batch_size: u32) -> MasterKeyRotation {
    MasterKeyRotation {
        batch_size,
        ..Default::default()
    }
}

/// Two processes on one machine (one key file, one PostgreSQL database) rotate at the same
/// moment: one rotation at a time, nothing lost, and the other process picks up the new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_sharing_a_key_file_lose_nothing() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let p1 = Arc::new(open(db.arc(), &key_file).await);
    let p2 = Arc::new(open(other_process_store(&db).await, &key_file).await);
    let mut expected = seed_secrets(&p1, 12).await;

    let (r1, r2) = tokio::join!(
        {
            let p = p1.clone();
            async move {
                p.rotate_master_key(&admin(), rotation(2), &|_, _| {}, None)
                    .await
            }
        },
        {
            let p = p2.clone();
            async move {
                p.rotate_master_key(&admin(), rotation(2), &|_, _| {}, None)
                    .await
            }
        }
    );
    let oks: Vec<_> = [&r1, &r2]
        .into_iter()
        .filter_map(|r| r.as_ref().ok())
        .collect();
    assert!(!oks.is_empty(), "at least one rotation runs: {r1:?} {r2:?}");
    for r in [&r1, &r2] {
        if let Err(e) = r {
            assert_eq!(
                e.code(),
                ErrorCode::Conflict,
                "a rotation refused because another is running says so: {e}"
            );
        }
    }
    let keys = FileKeys::new(key_file.clone()).load().unwrap();
    assert_all_open(&db, &keys, &expected).await;
    for r in oks {
        assert_eq!(r.status.behind, 0);
        assert!(r.status.current_version <= keys.current());
    }

    // Both processes now seal under the newest version, and each opens what the other sealed.
    for (i, p) in [&p1, &p2].into_iter().enumerate() {
        let secret = format!("after-rotation-{i}");
        let c = p
            .create_oidc(
                &admin(),
                oidc(&format!("https://after{i}.example.com"), &secret),
                None,
            )
            .await
            .unwrap();
        expected.push(("oidc_configs", "client_secret", c.id.to_string(), secret));
    }
    assert_all_open(&db, &keys, &expected).await;
    let new = portal::NewClient {
        name: "Acme".into(),
        plan: "free".into(),
        status: "trial".into(),
    };
    let first = p1
        .create_client(&admin(), new.clone(), Some("same-key"))
        .await
        .unwrap();
    let again = p2
        .create_client(&admin(), new, Some("same-key"))
        .await
        .expect("the other process opens the remembered result sealed under the new key");
    assert_eq!(first.id, again.id);

    // A later process with the key file agrees with the database.
    let p3 = open(other_process_store(&db).await, &key_file).await;
    let status = p3.master_key_status(&admin()).await.unwrap();
    assert_eq!((status.current_version, status.behind), (keys.current(), 0));
    assert_eq!(
        p3.verify_audit(&admin(), None).await.unwrap().first_broken,
        None
    );
    drop((p1, p2, p3));
    db.drop_db().await;
}

/// Two machines (each its own copy of the key file) rotate one database: the second rotation
/// aborts with what to do instead of sealing under a key nobody else has — at the same moment,
/// and after the first one finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotation_from_a_stale_copy_of_the_key_set_aborts() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let file_a = dir.path().join("a.key");
    let file_b = dir.path().join("b.key");
    let pa = Arc::new(open(db.arc(), &file_a).await);
    std::fs::copy(&file_a, &file_b).unwrap();
    let pb = Arc::new(open(other_process_store(&db).await, &file_b).await);
    let expected = seed_secrets(&pa, 12).await;

    let (ra, rb) = tokio::join!(
        {
            let p = pa.clone();
            async move {
                p.rotate_master_key(&admin(), rotation(2), &|_, _| {}, None)
                    .await
            }
        },
        {
            let p = pb.clone();
            async move {
                p.rotate_master_key(&admin(), rotation(2), &|_, _| {}, None)
                    .await
            }
        }
    );
    let (winner, loser) = match (&ra, &rb) {
        (Ok(_), Err(e)) => (&file_a, e),
        (Err(e), Ok(_)) => (&file_b, e),
        other => panic!("exactly one of two machines' rotations runs: {other:?}"),
    };
    assert!(
        matches!(loser.code(), ErrorCode::Conflict | ErrorCode::Unavailable),
        "{loser}"
    );
    let keys = FileKeys::new(winner.clone()).load().unwrap();
    assert_eq!(keys.current(), 2);
    assert_all_open(&db, &keys, &expected).await;

    // Afterwards, the machine without the new key cannot rotate (nor seal) under a version of
    // its own: it is told to import the key set.
    let (stale_portal, stale_file) = if winner == &file_a {
        (&pb, &file_b)
    } else {
        (&pa, &file_a)
    };
    let again = stale_portal
        .rotate_master_key(&admin(), rotation(2), &|_, _| {}, None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::Unavailable, "{again}");
    assert!(
        again.to_string().contains("newer than any in your key set"),
        "{again}"
    );
    let create = stale_portal
        .create_oidc(&admin(), oidc("https://stale.example.com", "stale"), None)
        .await
        .unwrap_err();
    assert_eq!(create.code(), ErrorCode::Unavailable, "{create}");
    assert_eq!(
        FileKeys::new(stale_file.clone()).load().unwrap().current(),
        1,
        "the stale copy gained no version of its own"
    );
    assert_all_open(&db, &keys, &expected).await;
    drop((pa, pb));
    db.drop_db().await;
}

/// A secret replaced while a rotation batch is in flight keeps its new value: the batch is read,
/// then the secret is replaced (by a process that loaded its keys before the rotation, and by a
/// writer that sealed under the old version just before the new one was registered), then the
/// batch is applied — and the rotation finishes with the new secrets, not the ones it read.
async fn a_secret_replaced_during_a_rotation_batch_keeps_its_new_value(db: &TestDb) {
    use store::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let p = open(db.arc(), &key_file).await;
    let stale = open(other_process_store(db).await, &key_file).await;
    let keys_v1 = FileKeys::new(key_file.clone()).load().unwrap();
    let a = admin();
    let c1 = p
        .create_oidc(&a, oidc("https://one.example.com", "old-secret-1"), None)
        .await
        .unwrap();
    let c2 = p
        .create_oidc(&a, oidc("https://two.example.com", "old-secret-2"), None)
        .await
        .unwrap();
    let (id1, id2) = (c1.id.to_string(), c2.id.to_string());

    // The rotation adds version 2 and stops before its first batch.
    let started = p
        .rotate_master_key(
            &a,
            MasterKeyRotation {
                max_batches: Some(0),
                ..Default::default()
            },
            &|_, _| {},
            None,
        )
        .await
        .unwrap();
    assert_eq!((started.added_version, started.status.behind), (Some(2), 2));
    let keys = FileKeys::new(key_file.clone()).load().unwrap();
    let col = store::SEALED_COLUMNS[0];
    assert_eq!((col.table, col.column), ("oidc_configs", "client_secret"));

    // 1. A batch is read and re-encrypted in memory.
    let batch = db.store.sealed_below(col, 2, 100).await.unwrap();
    assert_eq!(batch.len(), 2);
    let resealed: Vec<(String, Vec<u8>, Vec<u8>)> = batch
        .into_iter()
        .map(|(id, sealed)| {
            let binding = Binding {
                table: col.table,
                column: col.column,
                row_id: &id,
            };
            let plain = keys.open(binding, &sealed).unwrap();
            let new = keys
                .seal(&mut rand::rngs::OsRng, binding, plain.expose())
                .unwrap();
            (id, sealed, new)
        })
        .collect();

    // 2a. A process that loaded its key set before the rotation replaces the first secret.
    stale
        .update_oidc(
            &a,
            &id1,
            OidcChanges {
                client_secret: Some(Sensitive::new("new-secret-1".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // 2b. A writer that sealed under version 1 just before version 2 was registered commits
    // the second one now (written directly: that window is too short to hit on purpose).
    let binding2 = Binding {
        table: col.table,
        column: col.column,
        row_id: &id2,
    };
    let new2 = keys_v1
        .seal(&mut rand::rngs::OsRng, binding2, b"new-secret-2")
        .unwrap();
    sqlx::query("UPDATE oidc_configs SET client_secret = $1, client_secret_kv = 1 WHERE id = $2")
        .bind(new2)
        .bind(id2.clone())
        .execute(db.store.pool())
        .await
        .unwrap();

    // 3. The batch read in 1 is applied.
    let mut tx = db.store.begin(&a, T0).await.unwrap();
    let mut applied = 0;
    for (id, old, new) in &resealed {
        if tx.reseal(col, id, old, new, 2).await.unwrap() {
            applied += 1;
        }
    }
    tx.commit(store::AuditBatch::one(domain::audit::AuditDraft::change(
        "master_key",
        "2",
        "reseal",
        None,
        None,
    )))
    .await
    .unwrap();
    assert_eq!(applied, 0, "both values changed after the batch read them");

    // The rotation finishes; every secret is the new one, under version 2.
    let rest = p
        .rotate_master_key(&a, rotation(100), &|_, _| {}, None)
        .await
        .unwrap();
    assert_eq!((rest.added_version, rest.status.behind), (None, 0));
    assert_all_open(
        db,
        &keys,
        &[
            ("oidc_configs", "client_secret", id1, "new-secret-1".into()),
            ("oidc_configs", "client_secret", id2, "new-secret-2".into()),
        ],
    )
    .await;
}

stories::on_both_stores!(a_secret_replaced_during_a_rotation_batch_keeps_its_new_value);

/// The rotation lock is one per database: a second store (another process) cannot take it while
/// it is held, and can once it is released or its holder is gone.
async fn the_rotation_lock_is_one_per_database(db: &TestDb) {
    use store::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let (first, second): (Arc<dyn Store>, Arc<dyn Store>) = match &db.pg {
        Some((url, _)) => (
            Arc::new(SqlStore::connect(url).await.unwrap()),
            Arc::new(SqlStore::connect(url).await.unwrap()),
        ),
        None => {
            // Two processes on one workspace file.
            let file = dir.path().join("workspace.db");
            (
                Arc::new(SqlStore::open_sqlite(&file).await.unwrap()),
                Arc::new(SqlStore::open_sqlite(&file).await.unwrap()),
            )
        }
    };
    let held = first.try_rotation_lock().await.unwrap().expect("free");
    assert!(second.try_rotation_lock().await.unwrap().is_none());
    assert!(
        first.try_rotation_lock().await.unwrap().is_none(),
        "not twice in one process either"
    );
    held.release().await;
    let again = second.try_rotation_lock().await.unwrap().expect("released");
    assert!(first.try_rotation_lock().await.unwrap().is_none());
    drop(again); // a holder that goes away without releasing
    let _lock = stories::eventually(
        "the lock of a dropped holder is free",
        std::time::Duration::from_secs(10),
        || {
            let first = first.clone();
            async move { first.try_rotation_lock().await.unwrap() }
        },
    )
    .await;
}

stories::on_both_stores!(the_rotation_lock_is_one_per_database);
