//! Provider integrations: a named connection to an outside system whose configuration is sealed
//! at rest; paused, resumed, and told the outcome of each synchronisation run.

pub(crate) mod local;
pub mod wire;

use async_trait::async_trait;
use domain::error::Result;
use domain::model::Integration;
use domain::Actor;

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

/// Provider integrations.
#[async_trait]
pub trait Integrations: Send + Sync {
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
}
