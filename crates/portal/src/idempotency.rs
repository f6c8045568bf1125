//! Idempotent writes: a retry with the same idempotency key and the same input has exactly one
//! effect and gets the first result back; the same key with other input is a `Conflict`.
//!
//! The first result is stored sealed (it may hold a one-time key), in the same transaction as
//! the write, under `sha256(actor | operation | key)`. Records are honoured for 24 hours.

use crate::local::{store_err, LocalPortal};
use domain::audit::AuditDraft;
use domain::envelope::Binding;
use domain::error::{Error, Result};
use domain::Actor;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::Future;
use store::{AuditBatch, IdempotencyRecord, StoreError, WriteTx};

pub(crate) const RETENTION_MS: i64 = 24 * 3_600_000;

struct Claim {
    id: String,
    request_hash: String,
}

fn binding(id: &str) -> Binding<'_> {
    Binding {
        table: "idempotency",
        column: "response",
        row_id: id,
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::invalid(
            "idempotency_key",
            "must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
        ));
    }
    Ok(())
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
        let sealed = self.seal(binding(&claim.id), &response)?;
        let record = IdempotencyRecord {
            id: claim.id.clone(),
            request_hash: claim.request_hash.clone(),
            response_kv: i64::from(domain::envelope::sealed_version(&sealed).unwrap_or(0)),
            response_sealed: sealed,
            created_at: now,
        };
        let outcome = match tx.put_idempotency(&record).await {
            Ok(()) => tx.commit(audit).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => Ok(value),
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
        if rec.created_at.millis() < self.now().millis() - RETENTION_MS {
            return Ok(None);
        }
        if rec.request_hash != claim.request_hash {
            return Err(Error::conflict("this idempotency key was already used with different parameters; use a new key for a new request"));
        }
        let bytes = self
            .open_sealed(binding(&claim.id), &rec.response_sealed)
            .await?;
        serde_json::from_slice(bytes.expose())
            .map(Some)
            .map_err(|e| Error::Internal(format!("the stored result cannot be read: {e}")))
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
