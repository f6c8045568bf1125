//! The replica on disk: encrypted at rest with the device's key, readable again with it, moved
//! aside (never silently reused or deleted) when the key is not the one it was written with, and
//! a plaintext replica of an earlier version encrypted in place with its outbox.

use super::*;
use crate::sync::test_support::person;
use domain::envelope::MasterKeySet;
use domain::model::{IncidentChange, OpenIncident, Severity};
use domain::{ManualClock, Role, Timestamp};
use rand::SeedableRng;
use store::Store;

const TITLE: &str = "Checkout fails for Zebra Logistics";
const NOTE: &str = "customer confirmed on the bridge call";

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)))
}

/// An upstream with one incident, and its id.
async fn upstream() -> (Arc<LocalPortal>, String) {
    let store: Arc<dyn Store> = Arc::new(SqlStore::sqlite_in_memory().await.expect("a store"));
    let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let upstream = Arc::new(
        LocalPortal::with_keys(store, keys, clock())
            .await
            .expect("the upstream opens"),
    );
    let opened = upstream
        .open_incident(
            &person("user:admin", Role::Provider),
            OpenIncident {
                id: None,
                title: TITLE.into(),
                severity: Severity::Sev2,
                org_id: None,
                impact_started_at: None,
                occurred_at: None,
            },
        )
        .await
        .expect("an incident");
    (upstream, opened.incident.id.to_string())
}

/// Syncs once, then records a comment and an acknowledgement that stay queued.
async fn work_offline(replica: &Replica, id: &str) {
    replica.sync_now().await.expect("the first sync");
    let ana = replica.actor().clone();
    let comment = crate::incidents::NewComment {
        text: NOTE.into(),
        event_id: None,
        occurred_at: None,
    };
    replica.comment_incident(&ana, id, comment).await.unwrap();
    replica
        .change_incident(&ana, id, IncidentChange::now(IncidentCommand::Acknowledge))
        .await
        .unwrap();
}

