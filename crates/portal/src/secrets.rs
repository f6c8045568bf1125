//! Master keys: where they come from, and their rotation (re-encrypting every sealed value in
//! resumable batches).

use crate::local::{store_err, LocalPortal};
use crate::{MasterKeyReport, MasterKeyRotation, Progress};
use domain::audit::AuditDraft;
use domain::envelope::{sealed_version, Binding, MasterKeySet};
use domain::error::{Error, Result};
use domain::model::MasterKeyStatus;
use domain::{Actor, Permission, Sensitive};
use std::path::PathBuf;
use store::{AuditBatch, SEALED_COLUMNS};

/// Where the master key set lives. The OS keychain source is in the front ends (it needs the
/// platform's credential store); environment and file sources are here.
pub trait MasterKeySource: Send + Sync + std::fmt::Debug {
    /// Says where the keys are, for messages ("the OS keychain", "PORTAL_MASTER_KEY"…).
    fn describe(&self) -> String;
    /// Loads the key set, creating it on first use when the source can.
    fn load(&self) -> Result<MasterKeySet>;
    /// Stores a key set with a new version.
    fn save(&self, keys: &MasterKeySet) -> Result<()>;
}

/// A key set given as text, e.g. by `PORTAL_MASTER_KEY` (read-only).
#[derive(Debug)]
pub struct StaticKeys {
    origin: String,
    text: Sensitive<String>,
}

impl StaticKeys {
    pub fn new(origin: &str, text: Sensitive<String>) -> Self {
        StaticKeys {
            origin: origin.to_string(),
            text,
        }
    }
}

impl MasterKeySource for StaticKeys {
    fn describe(&self) -> String {
        self.origin.clone()
    }
    fn load(&self) -> Result<MasterKeySet> {
        MasterKeySet::parse(self.text.expose()).map_err(|e| {
            Error::Unavailable(format!(
                "{}: {e}. Expected `1:<base64 of 32 bytes>[,2:…]`",
                self.origin
            ))
        })
    }
    fn save(&self, _: &MasterKeySet) -> Result<()> {
        Err(Error::Conflict(format!(
            "the master key comes from {}, which cannot be changed from here: add a new version to it (`1:…,2:<new key>`) and run the rotation again",
            self.origin
        )))
    }
}

/// A key set in a file readable only by its owner, created on first use (servers, CI).
#[derive(Debug)]
pub struct FileKeys {
    path: PathBuf,
}

impl FileKeys {
    pub fn new(path: PathBuf) -> Self {
        FileKeys { path }
    }
}

impl MasterKeySource for FileKeys {
    fn describe(&self) -> String {
        format!("the key file {}", self.path.display())
    }
    fn load(&self) -> Result<MasterKeySet> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => MasterKeySet::parse(&text)
                .map_err(|e| Error::Unavailable(format!("{}: {e}", self.describe()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = MasterKeySet::generate(&mut rand::rngs::OsRng);
                self.save(&keys)?;
                Ok(keys)
            }
            Err(e) => Err(Error::Unavailable(format!(
                "cannot read {}: {e}",
                self.describe()
            ))),
        }
    }
    fn save(&self, keys: &MasterKeySet) -> Result<()> {
        write_private(&self.path, keys.to_secret_text().expose())
            .map_err(|e| Error::Unavailable(format!("cannot write {}: {e}", self.describe())))
    }
}

/// Writes a file only its owner can read, atomically (write a sibling, then rename).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl LocalPortal {
    pub(crate) async fn master_key_status_impl(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.authorize(actor, Permission::ManageSecrets, None)?;
        self.status_now().await
    }

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

    pub(crate) async fn rotate_master_key_impl(
        &self,
        actor: &Actor,
        opts: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
        self.authorize(actor, Permission::ManageSecrets, None)?;
        if opts.batch_size == 0 || opts.batch_size > 10_000 {
            return Err(Error::invalid("batch_size", "must be between 1 and 10000"));
        }
        let status = self.status_now().await?;
        if opts.dry_run {
            return Ok(MasterKeyReport {
                added_version: None,
                resealed: 0,
                status,
            });
        }
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

    async fn add_master_key_version(&self, actor: &Actor) -> Result<u32> {
        let source = self.key_source.clone().ok_or_else(|| {
            Error::Conflict("this portal was opened with a fixed master key set: add a version to it and run the rotation again".into())
        })?;
        let mut keys = self.master_keys()?;
        let version = keys.add_version(&mut rand::rngs::OsRng);
        // Save first: a key that sealed anything must never be lost.
        source.save(&keys)?;
        let fingerprint = keys.fingerprint(version).unwrap_or_default();
        *self
            .keys
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
