//! The integrations API's JSON shapes. The configuration is write-only and redacted in `Debug`.

use super::{IntegrationChanges, NewIntegration};
use domain::Sensitive;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `POST /v1/integrations`. `config` is a JSON object, stored sealed; responses only
/// name its fields.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewIntegrationBody {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::name))]
    pub name: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::integration_type))]
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::config))]
    pub config: serde_json::Value,
}

impl std::fmt::Debug for NewIntegrationBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewIntegrationBody")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl From<NewIntegrationBody> for NewIntegration {
    fn from(b: NewIntegrationBody) -> Self {
        NewIntegration {
            name: b.name,
            kind: b.kind,
            config: Sensitive::new(b.config),
        }
    }
}

impl From<&NewIntegration> for NewIntegrationBody {
    fn from(n: &NewIntegration) -> Self {
        NewIntegrationBody {
            name: n.name.clone(),
            kind: n.kind.clone(),
            config: n.config.expose().clone(),
        }
    }
}

/// Body of `PATCH /v1/integrations/{id}`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntegrationChangesBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::name_or_null))]
    pub name: Option<String>,
    /// Replaces the whole configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::config_or_null))]
    pub config: Option<serde_json::Value>,
}

impl std::fmt::Debug for IntegrationChangesBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationChangesBody")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl From<IntegrationChangesBody> for IntegrationChanges {
    fn from(b: IntegrationChangesBody) -> Self {
        IntegrationChanges {
            name: b.name,
            config: b.config.map(Sensitive::new),
        }
    }
}

impl From<&IntegrationChanges> for IntegrationChangesBody {
    fn from(c: &IntegrationChanges) -> Self {
        IntegrationChangesBody {
            name: c.name.clone(),
            config: c.config.as_ref().map(|v| v.expose().clone()),
        }
    }
}

/// Body of `PUT /v1/integrations/{id}/paused`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PausedBody {
    pub paused: bool,
}

/// Body of `POST /v1/integrations/{id}/syncs`: the outcome of one synchronisation run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// Set when the run failed: the integration goes into error with this message.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::sync_error_or_null))]
    pub error: Option<String>,
}
