//! The argon2id runs of federation keys: at most one per core at a time (each takes 19 MiB), and
//! a bounded queue in front of them. A cold verification that finds the queue full, or waits
//! longer than allowed, is told "busy, retry shortly" (503 with `Retry-After` over HTTP) instead
//! of joining a queue that a flood of wrong secrets could make endless. The permit moves into
//! the blocking task, so a run whose caller gave up still counts until it ends: abandoned work
//! cannot pile up beyond the permits.

use domain::error::{Error, Result};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Waiting verifications allowed by default (beyond the ones hashing).
pub const DEFAULT_QUEUE: usize = 32;
/// The longest a verification waits for a permit by default.
pub const DEFAULT_WAIT_MS: u64 = 2_000;

#[derive(Debug)]
pub(crate) struct Hashing {
    pub(crate) permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: AtomicUsize,
    max_wait_ms: AtomicU64,
}

/// Counts one waiter for as long as it lives.
struct Waiter<'a>(&'a AtomicUsize);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn busy() -> Error {
    Error::Unavailable(
        "the key verifier is busy: retry in a second (cached verifications are unaffected)".into(),
    )
}

fn closed() -> Error {
    Error::Internal("the key service is shutting down".into())
}

impl Hashing {
    pub(crate) fn new(permits: usize) -> Self {
        Hashing {
            permits: Arc::new(Semaphore::new(permits)),
            waiting: AtomicUsize::new(0),
            max_waiting: AtomicUsize::new(DEFAULT_QUEUE),
            max_wait_ms: AtomicU64::new(DEFAULT_WAIT_MS),
        }
    }

    pub(crate) fn set_bounds(&self, max_waiting: usize, max_wait: Duration) {
        self.max_waiting.store(max_waiting, Ordering::SeqCst);
        self.max_wait_ms
            .store(max_wait.as_millis() as u64, Ordering::SeqCst);
    }

    /// A permit for a verification: at once when one is free, else after a bounded wait in a
    /// bounded queue, else [`Error::Unavailable`].
    pub(crate) async fn for_verification(&self) -> Result<OwnedSemaphorePermit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.permits.is_closed() {
            return Err(closed());
        }
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiter = Waiter(&self.waiting);
        if ahead >= self.max_waiting.load(Ordering::SeqCst) {
            return Err(busy());
        }
        let wait = Duration::from_millis(self.max_wait_ms.load(Ordering::SeqCst));
        match tokio::time::timeout(wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(busy()),
        }
    }

    /// A permit for minting a key (an admin's request, already rate limited): waits its turn.
    pub(crate) async fn for_minting(&self) -> Result<OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_and_a_long_wait_answers_busy_in_time() {
        let h = Arc::new(Hashing::new(1));
        h.set_bounds(1, Duration::from_millis(200));
        let held = h.for_verification().await.expect("the one permit");
        let waiting = {
            let h = h.clone();
            tokio::spawn(async move { h.for_verification().await.map(drop) })
        };
        while h.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let full = h.for_verification().await.expect_err("the queue holds one");
        assert_eq!(full.code(), domain::ErrorCode::Unavailable);
        let waited = waiting
            .await
            .expect("joins")
            .expect_err("no permit within 200 ms");
        assert_eq!(waited.code(), domain::ErrorCode::Unavailable);
        assert_eq!(
            h.waiting.load(Ordering::SeqCst),
            0,
            "gone waiters leave the queue"
        );
        drop(held);
        assert!(
            h.for_verification().await.is_ok(),
            "a freed permit is had at once"
        );
    }
}
