//! Where the sealed secrets stand against the current master key.

use serde::{Deserialize, Serialize};

/// Where the secrets stand against the current master key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MasterKeyStatus {
    pub current_version: u32,
    pub behind: u64,
    pub total: u64,
}

/// The most secrets a master-key rotation re-encrypts per transaction (`batch_size`).
pub const ROTATION_BATCH_MAX: u32 = 10_000;
