//! The workspace as a whole: who is acting and what their role allows, the overview of what
//! needs attention, whether the workspace is still empty, and seeding it with demo data.

pub(crate) mod local;
pub mod seed;
mod seed_incidents;

pub use seed::SeedReport;

use async_trait::async_trait;
use domain::error::Result;
use domain::model::Overview;
use domain::{Actor, Role};
use serde::{Deserialize, Serialize};

use crate::secrets::Progress;

/// Who is acting, as the portal sees them (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub name: String,
    /// `provider`, `developer`, `client` or `partner`.
    pub role: String,
    /// The organisation a client-role principal is bound to.
    pub org_id: Option<uuid::Uuid>,
    /// What this role may do, e.g. `manage_keys`.
    pub permissions: Vec<String>,
}

impl Me {
    /// The actor as the portal sees it: the role's permissions come from the one rule table.
    pub fn of(actor: &Actor) -> Self {
        Me {
            id: actor.id.clone(),
            name: actor.name.clone(),
            role: actor.role.name().to_string(),
            org_id: match actor.role {
                Role::Client(org) => Some(org),
                _ => None,
            },
            permissions: actor
                .role
                .permissions()
                .into_iter()
                .map(|p| p.as_str().to_string())
                .collect(),
        }
    }
}

/// Whether a workspace holds anything yet. The one definition of "empty" (first run offers
/// demo data; seeding refuses a workspace that is not empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceStatus {
    /// No client, federation key, OIDC configuration or integration exists.
    pub empty: bool,
}

/// The workspace as a whole.
#[async_trait]
pub trait Workspace: Send + Sync {
    /// Who `actor` is and what their role allows.
    async fn whoami(&self, actor: &Actor) -> Result<Me>;
    /// Counts that need attention and 30 days of key activity.
    async fn overview(&self, actor: &Actor) -> Result<Overview>;
    /// Whether the workspace is still empty.
    async fn workspace_status(&self, actor: &Actor) -> Result<WorkspaceStatus>;
    /// Fills an empty workspace with realistic demo data (needs the `seed` permission).
    async fn seed_demo(&self, actor: &Actor, progress: Progress<'_>) -> Result<SeedReport>;
}
