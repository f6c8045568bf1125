//! `impl Secrets for LocalPortal`: master-key status and rotation (re-encrypting every sealed
//! value in resumable, audited batches; idempotent by key like any write).

use super::{MasterKeyReport, MasterKeyRotation, Progress, Secrets};
use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::envelope::Binding;
use domain::error::{Error, Result};
use domain::model::MasterKeyStatus;
use domain::{Actor, Permission};
use store::{AuditBatch, MasterKeyRegistration, SEALED_COLUMNS};

#[async_trait]
impl Secrets for LocalPortal {
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.authorize(actor, Permission::ManageSecrets, None)?;
        self.refresh_master_keys_if_stale().await?;
        self.status_now().await
    }

    async fn rotate_master_key(
        &self,
        actor: &Actor,
        opts: MasterKeyRotation,
        progress: Progress<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<MasterKeyReport> {
        self.authorize(actor, Permission::ManageSecrets, None)?;
        if !(1..=domain::model::ROTATION_BATCH_MAX).contains(&opts.batch_size) {
            return Err(Error::invalid(
                "batch_size",
                format!(
                    "must be between 1 and {}",
                    domain::model::ROTATION_BATCH_MAX
                ),
            ));
        }
        if opts.dry_run {
            self.refresh_master_keys_if_stale().await?;
            return Ok(MasterKeyReport {
                added_version: None,
                resealed: 0,
                status: self.status_now().await?,
            });
        }
        let request = serde_json::json!({
            "batch_size": opts.batch_size,
            "max_batches": opts.max_batches,
        });
        // A rotation spans many transactions: its report is remembered once it has finished,
        // so a retry with the same key returns it instead of starting another rotation.
        self.once(
            actor,
            "secrets.rotate_master_key",
            idempotency_key,
            &request,
            self.run_rotation(actor, opts, progress),
            |report: &MasterKeyReport| {
                AuditDraft::change(
                    "master_key",
                    &report.status.current_version.to_string(),
                    "rotation_completed",
                    None,
                    Some(&crate::local::json(report)),
                )
            },
        )
        .await
    }
}

impl LocalPortal {
    /// One rotation at a time across every process on the database: the store's rotation lock
    /// is held for the whole run, across its many transactions.
    async fn run_rotation(
        &self,
        actor: &Actor,
        opts: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
        let lock = self
            .store
            .try_rotation_lock()
            .await
            .map_err(store_err)?
            .ok_or_else(|| {
                Error::conflict(
                    "another master-key rotation is running on this database (another instance, or padmin elsewhere). \
                     Wait for it to finish (`padmin secrets status` shows what is left), then run the rotation again only if something is still behind",
                )
            })?;
        let result = self.run_rotation_locked(actor, opts, progress).await;
        lock.release().await;
        result
    }

