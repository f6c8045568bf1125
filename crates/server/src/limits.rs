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

/// Spends one request from every bucket in KEYS (ARGV, for each: per-minute rate, burst, mode
/// and cost), all or none: when any bucket is empty, none is charged. Mode 1 spends `cost`
/// tokens; mode 0 only looks (it can refuse, never spends); mode 2 is a debt already incurred:
/// it spends `cost` whatever the others say (down to 0) and refuses nothing. Returns `allowed`,
/// then for each bucket its remaining tokens, ms until full and ms until one token.
const SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local states = {}
local allowed = 1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[4 * i - 3]) / 60000.0
  local burst = tonumber(ARGV[4 * i - 2])
  local mode = tonumber(ARGV[4 * i - 1])
  local cost = tonumber(ARGV[4 * i])
  local s = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(s[1]) or burst
  local ts = tonumber(s[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  states[i] = {tokens, rate, burst, mode, cost}
  if mode ~= 2 and tokens < 1 then allowed = 0 end
end
local out = {allowed}
for i = 1, #KEYS do
  local tokens, rate, burst, mode, cost = states[i][1], states[i][2], states[i][3], states[i][4], states[i][5]
  if mode == 2 then
    tokens = math.max(0, tokens - cost)
  elseif allowed == 1 and mode == 1 then
    tokens = tokens - cost
  end
  local full_ms = math.ceil((burst - tokens) / rate)
  -- A look writes nothing: the refill is computed again from `ts` next time, and a bucket
  -- nobody has spent from is not created.
  if mode ~= 0 then
    redis.call('HSET', KEYS[i], 'tokens', tostring(tokens), 'ts', now)
    redis.call('PEXPIRE', KEYS[i], full_ms + 1000)
  end
  local wait_ms = 0
  if tokens < 1 then wait_ms = math.ceil((1 - tokens) / rate) end
  out[#out + 1] = math.floor(tokens)
  out[#out + 1] = full_ms
  out[#out + 1] = wait_ms
end
return out
"#;

/// What a request does to one bucket it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Spends one token (when every bucket allows the request).
    Spend,
    /// Refuses when the bucket is empty, spends nothing: for budgets charged only by the
    /// outcome (a key's successful verifications, its failures from one network).
    Peek,
    /// Spends this many tokens whatever the bucket holds (down to empty), refusing nothing:
    /// the outcome of requests already answered.
    Owe(u32),
}

impl Charge {
    fn mode_and_cost(self) -> (u8, u32) {
        match self {
            Charge::Peek => (0, 0),
            Charge::Spend => (1, 1),
            Charge::Owe(n) => (2, n),
        }
    }
}

/// Spends requests from named buckets.
pub struct RateLimiter {
    redis: Option<ConnectionManager>,
    script: redis::Script,
    local: Mutex<HashMap<String, (f64, Instant)>>,
    redis_down: AtomicBool,
    prefix: String,
    /// Debts not yet paid to Redis, by bucket: paid in one batch by [`RateLimiter::settle`].
    debts: Mutex<HashMap<String, (Budget, u32)>>,
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
            debts: Mutex::new(HashMap::new()),
        }
    }

    /// Decides from this instance's copy of the buckets, with no round trip, and settles with
    /// Redis later: what it spends becomes a debt that [`RateLimiter::settle`] pays (the server
    /// calls it every 50 ms), writing Redis's level — every instance's spending — back into the
    /// copy. For the partner route, the hottest path: a verification costs no Redis round trip,
    /// and the budgets stay shared, up to what the instances admit within one settling interval.
    /// Without Redis the copy is the bucket.
    pub fn check_fast(&self, buckets: &[(&str, Budget, Charge)]) -> Decision {
        let d = self.check_local(buckets);
        if self.redis.is_some() {
            if let Ok(mut debts) = self.debts.lock() {
                for (bucket, budget, charge) in buckets {
                    let owed = match charge {
                        Charge::Spend if d.allowed => 1,
                        Charge::Owe(n) => *n,
                        _ => 0,
                    };
                    // Looked-at buckets are settled too (owing 0), so their copy follows what
                    // other instances spend.
                    debts.entry(bucket.to_string()).or_insert((*budget, 0)).1 += owed;
                }
            }
        }
        d
    }

    /// Spends one token from `bucket` for a request already answered (see
    /// [`RateLimiter::check_fast`]): at once here, and in Redis at the next settling.
    pub fn owe(&self, bucket: &str, budget: Budget) {
        self.check_fast(&[(bucket, budget, Charge::Owe(1))]);
    }

    /// Pays every debt kept by [`RateLimiter::check_fast`] to Redis, one bucket per script
    /// call, and copies each bucket's shared level back. While Redis cannot be reached the
    /// debts are dropped (this instance's copy was charged already) and the copy goes on alone.
    pub async fn settle(&self) {
        let debts = match self.debts.lock() {
            Ok(mut d) if !d.is_empty() => std::mem::take(&mut *d),
            _ => return,
        };
        for (bucket, (budget, n)) in debts {
            let Some(shared) = self.check_redis(&[(&bucket, budget, Charge::Owe(n))]).await else {
                return;
            };
            if let Ok(mut map) = self.local.lock() {
                map.insert(bucket, (f64::from(shared.remaining), Instant::now()));
            }
        }
    }

    /// Spends one request from `bucket` (e.g. `principal:alice`).
    pub async fn check(&self, bucket: &str, budget: Budget) -> Decision {
        self.check_all(&[(bucket, budget)]).await
    }

    /// Spends one request from every bucket, all or none, in one round trip. The decision's
    /// headers describe the last (most specific) bucket; a refusal waits for the slowest.
    pub async fn check_all(&self, buckets: &[(&str, Budget)]) -> Decision {
        let spent: Vec<(&str, Budget, Charge)> = buckets
            .iter()
            .map(|(b, g)| (*b, *g, Charge::Spend))
            .collect();
        self.check_with(&spent).await
    }

    /// Checks every bucket and spends from those marked [`Charge::Spend`], all or none, in one
    /// round trip.
    pub async fn check_with(&self, buckets: &[(&str, Budget, Charge)]) -> Decision {
        match self.check_redis(buckets).await {
            Some(d) => d,
            None => self.check_local(buckets),
        }
    }

    /// The decision of the shared buckets in Redis; `None` without Redis or while it cannot
    /// be reached (logged once per outage).
    async fn check_redis(&self, buckets: &[(&str, Budget, Charge)]) -> Option<Decision> {
        let conn = self.redis.as_ref()?;
        let mut conn = conn.clone();
        let mut invocation = self.script.prepare_invoke();
        for (bucket, budget, charge) in buckets {
            let (mode, cost) = charge.mode_and_cost();
            invocation
                .key(format!("{}:rl:{bucket}", self.prefix))
                .arg(budget.per_minute)
                .arg(budget.burst)
                .arg(mode)
                .arg(cost);
        }
        let result: redis::RedisResult<Vec<i64>> = invocation.invoke_async(&mut conn).await;
        match result {
            Ok(v) if v.len() == 1 + 3 * buckets.len() => {
                if self.redis_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                let allowed = v[0] == 1;
                let per: Vec<(i64, i64, i64)> =
                    v[1..].chunks(3).map(|c| (c[0], c[1], c[2])).collect();
                return Some(combine(allowed, buckets, &per));
            }
            Ok(_) => tracing::warn!("unexpected answer from the rate-limit script"),
            Err(e) => {
                if !self.redis_down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis unreachable: rate limits fall back to this instance until it answers");
                }
            }
        }
        None
    }

    fn check_local(&self, buckets: &[(&str, Budget, Charge)]) -> Decision {
        let now = Instant::now();
        let Ok(mut map) = self.local.lock() else {
            return Decision {
                allowed: true,
                limit: buckets.last().map(|b| b.1.burst).unwrap_or(0),
                remaining: 0,
                reset_secs: 0,
                retry_after_secs: 0,
            };
        };
        if map.len() > 100_000 {
            // Forget buckets that have refilled: they hold no information.
            let slowest = buckets
                .iter()
                .map(|b| b.1)
                .max_by_key(|b| b.burst)
                .unwrap_or(Budget {
                    per_minute: 1,
                    burst: 1,
                });
            let rate = f64::from(slowest.per_minute) / 60_000.0;
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_millis() as f64 * rate
                    < f64::from(slowest.burst)
            });
        }
        let mut levels = Vec::with_capacity(buckets.len());
        for (bucket, budget, _) in buckets {
            let rate = f64::from(budget.per_minute) / 60_000.0;
            let burst = f64::from(budget.burst);
            let (tokens, at) = map.entry(bucket.to_string()).or_insert((burst, now));
            let elapsed = now.duration_since(*at).as_millis() as f64;
            *tokens = (*tokens + elapsed * rate).min(burst);
            *at = now;
            levels.push(*tokens);
        }
        let allowed = buckets
            .iter()
            .zip(&levels)
            .all(|((_, _, charge), t)| matches!(charge, Charge::Owe(_)) || *t >= 1.0);
        let mut per = Vec::with_capacity(buckets.len());
        for ((bucket, budget, charge), level) in buckets.iter().zip(levels) {
            let rate = f64::from(budget.per_minute) / 60_000.0;
            let burst = f64::from(budget.burst);
            let tokens = match charge {
                Charge::Owe(n) => (level - f64::from(*n)).max(0.0),
                Charge::Spend if allowed => level - 1.0,
                _ => level,
            };
            if let Some(slot) = map.get_mut(*bucket) {
                slot.0 = tokens;
            }
            let full_ms = ((burst - tokens) / rate).ceil() as i64;
            let wait_ms = if tokens < 1.0 {
                ((1.0 - tokens) / rate).ceil() as i64
            } else {
                0
            };
            per.push((tokens.floor() as i64, full_ms, wait_ms));
        }
        combine(allowed, buckets, &per)
    }
}

