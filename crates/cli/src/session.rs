//! Opening a session: a Portal over a database (`--db` or the embedded workspace) or over the
//! portal API (`--portal`, as the signed-in user), plus what `info` reports about it.

use client::signin::SessionStore;
use domain::error::Error;
use domain::Actor;
use portal::os;
use portal::prelude::*;
use portal::session::OpenLocal;
use portal::Replica;
use std::sync::Arc;

/// The user agent the CLI's actor and API requests carry.
pub const UA: &str = concat!("padmin/", env!("CARGO_PKG_VERSION"));

/// An open Portal and who acts through it.
pub struct Session {
    pub portal: Arc<dyn Portal>,
    /// Where the data lives (a redacted database URL or the portal's address).
    pub location: String,
    /// Where the master key comes from.
    pub key_source: String,
    pub actor: Actor,
    /// Print JSON instead of tables.
    pub json: bool,
    /// The portal's address, for a session through the portal API (incidents go through this
    /// machine's replica of it).
    portal_url: Option<String>,
    replica: tokio::sync::OnceCell<Arc<Replica>>,
}

impl Session {
    /// Through the portal API when `portal` is given, else on the database `db` (default: the
    /// embedded workspace).
    pub async fn open(db: Option<String>, portal: Option<&str>, json: bool) -> Result<Self, Error> {
        match portal {
            Some(url) => Self::open_remote(url, json).await,
            None => Self::open_local(db, json).await,
        }
    }

    /// Works through the portal API as the signed-in user.
    async fn open_remote(url: &str, json: bool) -> Result<Self, Error> {
        let store = Arc::new(portal_sessions(url)?);
        if store.load()?.is_none() {
            return Err(Error::Unauthenticated(format!(
                "not signed in to {url}: run `padmin --portal {url} login` first"
            )));
        }
        let config = sign_in_config_cached(url).await?;
        let tokens = Arc::new(client::signin::SignedIn::load(config, store)?);
        let remote = client::RemotePortal::new(url, tokens)?;
        let location = remote.base_url().to_string();
        let mut actor = Actor::local_admin(&local_login(), UA);
        actor.ip = None;
        Ok(Session {
            portal: Arc::new(remote),
            location,
            key_source: "the portal server".into(),
            actor,
            json,
            portal_url: Some(url.to_string()),
            replica: tokio::sync::OnceCell::new(),
        })
    }

    /// This machine's replica of the portal's incidents (a session through the portal API
    /// only): opened for the signed-in person, or offline for the one who used it last.
    pub async fn replica(&self) -> Result<Option<Arc<Replica>>, Error> {
        let Some(url) = &self.portal_url else {
            return Ok(None);
        };
        let r = self
            .replica
            .get_or_try_init(|| async {
                let path = replica_path(url)?;
                let key = os::replica_key(&path)?;
                let clock: Arc<dyn domain::Clock> = Arc::new(domain::SystemClock);
                let opened = match self.portal.whoami(&self.actor).await {
                    Ok(me) => {
                        let role = serde_json::from_value(
                            serde_json::json!({ "role": me.role, "org_id": me.org_id }),
                        )
                        .map_err(|_| {
                            Error::Unavailable(format!(
                                "the portal reported the role `{}`, unknown to this padmin: update it",
                                me.role
                            ))
                        })?;
                        let person = Actor {
                            id: me.id,
                            name: me.name,
                            role,
                            ..self.actor.clone()
                        };
                        Replica::open(&path, &key, person, self.portal.clone(), clock).await?
                    }
                    Err(Error::Unavailable(why)) => {
                        Replica::open_as_last(&path, &key, self.portal.clone(), clock)
                            .await?
                            .ok_or_else(|| {
                                Error::Unavailable(format!(
                                    "{why} (and this machine has no offline copy of its incidents yet: sync once while online)"
                                ))
                            })?
                    }
                    Err(e) => return Err(e),
                };
                Ok::<_, Error>(Arc::new(opened))
            })
            .await?;
        Ok(Some(r.clone()))
    }

    /// Where incident operations go and who makes them: the replica and its person through the
    /// portal API, else the database and the local admin.
    pub async fn incidents(
        &self,
    ) -> Result<(Arc<dyn Incidents>, Actor, Option<Arc<Replica>>), Error> {
        match self.replica().await? {
            Some(r) => Ok((r.clone() as Arc<dyn Incidents>, r.actor().clone(), Some(r))),
            None => Ok((
                self.portal.clone() as Arc<dyn Incidents>,
                self.actor.clone(),
                None,
            )),
        }
    }

    /// Works on a database directly, with the master key from the OS keychain or the environment.
    async fn open_local(db: Option<String>, json: bool) -> Result<Self, Error> {
        let workspace = os::workspace_id(db.as_deref());
        let target = match db {
            Some(t) => t,
            None => os::embedded_db_path()?.display().to_string(),
        };
        let mut open = OpenLocal::new(target, os::master_key_source(&workspace));
        if let Some(fetcher) = outbound::HttpFetcher::shared() {
            open = open.with_fetcher(fetcher);
        }
        let local = open.open().await?;
        Ok(Session {
            portal: local.portal,
            location: local.location,
            key_source: local.key_source,
            actor: Actor::local_admin(&local_login(), UA),
            json,
            portal_url: None,
            replica: tokio::sync::OnceCell::new(),
        })
    }
}

/// The operating-system user, named as the actor of local changes.
pub fn local_login() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "admin".into())
}

/// The keychain entry of a portal's session: one per portal URL.
pub fn portal_sessions(url: &str) -> Result<client::os::KeychainSessions, Error> {
    let base = client::parse_base_url(url)?;
    Ok(client::os::KeychainSessions::new(base.as_str()))
}

/// The replica file of the portal at `url`.
fn replica_path(url: &str) -> Result<std::path::PathBuf, Error> {
    let base = client::parse_base_url(url)?;
    let name = os::workspace_id(Some(base.as_str())).replace("db-", "portal-");
    Ok(os::data_dir()?
        .join("replicas")
        .join(format!("{name}.sqlite")))
}

/// The portal's sign-in settings, remembered beside the replica so that an offline padmin
/// can still refresh a token later and work on the replica now.
async fn sign_in_config_cached(url: &str) -> Result<client::signin::SignInConfig, Error> {
    let cache = replica_path(url)?.with_extension("sign-in.json");
    match sign_in_config(url).await {
        Ok(config) => {
            if let Ok(text) = serde_json::to_string(&config) {
                if let Some(dir) = cache.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&cache, text);
            }
            Ok(config)
        }
        Err(Error::Unavailable(why)) => std::fs::read_to_string(&cache)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or(Error::Unavailable(why)),
        Err(e) => Err(e),
    }
}

/// How to sign in to the portal at `url`, as the portal itself announces it.
pub async fn sign_in_config(url: &str) -> Result<client::signin::SignInConfig, Error> {
    let info = client::RemotePortal::sign_in_info(url).await?;
    Ok(client::signin::SignInConfig {
        issuer: info.issuer,
        client_id: info.client_id,
        scopes: info.scopes,
    })
}
