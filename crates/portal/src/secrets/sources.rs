//! Where the master key set comes from: given as text (`PORTAL_MASTER_KEY`), or a file created on
//! first use (`PORTAL_MASTER_KEY_FILE`). The OS keychain source is `crate::os` (feature `os`).

use domain::envelope::MasterKeySet;
use domain::error::{Error, Result};
use domain::Sensitive;
use std::path::PathBuf;

/// Where the master key set lives. The OS keychain source is in the front ends (it needs the
/// platform's credential store); environment and file sources are here.
pub trait MasterKeySource: Send + Sync + std::fmt::Debug {
    /// Says where the keys are, for messages ("the OS keychain", "PORTAL_MASTER_KEY"…).
    fn describe(&self) -> String;
    /// Loads the key set, creating it on first use when the source can.
    fn load(&self) -> Result<MasterKeySet>;
    /// Stores a key set with a new version.
    fn save(&self, keys: &MasterKeySet) -> Result<()>;
    /// Loads the key set again while running (another process may have added a version), never
    /// creating one: a key set that disappeared meanwhile is an error, not a fresh key.
    fn reload(&self) -> Result<MasterKeySet> {
        self.load()
    }
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
        Err(Error::conflict(format!(
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
    fn reload(&self) -> Result<MasterKeySet> {
        if !self.path.exists() {
            return Err(Error::Unavailable(format!(
                "{} disappeared while this process was using it: restore it from a backup (this process still holds its keys in memory)",
                self.describe()
            )));
        }
        self.load()
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
