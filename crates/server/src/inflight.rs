//! Idempotency keys in flight: a second request with the same `Idempotency-Key` from the same
//! principal, while the first is still being served, gets 409 at once instead of racing it.
//! (Completed requests are replayed by the Portal from its stored response, for 24 hours.)
//! Claims live in Redis when configured, so the rule holds across instances; in this process
//! otherwise.
//!
//! A claim ends in one of three ways, in both backends:
//! - the request finishes and its holder calls [`Claim::release`] (awaited, so a retry sent
//!   after the response never meets the claim);
//! - the request is dropped — cut off by the timeout layer, or its client went away — and the
//!   [`Claim`]'s `Drop` releases it (at once in this process; with Redis by a spawned delete);
//! - nobody releases it (the process died, Redis was unreachable for the delete): it expires
//!   [`CLAIM_TTL`] after it was taken.
//!
//! Each claim carries a token of its own, and a release deletes the claim only while it still
//! holds that token: a late release never ends a newer request's claim on the same key.

use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a claim lasts when nobody releases it. Longer than the longest request
/// (`Config::request_timeout`, at most [`crate::config::MAX_REQUEST_TIMEOUT_SECS`]), so a request
/// still being served keeps its claim.
pub const CLAIM_TTL: Duration = Duration::from_secs(60);
const _: () = assert!(CLAIM_TTL.as_secs() > crate::config::MAX_REQUEST_TIMEOUT_SECS);

/// Local claims are swept of expired ones when there are more than this many.
const SWEEP_ABOVE: usize = 1024;

/// Deletes the claim only if it still holds this request's token.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

#[derive(Clone)]
pub struct InFlight {
    redis: Option<ConnectionManager>,
    local: Arc<Mutex<HashMap<String, LocalClaim>>>,
    prefix: String,
    release: Arc<redis::Script>,
}

/// A claim held in this process: whose it is and when it was taken.
#[derive(Debug, Clone, Copy)]
struct LocalClaim {
    token: u128,
    taken: Instant,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a claim was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Redis,
    Local,
}

/// A held claim: call [`Claim::release`] when the request is done; dropping it releases it too.
#[derive(Debug)]
pub struct Claim {
    key: String,
    token: u128,
    held: Held,
    owner: InFlight,
    released: bool,
}

impl InFlight {
    pub fn new(redis: Option<ConnectionManager>, prefix: &str) -> Self {
        InFlight {
            prefix: prefix.to_string(),
            redis,
            local: Arc::new(Mutex::new(HashMap::new())),
            release: Arc::new(redis::Script::new(RELEASE_SCRIPT)),
        }
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}:inflight:{key}", self.prefix)
    }

    /// Claims `key`; `None` when another request holds it.
    pub async fn claim(&self, key: String) -> Option<Claim> {
        let token = uuid::Uuid::new_v4().as_u128();
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let set: redis::RedisResult<Option<String>> = redis::cmd("SET")
                .arg(self.redis_key(&key))
                .arg(token.to_string())
                .arg("NX")
                .arg("PX")
                .arg(CLAIM_TTL.as_millis() as u64)
                .query_async(&mut conn)
                .await;
            match set {
                Ok(Some(_)) => return Some(self.held(key, token, Held::Redis)),
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis unreachable: idempotency claims fall back to this instance")
                }
            }
        }
        self.claim_local(key, token, Instant::now())
    }

    /// Whether a request holds `key` now (for tests and diagnostics; a claim is taken with
    /// [`InFlight::claim`], never on the strength of this answer).
    pub async fn is_held(&self, key: &str) -> bool {
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let exists: redis::RedisResult<bool> = redis::cmd("EXISTS")
                .arg(self.redis_key(key))
                .query_async(&mut conn)
                .await;
            if exists == Ok(true) {
                return true;
            }
        }
        let now = Instant::now();
        self.local.lock().is_ok_and(|local| {
            local
                .get(key)
                .is_some_and(|c| now.saturating_duration_since(c.taken) < CLAIM_TTL)
        })
    }

    /// Claims `key` in this process at `now`: free, or held by a claim taken [`CLAIM_TTL`] or
    /// more before `now`.
    fn claim_local(&self, key: String, token: u128, now: Instant) -> Option<Claim> {
        let mut local = self.local.lock().ok()?;
        let expired = |c: &LocalClaim| now.saturating_duration_since(c.taken) >= CLAIM_TTL;
        if local.len() > SWEEP_ABOVE {
            local.retain(|_, c| !expired(c));
        }
        if local.get(&key).is_some_and(|c| !expired(c)) {
            return None;
        }
        local.insert(key.clone(), LocalClaim { token, taken: now });
        drop(local);
        Some(self.held(key, token, Held::Local))
    }

    fn held(&self, key: String, token: u128, held: Held) -> Claim {
        Claim {
            key,
            token,
            held,
            owner: self.clone(),
            released: false,
        }
    }

    fn release_local(&self, key: &str, token: u128) {
        if let Ok(mut local) = self.local.lock() {
            if local.get(key).is_some_and(|c| c.token == token) {
                local.remove(key);
            }
        }
    }

    async fn release_redis(&self, key: &str, token: u128) {
        let Some(conn) = &self.redis else { return };
        let mut conn = conn.clone();
        let released: redis::RedisResult<i64> = self
            .release
            .key(self.redis_key(key))
            .arg(token.to_string())
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release an idempotency claim in Redis: it expires on its own");
        }
    }
}

