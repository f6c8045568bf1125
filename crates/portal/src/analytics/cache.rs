//! The read cache of analytics charts: each answer is kept under the snapshots' version it was
//! read at (`analytics_state.version`, moved on by every refresh in its transaction) and served
//! only while that version is current. Checking costs one small read; a refresh by any process —
//! another server instance, `padmin analytics refresh` — invalidates every cache at once, with
//! nothing to delete.
//!
//! Where answers are kept is a [`ChartCache`]: in this process by default (the desktop, the
//! CLI), Redis on the server (`server::chart_cache`), shared by every instance. A cache that
//! fails is a miss, never an error: the snapshot answers.

use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::analytics::Day;
use domain::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The version of the cached answers' encoding: part of every key, so a release whose chart
/// shapes changed never reads an older release's answers.
pub const CACHE_SCHEMA: u32 = 1;

/// Where chart answers are kept (JSON bytes), per snapshot version.
#[async_trait]
pub trait ChartCache: Send + Sync {
    /// The answer kept for `key` at `version`, if any.
    async fn get(&self, version: i64, key: &str) -> Option<Vec<u8>>;
    /// Keeps an answer read from the snapshots at `version` (or later).
    async fn put(&self, version: i64, key: &str, value: Vec<u8>);
}

/// How many answers the in-process cache keeps (then it drops every older version's, and
/// starts again empty if that is not enough).
const ENTRIES_MAX: usize = 512;

/// The in-process cache.
#[derive(Default)]
pub struct MemoryChartCache {
    entries: Mutex<HashMap<String, (i64, Vec<u8>)>>,
}

impl std::fmt::Debug for MemoryChartCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("MemoryChartCache")
            .field("kept", &kept)
            .finish()
    }
}

#[async_trait]
impl ChartCache for MemoryChartCache {
    async fn get(&self, version: i64, key: &str) -> Option<Vec<u8>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, value)| value.clone())
    }

    async fn put(&self, version: i64, key: &str, value: Vec<u8>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= ENTRIES_MAX {
                entries.retain(|_, (v, _)| *v == version);
                if entries.len() >= ENTRIES_MAX {
                    entries.clear();
                }
            }
            entries.insert(key.to_string(), (version, value));
        }
    }
}

impl LocalPortal {
    /// Keeps chart answers in `cache` from now on (the server's Redis); by default they are kept
    /// in this process.
    pub fn set_chart_cache(&self, cache: Arc<dyn ChartCache>) {
        if let Ok(mut current) = self.chart_cache.write() {
            *current = cache;
        }
    }

    fn chart_cache(&self) -> Option<Arc<dyn ChartCache>> {
        self.chart_cache.read().ok().map(|c| c.clone())
    }

    /// The answer of `chart` to `question` (authorized by the caller, with whose organisation it
    /// is about already decided): the one kept at the snapshots' current version, or `read`'s,
    /// then kept. `read` must read only the snapshots (not the facts: they change without a
    /// new version).
    pub(crate) async fn cached<T, Q, F, Fut>(&self, chart: &str, question: &Q, read: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        Q: Serialize + ?Sized,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let version = self
            .store
            .snapshot_state()
            .await
            .map_err(store_err)?
            .version;
        let question =
            serde_json::to_string(question).map_err(|e| Error::internal(e.to_string()))?;
        // Today is part of the key: a question without a period reads up to today when no
        // snapshot exists yet.
        let key = format!("{CACHE_SCHEMA}:{chart}:{}:{question}", Day::of(self.now()));
        let cache = self.chart_cache();
        if let Some(cache) = &cache {
            if let Some(bytes) = cache.get(version, &key).await {
                match serde_json::from_slice(&bytes) {
                    Ok(answer) => return Ok(answer),
                    Err(e) => {
                        tracing::warn!(chart, error = %e, "a cached analytics answer does not decode: read again")
                    }
                }
            }
        }
        let answer = read().await?;
        if let (Some(cache), Ok(bytes)) = (cache, serde_json::to_vec(&answer)) {
            cache.put(version, &key, bytes).await;
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_served_only_at_its_version() {
        let cache = MemoryChartCache::default();
        cache.put(3, "mrr", b"three".to_vec()).await;
        assert_eq!(cache.get(3, "mrr").await.as_deref(), Some(&b"three"[..]));
        assert_eq!(cache.get(4, "mrr").await, None);
        assert_eq!(cache.get(3, "growth").await, None);
        cache.put(4, "mrr", b"four".to_vec()).await;
        assert_eq!(cache.get(3, "mrr").await, None);
        assert_eq!(cache.get(4, "mrr").await.as_deref(), Some(&b"four"[..]));
    }

    #[tokio::test]
    async fn a_full_cache_drops_older_versions_first() {
        let cache = MemoryChartCache::default();
        for i in 0..ENTRIES_MAX {
            cache.put(1, &format!("old{i}"), vec![1]).await;
        }
        cache.put(2, "new", vec![2]).await;
        cache.put(2, "newer", vec![2]).await;
        assert_eq!(cache.get(2, "new").await, Some(vec![2]));
        assert_eq!(cache.get(1, "old0").await, None);
        assert_eq!(cache.entries.lock().map(|e| e.len()).ok(), Some(2));
    }
}
