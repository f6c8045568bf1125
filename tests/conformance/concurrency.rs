//! Concurrent writers on PostgreSQL: the change feed never skips, idempotency holds.

use portal::{NewClient, NewKey};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use store::prelude::*;
use stories::{admin, portal, Backend, TestDb};

const WRITERS: usize = 8;
const WRITES_EACH: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn change_feed_never_skips_under_concurrent_writers() {
    let db = TestDb::new(Backend::Postgres).await;
    let (p, _) = portal(&db).await;
    let p = Arc::new(p);
    let done = Arc::new(AtomicBool::new(false));
    let store = db.arc();
    let start = store.audit_head().await.unwrap().0; // opening registered the master key
    let puller = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor = start;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = store.changes_after(cursor, 7).await.expect("pull");
                for c in &batch {
                    assert_eq!(c.seq, cursor + 1, "the puller saw {} right after {cursor}: a committed change would be skipped", c.seq);
                    cursor = c.seq;
                    seen.push(c.seq);
                }
                if batch.is_empty() {
                    if finished {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let p = p.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..WRITES_EACH {
                p.create_client(
                    &admin(),
                    NewClient {
                        name: format!("w{w}-{i}"),
                        plan: "free".into(),
                        status: "trial".into(),
                    },
                    None,
                )
                .await
                .expect("write");
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = puller.await.unwrap();
    let total = WRITERS * WRITES_EACH;
    assert_eq!(seen.len(), total, "every change seen");
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<_>>().len(),
        total,
        "each exactly once"
    );
    assert_eq!(
        p.verify_audit(&admin(), None).await.unwrap().first_broken,
        None,
        "the chain holds under concurrency"
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_retries_of_one_create_have_one_effect() {
    let db = TestDb::new(Backend::Postgres).await;
    let (p, _) = portal(&db).await;
    let p = Arc::new(p);
    let base = db.store.audit_head().await.unwrap().0;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            p.create_key(
                &admin(),
                NewKey {
                    name: "acme".into(),
                    expires_in: None,
                },
                Some("same-key"),
            )
            .await
        }));
    }
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().expect("every retry succeeds").key.id);
    }
    assert_eq!(ids.len(), 1, "all retries return the same key");
    assert_eq!(
        db.store.audit_head().await.unwrap().0,
        base + 1,
        "exactly one effect"
    );
    db.drop_db().await;
}
