//! Secrets at rest: the master key set (where it comes from: `sources`) and its rotation, which
//! re-encrypts every sealed value in resumable, audited batches.

pub(crate) mod local;
mod sources;
pub mod wire;

pub use sources::{FileKeys, MasterKeySource, StaticKeys};

use async_trait::async_trait;
use domain::error::Result;
use domain::model::MasterKeyStatus;
use domain::Actor;
use serde::{Deserialize, Serialize};

/// Progress callback of long operations: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Options of [`Portal::rotate_master_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterKeyRotation {
    /// Only report how many secrets are behind the current version.
    pub dry_run: bool,
    /// Secrets re-encrypted per transaction.
    pub batch_size: u32,
    /// Stop after this many batches (the rest is resumed by the next run).
    pub max_batches: Option<u32>,
}

impl Default for MasterKeyRotation {
    fn default() -> Self {
        MasterKeyRotation {
            dry_run: false,
            batch_size: 100,
            max_batches: None,
        }
    }
}

/// What a master-key rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MasterKeyReport {
    /// The version added by this run, if it added one (a run that resumes adds none).
    pub added_version: Option<u32>,
    pub resealed: u64,
    pub status: MasterKeyStatus,
}

/// Secrets at rest.
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus>;
    /// Adds a master-key version (unless a run is to be resumed) and re-seals every secret under
    /// it. With an idempotency key, a retry returns the first run's report.
    async fn rotate_master_key(
        &self,
        actor: &Actor,
        options: MasterKeyRotation,
        progress: Progress<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<MasterKeyReport>;
}
