//! Federation keys: created once (only an argon2id hash is kept), listed, revoked, rotated with
//! an overlap, and verified for partners. The trait is the capability; `local` implements it over
//! a Store, with the key-only state (verification cache, key index, usage counts) in `state`.

pub mod hashing;
mod known_keys;
pub(crate) mod local;
pub(crate) mod state;
mod verify_cache;
pub mod wire;

pub use state::KeyListener;

use async_trait::async_trait;
use domain::error::Result;
use domain::model::{CreatedKey, FederationKey, KeyFilter, Page, Rotation, Verified};
use domain::Actor;
use serde::{Deserialize, Serialize};

/// Input of [`Portal::create_key`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewKey {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::name))]
    pub name: String,
    /// How long until the key expires, e.g. `90d` or `12h`; none for a key that does not expire.
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::key_lifetime_or_null))]
    pub expires_in: Option<String>,
}

/// Federation keys. Writes that create, rotate or revoke accept an idempotency key: a retry with
/// the same key and input returns the first result; with other input it is a `Conflict`.
#[async_trait]
pub trait Keys: Send + Sync {
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
    ) -> Result<FederationKey> {
        let mut revoked = self
            .revoke_keys(actor, &[id.to_string()], idempotency_key)
            .await?;
        revoked
            .pop()
            .ok_or_else(|| domain::Error::internal("revocation returned nothing"))
    }
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
}
