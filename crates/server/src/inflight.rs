//! Idempotency keys in flight: a second request with the same `Idempotency-Key` from the same
//! principal, while the first is still being served, gets 409 at once instead of racing it.
//! (Completed requests are replayed by the Portal from its stored response, for 24 hours.)
//! Claims live in Redis when configured, so the rule holds across instances; in this process
//! otherwise. A claim expires after a minute even if its holder dies.

use redis::aio::ConnectionManager;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

const CLAIM_TTL_MS: u64 = 60_000;

#[derive(Clone)]
pub struct InFlight {
    redis: Option<ConnectionManager>,
    local: Arc<Mutex<HashSet<String>>>,
    prefix: String,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// A held claim; release it when the request is done.
#[derive(Debug)]
pub struct Claim {
    key: String,
    owner: InFlight,
}

impl InFlight {
    pub fn new(redis: Option<ConnectionManager>, prefix: &str) -> Self {
        InFlight {
            prefix: prefix.to_string(),
            redis,
            local: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Claims `key`; `None` when another request holds it.
    pub async fn claim(&self, key: String) -> Option<Claim> {
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let set: redis::RedisResult<Option<String>> = redis::cmd("SET")
                .arg(format!("{}:inflight:{key}", self.prefix))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(CLAIM_TTL_MS)
                .query_async(&mut conn)
                .await;
            match set {
                Ok(Some(_)) => {
                    return Some(Claim {
                        key,
                        owner: self.clone(),
                    })
                }
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis unreachable: idempotency claims fall back to this instance")
                }
            }
        }
        let fresh = self.local.lock().ok()?.insert(key.clone());
        fresh.then(|| Claim {
            key,
            owner: self.clone(),
        })
    }
}

impl Claim {
    pub async fn release(self) {
        if let Some(conn) = &self.owner.redis {
            let mut conn = conn.clone();
            let _: redis::RedisResult<i64> = redis::cmd("DEL")
                .arg(format!("{}:inflight:{}", self.owner.prefix, self.key))
                .query_async(&mut conn)
                .await;
        }
        if let Ok(mut local) = self.owner.local.lock() {
            local.remove(&self.key);
        }
    }
}
