//! Federation keys as stored and as shown, their filters, overlaps and the outcomes of create,
//! rotate and verify.

use crate::clock::Timestamp;
use crate::key::KeyId;
use serde::{Deserialize, Serialize};

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

impl std::str::FromStr for KeyStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
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
#[serde(default)]
pub struct KeyFilter {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(
        feature = "openapi",
        param(schema_with = crate::schema::key_status),
        schema(schema_with = crate::schema::key_status)
    )]
    pub status: Option<KeyStatus>,
    /// Active keys whose expiry falls within this many days.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::filter_days), schema(schema_with = crate::schema::filter_days))]
    pub expiring_within_days: Option<u32>,
    /// Keys not used (or never used) for at least this many days.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::filter_days), schema(schema_with = crate::schema::filter_days))]
    pub unused_for_days: Option<u32>,
    /// Case-insensitive substring of the name.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search), schema(schema_with = crate::schema::search))]
    pub search: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit), schema(schema_with = crate::schema::page_limit))]
    pub limit: Option<u32>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::cursor), schema(schema_with = crate::schema::cursor))]
    pub cursor: Option<String>,
}

/// The longest lifetime a new key may be given (`expires_in`): five years.
pub const KEY_LIFETIME_MAX_SECS: i64 = 5 * 365 * 86400;
/// The day filters of the key list (`expiring_within_days`, `unused_for_days`) go up to this.
pub const KEY_FILTER_DAYS_MAX: u32 = 3650;
/// The longest name search of the key and client lists.
pub const SEARCH_MAX: usize = 100;
/// The most keys one bulk revocation may name.
pub const REVOKE_MAX: usize = 1000;

/// The units [`parse_duration_secs`] reads, with their length in seconds.
const DURATION_UNITS: [(&str, i64); 5] =
    [("s", 1), ("m", 60), ("min", 60), ("h", 3600), ("d", 86400)];

/// A regex (unanchored) for what [`parse_duration_secs`] reads as 1 to `max_secs` seconds:
/// a number (leading zeros allowed) and a unit, each unit with its own largest number.
pub fn duration_core(max_secs: i64) -> String {
    let alternatives: Vec<String> = DURATION_UNITS
        .iter()
        .map(|(unit, secs)| format!("0*{}{unit}", decimal_range(max_secs / secs)))
        .collect();
    format!("(?:{})", alternatives.join("|"))
}

/// A regex for the decimal numbers 1..=max (at least 1), without leading zeros.
pub(crate) fn decimal_range(max: i64) -> String {
    let digits: Vec<u8> = max.to_string().bytes().map(|b| b - b'0').collect();
    let k = digits.len();
    let mut alts = Vec::new();
    // Fewer digits than `max`: any such number.
    if k > 1 {
        alts.push(format!("[1-9][0-9]{{0,{}}}", k - 2));
    }
    // As many digits: agree with `max` on a prefix, then a smaller digit, then any digits.
    for i in 0..k {
        let low = if i == 0 { 1 } else { 0 };
        if digits[i] > low {
            let prefix: String = digits[..i].iter().map(|d| char::from(b'0' + d)).collect();
            let rest = k - i - 1;
            alts.push(format!("{prefix}[{low}-{}][0-9]{{{rest}}}", digits[i] - 1));
        }
    }
    alts.push(max.to_string());
    format!("(?:{})", alts.join("|"))
}

/// The overlap a rotated key keeps working for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Overlap(i64);

impl Overlap {
    /// The choices offered in the UI.
    pub const PRESETS: [&'static str; 6] = ["0", "1m", "15m", "1h", "6h", "24h"];
    pub const MAX_SECS: i64 = 7 * 24 * 3600;

    /// What [`Overlap::parse`] accepts (inside `validate::trimmed_pattern`).
    pub fn core() -> String {
        format!("(?:0|{})", duration_core(Self::MAX_SECS))
    }

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
