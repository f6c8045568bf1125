//! `LocalPortal`: the Portal over a Store — shared plumbing (authorization, transactions,
//! sealing, error mapping). Each capability implements its trait for it in its own module
//! (`keys/local.rs`, `oidc/local.rs`, …).

use crate::jobs::WebhookSender;
use crate::keys::state::KeyState;
use crate::oidc::JsonFetcher;
use crate::secrets::MasterKeySource;
use domain::audit::AuditDraft;
use domain::envelope::{Binding, EnvelopeError, MasterKeySet};
use domain::error::{Error, Result};
use domain::{Actor, Clock, Permission, Sensitive, Timestamp};
use std::future::Future;
use std::sync::{Arc, RwLock};
use store::{AuditBatch, MasterKeyRegistration, Store, StoreError, WriteTx};
use uuid::Uuid;

/// The Portal over a [`Store`]: the embedded and direct profiles, and the server's engine.
pub struct LocalPortal {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) master: RwLock<MasterKeySet>,
    pub(crate) key_source: Option<Arc<dyn MasterKeySource>>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Fetches public documents for *Test connection* (none: the test says it cannot run).
    pub(crate) fetcher: Option<Arc<dyn JsonFetcher>>,
    /// Sends escalation webhooks (none: deliveries wait for a process that has one).
    pub(crate) webhooks: Option<Arc<dyn WebhookSender>>,
    pub(crate) key_state: KeyState,
    /// The active incidents and their timelines, for the overview's SLA counts.
    pub(crate) active: crate::incidents::ActiveCache,
    /// Analytics answers, kept while the snapshots they were read from are current.
    pub(crate) chart_cache: RwLock<Arc<dyn crate::analytics::ChartCache>>,
}

