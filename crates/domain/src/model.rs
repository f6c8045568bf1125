//! Entities as stored and as shown, and the queries over them.

use crate::clock::Timestamp;
use crate::key::KeyId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One page of a keyset-paginated list. Pass `next_cursor` back to get the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub const PAGE_MAX: u32 = 500;
pub const PAGE_DEFAULT: u32 = 50;

/// The state of a federation key at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            "expired" => Ok(Self::Expired),
            _ => Err(format!(
                "`{s}` is not a key status: use active, revoked or expired"
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// A federation key as stored: everything but the key itself, which exists only as a hash.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub name: String,
    pub hashed_key: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: Option<String>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("hashed_key", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    pub fn status(&self, now: Timestamp) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// What reads return: no hash.
    pub fn view(&self, now: Timestamp) -> FederationKey {
        FederationKey {
            id: self.id.clone(),
            prefix: self.id.display_prefix(),
            name: self.name.clone(),
            status: self.status(now),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            last_used_ip: self.last_used_ip.clone(),
            rotated_from: self.rotated_from.clone(),
            rotated_to: self.rotated_to.clone(),
        }
    }
}

/// A federation key as shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FederationKey {
    pub id: KeyId,
    pub prefix: String,
    pub name: String,
    pub status: KeyStatus,
    pub created_at: Timestamp,
    pub created_by: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: Option<String>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
}

/// Filters of the key list. Every filter narrows; none set lists all keys, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct KeyFilter {
    pub status: Option<KeyStatus>,
    /// Active keys whose expiry falls within this many days.
    pub expiring_within_days: Option<u32>,
    /// Keys not used (or never used) for at least this many days.
    pub unused_for_days: Option<u32>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 500),
        schema(minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The overlap a rotated key keeps working for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Overlap(i64);

impl Overlap {
    /// The choices offered in the UI.
    pub const PRESETS: [&'static str; 6] = ["0", "1m", "15m", "1h", "6h", "24h"];
    pub const MAX_SECS: i64 = 7 * 24 * 3600;

    /// `0`, or a number with a unit `s`, `m`, `h`, `d` (e.g. `15m`, `24h`, `7d`), at most 7 days.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s == "0" {
            return Ok(Overlap(0));
        }
        let secs = parse_duration_secs(s).ok_or_else(|| {
            format!("`{s}` is not a duration: use 0, 1m, 15m, 1h, 6h, 24h (up to 7d)")
        })?;
        if secs > Self::MAX_SECS {
            return Err("must be at most 7 days".into());
        }
        Ok(Overlap(secs))
    }
    pub fn from_secs(secs: i64) -> Result<Self, String> {
        if !(0..=Self::MAX_SECS).contains(&secs) {
            return Err("must be between 0 and 7 days".into());
        }
        Ok(Overlap(secs))
    }
    pub fn secs(self) -> i64 {
        self.0
    }
}

impl TryFrom<String> for Overlap {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}
impl From<Overlap> for String {
    fn from(o: Overlap) -> String {
        format_duration(o.0)
    }
}

/// `90` → `1m30s`-style text, in the largest whole unit: `3600` → `1h`.
pub fn format_duration(secs: i64) -> String {
    match secs {
        0 => "0".into(),
        s if s % 86400 == 0 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Parses `30s`, `15m`, `6h`, `90d` into seconds.
pub fn parse_duration_secs(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

/// The result of creating or rotating a key: the only time the full key is returned.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: FederationKey,
    /// The full key. Show it once; it cannot be recovered.
    pub full_key: crate::Sensitive<String>,
}

/// The outcome of a rotation.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub old: FederationKey,
    pub successor: CreatedKey,
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verified {
    pub key_id: KeyId,
    pub name: String,
    pub expires_at: Option<Timestamp>,
}

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

/// A tenant organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub status: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ClientFilter {
    pub search: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 500),
        schema(minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Filters of the audit list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Page size, 1 to 500 (default 50).
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 500),
        schema(minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Where the secrets stand against the current master key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MasterKeyStatus {
    pub current_version: u32,
    pub behind: u64,
    pub total: u64,
}

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

/// The result of verifying the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainReport {
    pub checked: u64,
    pub first_broken: Option<crate::audit::BrokenLink>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps() {
        for p in Overlap::PRESETS {
            assert!(Overlap::parse(p).is_ok(), "{p}");
        }
        assert_eq!(Overlap::parse("1h").unwrap().secs(), 3600);
        assert_eq!(Overlap::parse("7d").unwrap().secs(), 7 * 86400);
        assert!(Overlap::parse("8d").is_err());
        assert!(Overlap::parse("-1h").is_err());
        assert!(Overlap::parse("soon").is_err());
        assert_eq!(String::from(Overlap::parse("15m").unwrap()), "15m");
    }
}
