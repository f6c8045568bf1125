//! The clients API's JSON shapes.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `PATCH /v1/clients/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::name))]
    pub name: String,
}
