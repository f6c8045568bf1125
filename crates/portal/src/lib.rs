//! The Portal: every operation of Provider Admin behind one trait, with one error vocabulary.
//!
//! Front ends (the `padmin` CLI, the desktop's Tauri commands, the server's HTTP handlers) parse
//! their input, call one [`Portal`] method and render the result. [`LocalPortal`] implements it
//! over a [`store::Store`], adding authorization, validation, audit drafts, idempotency, secret
//! sealing and the verification cache. This crate must not depend on any front end or on HTTP.

mod api;
mod audit;
mod clients;
mod idempotency;
mod integrations;
mod keys;
mod known_keys;
mod local;
mod oidc;
#[cfg(feature = "os")]
pub mod os;
mod overview;
pub mod secrets;
pub mod seed;
mod verify_cache;
pub mod wire;

pub use local::{KeyListener, LocalPortal};

/// Everything a front end needs in scope to call Portal operations: `use portal::prelude::*;`.
pub mod prelude {
    pub use crate::Portal;
}

use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::Result;
use domain::model::{
    AuditFilter, ChainReport, Client, ClientFilter, CreatedKey, FederationKey, Integration,
    KeyFilter, MasterKeyStatus, OidcConfig, Overview, Page, Rotation, Verified,
};
use domain::Actor;
use serde::{Deserialize, Serialize};

/// Input of [`Portal::create_key`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewKey {
    pub name: String,
    /// How long until the key expires, e.g. `90d` or `12h`; none for a key that does not expire.
    pub expires_in: Option<String>,
}

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

/// Input of [`Portal::create_integration`]. `config` is a JSON object, stored sealed.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub name: String,
    pub kind: String,
    pub config: domain::Sensitive<serde_json::Value>,
}

/// Input of [`Portal::update_integration`].
#[derive(Debug, Clone, Default)]
pub struct IntegrationChanges {
    pub name: Option<String>,
    /// Replaces the whole configuration.
    pub config: Option<domain::Sensitive<serde_json::Value>>,
}

/// Input of [`Portal::create_client`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewClient {
    pub name: String,
    pub plan: String,
    pub status: String,
}

/// Options of [`Portal::rotate_master_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterKeyRotation {
    /// Only report how many secrets are behind the current version.
    pub dry_run: bool,
    /// Secrets re-encrypted per transaction.
    pub batch_size: u32,
    /// Stop after this many batches (the rest is resumed by the next run).
    pub max_batches: Option<u32>,
}

impl Default for MasterKeyRotation {
    fn default() -> Self {
        MasterKeyRotation {
            dry_run: false,
            batch_size: 100,
            max_batches: None,
        }
    }
}

/// What a master-key rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MasterKeyReport {
    /// The version added by this run, if it added one (a run that resumes adds none).
    pub added_version: Option<u32>,
    pub resealed: u64,
    pub status: MasterKeyStatus,
}

/// Progress callback of long operations: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Every operation of the product. Every call carries the acting [`Actor`]; writes that create,
/// rotate or revoke accept an idempotency key: a retry with the same key and the same input
/// returns the first result, with other input it is a `Conflict`.
#[async_trait]
pub trait Portal: Send + Sync + std::fmt::Debug {
    // Federation keys
    async fn create_key(
        &self,
        actor: &Actor,
        new: NewKey,
        idempotency_key: Option<&str>,
    ) -> Result<CreatedKey>;
    async fn list_keys(&self, actor: &Actor, filter: KeyFilter) -> Result<Page<FederationKey>>;
    async fn get_key(&self, actor: &Actor, id: &str) -> Result<FederationKey>;
    /// Revokes a key; revoking a revoked key returns it unchanged.
    async fn revoke_key(
        &self,
        actor: &Actor,
        id: &str,
        idempotency_key: Option<&str>,
    ) -> Result<FederationKey>;
    /// Revokes several keys in one transaction: all or none.
    async fn revoke_keys(
        &self,
        actor: &Actor,
        ids: &[String],
        idempotency_key: Option<&str>,
    ) -> Result<Vec<FederationKey>>;
    /// Mints a successor; the old key keeps working for `overlap` (`0`, `1m`, `15m`, `1h`, `6h`, `24h`, at most `7d`).
    async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        overlap: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Rotation>;
    /// Ends a rotated key's overlap now.
    async fn end_overlap(&self, actor: &Actor, id: &str) -> Result<FederationKey>;
    /// Checks a presented key: format and checksum offline, then the stored hash.
    async fn verify_key(&self, actor: &Actor, presented: &str) -> Result<Verified>;

    // OIDC configurations
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

    // Provider integrations
    async fn list_integrations(&self, actor: &Actor) -> Result<Vec<Integration>>;
    async fn get_integration(&self, actor: &Actor, id: &str) -> Result<Integration>;
    async fn create_integration(
        &self,
        actor: &Actor,
        new: NewIntegration,
        idempotency_key: Option<&str>,
    ) -> Result<Integration>;
    async fn update_integration(
        &self,
        actor: &Actor,
        id: &str,
        changes: IntegrationChanges,
    ) -> Result<Integration>;
    async fn set_integration_paused(
        &self,
        actor: &Actor,
        id: &str,
        paused: bool,
    ) -> Result<Integration>;
    async fn delete_integration(&self, actor: &Actor, id: &str) -> Result<()>;
    /// Records the outcome of a synchronisation run: `error` set puts the integration in error.
    async fn record_integration_sync(
        &self,
        actor: &Actor,
        id: &str,
        error: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<Integration>;

    // Clients (tenant organisations)
    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>>;
    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client>;
    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idempotency_key: Option<&str>,
    ) -> Result<Client>;
    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client>;

    // Audit
    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>>;
    async fn verify_audit(&self, actor: &Actor) -> Result<ChainReport>;
    /// Writes the matching events as CSV, newest first; returns how many.
    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64>;

    // Overview
    /// Counts that need attention and 30 days of key activity.
    async fn overview(&self, actor: &Actor) -> Result<Overview>;

    // Secrets at rest
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus>;
    async fn rotate_master_key(
        &self,
        actor: &Actor,
        options: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport>;
}
