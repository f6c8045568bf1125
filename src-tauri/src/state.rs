//! The app's state: the profile book and the open session (a Portal over the active profile's
//! store). Switching profiles opens the new session first, then swaps: no restart.

use crate::profiles::{self, Profile, ProfileBook};
use domain::error::{Error, Result};
use domain::{Actor, SystemClock};
use portal::{os, LocalPortal};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::SqlStore;
use ts_rs::TS;

/// An open connection to one profile's data.
#[derive(Debug)]
pub struct Session {
    pub profile: Profile,
    pub portal: Arc<LocalPortal>,
    pub store: Arc<SqlStore>,
    /// Where the data is, password removed.
    pub location: String,
    pub key_source: String,
}

/// What the UI shows about the session.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SessionInfo {
    pub profile: Profile,
    pub location: String,
    pub key_source: String,
    /// An embedded workspace opened for the first time: offer demo data or an empty start.
    pub first_run: bool,
}

#[derive(Debug)]
pub struct AppState {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub actor: Actor,
    book: Mutex<ProfileBook>,
    session: tokio::sync::RwLock<Option<Arc<Session>>>,
}

const ONBOARDED: &str = "onboarded";

impl AppState {
    pub fn new(data_dir: PathBuf, log_dir: PathBuf) -> Result<Self> {
        let book = ProfileBook::load(&data_dir)?;
        let login = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "admin".into());
        Ok(AppState {
            data_dir,
            log_dir,
            actor: Actor::local_admin(
                &login,
                concat!("provider-admin-desktop/", env!("CARGO_PKG_VERSION")),
            ),
            book: Mutex::new(book),
            session: tokio::sync::RwLock::new(None),
        })
    }

    pub fn book(&self) -> Result<ProfileBook> {
        self.book
            .lock()
            .map(|b| b.clone())
            .map_err(|_| Error::Internal("profile lock poisoned".into()))
    }

    pub fn update_book(
        &self,
        f: impl FnOnce(&mut ProfileBook) -> Result<()>,
    ) -> Result<ProfileBook> {
        let mut book = self
            .book
            .lock()
            .map_err(|_| Error::Internal("profile lock poisoned".into()))?;
        let mut next = book.clone();
        f(&mut next)?;
        next.save(&self.data_dir)?;
        *book = next.clone();
        Ok(next)
    }

    /// The open session, opening the active profile on first use.
    pub async fn session(&self) -> Result<Arc<Session>> {
        if let Some(s) = self.session.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.session.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let profile = self.book()?.active()?.clone();
        let s = Arc::new(self.open(&profile, None).await?);
        *slot = Some(s.clone());
        Ok(s)
    }

    pub async fn portal(&self) -> Result<Arc<LocalPortal>> {
        Ok(self.session().await?.portal.clone())
    }

    /// Opens `id` and makes it the active profile; the previous session stays if this fails.
    pub async fn switch(&self, id: &str) -> Result<Arc<Session>> {
        let profile = self.book()?.get(id)?.clone();
        let s = Arc::new(self.open(&profile, None).await?);
        self.update_book(|b| {
            b.active = id.to_string();
            Ok(())
        })?;
        *self.session.write().await = Some(s.clone());
        Ok(s)
    }

    pub async fn info(&self) -> Result<SessionInfo> {
        let s = self.session().await?;
        let first_run = matches!(s.profile.connection, profiles::Connection::Embedded)
            && !self.data_dir.join(ONBOARDED).exists()
            && store::Store::audit_head(s.store.as_ref())
                .await
                .map(|(seq, _)| seq <= 1)
                .unwrap_or(false);
        Ok(SessionInfo {
            profile: s.profile.clone(),
            location: s.location.clone(),
            key_source: s.key_source.clone(),
            first_run,
        })
    }

    /// Records that the first-run choice was made.
    pub fn mark_onboarded(&self) -> Result<()> {
        std::fs::write(self.data_dir.join(ONBOARDED), b"").map_err(|e| {
            Error::Unavailable(format!("cannot write to {}: {e}", self.data_dir.display()))
        })
    }

    /// Connects to a profile's data and opens the Portal over it.
    pub async fn open(&self, profile: &Profile, password: Option<&str>) -> Result<Session> {
        let url = profiles::database_url(profile, password)?;
        let (store, location, workspace) = match &url {
            None => {
                let path = self.data_dir.join("workspace.sqlite");
                let store = SqlStore::open_sqlite(&path)
                    .await
                    .map_err(|e| Error::Unavailable(e.to_string()))?;
                (store, path.display().to_string(), os::workspace_id(None))
            }
            Some(url) => {
                let connect = SqlStore::connect_postgres(url.expose());
                let store = tokio::time::timeout(Duration::from_secs(15), connect)
                    .await
                    .map_err(|_| Error::Unavailable("the database did not answer within 15 s: check the host, port and network".into()))?
                    .map_err(|e| Error::Unavailable(e.to_string()))?;
                (
                    store,
                    store::redact_url(url.expose()),
                    os::workspace_id(Some(url.expose())),
                )
            }
        };
        let source = os::master_key_source(&workspace);
        let key_source = source.describe();
        let store = Arc::new(store);
        let portal = LocalPortal::open(store.clone(), source, Arc::new(SystemClock)).await?;
        tracing::info!(profile = %profile.id, %location, "session opened");
        Ok(Session {
            profile: profile.clone(),
            portal: Arc::new(portal),
            store,
            location,
            key_source,
        })
    }
}
