//! Analytics answers kept in Redis, shared by every instance (`portal::analytics::ChartCache`).
//! A key carries the snapshots' version, so a refresh by any process makes every older answer
//! unreachable at once; they expire on their own ([`TTL_SECS`]). Redis failing is a miss: the
//! snapshot answers, a little slower, and the failure is logged once in a while, not per read.

use async_trait::async_trait;
use portal::analytics::ChartCache;
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long an answer is kept: a day, well past any version a reader can still be at.
pub const TTL_SECS: u64 = 86_400;
/// Answers larger than this are not kept (a long daily series of movements): read each time.
const VALUE_MAX: usize = 4 * 1024 * 1024;

pub struct RedisChartCache {
    conn: ConnectionManager,
    prefix: String,
    failures: AtomicU64,
}

impl std::fmt::Debug for RedisChartCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisChartCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisChartCache {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        RedisChartCache {
            conn,
            prefix: format!("{prefix}analytics:"),
            failures: AtomicU64::new(0),
        }
    }

    fn key(&self, version: i64, key: &str) -> String {
        format!("{}{version}:{key}", self.prefix)
    }

    fn failed(&self, what: &str, e: &redis::RedisError) {
        // The first failure, then every hundredth: a Redis outage does not flood the log.
        if self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(100)
        {
            tracing::warn!(error = %e, "the analytics cache in Redis failed to {what}: reading the snapshot instead");
        }
    }
}

#[async_trait]
impl ChartCache for RedisChartCache {
    async fn get(&self, version: i64, key: &str) -> Option<Vec<u8>> {
        let mut conn = self.conn.clone();
        let got: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GET")
            .arg(self.key(version, key))
            .query_async(&mut conn)
            .await;
        got.unwrap_or_else(|e| {
            self.failed("read", &e);
            None
        })
    }

    async fn put(&self, version: i64, key: &str, value: Vec<u8>) {
        if value.len() > VALUE_MAX {
            return;
        }
        let mut conn = self.conn.clone();
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.key(version, key))
            .arg(value)
            .arg("EX")
            .arg(TTL_SECS)
            .query_async(&mut conn)
            .await;
        if let Err(e) = set {
            self.failed("keep an answer", &e);
        }
    }
}
