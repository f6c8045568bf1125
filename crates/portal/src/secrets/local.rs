//! `impl Secrets for LocalPortal`: master-key status and rotation (re-encrypting every sealed
//! value in resumable, audited batches; idempotent by key like any write).

use super::{MasterKeyReport, MasterKeyRotation, Progress, Secrets};
use crate::local::{store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::envelope::{sealed_version, Binding};
use domain::error::{Error, Result};
use domain::model::MasterKeyStatus;
use domain::{Actor, Permission};
use store::{AuditBatch, SEALED_COLUMNS};

#[async_trait]
impl Secrets for LocalPortal {
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.authorize(actor, Permission::ManageSecrets, None)?;
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
        if opts.batch_size == 0 || opts.batch_size > 10_000 {
            return Err(Error::invalid("batch_size", "must be between 1 and 10000"));
        }
        if opts.dry_run {
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
    async fn run_rotation(
        &self,
        actor: &Actor,
        opts: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
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
        'columns: for col in SEALED_COLUMNS {
            loop {
                if opts.max_batches.is_some_and(|m| batches >= m) {
                    break 'columns;
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
                    let old =
                        sealed_version(&sealed).map_err(|e| Error::Internal(e.to_string()))?;
                    let plain = keys.open(binding, &sealed).map_err(|e| {
                        Error::Unavailable(format!("{}.{} row {id}: {e}", col.table, col.column))
                    })?;
                    let new = keys
                        .seal(&mut rand::rngs::OsRng, binding, plain.expose())
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    resealed.push((id, old, new));
                }
                let count = resealed.len() as u64;
                let n = self
                    .write(actor, |mut tx| async move {
                        let mut n = 0u64;
                        for (id, old, new) in &resealed {
                            if tx.reseal(col, id, *old, new, current).await.map_err(store_err)? {
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
                        "some values were re-encrypted concurrently"
                    );
                }
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

    async fn add_master_key_version(&self, actor: &Actor) -> Result<u32> {
        let source = self.key_source.clone().ok_or_else(|| {
            Error::conflict("this portal was opened with a fixed master key set: add a version to it and run the rotation again")
        })?;
        let mut keys = self.master_keys()?;
        let version = keys.add_version(&mut rand::rngs::OsRng);
        // Save first: a key that sealed anything must never be lost.
        source.save(&keys)?;
        let fingerprint = keys.fingerprint(version).unwrap_or_default();
        *self
            .master
            .write()
            .map_err(|_| Error::Internal("master key lock poisoned".into()))? = keys;
        self.write(actor, |mut tx| async move {
            let added = tx
                .register_master_key(version, &fingerprint)
                .await
                .map_err(store_err)?;
            let after = serde_json::json!({"version": version, "fingerprint": fingerprint});
            let audit = AuditDraft::change(
                "master_key",
                &version.to_string(),
                "add",
                None,
                Some(&after),
            );
            // Registered meanwhile by another process opening the new key set: nothing to do.
            Ok((tx, (), added.then(|| AuditBatch::one(audit))))
        })
        .await?;
        Ok(version)
    }
}
