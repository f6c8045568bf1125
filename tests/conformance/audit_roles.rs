//! Issue 9, finding 4: the application's own database role cannot rewrite history, and a
//! history rewritten by someone who can (the schema's owner, a superuser) with recomputed hashes
//! is caught by a checkpoint kept outside the database. PostgreSQL only: SQLite is one local
//! user's file, with no roles.

use domain::model::{AuditCheckpoint, CheckpointVerdict};
use domain::ManualClock;
use portal::prelude::*;
use portal::{LocalPortal, NewKey};
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use store::SqlStore;
use stories::{admin, admin_url, test_keys, T0};

/// Two login roles (the schema's owner, the runtime role) and a database the owner owns.
struct Deployment {
    owner: String,
    runtime: String,
    db: String,
}

impl Deployment {
    async fn create() -> Deployment {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        // Named like every test database, so a killed run's leftover is swept like theirs.
        let secs = {
            use domain::Clock;
            domain::SystemClock.now().millis() / 1000
        };
        let d = Deployment {
            owner: format!("padmin_owner_{tag}"),
            runtime: format!("padmin_rt_{tag}"),
            db: format!("padmin_t_{secs}_{tag}"),
        };
        let mut su = PgConnection::connect(&admin_url()).await.unwrap();
        for sql in [
            format!("CREATE ROLE {} LOGIN NOSUPERUSER", d.owner),
            format!("CREATE ROLE {} LOGIN NOSUPERUSER", d.runtime),
            format!("CREATE DATABASE {} OWNER {}", d.db, d.owner),
        ] {
            sqlx::raw_sql(&sql).execute(&mut su).await.unwrap();
        }
        d
    }

    /// The URL of this deployment's database as `role` (the server's host and port).
    fn url(&self, role: &str) -> String {
        let base = admin_url();
        let host = base
            .split_once('@')
            .map(|(_, rest)| rest)
            .unwrap_or("127.0.0.1:5432/postgres");
        let host = host.split('/').next().unwrap_or("127.0.0.1:5432");
        format!("postgres://{role}@{host}/{}", self.db)
    }

    async fn drop(self) {
        let mut su = PgConnection::connect(&admin_url()).await.unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
            format!("DROP ROLE IF EXISTS {}", self.runtime),
            format!("DROP ROLE IF EXISTS {}", self.owner),
        ] {
            sqlx::raw_sql(&sql).execute(&mut su).await.unwrap();
        }
    }
}

async fn open(url: &str) -> LocalPortal {
    let store = SqlStore::connect(url)
        .await
        .expect("the runtime role opens a migrated database");
    LocalPortal::with_keys(Arc::new(store), test_keys(), Arc::new(ManualClock::at(T0)))
        .await
        .expect("portal opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_role_cannot_rewrite_history_and_a_checkpoint_catches_the_owner() {
    let d = Deployment::create().await;
    let (owner_url, runtime_url) = (d.url(&d.owner), d.url(&d.runtime));

    // Before the owner migrates, the runtime role cannot, and says who must.
    let refused = SqlStore::connect(&runtime_url).await.unwrap_err();
    assert!(
        refused.to_string().contains("portal-server migrate"),
        "a runtime role facing a schema it may not create says what to do: {refused}"
    );

    let granted = SqlStore::prepare_postgres(&owner_url, &runtime_url)
        .await
        .expect("the owner migrates and grants");
    assert_eq!(granted, d.runtime);
    let p = open(&runtime_url).await;
    let a = admin();
    for n in 0..3 {
        p.create_key(
            &a,
            NewKey {
                name: format!("partner {n}"),
                expires_in: None,
            },
            None,
        )
        .await
        .expect("the runtime role writes, audited");
    }
    assert_eq!(p.verify_audit(&a, None).await.unwrap().first_broken, None);
    let checkpoint = p.audit_checkpoint(&a).await.unwrap();
    assert!(checkpoint.seq >= 3);
    let report = p.verify_audit(&a, Some(checkpoint.clone())).await.unwrap();
    assert_eq!(
        (report.first_broken, report.checkpoint),
        (None, Some(CheckpointVerdict::Holds))
    );

    // The runtime role may only append to the trail: every way of rewriting it is refused.
    let mut rt = PgConnection::connect(&runtime_url).await.unwrap();
    for attack in [
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
        "UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events",
        "UPDATE audit_head SET seq = 0",
        "DELETE FROM change_feed",
        "UPDATE change_feed SET action = 'x'",
        "DROP TRIGGER audit_events_chain ON audit_events",
        // An event that does not continue the chain (the tip is the owner's trigger's to move).
        "INSERT INTO audit_events (seq, id, ts, actor_id, actor_name, actor_type, entity_type, entity_id, action, prev_hash, hash) \
         VALUES (1000, 'forged', 0, 'a', 'a', 'user', 'federation_key', 'k', 'create', 'x', 'y')",
    ] {
        let r = sqlx::raw_sql(attack).execute(&mut rt).await;
        assert!(r.is_err(), "the runtime role may not: {attack}");
    }
    // Its ordinary tables stay writable: that is its job (and the trail records only what the
    // portal did — see ARCHITECTURE.md, Security).
    sqlx::raw_sql("UPDATE federation_keys SET name = name")
        .execute(&mut rt)
        .await
        .expect("the runtime role writes the portal's tables");
    rt.close().await.ok();
    assert_eq!(p.verify_audit(&a, None).await.unwrap().first_broken, None);

    // The owner can rewrite history and recompute every hash: the chain alone looks intact…
    let mut owner = PgConnection::connect(&owner_url).await.unwrap();
    sqlx::raw_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        .execute(&mut owner)
        .await
        .unwrap();
    let events = p.store().audit_chain(0, 10_000).await.unwrap();
    let mut prev = domain::audit::GENESIS_HASH.to_string();
    for mut e in events {
        if e.seq == 1 {
            e.actor_name = "mallory".into();
        }
        e.prev_hash = prev.clone();
        e.hash = e.compute_hash();
        sqlx::query(
            "UPDATE audit_events SET actor_name = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
        )
        .bind(&e.actor_name)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .bind(e.seq)
        .execute(&mut owner)
        .await
        .unwrap();
        prev = e.hash;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&mut owner)
        .await
        .unwrap();
    sqlx::raw_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
        .execute(&mut owner)
        .await
        .unwrap();
    owner.close().await.ok();
    assert_eq!(
        p.verify_audit(&a, None).await.unwrap().first_broken,
        None,
        "recomputed hashes fool a verification that trusts the database alone"
    );

    // …but not one against the checkpoint kept outside it.
    let report = p.verify_audit(&a, Some(checkpoint.clone())).await.unwrap();
    assert_eq!(report.checkpoint, Some(CheckpointVerdict::Rewritten));
    let broken = report
        .first_broken
        .expect("the checkpoint catches the rewrite");
    assert_eq!(broken.seq, checkpoint.seq);
    assert!(broken.reason.contains("rewritten"), "{}", broken.reason);

    // A checkpoint the portal did not sign proves nothing: the report says so.
    let forged = AuditCheckpoint {
        hash: prev,
        ..checkpoint
    };
    let report = p.verify_audit(&a, Some(forged)).await.unwrap();
    assert_eq!(report.checkpoint, Some(CheckpointVerdict::NotAuthentic));

    drop(p);
    d.drop().await;
}