impl Claim {
    /// Ends the claim now: a request with the same key sent after this returns is served.
    pub async fn release(mut self) {
        self.released = true;
        match self.held {
            Held::Redis => self.owner.release_redis(&self.key, self.token).await,
            Held::Local => self.owner.release_local(&self.key, self.token),
        }
    }
}

impl Drop for Claim {
    /// A request dropped before it finished (timed out, or its client went away) ends its claim
    /// too: at once in this process; in Redis by a spawned delete (and, failing that, the TTL).
    fn drop(&mut self) {
        if self.released {
            return;
        }
        match self.held {
            Held::Local => self.owner.release_local(&self.key, self.token),
            Held::Redis => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let owner = self.owner.clone();
                    let key = std::mem::take(&mut self.key);
                    let token = self.token;
                    runtime.spawn(async move { owner.release_redis(&key, token).await });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> InFlight {
        InFlight::new(None, "test")
    }

    #[tokio::test]
    async fn a_held_key_is_refused_and_free_again_once_released() {
        let f = local();
        let first = f.claim("alice:k1".into()).await.expect("free");
        assert!(f.claim("alice:k1".into()).await.is_none(), "held");
        assert!(f.claim("alice:k2".into()).await.is_some(), "another key");
        first.release().await;
        assert!(f.claim("alice:k1".into()).await.is_some(), "released");
    }

    #[tokio::test]
    async fn dropping_a_claim_releases_it() {
        let f = local();
        let claim = f.claim("alice:k1".into()).await.expect("free");
        drop(claim);
        assert!(
            f.claim("alice:k1".into()).await.is_some(),
            "a request dropped by the timeout layer must not hold its key for good"
        );
    }

    #[test]
    fn a_local_claim_expires_after_the_ttl() {
        let f = local();
        let t0 = Instant::now();
        let held = f.claim_local("alice:k1".into(), 1, t0).expect("free");
        let just_before = t0 + CLAIM_TTL - Duration::from_millis(1);
        assert!(f.claim_local("alice:k1".into(), 2, just_before).is_none());
        let newer = f
            .claim_local("alice:k1".into(), 3, t0 + CLAIM_TTL)
            .expect("an unreleased claim expires after CLAIM_TTL");
        // The first holder finishing late must not end the newer request's claim.
        drop(held);
        assert!(
            f.claim_local("alice:k1".into(), 4, t0 + CLAIM_TTL)
                .is_none(),
            "a late release leaves the newer claim alone"
        );
        drop(newer);
        assert!(f
            .claim_local("alice:k1".into(), 5, t0 + CLAIM_TTL)
            .is_some());
    }

    #[test]
    fn expired_claims_are_swept() {
        let f = local();
        let t0 = Instant::now();
        let held: Vec<Claim> = (0..=SWEEP_ABOVE)
            .map(|i| f.claim_local(format!("k{i}"), i as u128, t0).expect("free"))
            .collect();
        // Forget them without releasing, as a process whose requests never finish would.
        held.into_iter().for_each(std::mem::forget);
        let _late = f
            .claim_local("another".into(), 0, t0 + CLAIM_TTL)
            .expect("free");
        assert_eq!(
            f.local.lock().unwrap().len(),
            1,
            "only the live claim is left"
        );
    }
}
