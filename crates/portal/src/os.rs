//! The operating system's part: where the embedded workspace lives, and the master key set in
//! the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service on Linux),
//! created on first use. Keychain entries are namespaced by the app identifier and the
//! workspace, so two databases never share a key by accident. Shared by the CLI and the desktop.

use crate::secrets::{FileKeys, MasterKeySource, StaticKeys};
use domain::envelope::MasterKeySet;
use domain::error::{Error, Result};
use domain::Sensitive;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The app identifier: the OS data folder's name and the keychain service.
pub const APP_ID: &str = "dev.provider-admin";

/// The app's data folder: `PADMIN_DATA_DIR`, or the OS data folder (`~/.local/share/dev.provider-admin`
/// on Linux, `~/Library/Application Support/dev.provider-admin` on macOS, `%APPDATA%\dev.provider-admin`
/// on Windows) — the same folder the desktop app uses.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PADMIN_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::BaseDirs::new()
        .map(|d| d.data_dir().join(APP_ID))
        .ok_or_else(|| Error::Unavailable("no home folder found: set PADMIN_DATA_DIR".into()))
}

/// The embedded workspace's SQLite file.
pub fn embedded_db_path() -> Result<PathBuf> {
    Ok(data_dir()?.join("workspace.sqlite"))
}

/// The name a database's master key is kept under: `embedded`, or `db-<hash>` of its address
/// (password removed), so every tool pointed at the same database finds the same key.
pub fn workspace_id(database: Option<&str>) -> String {
    match database {
        None => "embedded".to_string(),
        Some(t) => {
            // The address without password or options (`?sslmode=…`): the same database, the same key.
            let redacted = store::redact_url(t);
            let base = redacted.split('?').next().unwrap_or_default();
            let digest = Sha256::digest(base.as_bytes());
            let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("db-{short}")
        }
    }
}

/// Where the master key set comes from: `PORTAL_MASTER_KEY`, `PORTAL_MASTER_KEY_FILE`, or the
/// OS keychain entry of `workspace`.
pub fn master_key_source(workspace: &str) -> Arc<dyn MasterKeySource> {
    if let Ok(text) = std::env::var("PORTAL_MASTER_KEY") {
        return Arc::new(StaticKeys::new("PORTAL_MASTER_KEY", Sensitive::new(text)));
    }
    if let Some(path) = std::env::var_os("PORTAL_MASTER_KEY_FILE") {
        return Arc::new(FileKeys::new(PathBuf::from(path)));
    }
    Arc::new(KeychainKeys::new(workspace))
}

pub const SERVICE: &str = APP_ID;

#[derive(Debug)]
pub struct KeychainKeys {
    account: String,
}

impl KeychainKeys {
    /// `workspace` names the database the keys belong to (e.g. `embedded`, `db-1a2b…`).
    pub fn new(workspace: &str) -> Self {
        KeychainKeys {
            account: format!("master-key/{workspace}"),
        }
    }

    fn entry(&self) -> Result<keyring::Entry> {
        entry(&self.account)
    }
}

/// An entry of this app in the OS keychain.
pub fn entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account).map_err(|e| unavailable(&e))
}

/// Turns a keychain failure into a sentence that says what to do.
pub fn unavailable(e: &keyring::Error) -> Error {
    let fix = "Unlock or start your OS keychain (on Linux: a Secret Service such as GNOME Keyring or KWallet), \
               or give the master key another way: PORTAL_MASTER_KEY=<key set> or PORTAL_MASTER_KEY_FILE=<path>";
    Error::Unavailable(format!("{}. {fix}", keychain_failure(e)))
}

/// What went wrong with the keychain, in words.
fn keychain_failure(e: &keyring::Error) -> String {
    match e {
        keyring::Error::NoStorageAccess(_) => {
            "the OS keychain is locked or refused access".to_string()
        }
        keyring::Error::NoDefaultStore => "no OS keychain is available on this system".to_string(),
        keyring::Error::PlatformFailure(err) => format!("the OS keychain failed ({err})"),
        other => format!("the OS keychain failed ({other})"),
    }
}

/// A keychain failure while keeping the replica's key.
fn replica_keychain(e: &keyring::Error) -> Error {
    Error::Unavailable(format!(
        "{}: the offline copy of incidents is encrypted with a key kept there. \
         Unlock or start your OS keychain (on Linux: a Secret Service such as GNOME Keyring or KWallet)",
        keychain_failure(e)
    ))
}

impl MasterKeySource for KeychainKeys {
    fn describe(&self) -> String {
        format!("the OS keychain ({SERVICE}, {})", self.account)
    }

    fn load(&self) -> Result<MasterKeySet> {
        let entry = self.entry()?;
        match entry.get_password() {
            Ok(text) => MasterKeySet::parse(&text)
                .map_err(|e| Error::Unavailable(format!("{}: {e}", self.describe()))),
            Err(keyring::Error::NoEntry) => {
                let keys = MasterKeySet::generate(&mut rand::rngs::OsRng);
                self.save(&keys)?;
                tracing::info!(account = %self.account, "created a master key in the OS keychain");
                Ok(keys)
            }
            Err(e) => Err(unavailable(&e)),
        }
    }

    fn reload(&self) -> Result<MasterKeySet> {
        match self.entry()?.get_password() {
            Ok(text) => MasterKeySet::parse(&text)
                .map_err(|e| Error::Unavailable(format!("{}: {e}", self.describe()))),
            Err(keyring::Error::NoEntry) => Err(Error::Unavailable(format!(
                "{} no longer has the master key set this process is using: restore it from a backup",
                self.describe()
            ))),
            Err(e) => Err(unavailable(&e)),
        }
    }

    fn save(&self, keys: &MasterKeySet) -> Result<()> {
        self.entry()?
            .set_password(keys.to_secret_text().expose())
            .map_err(|e| unavailable(&e))
    }
}

/// The key the replica file at `path` is encrypted with: 256 random bits kept in the OS
/// keychain under `replica-key/<file name>-<hash of its path>`, created with the replica. It
/// never leaves the keychain and this process.
pub fn replica_key(path: &Path) -> Result<store::ReplicaKey> {
    let digest = Sha256::digest(path.to_string_lossy().as_bytes());
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let account = format!("replica-key/{name}-{short}");
    let entry = keyring::Entry::new(SERVICE, &account).map_err(|e| replica_keychain(&e))?;
    match entry.get_password() {
        Ok(text) => store::ReplicaKey::from_hex(&text).ok_or_else(|| {
            Error::Unavailable(format!(
                "the OS keychain entry {SERVICE} / {account} does not hold a replica key: remove it and sign in again"
            ))
        }),
        Err(keyring::Error::NoEntry) => {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let key = store::ReplicaKey::from_bytes(bytes);
            entry
                .set_password(key.to_hex().expose())
                .map_err(|e| replica_keychain(&e))?;
            tracing::info!(%account, "created a replica key in the OS keychain");
            Ok(key)
        }
        Err(e) => Err(replica_keychain(&e)),
    }
}
