//! A bounded in-memory cache of recent successful verifications, so a warm verify does not
//! recompute argon2id. Keyed by the SHA-256 of the presented key (never the key itself);
//! entries live at most [`TTL_MS`] and are dropped when their key is revoked or rotated here.

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

    pub fn insert(
        &self,
        digest: [u8; 32],
        key_id: KeyId,
        name: String,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
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
    }

    /// Forgets every verification of `key_id` (on revoke and rotate).
    pub fn invalidate(&self, key_id: &KeyId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.map.retain(|_, e| &e.key_id != key_id);
            let Inner { map, order } = &mut *inner;
            order.retain(|d| map.contains_key(d));
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
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
        c.insert([1; 32], id(1), "a".into(), None, t);
        c.insert([2; 32], id(2), "b".into(), None, t);
        c.insert([3; 32], id(3), "c".into(), None, t);
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
        c.insert([4; 32], id(4), "d".into(), Some(t.plus_secs(1)), t);
        assert!(
            c.get(&[4; 32], t.plus_secs(2)).is_none(),
            "an expired key is not served from cache"
        );
    }
}
