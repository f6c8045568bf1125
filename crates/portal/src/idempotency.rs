//! Idempotent writes: a retry with the same idempotency key and the same input has exactly one
//! effect and gets the first result back; the same key with other input is a `Conflict`.
//!
//! The first result is stored in the same transaction as the write, under
//! `sha256(actor | operation | key)`, for the retry window only (24 hours). It may hold a
//! one-time key, so it is locked twice: under a key derived from the caller's idempotency key
//! (`domain::envelope::lock`: HKDF-SHA256 with a random salt per record, AES-256-GCM), which the
//! database never sees, and that ciphertext sealed under the master key like every secret (so
//! master-key rotation re-seals it). A stolen database, even with the master key, cannot open a
//! record without the idempotency key only the caller has. Expired records are never replayed,
//! and are deleted: each idempotent write sweeps one batch of them, and
//! [`LocalPortal::sweep_idempotency`] sweeps them all (for a scheduled job).

use crate::local::{store_err, LocalPortal};
use domain::audit::AuditDraft;
use domain::envelope::{self, Binding};
use domain::error::{Error, Result};
use domain::{Actor, Timestamp};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::Future;
use store::{AuditBatch, IdempotencyRecord, StoreError, WriteTx};

/// How long a stored result is replayed (the retry window); after it, the record is deleted.
const RETENTION_MS: i64 = 24 * 3_600_000;
/// How many expired records one sweep batch deletes (one batch after every idempotent write).
const SWEEP_BATCH: u32 = 100;

struct Claim {
    id: String,
    request_hash: String,
    /// The caller's idempotency key: what the stored result is locked under. Never stored.
    key: String,
}

/// Records created before this are expired at `now`.
fn expired_before(now: Timestamp) -> Timestamp {
    Timestamp::from_millis(now.millis() - RETENTION_MS)
}

fn binding(id: &str) -> Binding<'_> {
    Binding {
        table: "idempotency",
        column: "response",
        row_id: id,
    }
}

fn check_key(key: &str) -> Result<()> {
    domain::validate::check_idempotency_key(key).map_err(|m| Error::invalid("idempotency_key", m))
}

