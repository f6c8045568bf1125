//! Client organisations (the portal's tenants): created, listed, renamed. A client-role user
//! sees only their own organisation; another one answers `NotFound`.

pub(crate) mod local;
pub mod wire;

pub(crate) use local::{PLANS, STATUSES};

use async_trait::async_trait;
use domain::error::Result;
use domain::model::{Client, ClientFilter, Page};
use domain::Actor;
use serde::{Deserialize, Serialize};

/// Input of [`Portal::create_client`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewClient {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::name))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::plan))]
    pub plan: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::client_status))]
    pub status: String,
}

/// Client organisations.
#[async_trait]
pub trait Clients: Send + Sync {
    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>>;
    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client>;
    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idempotency_key: Option<&str>,
    ) -> Result<Client>;
    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client>;
}
