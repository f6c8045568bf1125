//! State that belongs to federation keys alone, held by a `LocalPortal`: the verification cache,
//! the index of known key ids, usage not yet written, the argon2id permits, and the listener
//! told about revocations (so other processes can forget a key).

use super::hashing::Hashing;
use super::known_keys::KnownKeys;
use super::local::Usage;
use super::verify_cache::VerifyCache;
use crate::local::LocalPortal;
use domain::key::KeyId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// Told the id of every key revoked, rotated or whose overlap ended here, after the commit —
/// so other processes' verification caches can forget it (the server publishes it on Redis).
pub type KeyListener = Arc<dyn Fn(&KeyId) + Send + Sync>;

pub(crate) struct KeyState {
    pub(crate) cache: VerifyCache,
    pub(crate) touched: Mutex<HashMap<KeyId, Usage>>,
    pub(crate) known_keys: tokio::sync::Mutex<KnownKeys>,
    listener: RwLock<Option<KeyListener>>,
    /// Permits to run argon2id (one per core: each run takes 19 MiB), and the bounded queue.
    pub(crate) hashing: Hashing,
    /// Tests only: where the next cold verification stops, once, after reading the key record.
    #[cfg(test)]
    pub(crate) pause: Mutex<Option<Pause>>,
}

/// Tests only: a verification that reaches the pause says so on `reached`, then waits for
/// `resume` — so a test can run a revocation exactly between the read and the hashing.
#[cfg(test)]
pub(crate) struct Pause {
    pub(crate) reached: tokio::sync::oneshot::Sender<()>,
    pub(crate) resume: tokio::sync::oneshot::Receiver<()>,
}

impl KeyState {
    pub(crate) fn new() -> Self {
        KeyState {
            cache: VerifyCache::new(10_000),
            touched: Mutex::new(HashMap::new()),
            known_keys: tokio::sync::Mutex::new(KnownKeys::default()),
            listener: RwLock::new(None),
            hashing: Hashing::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2),
            ),
            #[cfg(test)]
            pause: Mutex::new(None),
        }
    }

    /// Tests only: stops here if a test asked for a pause (see [`Pause`]).
    #[cfg(test)]
    pub(crate) async fn pause_after_read(&self) {
        let pause = self.pause.lock().ok().and_then(|mut p| p.take());
        if let Some(Pause { reached, resume }) = pause {
            let _ = reached.send(());
            let _ = resume.await;
        }
    }
}

impl LocalPortal {
    /// Calls `listener` after each commit that revokes, rotates or ends the overlap of a key.
    pub fn set_key_listener(&self, listener: KeyListener) {
        if let Ok(mut l) = self.key_state.listener.write() {
            *l = Some(listener);
        }
    }

    /// Bounds the queue of cold verifications waiting for an argon2id run: past `max_waiting`
    /// waiters, or after waiting `max_wait`, a verification answers [`Error::Unavailable`].
    ///
    /// [`Error::Unavailable`]: domain::error::Error::Unavailable
    pub fn set_hashing_queue(&self, max_waiting: usize, max_wait: std::time::Duration) {
        self.key_state.hashing.set_bounds(max_waiting, max_wait);
    }

    /// Forgets cached verifications of `id`: another process changed that key.
    pub fn forget_key(&self, id: &KeyId) {
        self.key_state.cache.invalidate(id);
    }

    /// Forgets every cached verification (e.g. after missing change notifications).
    pub fn forget_all_keys(&self) {
        self.key_state.cache.clear();
    }

    pub(crate) fn key_changed(&self, id: &KeyId) {
        self.key_state.cache.invalidate(id);
        let listener = self.key_state.listener.read().ok().and_then(|l| l.clone());
        if let Some(listener) = listener {
            listener(id);
        }
    }
}
