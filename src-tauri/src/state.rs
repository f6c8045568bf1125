//! The app's state: the profile book and the open session (a Portal over the active profile's
//! store, or over the portal API). Switching profiles opens the new session first, then swaps:
//! no restart.

use crate::profiles::{self, Connection, Profile, ProfileBook};
use client::signin::{SessionStore, SignInConfig, SignedIn};
use client::{RemotePortal, TokenSource};
use domain::error::{Error, Result};
use domain::{Actor, Permission, Role, Sensitive, SystemClock};
use portal::{os, LocalPortal, Portal};
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
    pub portal: Arc<dyn Portal>,
    /// The store and local portal, for the embedded and direct profiles.
    pub local: Option<(Arc<SqlStore>, Arc<LocalPortal>)>,
    /// The API client and sign-in settings, for a portal profile.
    pub remote: Option<(RemotePortal, SignInConfig)>,
    /// Where the data is, password removed.
    pub location: String,
    pub key_source: String,
}

/// Who is signed in to a portal profile.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SignedInUser {
    pub id: String,
    pub name: String,
    /// `role`, and `org_id` for a client-role user.
    #[serde(flatten)]
    pub role: Role,
}

/// What the UI shows about the session.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SessionInfo {
    pub profile: Profile,
    pub location: String,
    pub key_source: String,
    /// An embedded workspace opened for the first time: offer demo data or an empty start.
    pub first_run: bool,
    /// A portal profile without a valid sign-in: show the sign-in screen.
    pub needs_sign_in: bool,
    /// The signed-in user of a portal profile.
    pub user: Option<SignedInUser>,
    /// What the user's role allows: the UI disables the rest.
    pub permissions: Vec<Permission>,
}

/// The role the portal reported, in the form `Role` crosses every boundary.
fn role_of(me: &portal::wire::Me) -> Result<Role> {
    serde_json::from_value(serde_json::json!({ "role": me.role, "org_id": me.org_id })).map_err(
        |_| {
            Error::Unavailable(format!(
                "the portal reported the role `{}`, which this version of Provider Admin does not know: update it",
                me.role
            ))
        },
    )
}

/// The token source of a portal profile nobody is signed in to.
#[derive(Debug)]
struct NotSignedIn;

#[async_trait::async_trait]
impl TokenSource for NotSignedIn {
    async fn access_token(&self, _: &Actor) -> Result<Sensitive<String>> {
        Err(Error::Unauthenticated(
            "not signed in to this portal: sign in first".into(),
        ))
    }
}

#[derive(Debug)]
pub struct AppState {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub actor: Actor,
    book: Mutex<ProfileBook>,
    session: tokio::sync::RwLock<Option<Arc<Session>>>,
    /// Wakes a sign-in that waits for the browser, to cancel it.
    pub sign_in_cancel: tokio::sync::Notify,
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
            sign_in_cancel: tokio::sync::Notify::new(),
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

    pub async fn portal(&self) -> Result<Arc<dyn Portal>> {
        Ok(self.session().await?.portal.clone())
    }

    /// Reopens the active profile (after signing in or out).
    pub async fn reopen(&self) -> Result<Arc<Session>> {
        let profile = self.book()?.active()?.clone();
        let s = Arc::new(self.open(&profile, None).await?);
        *self.session.write().await = Some(s.clone());
        Ok(s)
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
        let first_run = match (&s.profile.connection, &s.local) {
            (Connection::Embedded, Some((store, _))) => {
                !self.data_dir.join(ONBOARDED).exists()
                    && store::AuditStore::audit_head(store.as_ref())
                        .await
                        .map(|(seq, _)| seq <= 1)
                        .unwrap_or(false)
            }
            _ => false,
        };
        let (needs_sign_in, user, permissions) = match &s.remote {
            None => (false, None, Role::Provider.permissions()),
            Some((remote, _)) => match remote.me(&self.actor).await {
                Ok(me) => (
                    false,
                    Some(SignedInUser {
                        role: role_of(&me)?,
                        id: me.id,
                        name: me.name,
                    }),
                    // A permission this version does not know cannot enable anything in it.
                    Permission::ALL
                        .into_iter()
                        .filter(|p| me.permissions.iter().any(|m| m == p.as_str()))
                        .collect(),
                ),
                Err(Error::Unauthenticated(_)) => (true, None, Vec::new()),
                Err(e) => return Err(e),
            },
        };
        Ok(SessionInfo {
            profile: s.profile.clone(),
            location: s.location.clone(),
            key_source: s.key_source.clone(),
            first_run,
            needs_sign_in,
            user,
            permissions,
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
        if let Connection::Portal {
            url,
            issuer,
            client_id,
            scopes,
        } = &profile.connection
        {
            let config = SignInConfig {
                issuer: issuer.clone(),
                client_id: client_id.clone(),
                scopes: scopes.clone(),
            };
            let sessions = Arc::new(client::os::KeychainSessions::new(&profile.id));
            let tokens: Arc<dyn TokenSource> = match sessions.load()? {
                Some(_) => Arc::new(SignedIn::load(config.clone(), sessions)?),
                None => Arc::new(NotSignedIn),
            };
            let remote = RemotePortal::new(url, tokens)?;
            tracing::info!(profile = %profile.id, %url, "portal session opened");
            return Ok(Session {
                profile: profile.clone(),
                portal: Arc::new(remote.clone()),
                local: None,
                remote: Some((remote, config)),
                location: url.clone(),
                key_source: "the portal server".into(),
            });
        }
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
        let portal = Arc::new(portal);
        Ok(Session {
            profile: profile.clone(),
            portal: portal.clone(),
            local: Some((store, portal)),
            remote: None,
            location,
            key_source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::role_of;
    use domain::Role;
    use portal::wire::Me;

    fn me(role: &str, org_id: Option<uuid::Uuid>) -> Me {
        Me {
            id: "u1".into(),
            name: "Ada".into(),
            role: role.into(),
            org_id,
            permissions: Vec::new(),
        }
    }

    #[test]
    fn the_portals_role_names_become_roles() {
        let org = uuid::Uuid::now_v7();
        assert_eq!(role_of(&me("provider", None)).unwrap(), Role::Provider);
        assert_eq!(role_of(&me("developer", None)).unwrap(), Role::Developer);
        assert_eq!(
            role_of(&me("client", Some(org))).unwrap(),
            Role::Client(org)
        );
        assert!(
            role_of(&me("auditor", None)).is_err(),
            "an unknown role must not be shown as some other role"
        );
        assert!(
            role_of(&me("client", None)).is_err(),
            "a client-role user is always bound to an organisation"
        );
    }
}