/// One decision from each bucket's (remaining, ms until full, ms until one token).
fn combine(allowed: bool, buckets: &[(&str, Budget, Charge)], per: &[(i64, i64, i64)]) -> Decision {
    let (remaining, full_ms, _) = per.last().copied().unwrap_or((0, 0, 0));
    let wait_ms = per.iter().map(|p| p.2).max().unwrap_or(0);
    Decision {
        allowed,
        limit: buckets.last().map(|b| b.1.burst).unwrap_or(0),
        remaining: remaining.max(0) as u32,
        reset_secs: ceil_secs(full_ms),
        retry_after_secs: if allowed {
            0
        } else {
            ceil_secs(wait_ms).max(1)
        },
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

    #[tokio::test]
    async fn several_buckets_are_charged_all_or_none() {
        let limiter = RateLimiter::new(None, "t");
        let wide = Budget {
            per_minute: 60,
            burst: 10,
        };
        let narrow = Budget {
            per_minute: 60,
            burst: 1,
        };
        assert!(
            limiter
                .check_all(&[("ip:a", wide), ("key:k", narrow)])
                .await
                .allowed
        );
        let refused = limiter
            .check_all(&[("ip:a", wide), ("key:k", narrow)])
            .await;
        assert!(!refused.allowed, "the key's bucket is empty");
        let ip_only = limiter.check("ip:a", wide).await;
        assert_eq!(
            ip_only.remaining, 8,
            "the refused request did not charge the IP's bucket (10 - 1 - this one)"
        );
    }

    #[tokio::test]
    async fn a_peeked_bucket_can_refuse_but_is_never_charged() {
        let limiter = RateLimiter::new(None, "t");
        let wide = Budget {
            per_minute: 60,
            burst: 10,
        };
        let one = Budget {
            per_minute: 60,
            burst: 1,
        };
        for _ in 0..3 {
            let d = limiter
                .check_with(&[("ip:a", wide, Charge::Spend), ("key:k", one, Charge::Peek)])
                .await;
            assert!(d.allowed, "peeking leaves the key's one token in place");
        }
        limiter.check_with(&[("key:k", one, Charge::Spend)]).await;
        let refused = limiter
            .check_with(&[("ip:a", wide, Charge::Spend), ("key:k", one, Charge::Peek)])
            .await;
        assert!(!refused.allowed, "an empty peeked bucket refuses");
        assert_eq!(
            limiter.check("ip:a", wide).await.remaining,
            6,
            "three allowed requests charged the IP's bucket, the refused one did not"
        );
    }

    #[tokio::test]
    async fn a_debt_is_paid_whatever_the_bucket_holds_and_refuses_nothing() {
        let limiter = RateLimiter::new(None, "t");
        let two = Budget {
            per_minute: 1,
            burst: 2,
        };
        for _ in 0..5 {
            limiter.owe("key:k", two);
        }
        let d = limiter.check_with(&[("key:k", two, Charge::Peek)]).await;
        assert!(
            !d.allowed,
            "five answered successes emptied a bucket of two"
        );
        assert_eq!(d.remaining, 0, "a debt empties a bucket, never below");
        let d = limiter
            .check_with(&[("ip:a", two, Charge::Spend), ("key:k", two, Charge::Owe(1))])
            .await;
        assert!(d.allowed, "a debt refuses nothing");
    }
}
