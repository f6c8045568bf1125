//! OIDC configurations: issuer, client id, redirect URI and a write-only client secret (sealed at
//! rest), enabled or not; and *Test connection*, which reads the issuer's public discovery
//! document and key set through an injected [`JsonFetcher`].

pub(crate) mod local;
mod probe;
pub mod wire;

pub use probe::{probe as probe_with, JsonFetcher};

use async_trait::async_trait;
use domain::error::Result;
use domain::model::OidcConfig;
use domain::oidc::OidcProbeReport;
use domain::Actor;

/// Input of [`Portal::create_oidc`]. The secret is write-only: reads never return it.
#[derive(Debug, Clone, Default)]
pub struct NewOidc {
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub client_secret: Option<domain::Sensitive<String>>,
    pub enabled: bool,
}

/// Input of [`Portal::update_oidc`]: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct OidcChanges {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    /// A new secret replaces the stored one.
    pub client_secret: Option<domain::Sensitive<String>>,
    /// Removes the stored secret.
    pub clear_client_secret: bool,
}

/// OIDC configurations.
#[async_trait]
pub trait Oidc: Send + Sync {
    async fn list_oidc(&self, actor: &Actor) -> Result<Vec<OidcConfig>>;
    async fn get_oidc(&self, actor: &Actor, id: &str) -> Result<OidcConfig>;
    async fn create_oidc(
        &self,
        actor: &Actor,
        new: NewOidc,
        idempotency_key: Option<&str>,
    ) -> Result<OidcConfig>;
    async fn update_oidc(
        &self,
        actor: &Actor,
        id: &str,
        changes: OidcChanges,
    ) -> Result<OidcConfig>;
    async fn set_oidc_enabled(&self, actor: &Actor, id: &str, enabled: bool) -> Result<OidcConfig>;
    async fn delete_oidc(&self, actor: &Actor, id: &str) -> Result<()>;
    /// *Test connection*: fetches the issuer's discovery document and JWKS and reports what
    /// was found and what is wrong. Reads only public documents; the secret is never sent.
    async fn test_oidc(&self, actor: &Actor, id: &str) -> Result<OidcProbeReport>;
}
