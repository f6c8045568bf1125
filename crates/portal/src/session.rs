//! Opening a local session: the one way the CLI, the desktop app and the server open a
//! database, check the master keys against it and start a [`LocalPortal`] over it.

use crate::local::store_err;
use crate::oidc::JsonFetcher;
use crate::secrets::MasterKeySource;
use crate::LocalPortal;
use domain::error::{Error, Result};
use domain::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;
use store::SqlStore;

/// How long a database may take to answer before the open gives up with a clear message.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A database, its master keys, and the portal over them.
#[derive(Debug)]
pub struct LocalSession {
    pub portal: Arc<LocalPortal>,
    pub store: Arc<SqlStore>,
    /// Where the data is, safe to show (a PostgreSQL password is redacted).
    pub location: String,
    /// Where the master keys come from ("the OS keychain", "PORTAL_MASTER_KEY", …).
    pub key_source: String,
}

/// What to open.
#[derive(Debug, Clone)]
pub struct OpenLocal {
    /// A `postgres://…` URL, or a SQLite file path (`:memory:` for a private one).
    pub target: domain::Sensitive<String>,
    pub keys: Arc<dyn MasterKeySource>,
    /// Lets the portal test OIDC connections; `None` for a portal that must not go online.
    pub fetcher: Option<Arc<dyn JsonFetcher>>,
    /// Sends escalation webhooks (the server's).
    pub webhooks: Option<Arc<dyn crate::WebhookSender>>,
    pub clock: Arc<dyn Clock>,
}

impl OpenLocal {
    pub fn new(target: impl Into<String>, keys: Arc<dyn MasterKeySource>) -> Self {
        OpenLocal {
            target: domain::Sensitive::new(target.into()),
            keys,
            fetcher: None,
            webhooks: None,
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_webhooks(mut self, sender: Arc<dyn crate::WebhookSender>) -> Self {
        self.webhooks = Some(sender);
        self
    }

    pub fn with_fetcher(mut self, fetcher: Arc<dyn JsonFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Connects (migrating the schema), checks the master keys and opens the portal.
    pub async fn open(self) -> Result<LocalSession> {
        let target = self.target.expose();
        let location = store::redact_url(target);
        let store = tokio::time::timeout(CONNECT_TIMEOUT, SqlStore::connect(target))
            .await
            .map_err(|_| {
                Error::Unavailable(format!(
                    "{location} did not answer within {} s: check the host, port and network",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(store_err)?;
        let store = Arc::new(store);
        let key_source = self.keys.describe();
        let mut portal = LocalPortal::open(store.clone(), self.keys, self.clock).await?;
        if let Some(fetcher) = self.fetcher {
            portal = portal.with_fetcher(fetcher);
        }
        if let Some(sender) = self.webhooks {
            portal = portal.with_webhooks(sender);
        }
        Ok(LocalSession {
            portal: Arc::new(portal),
            store,
            location,
            key_source,
        })
    }
}

/// Checks that a PostgreSQL database answers, without migrating or writing anything (a
/// profile's *Test connection*). Returns the server's version string.
pub async fn probe_postgres(url: &domain::Sensitive<String>) -> Result<String> {
    SqlStore::probe_postgres(url.expose())
        .await
        .map_err(store_err)
}
