//! OIDC configurations as stored (secret sealed) and as shown (never the secret).

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An OIDC configuration as stored. The client secret is sealed (envelope encryption).
#[derive(Clone, PartialEq, Eq)]
pub struct OidcRecord {
    pub id: Uuid,
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub enabled: bool,
    pub client_secret_sealed: Option<Vec<u8>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for OidcRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcRecord")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl OidcRecord {
    pub fn view(&self) -> OidcConfig {
        OidcConfig {
            id: self.id,
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            enabled: self.enabled,
            has_client_secret: self.client_secret_sealed.is_some(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An OIDC configuration as shown: the secret is never returned, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcConfig {
    pub id: Uuid,
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub enabled: bool,
    pub has_client_secret: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
