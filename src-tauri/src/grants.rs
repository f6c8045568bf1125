//! Files the webview may have the app write: only those the user picked in the native save
//! dialog during this run. The dialog is opened by a command (never by the webview), so a
//! compromised page can neither choose a path nor forge a grant; each grant is used once.

use domain::error::{Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct SaveGrants(Mutex<HashSet<PathBuf>>);

impl SaveGrants {
    /// Records a path the save dialog returned (or the E2E export folder's file).
    pub fn grant(&self, path: PathBuf) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(path);
        }
    }

    /// Creates (or truncates) `path` if the save dialog granted it in this run, using up the
    /// grant; refuses any other path without touching the file system.
    pub fn create(&self, path: &str) -> Result<std::fs::File> {
        let path = Path::new(path);
        let granted = self
            .0
            .lock()
            .map_err(|_| Error::Internal("save grants lock poisoned".into()))?
            .remove(path);
        if !granted {
            return Err(Error::invalid(
                "path",
                "the app writes only to a file chosen in its save dialog: choose where to save again",
            ));
        }
        std::fs::File::create(path)
            .map_err(|e| Error::invalid("path", format!("cannot create {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("padmin-grants-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_path_the_dialog_did_not_return_is_refused_and_nothing_is_written() {
        let dir = temp_dir();
        let grants = SaveGrants::default();
        grants.grant(dir.join("audit.csv"));
        let elsewhere = dir.join("autostart.desktop");
        let err = grants.create(elsewhere.to_str().unwrap()).unwrap_err();
        assert_eq!(err.code(), domain::ErrorCode::Invalid);
        assert!(
            err.fields()[0].message.contains("save dialog"),
            "says why: {err:?}"
        );
        assert!(!elsewhere.exists(), "nothing written");
        // A path that only resolves to the granted one is not the granted path.
        let dotted = dir.join("sub").join("..").join("audit.csv");
        assert!(grants.create(dotted.to_str().unwrap()).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_granted_path_is_written_once() {
        let dir = temp_dir();
        let grants = SaveGrants::default();
        let path = dir.join("audit.csv");
        grants.grant(path.clone());
        grants.create(path.to_str().unwrap()).unwrap();
        assert!(path.exists());
        std::fs::remove_file(&path).unwrap();
        assert!(
            grants.create(path.to_str().unwrap()).is_err(),
            "a grant is used up by the write"
        );
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
