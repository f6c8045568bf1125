//! The keys API's JSON shapes (server and `RemotePortal`). A one-time key crosses the wire only
//! in create and rotate responses, and is redacted in `Debug`.

use domain::model::{CreatedKey, FederationKey, Rotation};
use domain::Sensitive;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A key as returned by create and rotate: the only time `full_key` is ever sent.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedKeyBody {
    pub key: FederationKey,
    /// The full key. Show it once; it cannot be recovered.
    pub full_key: String,
}

impl std::fmt::Debug for CreatedKeyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKeyBody")
            .field("key", &self.key)
            .field("full_key", &"<redacted>")
            .finish()
    }
}

impl From<CreatedKey> for CreatedKeyBody {
    fn from(c: CreatedKey) -> Self {
        CreatedKeyBody {
            key: c.key,
            full_key: c.full_key.expose().clone(),
        }
    }
}

impl From<CreatedKeyBody> for CreatedKey {
    fn from(c: CreatedKeyBody) -> Self {
        CreatedKey {
            key: c.key,
            full_key: Sensitive::new(c.full_key),
        }
    }
}

/// The outcome of a rotation: the old key (in its overlap) and its successor, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RotationBody {
    pub old: FederationKey,
    pub successor: CreatedKeyBody,
}

impl From<Rotation> for RotationBody {
    fn from(r: Rotation) -> Self {
        RotationBody {
            old: r.old,
            successor: r.successor.into(),
        }
    }
}

impl From<RotationBody> for Rotation {
    fn from(r: RotationBody) -> Self {
        Rotation {
            old: r.old,
            successor: r.successor.into(),
        }
    }
}

/// Body of `POST /v1/keys/{id}/rotate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old key keeps working: `0`, `1m`, `15m`, `1h`, `6h`, `24h` … at most `7d`.
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::overlap))]
    pub overlap: String,
}

/// Body of `POST /v1/keys/revoke`: several keys in one transaction, all or none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeKeysBody {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::revoke_ids))]
    pub ids: Vec<String>,
}

/// Body of `POST /v1/federation/verify`. The key may instead be presented as
/// `Authorization: Bearer <key>`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub key: Option<String>,
}

impl std::fmt::Debug for VerifyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyBody { key: <redacted> }")
    }
}
