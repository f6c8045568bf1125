//! The app's state: the profile book and the open session (a Portal over the active profile's
//! store, or over the portal API). Switching profiles opens the new session first, then swaps:
//! no restart.

use crate::profiles::{self, Connection, Profile, ProfileBook};
use client::signin::{SessionStore, SignInConfig, SignedIn};
use client::{RemotePortal, TokenSource};
use domain::error::{Error, Result};
use domain::{Actor, Permission, Role, Sensitive};
use portal::session::OpenLocal;
use portal::{os, Incidents, Portal, Replica};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// An open connection to one profile's data.
#[derive(Debug)]
pub struct Session {
    pub profile: Profile,
    pub portal: Arc<dyn Portal>,
    /// The sign-in settings, for a portal profile.
    pub sign_in: Option<SignInConfig>,
    /// Where the data is, password removed.
    pub location: String,
    pub key_source: String,
    /// The device's replica of incidents (portal and direct-PostgreSQL profiles): incident
    /// reads and edits go through it, and it syncs in the background.
    pub replica: Option<Arc<Replica>>,
}

/// Who acts in this session: the signed-in user of a portal profile, or the local admin.
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
    /// Who acts: the signed-in user of a portal profile, or the local admin (none while a
    /// portal profile waits for sign-in).
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
    /// The files the save dialog returned in this run: the only ones exports may write.
    pub save_grants: crate::grants::SaveGrants,
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
            save_grants: Default::default(),
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

    /// Where incident operations go and who makes them: the replica and its person when the
    /// session has one, else the portal and this app's actor.
    pub async fn incidents(&self) -> Result<(Arc<dyn Incidents>, Actor)> {
        let s = self.session().await?;
        Ok(match &s.replica {
            Some(r) => (r.clone() as Arc<dyn Incidents>, r.actor().clone()),
            None => (s.portal.clone() as Arc<dyn Incidents>, self.actor.clone()),
        })
    }

    /// Opens the device's replica for a profile and starts its background sync. Offline, the
    /// replica opens for the person who used it last; a replica that cannot open leaves the
    /// session working directly against its upstream (logged).
    async fn open_replica(
        &self,
        profile: &Profile,
        upstream: Arc<dyn Portal>,
        person: Option<Actor>,
    ) -> Option<Arc<Replica>> {
        let path = self
            .data_dir
            .join("replicas")
            .join(format!("{}.sqlite", profile.id));
        let clock: Arc<dyn domain::Clock> = Arc::new(domain::SystemClock);
        let opened = match portal::os::replica_key(&path) {
            Ok(key) => match person {
                Some(actor) => Replica::open(&path, &key, actor, upstream, clock)
                    .await
                    .map(Some),
                None => Replica::open_as_last(&path, &key, upstream, clock).await,
            },
            Err(e) => Err(e),
        };
        match opened {
            Ok(Some(r)) => {
                let r = Arc::new(r);
                tauri::async_runtime::spawn(r.clone().run());
                tracing::info!(profile = %profile.id, "incident replica opened");
                Some(r)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(profile = %profile.id, error = %e, cause = ?e.cause(), "the incident replica could not open");
                None
            }
        }
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
        // Who am I, from the Portal: the server for a portal profile, the local rule table
        // otherwise (the same `Role::permissions` either way).
        let me = match s.portal.whoami(&self.actor).await {
            Ok(me) => me,
            // Offline with a replica: who used it last, with what their role allows.
            Err(Error::Unavailable(_)) if s.replica.is_some() => {
                let who = s.replica.as_ref().map(|r| r.actor().clone());
                return Ok(SessionInfo {
                    profile: s.profile.clone(),
                    location: s.location.clone(),
                    key_source: s.key_source.clone(),
                    first_run: false,
                    needs_sign_in: false,
                    permissions: who
                        .as_ref()
                        .map(|w| w.role.permissions())
                        .unwrap_or_default(),
                    user: who.map(|w| SignedInUser {
                        id: w.id,
                        name: w.name,
                        role: w.role,
                    }),
                });
            }
            Err(Error::Unauthenticated(_)) => {
                return Ok(SessionInfo {
                    profile: s.profile.clone(),
                    location: s.location.clone(),
                    key_source: s.key_source.clone(),
                    first_run: false,
                    needs_sign_in: true,
                    user: None,
                    permissions: Vec::new(),
                })
            }
            Err(e) => return Err(e),
        };
        // The first run of the embedded workspace offers demo data: while it is empty (the
        // Portal's one definition of empty) and no choice was made yet.
        let first_run = matches!(s.profile.connection, Connection::Embedded)
            && !self.data_dir.join(ONBOARDED).exists()
            && s.portal
                .workspace_status(&self.actor)
                .await
                .map(|w| w.empty)
                .unwrap_or(false);
        Ok(SessionInfo {
            profile: s.profile.clone(),
            location: s.location.clone(),
            key_source: s.key_source.clone(),
            first_run,
            needs_sign_in: false,
            user: Some(SignedInUser {
                role: role_of(&me)?,
                id: me.id,
                name: me.name,
            }),
            // A permission this version does not know cannot enable anything in it.
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| me.permissions.iter().any(|m| m == p.as_str()))
                .collect(),
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
            let signed_in = sessions.load()?.is_some();
            let tokens: Arc<dyn TokenSource> = match sessions.load()? {
                Some(_) => Arc::new(SignedIn::load(config.clone(), sessions)?),
                None => Arc::new(NotSignedIn),
            };
            let remote: Arc<dyn Portal> = Arc::new(RemotePortal::new(url, tokens)?);
            tracing::info!(profile = %profile.id, %url, "portal session opened");
            let replica = if signed_in {
                // Who is signed in, as the portal says; offline, who used the replica last.
                let person = match remote.whoami(&self.actor).await {
                    Ok(me) => Some(Actor {
                        role: role_of(&me)?,
                        id: me.id,
                        name: me.name,
                        ..self.actor.clone()
                    }),
                    Err(Error::Unavailable(_)) => None,
                    Err(e) => {
                        tracing::info!(error = %e, "no replica: the portal did not say who is signed in");
                        return Ok(Session {
                            profile: profile.clone(),
                            portal: remote,
                            sign_in: Some(config),
                            location: url.clone(),
                            key_source: "the portal server".into(),
                            replica: None,
                        });
                    }
                };
                self.open_replica(profile, remote.clone(), person).await
            } else {
                None
            };
            return Ok(Session {
                profile: profile.clone(),
                portal: remote,
                sign_in: Some(config),
                location: url.clone(),
                key_source: "the portal server".into(),
                replica,
            });
        }
        let (target, workspace) = match profiles::database_url(profile, password)? {
            None => (
                Sensitive::new(self.data_dir.join("workspace.sqlite").display().to_string()),
                os::workspace_id(None),
            ),
            Some(url) => {
                let workspace = os::workspace_id(Some(url.expose()));
                (url, workspace)
            }
        };
        let mut open = OpenLocal::new(target.expose().clone(), os::master_key_source(&workspace));
        if let Some(fetcher) = outbound::HttpFetcher::shared() {
            open = open.with_fetcher(fetcher);
        }
        let local = open.open().await?;
        tracing::info!(profile = %profile.id, location = %local.location, "session opened");
        // A direct PostgreSQL profile keeps a replica too: triage goes on when the database
        // drops. The embedded workspace is local already.
        let replica = match profile.connection {
            Connection::Embedded => None,
            _ => {
                self.open_replica(profile, local.portal.clone(), Some(self.actor.clone()))
                    .await
            }
        };
        Ok(Session {
            profile: profile.clone(),
            portal: local.portal,
            sign_in: None,
            location: local.location,
            key_source: local.key_source,
            replica,
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
