//! The incidents API's JSON shapes (the rest are `domain::model` types).

use domain::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `POST /v1/incidents/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1 to 10,000 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::comment))]
    pub text: String,
    /// Chosen by the client (a UUIDv7): a retry with the same id adds nothing.
    #[serde(default)]
    pub event_id: Option<Uuid>,
    /// When the person wrote it (offline); the server's clock when absent.
    #[serde(default, deserialize_with = "domain::model::rfc3339_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::rfc3339_or_null))]
    pub occurred_at: Option<Timestamp>,
}

/// Body of `PUT /v1/sla`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaTargetsBody {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::sla_targets))]
    pub targets: Vec<domain::model::SlaTarget>,
}