    async fn run_rotation_locked(
        &self,
        actor: &Actor,
        opts: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
        // What another process did before we got the lock counts: a version it added to a
        // shared key source is picked up, and a key set the database has moved past is refused
        // (instead of adding a version of our own under the same number).
        self.reload_master_keys().await?;
        let status = self.status_now().await?;
        // Nothing behind: start a rotation by adding a version. Something behind: an earlier
        // run was interrupted (or a version was added outside), so resume it.
        let added_version = if status.behind == 0 {
            Some(self.add_master_key_version(actor).await?)
        } else {
            None
        };
        let keys = self.master_keys()?;
        let current = keys.current();
        let total = self.status_now().await?.behind;
        let mut done = 0u64;
        let mut batches = 0u32;
        progress(0, total);
        let mut passes = 0;
        'passes: loop {
            for col in SEALED_COLUMNS {
                loop {
                    if opts.max_batches.is_some_and(|m| batches >= m) {
                        break 'passes;
                    }
                    let rows = self
                        .store
                        .sealed_below(col, current, opts.batch_size)
                        .await
                        .map_err(store_err)?;
                    if rows.is_empty() {
                        break;
                    }
                    let mut resealed = Vec::with_capacity(rows.len());
                    for (id, sealed) in rows {
                        let binding = Binding {
                            table: col.table,
                            column: col.column,
                            row_id: &id,
                        };
                        let plain = keys.open(binding, &sealed).map_err(|e| {
                            Error::Unavailable(format!(
                                "{}.{} row {id}: {e}",
                                col.table, col.column
                            ))
                        })?;
                        let new = keys
                            .seal(&mut rand::rngs::OsRng, binding, plain.expose())
                            .map_err(|e| Error::Internal(e.to_string()))?;
                        resealed.push((id, sealed, new));
                    }
                    let count = resealed.len() as u64;
                    let n = self
                        .write(actor, |mut tx| async move {
                            let mut n = 0u64;
                            // Compare-and-set on the value read: one replaced meanwhile (a new
                            // secret) is left as it is, never reverted to what was read.
                            for (id, old, new) in &resealed {
                                if tx.reseal(col, id, old, new, current).await.map_err(store_err)? {
                                    n += 1;
                                }
                            }
                            let after = serde_json::json!({"table": col.table, "column": col.column, "resealed": n, "version": current});
                            let audit = AuditDraft::change("master_key", &current.to_string(), "reseal", None, Some(&after));
                            Ok((tx, n, Some(AuditBatch::one(audit))))
                        })
                        .await?;
                    done += n;
                    batches += 1;
                    progress(done.min(total), total);
                    if n < count {
                        tracing::info!(
                            skipped = count - n,
                            "some values changed meanwhile; they are read again"
                        );
                    }
                }
            }
            passes += 1;
            // A write that sealed under the old version just before the new one was registered
            // may have committed in a column already walked: walk again (a few times at most;
            // the status then reports what is left).
            if passes >= 3 || self.status_now().await?.behind == 0 {
                break;
            }
        }
        Ok(MasterKeyReport {
            added_version,
            resealed: done,
            status: self.status_now().await?,
        })
    }
}

impl LocalPortal {
    async fn status_now(&self) -> Result<MasterKeyStatus> {
        let current = self.master_keys()?.current();
        let (mut behind, mut total) = (0, 0);
        for col in SEALED_COLUMNS {
            let (b, t) = self
                .store
                .count_sealed(col, current)
                .await
                .map_err(store_err)?;
            behind += b;
            total += t;
        }
        Ok(MasterKeyStatus {
            current_version: current,
            behind,
            total,
        })
    }

    /// Adds a version (under the rotation lock): saved to the key source first — a key that
    /// sealed anything must never be lost — then registered; only then used.
    async fn add_master_key_version(&self, actor: &Actor) -> Result<u32> {
        let source = self.key_source.clone().ok_or_else(|| {
            Error::conflict("this portal was opened with a fixed master key set: add a version to it and run the rotation again")
        })?;
        let previous = self.master_keys()?;
        let mut keys = previous.clone();
        let version = keys.add_version(&mut rand::rngs::OsRng);
        source.save(&keys)?;
        let fingerprint = keys.fingerprint(version).unwrap_or_default();
        let fp = fingerprint.clone();
        let registered = self
            .write(actor, |mut tx| async move {
                let registered = tx
                    .register_master_key(version, &fp)
                    .await
                    .map_err(store_err)?;
                let after = serde_json::json!({"version": version, "fingerprint": fp});
                let audit = AuditDraft::change(
                    "master_key",
                    &version.to_string(),
                    "add",
                    None,
                    Some(&after),
                );
                // Registered meanwhile by another process opening the new key set: nothing to do.
                let audit =
                    (registered == MasterKeyRegistration::Inserted).then(|| AuditBatch::one(audit));
                Ok((tx, registered, audit))
            })
            .await?;
        match registered {
            MasterKeyRegistration::Inserted | MasterKeyRegistration::AlreadyRegistered => {
                self.set_master_keys(keys)?;
                Ok(version)
            }
            MasterKeyRegistration::Mismatch { registered } => {
                // Nothing was sealed under our key: take it back out of the source, unless the
                // source changed meanwhile.
                if source
                    .reload()
                    .is_ok_and(|now| now.fingerprint(version).as_deref() == Some(&fingerprint))
                {
                    source.save(&previous)?;
                }
                Err(Error::conflict(format!(
                    "master key version {version} was added meanwhile by another process with another key (fingerprint {registered} in the database, {fingerprint} here), \
                     outside the rotation lock. Nothing was re-encrypted with this one. Import the key set of the process that added version {version} \
                     into {}, then run the rotation again to finish it",
                    source.describe()
                )))
            }
        }
    }
}