/// Every byte the replica left on disk: the file, its write-ahead log and shared memory.
fn bytes_on_disk(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(b) = std::fs::read(std::path::PathBuf::from(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn pending(replica: &Replica) -> usize {
    replica.status().await.unwrap().entries.len()
}

#[tokio::test]
async fn the_replica_is_encrypted_at_rest_and_reopens_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite");
    let key = ReplicaKey::from_bytes([42; 32]);
    let (up, id) = upstream().await;
    let ana = person("user:ana", Role::Support);
    let replica = Replica::open(&path, &key, ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    work_offline(&replica, &id).await;
    // Mid-session (the write-ahead log is live) and after closing, nothing readable is on disk.
    for moment in ["open", "closed"] {
        if moment == "closed" {
            replica.store.close().await;
        }
        let disk = bytes_on_disk(&path);
        assert!(disk.len() > 4096, "the replica wrote its file ({moment})");
        assert!(
            !disk.starts_with(b"SQLite format 3"),
            "no plaintext header ({moment})"
        );
        for marker in [TITLE, NOTE, "user:ana", "Acknowledge"] {
            assert!(
                !contains(&disk, marker),
                "{marker:?} is on disk in plaintext ({moment})"
            );
        }
    }
    drop(replica);

    let again = Replica::open(&path, &key, ana.clone(), up, clock())
        .await
        .unwrap();
    assert_eq!(pending(&again).await, 2, "the outbox survives the restart");
    let detail = again.get_incident(&ana, &id).await.unwrap();
    assert_eq!(detail.incident.title, TITLE);
    assert!(
        detail.incident.acknowledged_at.is_some(),
        "the pending edit is shown"
    );
}

#[tokio::test]
async fn a_replica_another_key_wrote_is_moved_aside_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite");
    let (up, id) = upstream().await;
    let ana = person("user:ana", Role::Support);
    let first = ReplicaKey::from_bytes([1; 32]);
    let replica = Replica::open(&path, &first, ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    work_offline(&replica, &id).await;
    replica.store.close().await;
    drop(replica);
    let written = std::fs::read(&path).unwrap();

    // The keychain lost the key: a new one cannot read the file.
    let second = ReplicaKey::from_bytes([2; 32]);
    let opened = Replica::open_as_last(&path, &second, up.clone(), clock())
        .await
        .unwrap();
    assert!(
        opened.is_none(),
        "no replica to offer offline: the new one is empty"
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with("replica.sqlite.unreadable-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(
        aside.len(),
        1,
        "the unreadable file is kept aside: {aside:?}"
    );
    assert_eq!(std::fs::read(dir.path().join(&aside[0])).unwrap(), written);

    // The first key still opens what was moved aside, outbox and all.
    let kept = Replica::open(&dir.path().join(&aside[0]), &first, ana, up, clock())
        .await
        .unwrap();
    assert_eq!(pending(&kept).await, 2);
}

#[tokio::test]
async fn a_plaintext_replica_of_an_earlier_version_is_encrypted_with_its_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite");
    let (up, id) = upstream().await;
    let ana = person("user:ana", Role::Support);
    let plain = SqlStore::open_sqlite(&path).await.unwrap();
    let replica = Replica::with_store(plain.clone(), ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    work_offline(&replica, &id).await;
    plain.close().await;
    drop(replica);
    assert!(
        contains(&bytes_on_disk(&path), TITLE),
        "the old replica is plaintext"
    );

    let key = ReplicaKey::from_bytes([9; 32]);
    let replica = Replica::open(&path, &key, ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    assert_eq!(
        pending(&replica).await,
        2,
        "the queued edits survive the encryption"
    );
    replica.store.close().await;
    drop(replica);
    let disk = bytes_on_disk(&path);
    assert!(!disk.starts_with(b"SQLite format 3"));
    assert!(!contains(&disk, TITLE) && !contains(&disk, NOTE));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // And the queued edits still reach the portal.
    let replica = Replica::open(&path, &key, ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    replica.sync_now().await.unwrap();
    assert_eq!(pending(&replica).await, 0);
    let upstream_view = up
        .get_incident(&person("user:admin", Role::Provider), &id)
        .await
        .unwrap();
    assert!(upstream_view.incident.acknowledged_at.is_some());
}

/// Two programs (the app and `padmin`) open the same plaintext replica at the same moment:
/// one encrypts it while the other waits, and both then read the same outbox, nothing lost or
/// doubled.
#[tokio::test]
async fn two_programs_opening_an_old_replica_at_once_both_get_it_encrypted_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite");
    let (up, id) = upstream().await;
    let ana = person("user:ana", Role::Support);
    let plain = SqlStore::open_sqlite(&path).await.unwrap();
    let replica = Replica::with_store(plain.clone(), ana.clone(), up.clone(), clock())
        .await
        .unwrap();
    work_offline(&replica, &id).await;
    plain.close().await;
    drop(replica);

    let key = ReplicaKey::from_bytes([5; 32]);
    let open = || Replica::open(&path, &key, ana.clone(), up.clone(), clock());
    let (a, b) = tokio::join!(open(), open());
    let (a, b) = (a.expect("the first opens"), b.expect("the second opens"));
    assert_eq!(pending(&a).await, 2);
    assert_eq!(pending(&b).await, 2, "both see the same outbox");
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    assert_eq!(pending(&b).await, 0);
    for r in [a, b] {
        r.store.close().await;
    }
    assert!(!contains(&bytes_on_disk(&path), NOTE), "encrypted");
    let timeline = up
        .get_incident(&person("user:admin", Role::Provider), &id)
        .await
        .unwrap()
        .timeline;
    let notes = timeline
        .iter()
        .filter(|e| matches!(&e.kind, domain::model::IncidentEventKind::Comment { text } if text == NOTE))
        .count();
    assert_eq!(notes, 1, "the queued comment reached the portal once");
}
