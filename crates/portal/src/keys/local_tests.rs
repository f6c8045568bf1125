use super::super::state::Pause;
use super::*;
use domain::envelope::MasterKeySet;
use domain::{ErrorCode, ManualClock};
use rand::SeedableRng;
use std::sync::Arc;
use store::{SqlStore, Store};
use tokio::sync::oneshot;

async fn portal(store: &Arc<dyn Store>) -> (Arc<LocalPortal>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let p = LocalPortal::with_keys(store.clone(), keys, clock.clone())
        .await
        .expect("the portal opens");
    (Arc::new(p), clock)
}

async fn sqlite() -> Arc<dyn Store> {
    Arc::new(
        SqlStore::sqlite_in_memory()
            .await
            .expect("an in-memory store"),
    )
}

fn new_key(name: &str, expires_in: Option<&str>) -> NewKey {
    NewKey {
        name: name.into(),
        expires_in: expires_in.map(Into::into),
    }
}

/// Starts verifying `full` on `p`, and returns once that verification has read the key
/// record (and waits there), with the handle that lets it go on.
async fn verification_paused_after_read(
    p: &Arc<LocalPortal>,
    full: &str,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<Verified>>,
) {
    let (reached, reached_rx) = oneshot::channel();
    let (resume_tx, resume) = oneshot::channel();
    *p.key_state.pause.lock().unwrap() = Some(Pause { reached, resume });
    let (p, full) = (p.clone(), full.to_string());
    let task = tokio::spawn(async move { p.verify_key(&Actor::system("t"), &full).await });
    reached_rx.await.expect("the verification reads the record");
    (resume_tx, task)
}

/// Finding 5: a cold verification that read the key before it was revoked must not cache
/// it after the revocation dropped it from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_that_read_the_key_before_its_revocation_does_not_cache_it() {
    let store = sqlite().await;
    let (p, _) = portal(&store).await;
    let a = Actor::system("t");
    let k = p.create_key(&a, new_key("acme", None), None).await.unwrap();
    let full = k.full_key.expose().clone();

    // Revoked here, between the cold verification's read and its hashing.
    let (resume, first) = verification_paused_after_read(&p, &full).await;
    p.revoke_key(&a, k.key.id.as_str(), None).await.unwrap();
    resume.send(()).unwrap();
    // The verification began before the revocation; its own answer may be either.
    let _ = first.await.unwrap();
    let err = p.verify_key(&a, &full).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Unauthenticated,
        "a key revoked while a verification was hashing must not verify from the cache"
    );

    // The same when another process revokes it and this one is told (`forget_key`).
    let k = p.create_key(&a, new_key("beta", None), None).await.unwrap();
    let full = k.full_key.expose().clone();
    let (elsewhere, _) = portal(&store).await;
    let (resume, first) = verification_paused_after_read(&p, &full).await;
    elsewhere
        .revoke_key(&a, k.key.id.as_str(), None)
        .await
        .unwrap();
    p.forget_key(&k.key.id);
    resume.send(()).unwrap();
    let _ = first.await.unwrap();
    let err = p.verify_key(&a, &full).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Unauthenticated,
        "a key revoked by another process must not verify from this one's cache"
    );

    // And with nothing in between, a cold verification is cached as before.
    let k = p
        .create_key(&a, new_key("gamma", None), None)
        .await
        .unwrap();
    p.verify_key(&a, k.full_key.expose()).await.unwrap();
    let digest = FullKey::parse(k.full_key.expose()).unwrap().fast_digest();
    assert!(p.key_state.cache.get(&digest, p.now()).is_some());
}

/// Finding 11: for a known id, a wrong secret, a revoked key and an expired key get the same
/// answer, and each only after asking for a hashing permit (argon2 runs for every one of
/// them); an unknown id is still refused without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_on_a_known_id_gets_the_same_answer_after_hashing() {
    let sql = SqlStore::sqlite_in_memory().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sql.clone());
    let (p, clock) = portal(&store).await;
    let a = Actor::system("t");
    let revoked = p
        .create_key(&a, new_key("revoked", None), None)
        .await
        .unwrap();
    p.revoke_key(&a, revoked.key.id.as_str(), None)
        .await
        .unwrap();
    let expired = p
        .create_key(&a, new_key("expired", Some("1h")), None)
        .await
        .unwrap();
    clock.advance_secs(3601);
    // A wrong secret for a known, active id: its record is given another key's hash.
    let wrong = p
        .create_key(&a, new_key("wrong", None), None)
        .await
        .unwrap();
    let other = p
        .create_key(&a, new_key("other", None), None)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "UPDATE federation_keys SET hashed_key = \
         (SELECT hashed_key FROM federation_keys WHERE id = '{}') WHERE id = '{}'",
        other.key.id, wrong.key.id
    ))
    .execute(sql.pool())
    .await
    .unwrap();
    let known = [&revoked, &expired, &wrong].map(|k| k.full_key.expose().clone());

    for full in &known {
        let err = p.verify_key(&a, full).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthenticated);
        assert_eq!(
            err.to_string(),
            Error::Unauthenticated("this federation key is not valid".into()).to_string(),
            "a wrong secret, a revoked and an expired key answer alike"
        );
    }

    // With no hashing permit to be had, each of them fails for want of one: none is
    // answered before argon2 would run. An unknown id needs none.
    p.key_state.hashing.permits.close();
    for full in &known {
        let err = p.verify_key(&a, full).await.unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::Internal,
            "the answer for a known id comes only after hashing: {err}"
        );
    }
    let unknown = FullKey::generate(&mut rand::rngs::OsRng);
    let err = p.verify_key(&a, unknown.expose()).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::Unauthenticated,
        "an unknown id is refused from the id index, without argon2"
    );
}