impl LocalPortal {
    /// Like [`LocalPortal::write`], made idempotent by `key` when one is given.
    pub(crate) async fn write_idempotent<S, R, F, Fut>(
        &self,
        actor: &Actor,
        operation: &str,
        key: Option<&str>,
        request: &R,
        work: F,
    ) -> Result<S>
    where
        S: Serialize + DeserializeOwned,
        R: Serialize,
        F: FnOnce(Box<dyn WriteTx>) -> Fut,
        Fut: Future<Output = Result<(Box<dyn WriteTx>, S, Option<AuditBatch>)>>,
    {
        let Some(key) = key else {
            return self.write(actor, work).await;
        };
        let claim = claim(actor, operation, Some(key), request)?;
        if let Some(replayed) = self.replay(&claim).await? {
            return Ok(replayed);
        }
        let now = self.now();
        let tx = self.store.begin(actor, now).await.map_err(store_err)?;
        let (mut tx, value, audit) = work(tx).await?;
        let Some(audit) = audit else {
            return Ok(value);
        };
        let response = serde_json::to_vec(&value)
            .map_err(|e| Error::Internal(format!("cannot store the result: {e}")))?;
        let locked = envelope::lock(
            &mut rand::rngs::OsRng,
            claim.key.as_bytes(),
            &claim.id,
            &response,
        )
        .map_err(|e| Error::Internal(format!("locking the result failed: {e}")))?;
        let sealed = self.seal(binding(&claim.id), &locked)?;
        let record = IdempotencyRecord {
            id: claim.id.clone(),
            request_hash: claim.request_hash.clone(),
            response_kv: i64::from(domain::envelope::sealed_version(&sealed).unwrap_or(0)),
            response_sealed: sealed,
            created_at: now,
        };
        let outcome = match tx.put_idempotency(&record, expired_before(now)).await {
            Ok(()) => tx.commit(audit).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                self.sweep_one_batch().await;
                Ok(value)
            }
            // A concurrent duplicate committed first: ours rolled back, replay theirs.
            Err(StoreError::Conflict(_)) => self.replay(&claim).await?.ok_or_else(|| {
                Error::conflict(
                    "a request with this idempotency key is still in progress; retry shortly",
                )
            }),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Runs a long operation (one that spans many transactions) at most once per idempotency
    /// key: a retry after it finished gets its result back. The result is remembered in its own
    /// transaction, with `audit` describing the completed operation.
    pub(crate) async fn once<S, R, Fut>(
        &self,
        actor: &Actor,
        operation: &str,
        key: Option<&str>,
        request: &R,
        run: Fut,
        audit: impl FnOnce(&S) -> AuditDraft,
    ) -> Result<S>
    where
        S: Serialize + DeserializeOwned + Send,
        R: Serialize,
        Fut: Future<Output = Result<S>>,
    {
        if key.is_none() {
            return run.await;
        }
        if let Some(replayed) = self.replay(&claim(actor, operation, key, request)?).await? {
            return Ok(replayed);
        }
        let value = run.await?;
        let draft = audit(&value);
        self.write_idempotent(actor, operation, key, request, |tx| async move {
            Ok((tx, value, Some(AuditBatch::one(draft))))
        })
        .await
    }

    async fn replay<S: DeserializeOwned>(&self, claim: &Claim) -> Result<Option<S>> {
        let Some(rec) = self.store.idempotency(&claim.id).await.map_err(store_err)? else {
            return Ok(None);
        };
        if rec.created_at < expired_before(self.now()) {
            return Ok(None); // expired: never replayed (the write replaces it)
        }
        if rec.request_hash != claim.request_hash {
            return Err(Error::conflict("this idempotency key was already used with different parameters; use a new key for a new request"));
        }
        let opened = self
            .open_sealed(binding(&claim.id), &rec.response_sealed)
            .await?;
        // Records stored before responses were locked hold the JSON itself; they expire too.
        let bytes = if envelope::is_locked(opened.expose()) {
            envelope::unlock(claim.key.as_bytes(), &claim.id, opened.expose()).map_err(|e| {
                Error::Internal(format!("the stored result cannot be unlocked: {e}"))
            })?
        } else {
            opened
        };
        serde_json::from_slice(bytes.expose())
            .map(Some)
            .map_err(|e| Error::Internal(format!("the stored result cannot be read: {e}")))
    }

    /// Deletes every expired idempotency record — its retry window is over, and it may hold a
    /// one-time key — in batches, and returns how many it deleted. Idempotent writes already
    /// sweep one batch each, so no schedule is needed; a maintenance job may call this too.
    pub async fn sweep_idempotency(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self
                .store
                .delete_expired_idempotency(expired_before(self.now()), SWEEP_BATCH)
                .await
                .map_err(store_err)?;
            total += n;
            if n < u64::from(SWEEP_BATCH) {
                return Ok(total);
            }
        }
    }

    /// One bounded sweep batch, after an idempotent write. Best effort: a failure is logged and
    /// the next write tries again.
    async fn sweep_one_batch(&self) {
        if let Err(e) = self
            .store
            .delete_expired_idempotency(expired_before(self.now()), SWEEP_BATCH)
            .await
        {
            tracing::warn!(error = %e, "sweeping expired idempotency records failed");
        }
    }
}

fn claim<R: Serialize>(
    actor: &Actor,
    operation: &str,
    key: Option<&str>,
    request: &R,
) -> Result<Claim> {
    let key = key.unwrap_or_default();
    check_key(key)?;
    Ok(Claim {
        key: key.to_string(),
        id: hex_sha256(&format!("{}\0{operation}\0{key}", actor.id)),
        request_hash: hex_sha256(&format!(
            "{operation}\0{}",
            serde_json::to_string(request).unwrap_or_default()
        )),
    })
}

pub(crate) fn hex_sha256(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}
