//! The ids of every federation key, in memory, so a well-formed key with an unknown id is
//! rejected without a database lookup (a flood of random keys costs no queries).
//!
//! Loaded on first use, then followed through the change feed: keys created by this process
//! are added at once; keys created by another process (another server instance, the CLI) are
//! picked up by the next refresh, at most [`REFRESH_MS`] later, on the first miss after it.

use domain::key::KeyId;
use domain::Timestamp;
use std::collections::HashSet;
use store::Store;

/// How stale the index may be before a miss refreshes it from the change feed.
pub const REFRESH_MS: i64 = 1_000;

#[derive(Debug, Default)]
pub(crate) struct KnownKeys {
    ids: HashSet<KeyId>,
    cursor: i64,
    synced_at: Option<Timestamp>,
}

impl KnownKeys {
    pub fn insert(&mut self, id: KeyId) {
        self.ids.insert(id);
    }

    /// Whether `id` names a stored key, refreshing first if the index is missing or stale.
    pub async fn contains(
        &mut self,
        store: &dyn Store,
        id: &KeyId,
        now: Timestamp,
    ) -> store::Result<bool> {
        if self.synced_at.is_some() && self.ids.contains(id) {
            return Ok(true);
        }
        let stale = self
            .synced_at
            .is_none_or(|t| now.millis() - t.millis() >= REFRESH_MS);
        if stale {
            self.refresh(store, now).await?;
        }
        Ok(self.ids.contains(id))
    }

    async fn refresh(&mut self, store: &dyn Store, now: Timestamp) -> store::Result<()> {
        if self.synced_at.is_none() {
            // Read the feed's position first, so nothing created during the load is missed.
            self.cursor = store.audit_head().await?.0;
            self.ids = store.key_ids().await?.into_iter().collect();
        } else {
            loop {
                let changes = store.changes_after(self.cursor, 1000).await?;
                let Some(last) = changes.last() else { break };
                self.cursor = last.seq;
                for c in changes
                    .iter()
                    .filter(|c| c.entity_type == "federation_key" && c.action == "create")
                {
                    if let Ok(id) = KeyId::parse(&c.entity_id) {
                        self.ids.insert(id);
                    }
                }
            }
        }
        self.synced_at = Some(now);
        Ok(())
    }
}