impl std::fmt::Debug for LocalPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPortal")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl LocalPortal {
    /// Opens the portal over `store` with the master keys of `source`. Checks that the keys are
    /// the ones this database was sealed with, and registers any new version (audited).
    pub async fn open(
        store: Arc<dyn Store>,
        source: Arc<dyn MasterKeySource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let keys = source.load()?;
        let portal = Self::build(store, keys, Some(source), clock);
        portal.check_and_register_master_keys().await?;
        Ok(portal)
    }

    /// Opens the portal with a fixed master key set (tests, benchmarks, servers with env keys).
    pub async fn with_keys(
        store: Arc<dyn Store>,
        keys: MasterKeySet,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let portal = Self::build(store, keys, None, clock);
        portal.check_and_register_master_keys().await?;
        Ok(portal)
    }

    /// A portal that only reads a device's replica (incidents, SLA targets, policies): the
    /// replica holds no sealed value, so it gets a key set of its own, never registered.
    pub(crate) fn replica_reader(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let keys = MasterKeySet::generate(&mut rand::rngs::OsRng);
        Self::build(store, keys, None, clock)
    }

    fn build(
        store: Arc<dyn Store>,
        keys: MasterKeySet,
        key_source: Option<Arc<dyn MasterKeySource>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        LocalPortal {
            store,
            master: RwLock::new(keys),
            key_source,
            clock,
            fetcher: None,
            webhooks: None,
            key_state: KeyState::new(),
            active: Default::default(),
            chart_cache: RwLock::new(Arc::new(crate::analytics::MemoryChartCache::default())),
        }
    }

    /// Gives the portal a way to fetch public documents over HTTPS (OIDC *Test connection*).
    pub fn with_fetcher(mut self, fetcher: Arc<dyn JsonFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Gives the portal a way to send escalation webhooks (the server's).
    pub fn with_webhooks(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.webhooks = Some(sender);
        self
    }

    /// The master key set in use (for seeding another portal over the same store).
    pub fn master_key_set(&self) -> Result<MasterKeySet> {
        self.master_keys()
    }

    /// Checks that the database answers (readiness probes).
    pub async fn ready(&self) -> Result<()> {
        self.store.audit_head().await.map_err(store_err)?;
        Ok(())
    }

    /// The store underneath (for seeding and tests).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn authorize(&self, actor: &Actor, p: Permission, org: Option<Uuid>) -> Result<()> {
        if actor.role.allows(p, org) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "your role ({}) may not do this ({p:?}); ask a provider admin",
                actor.role.name()
            )))
        }
    }

    /// Runs one write: `work` gets the transaction, returns it with its result and the audit
    /// events (or none, when there was nothing to change: then nothing is committed).
    pub(crate) async fn write<T, F, Fut>(&self, actor: &Actor, work: F) -> Result<T>
    where
        F: FnOnce(Box<dyn WriteTx>) -> Fut,
        Fut: Future<Output = Result<(Box<dyn WriteTx>, T, Option<AuditBatch>)>>,
    {
        let tx = self
            .store
            .begin(actor, self.now())
            .await
            .map_err(store_err)?;
        let (tx, value, audit) = work(tx).await?;
        if let Some(audit) = audit {
            tx.commit(audit).await.map_err(store_err)?;
        }
        Ok(value)
    }

    /// Seals with the key set at hand, without asking the database (inside a transaction, where
    /// SQLite's single connection is taken). Writes that seal before their transaction use
    /// [`LocalPortal::seal_current`].
    pub(crate) fn seal(&self, binding: Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        let keys = self
            .master
            .read()
            .map_err(|_| Error::Internal("master key lock poisoned".into()))?;
        keys.seal(&mut rand::rngs::OsRng, binding, plaintext)
            .map_err(|e| Error::Internal(format!("sealing a secret failed: {e}")))
    }

    /// Seals under the newest master-key version the database knows: if another process
    /// rotated since this one loaded its keys, the key set is reloaded from its source first
    /// (one cheap query per sealing write).
    pub(crate) async fn seal_current(
        &self,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        self.refresh_master_keys_if_stale().await?;
        self.seal(binding, plaintext)
    }

    /// Opens a sealed value; one sealed under a version this process does not have yet (another
    /// process rotated) is opened after reloading the key set from its source.
    pub(crate) async fn open_sealed(
        &self,
        binding: Binding<'_>,
        sealed: &[u8],
    ) -> Result<Sensitive<Vec<u8>>> {
        let first = self.master_keys()?.open(binding, sealed);
        match first {
            Err(EnvelopeError::UnknownVersion(v)) if v > self.master_keys()?.current() => {
                self.reload_master_keys().await?;
                self.master_keys()?
                    .open(binding, sealed)
                    .map_err(|e| Error::Unavailable(e.to_string()))
            }
            other => other.map_err(|e| Error::Unavailable(e.to_string())),
        }
    }

    pub(crate) fn master_keys(&self) -> Result<MasterKeySet> {
        self.master
            .read()
            .map(|k| k.clone())
            .map_err(|_| Error::Internal("master key lock poisoned".into()))
    }

    pub(crate) fn set_master_keys(&self, keys: MasterKeySet) -> Result<()> {
        *self
            .master
            .write()
            .map_err(|_| Error::Internal("master key lock poisoned".into()))? = keys;
        Ok(())
    }

    /// Reloads the key set when the database knows a newer version than this process.
    pub(crate) async fn refresh_master_keys_if_stale(&self) -> Result<()> {
        let newest = self.store.newest_master_key().await.map_err(store_err)?;
        if newest > self.master_keys()?.current() {
            self.reload_master_keys().await?;
        }
        Ok(())
    }

    /// Reloads the key set from its source (a fixed set stays as it is), checks it against the
    /// database, and uses it from now on. The source must still hold every version this process
    /// has; the database must know no version newer than the set.
    pub(crate) async fn reload_master_keys(&self) -> Result<()> {
        let mine = self.master_keys()?;
        let keys = match &self.key_source {
            None => mine,
            Some(source) => {
                let loaded = source.reload()?;
                for v in mine.versions() {
                    if loaded.fingerprint(v) != mine.fingerprint(v) {
                        return Err(Error::Unavailable(format!(
                            "{} no longer holds the master key version {v} this process uses: it was replaced or removed by someone else. \
                             Restore the key set (a backup of it, or the keychain entry) before going on",
                            source.describe()
                        )));
                    }
                }
                loaded
            }
        };
        self.check_and_register(&keys).await?;
        self.set_master_keys(keys)
    }

    async fn check_and_register_master_keys(&self) -> Result<()> {
        let keys = self.master_keys()?;
        self.check_and_register(&keys).await
    }

    /// Compares `keys`' fingerprints with the database's and registers the versions it lacks.
    async fn check_and_register(&self, keys: &MasterKeySet) -> Result<()> {
        let known = self
            .store
            .master_key_fingerprints()
            .await
            .map_err(store_err)?;
        for (version, fingerprint) in &known {
            match keys.fingerprint(*version) {
                Some(mine) if &mine == fingerprint => {}
                Some(mine) => return Err(fingerprint_mismatch(*version, &mine, fingerprint)),
                None if *version > keys.current() => {
                    return Err(Error::Unavailable(format!(
                        "this database uses master key version {version}, newer than any in your key set (newest: {}): another process rotated the master key. \
                         Import the current key set from the admin or machine that rotated it, then start again",
                        keys.current()
                    )))
                }
                None => {} // an old version that was retired from the set
            }
        }
        let missing: Vec<(u32, String)> = keys
            .versions()
            .filter(|v| !known.iter().any(|(k, _)| k == v))
            .map(|v| (v, keys.fingerprint(v).unwrap_or_default()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let actor = Actor::system("master-key");
        self.write(&actor, |mut tx| async move {
            let mut drafts = Vec::new();
            for (v, fp) in missing {
                match tx.register_master_key(v, &fp).await.map_err(store_err)? {
                    MasterKeyRegistration::Inserted => {}
                    // Another process registered the same key meanwhile.
                    MasterKeyRegistration::AlreadyRegistered => continue,
                    MasterKeyRegistration::Mismatch { registered } => {
                        return Err(fingerprint_mismatch(v, &fp, &registered))
                    }
                }
                let after = serde_json::json!({"version": v, "fingerprint": fp});
                drafts.push(AuditDraft::change(
                    "master_key",
                    &v.to_string(),
                    "register",
                    None,
                    Some(&after),
                ));
            }
            let audit = AuditBatch::from_vec(drafts);
            Ok((tx, (), audit))
        })
        .await
    }
}

/// The key at hand and the database disagree on one version.
pub(crate) fn fingerprint_mismatch(version: u32, mine: &str, registered: &str) -> Error {
    Error::Unavailable(format!(
        "the master key at hand does not match this database: version {version} has fingerprint {mine} here but {registered} in the database. \
         Use the master key this database was created with (OS keychain, PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE)"
    ))
}

/// The one place where store errors become the product's error vocabulary (front ends never
/// see a `StoreError`: they open stores through `session::OpenLocal`).
pub(crate) fn store_err(e: StoreError) -> Error {
    match e {
        StoreError::NotFound => {
            Error::NotFound("the item was not found (it may have been deleted meanwhile)".into())
        }
        StoreError::Conflict(what) => {
            Error::conflict(format!("this conflicts with existing data ({what})"))
        }
        StoreError::Refused(m) => Error::Forbidden(m),
        StoreError::Unavailable(m) => Error::Unavailable(format!(
            "the database is unavailable: {m}. Check the connection and try again"
        )),
        StoreError::Migration(m) => Error::Unavailable(format!(
            "the database's schema could not be brought up to date ({m}); if a newer version of Provider Admin migrated it, update this app"
        )),
        StoreError::WrongKey => Error::Unavailable(
            "the encrypted file cannot be read with this device's key from the OS keychain".into(),
        ),
        StoreError::BadCursor => Error::invalid(
            "cursor",
            "is not a cursor returned by this list; start again from the first page",
        ),
        // The database's own words go to the log (with the request id of the span), never to
        // the person: `Error::Internal` shows a fixed sentence.
        StoreError::Internal(m) => Error::Internal(format!("database: {m}")),
    }
}

/// Parses a uuid path parameter into the field error vocabulary.
pub(crate) fn parse_id(field: &str, s: &str) -> Result<Uuid> {
    domain::validate::parse_uuid(s).map_err(|m| Error::invalid(field, m))
}

/// Checks a page size: default 50, 1..=500.
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(domain::model::PAGE_DEFAULT),
        Some(n) if (1..=domain::model::PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {}", domain::model::PAGE_MAX),
        )),
    }
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
