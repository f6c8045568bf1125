//! Opening a session: a Portal over a database (`--db` or the embedded workspace) or over the
//! portal API (`--portal`, as the signed-in user), plus what `info` reports about it.

use client::signin::SessionStore;
use domain::error::Error;
use domain::Actor;
use portal::os;
use portal::prelude::*;
use portal::session::OpenLocal;
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
        let config = sign_in_config(url).await?;
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
        })
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

/// How to sign in to the portal at `url`, as the portal itself announces it.
pub async fn sign_in_config(url: &str) -> Result<client::signin::SignInConfig, Error> {
    let info = client::RemotePortal::sign_in_info(url).await?;
    Ok(client::signin::SignInConfig {
        issuer: info.issuer,
        client_id: info.client_id,
        scopes: info.scopes,
    })
}
