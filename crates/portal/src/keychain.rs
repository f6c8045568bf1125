//! The master key set in the OS keychain (macOS Keychain, Windows Credential Manager, the
//! Secret Service on Linux), created on first use. Entries are namespaced by the app
//! identifier and the workspace, so two databases never share a key by accident.

use crate::secrets::MasterKeySource;
use domain::envelope::MasterKeySet;
use domain::error::{Error, Result};

pub const SERVICE: &str = "dev.provider-admin";

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
    let what = match e {
        keyring::Error::NoStorageAccess(_) => {
            "the OS keychain is locked or refused access".to_string()
        }
        keyring::Error::NoDefaultStore => "no OS keychain is available on this system".to_string(),
        keyring::Error::PlatformFailure(err) => format!("the OS keychain failed ({err})"),
        other => format!("the OS keychain failed ({other})"),
    };
    Error::Unavailable(format!("{what}. {fix}"))
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

    fn save(&self, keys: &MasterKeySet) -> Result<()> {
        self.entry()?
            .set_password(keys.to_secret_text().expose())
            .map_err(|e| unavailable(&e))
    }
}
