//! Signed-in sessions in the OS keychain (Keychain, Credential Manager, Secret Service), one
//! entry per portal, under the app's namespace — never in a file.

use crate::signin::{Session, SessionStore};
use domain::error::{Error, Result};

/// The keychain entry of one portal profile's session.
#[derive(Debug, Clone)]
pub struct KeychainSessions {
    account: String,
}

impl KeychainSessions {
    /// `profile` names the portal (e.g. its URL or the desktop profile's id).
    pub fn new(profile: &str) -> Self {
        KeychainSessions {
            account: format!("portal-session/{profile}"),
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    fn entry(&self) -> Result<keyring::Entry> {
        keyring::Entry::new(portal::os::SERVICE, &self.account).map_err(|e| unavailable(&e))
    }
}

fn unavailable(e: &keyring::Error) -> Error {
    let what = match e {
        keyring::Error::NoStorageAccess(_) => "the OS keychain is locked or refused access".into(),
        keyring::Error::NoDefaultStore => "no OS keychain is available on this system".into(),
        other => format!("the OS keychain failed ({other})"),
    };
    Error::Unavailable(format!(
        "{what}. Portal sign-ins are kept only in the OS keychain: unlock or start it (on Linux a Secret Service such as GNOME Keyring or KWallet), then sign in again"
    ))
}

impl SessionStore for KeychainSessions {
    fn load(&self) -> Result<Option<Session>> {
        match self.entry()?.get_password() {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|_| {
                Error::Unauthenticated(
                    "the stored sign-in is unreadable (written by another version?): sign in again"
                        .into(),
                )
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    fn save(&self, session: &Session) -> Result<()> {
        let text =
            serde_json::to_string(session).map_err(|e| Error::Internal(format!("session: {e}")))?;
        self.entry()?
            .set_password(&text)
            .map_err(|e| unavailable(&e))
    }

    fn delete(&self) -> Result<()> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

/// Opens `url` in the user's browser: `$BROWSER` when set, else the system's opener.
pub fn open_in_browser(url: &str) -> bool {
    let mut command = match std::env::var("BROWSER") {
        Ok(b) if !b.trim().is_empty() => {
            let mut parts = b.split_whitespace();
            let mut c = std::process::Command::new(parts.next().unwrap_or_default());
            c.args(parts);
            c
        }
        _ if cfg!(target_os = "macos") => std::process::Command::new("open"),
        _ if cfg!(target_os = "windows") => {
            let mut c = std::process::Command::new("cmd");
            c.args(["/C", "start", ""]);
            c
        }
        _ => std::process::Command::new("xdg-open"),
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}
