//! The secrets API's JSON shapes.

use super::MasterKeyRotation;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `POST /v1/secrets/rotations`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MasterKeyRotationBody {
    /// Only report how many secrets are behind the current version.
    #[serde(default)]
    pub dry_run: bool,
    /// Secrets re-encrypted per transaction (1 to 10,000; default 100).
    #[serde(
        default = "default_batch",
        deserialize_with = "domain::model::whole_u32"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::batch_size))]
    pub batch_size: u32,
    /// Stop after this many batches; the rest is resumed by the next run.
    #[serde(default, deserialize_with = "domain::model::whole_u32_or_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::max_batches_or_null))]
    pub max_batches: Option<u32>,
}

fn default_batch() -> u32 {
    100
}

impl From<MasterKeyRotationBody> for MasterKeyRotation {
    fn from(b: MasterKeyRotationBody) -> Self {
        MasterKeyRotation {
            dry_run: b.dry_run,
            batch_size: b.batch_size,
            max_batches: b.max_batches,
        }
    }
}

impl From<MasterKeyRotation> for MasterKeyRotationBody {
    fn from(o: MasterKeyRotation) -> Self {
        MasterKeyRotationBody {
            dry_run: o.dry_run,
            batch_size: o.batch_size,
            max_batches: o.max_batches,
        }
    }
}
