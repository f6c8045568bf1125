//! Rate limits: token buckets per principal, per federation key and per client IP.
//!
//! With Redis (`REDIS_URL`), a bucket lives in Redis and is updated by one Lua script (atomic,
//! timed by the Redis server's clock), so every instance spends from the same budget. Without
//! Redis, or while Redis cannot be reached, buckets live in this process (logged once per outage).

use crate::config::Budget;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The outcome of spending one request from a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The bucket's size.
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one request is allowed, when refused.
    pub retry_after_secs: u64,
}

const SCRIPT: &str = r#"
local rate = tonumber(ARGV[1]) / 60000.0
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
local full_ms = math.ceil((burst - tokens) / rate)
redis.call('PEXPIRE', KEYS[1], full_ms + 1000)
local wait_ms = 0
if allowed == 0 then wait_ms = math.ceil((1 - tokens) / rate) end
return {allowed, math.floor(tokens), full_ms, wait_ms}
"#;

/// Spends requests from named buckets.
pub struct RateLimiter {
    redis: Option<ConnectionManager>,
    script: redis::Script,
    local: Mutex<HashMap<String, (f64, Instant)>>,
    redis_down: AtomicBool,
    prefix: String,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(redis: Option<ConnectionManager>, prefix: &str) -> Self {
        RateLimiter {
            prefix: prefix.to_string(),
            redis,
            script: redis::Script::new(SCRIPT),
            local: Mutex::new(HashMap::new()),
            redis_down: AtomicBool::new(false),
        }
    }

    /// Spends one request from `bucket` (e.g. `principal:oidc:alice`).
    pub async fn check(&self, bucket: &str, budget: Budget) -> Decision {
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let result: redis::RedisResult<(i64, i64, i64, i64)> = self
                .script
                .key(format!("{}:rl:{bucket}", self.prefix))
                .arg(budget.per_minute)
                .arg(budget.burst)
                .invoke_async(&mut conn)
                .await;
            match result {
                Ok((allowed, remaining, full_ms, wait_ms)) => {
                    if self.redis_down.swap(false, Ordering::Relaxed) {
                        tracing::info!("rate limits are shared through Redis again");
                    }
                    return Decision {
                        allowed: allowed == 1,
                        limit: budget.burst,
                        remaining: remaining.max(0) as u32,
                        reset_secs: ceil_secs(full_ms),
                        retry_after_secs: ceil_secs(wait_ms).max(u64::from(allowed != 1)),
                    };
                }
                Err(e) => {
                    if !self.redis_down.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "Redis unreachable: rate limits fall back to this instance until it answers");
                    }
                }
            }
        }
        self.check_local(bucket, budget)
    }

    fn check_local(&self, bucket: &str, budget: Budget) -> Decision {
        let rate = f64::from(budget.per_minute) / 60_000.0;
        let burst = f64::from(budget.burst);
        let now = Instant::now();
        let Ok(mut map) = self.local.lock() else {
            return Decision {
                allowed: true,
                limit: budget.burst,
                remaining: 0,
                reset_secs: 0,
                retry_after_secs: 0,
            };
        };
        if map.len() > 100_000 {
            // Forget full buckets: they hold no information.
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_millis() as f64 * rate < burst
            });
        }
        let (tokens, at) = map.entry(bucket.to_string()).or_insert((burst, now));
        let elapsed = now.duration_since(*at).as_millis() as f64;
        *tokens = (*tokens + elapsed * rate).min(burst);
        *at = now;
        let allowed = *tokens >= 1.0;
        if allowed {
            *tokens -= 1.0;
        }
        let full_ms = ((burst - *tokens) / rate).ceil() as i64;
        let wait_ms = if allowed {
            0
        } else {
            ((1.0 - *tokens) / rate).ceil() as i64
        };
        Decision {
            allowed,
            limit: budget.burst,
            remaining: tokens.floor() as u32,
            reset_secs: ceil_secs(full_ms),
            retry_after_secs: ceil_secs(wait_ms).max(u64::from(!allowed)),
        }
    }
}

fn ceil_secs(ms: i64) -> u64 {
    (ms.max(0) as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::new(None, "t");
        let budget = Budget {
            per_minute: 60,
            burst: 3,
        };
        for i in 0..3 {
            let d = limiter.check("p:a", budget).await;
            assert!(d.allowed, "request {i} is within the burst");
            assert_eq!(d.remaining, 2 - i);
        }
        let refused = limiter.check("p:a", budget).await;
        assert!(!refused.allowed, "the fourth request exceeds the burst");
        assert!(refused.retry_after_secs >= 1);
        assert!(
            limiter.check("p:b", budget).await.allowed,
            "another principal has its own bucket"
        );
    }
}
