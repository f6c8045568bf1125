//! The overview page: counts that need attention and daily key activity.

use serde::{Deserialize, Serialize};

/// Key activity of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayActivity {
    /// `YYYY-MM-DD`
    pub day: String,
    pub keys_created: u64,
    pub verifications: u64,
}

/// Key counts at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCounts {
    pub active: u64,
    pub expiring_within_7_days: u64,
    pub unused_for_30_days: u64,
    pub revoked: u64,
    pub expired: u64,
}

/// The overview page: counts that need attention, and 30 days of key activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overview {
    pub keys: KeyCounts,
    pub enabled_oidc_configs: u64,
    pub integrations_in_error: u64,
    pub integrations_total: u64,
    pub clients: u64,
    pub audit_events: u64,
    pub activity: Vec<DayActivity>,
}
