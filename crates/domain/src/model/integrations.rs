//! Provider integrations as stored (configuration sealed) and as shown (field names only).

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IntegrationStatus {
    Active,
    Paused,
    Error,
}

impl IntegrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "error" => Ok(Self::Error),
            _ => Err(format!(
                "`{s}` is not an integration status: use active, paused or error"
            )),
        }
    }
}

/// The largest configuration an integration may have, serialised as JSON.
pub const CONFIG_MAX_BYTES: usize = 64 * 1024;
/// The longest error message a failed synchronisation may report.
pub const SYNC_ERROR_MAX: usize = 2000;

/// The kinds of provider integration the portal knows.
pub const INTEGRATION_TYPES: &[&str] = &[
    "stripe",
    "salesforce",
    "hubspot",
    "slack",
    "zendesk",
    "webhook",
    "custom",
];

pub fn parse_integration_type(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_lowercase();
    if INTEGRATION_TYPES.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!(
            "`{s}` is not an integration type: use one of {}",
            INTEGRATION_TYPES.join(", ")
        ))
    }
}

/// A provider integration as stored: its configuration JSON is sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct IntegrationRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub status: IntegrationStatus,
    pub config_sealed: Vec<u8>,
    /// Top-level names of the configuration (not their values), for display.
    pub config_fields: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_sync_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for IntegrationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl IntegrationRecord {
    pub fn view(&self) -> Integration {
        Integration {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind.clone(),
            status: self.status,
            config_fields: self.config_fields.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_sync_at: self.last_sync_at,
            last_error: self.last_error.clone(),
        }
    }
}

/// A provider integration as shown: the configuration's field names, never its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Integration {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: IntegrationStatus,
    pub config_fields: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_sync_at: Option<Timestamp>,
    pub last_error: Option<String>,
}
