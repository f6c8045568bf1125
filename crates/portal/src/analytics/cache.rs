//! The read cache of analytics results: each result is kept with the snapshots' version it was
//! computed at (`analytics_state.version`, moved on by every refresh in its transaction) and
//! served only while that version is current. Checking costs one small read; a refresh by any
//! process — another server instance, `padmin analytics refresh` — invalidates every cache.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many results one cache keeps (then it starts again empty).
const ENTRIES_MAX: usize = 512;

pub(crate) struct SnapshotCache<T> {
    entries: Mutex<HashMap<String, (i64, T)>>,
}

impl<T> Default for SnapshotCache<T> {
    fn default() -> Self {
        SnapshotCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> SnapshotCache<T> {
    /// The result for `key` computed at `version`, if kept.
    pub(crate) fn get(&self, key: &str, version: i64) -> Option<T> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, value)| value.clone())
    }

    pub(crate) fn put(&self, key: String, version: i64, value: T) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= ENTRIES_MAX {
                entries.retain(|_, (v, _)| *v == version);
                if entries.len() >= ENTRIES_MAX {
                    entries.clear();
                }
            }
            entries.insert(key, (version, value));
        }
    }
}
