//! A bounded in-memory cache of recent successful verifications, so a warm verify does not
//! recompute argon2id. Keyed by the SHA-256 of the presented key (never the key itself);
//! entries live at most [`TTL_MS`] and are dropped when their key is revoked or rotated here.
//!
//! Every invalidation moves a generation. A cold verification reads it before it reads the key
//! record and hands it back to [`VerifyCache::insert`], which caches nothing if anything was
//! invalidated in between: a verification that read the key before a revocation cannot put it
//! back in the cache after the revocation dropped it.

use domain::key::KeyId;
use domain::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// How long a cached verification is trusted without looking at the stored key again; bounds
/// how late a revocation made by *another* process is noticed.
pub const TTL_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    digest: [u8; 32],
    pub key_id: KeyId,
    pub name: String,
    pub expires_at: Option<Timestamp>,
    cached_at: Timestamp,
}

#[derive(Debug)]
pub(crate) struct VerifyCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<[u8; 32], Entry>,
    order: VecDeque<[u8; 32]>,
    /// Moved by every invalidation (of one key or of all), under the same lock as the inserts.
    generation: u64,
}

impl VerifyCache {
    pub fn new(capacity: usize) -> Self {
        VerifyCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A live entry for this digest, if any.
    pub fn get(&self, digest: &[u8; 32], now: Timestamp) -> Option<Entry> {
        let inner = self.inner.lock().ok()?;
        let e = inner.map.get(digest)?;
        let same: bool = e.digest.ct_eq(digest).into();
        let fresh = now.millis() - e.cached_at.millis() < TTL_MS;
        let unexpired = e.expires_at.is_none_or(|x| x > now);
        (same && fresh && unexpired).then(|| e.clone())
    }

    /// The current generation: read it before reading the key record whose verification may
    /// be cached, and pass it to [`VerifyCache::insert`].
    pub fn generation(&self) -> Option<u64> {
        self.inner.lock().ok().map(|i| i.generation)
    }

    /// Caches a successful verification, unless an invalidation happened since `generation`
    /// was read (the record it was checked against may be stale). Whether it was cached.
    pub fn insert(
        &self,
        generation: Option<u64>,
        digest: [u8; 32],
        key_id: KeyId,
        name: String,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        if generation != Some(inner.generation) {
            return false;
        }
        if inner.map.len() >= self.capacity {
            while let Some(old) = inner.order.pop_front() {
                if inner.map.remove(&old).is_some() {
                    break;
                }
            }
        }
        if inner
            .map
            .insert(
                digest,
                Entry {
                    digest,
                    key_id,
                    name,
                    expires_at,
                    cached_at: now,
                },
            )
            .is_none()
        {
            inner.order.push_back(digest);
        }
        true
    }

    /// Forgets every verification of `key_id` (on revoke and rotate).
    pub fn invalidate(&self, key_id: &KeyId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation = inner.generation.wrapping_add(1);
            inner.map.retain(|_, e| &e.key_id != key_id);
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|d| map.contains_key(d));
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation = inner.generation.wrapping_add(1);
            inner.map.clear();
            inner.order.clear();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.map.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> KeyId {
        KeyId::parse(&format!("{:016}", n)).unwrap()
    }

    #[test]
    fn bounded_expiring_and_invalidated_by_key() {
        let c = VerifyCache::new(2);
        let t = Timestamp::from_millis(1_000_000);
        c.insert(c.generation(), [1; 32], id(1), "a".into(), None, t);
        c.insert(c.generation(), [2; 32], id(2), "b".into(), None, t);
        c.insert(c.generation(), [3; 32], id(3), "c".into(), None, t);
        assert_eq!(c.len(), 2, "the cache must stay within its capacity");
        assert!(
            c.get(&[1; 32], t).is_none(),
            "the oldest entry is evicted first"
        );
        assert!(c.get(&[3; 32], t).is_some());
        assert!(
            c.get(&[3; 32], t.plus_secs(61)).is_none(),
            "entries expire after the TTL"
        );
        c.invalidate(&id(3));
        assert!(
            c.get(&[3; 32], t).is_none(),
            "revocation must drop the entry"
        );
        c.insert(
            c.generation(),
            [4; 32],
            id(4),
            "d".into(),
            Some(t.plus_secs(1)),
            t,
        );
        assert!(
            c.get(&[4; 32], t.plus_secs(2)).is_none(),
            "an expired key is not served from cache"
        );
    }

    #[test]
    fn nothing_invalidated_since_the_generation_was_read_is_cached() {
        let c = VerifyCache::new(10);
        let t = Timestamp::from_millis(1_000_000);
        let before = c.generation();
        c.invalidate(&id(9));
        assert!(
            !c.insert(before, [1; 32], id(1), "a".into(), None, t),
            "an invalidation (of any key) since the record was read: not cached"
        );
        assert!(c.get(&[1; 32], t).is_none());
        let before = c.generation();
        c.clear();
        assert!(!c.insert(before, [1; 32], id(1), "a".into(), None, t));
        assert!(c.insert(c.generation(), [1; 32], id(1), "a".into(), None, t));
        assert!(c.get(&[1; 32], t).is_some());
    }
}
