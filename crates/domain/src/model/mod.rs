//! Entities as stored and as shown, and the queries over them: one file per capability,
//! gathered here so every layer names them `domain::model::…`.

pub mod analytics;
mod audit;
mod clients;
mod incident_queries;
mod incidents;
mod integrations;
mod jobs;
mod keys;
mod oidc;
mod overview;
mod secrets;
mod sync;

pub use audit::*;
pub use clients::*;
pub use incident_queries::*;
pub use incidents::*;
pub use integrations::*;
pub use jobs::*;
pub use keys::*;
pub use oidc::*;
pub use overview::*;
pub use secrets::*;
pub use sync::*;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};

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

/// `#[serde(default, deserialize_with = "empty_as_none")]` on every optional query field: an
/// empty value (`?cursor=`, `?expiring_within_days=`) means the parameter is absent, as HTML
/// forms and many clients send it. Query values arrive as text and are parsed with `FromStr`;
/// JSON input (the desktop's commands) may also give the value itself or `null`.
pub fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + DeserializeOwned,
    T::Err: std::fmt::Display,
{
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => s.parse().map(Some).map_err(D::Error::custom),
        Some(v) => T::deserialize(v).map(Some).map_err(D::Error::custom),
    }
}

/// `#[serde(deserialize_with = "whole_u32")]`: a JSON number with no fractional part (`100` or
/// `100.0`: both are integers to JSON Schema) that fits a `u32`.
pub fn whole_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        })
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            D::Error::custom(format!(
                "`{n}` is not a whole number from 0 to {}",
                u32::MAX
            ))
        })
}

/// [`whole_u32`] for an `i64` from 0 up (a sequence number).
pub fn whole_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..9.0e18).contains(f))
                .map(|f| f as i64)
        })
        .filter(|v| *v >= 0)
        .ok_or_else(|| D::Error::custom(format!("`{n}` is not a whole number from 0")))
}

/// `#[serde(deserialize_with = "rfc3339")]`: a time written only as an RFC 3339 string, as the
/// document says (a [`crate::Timestamp`]'s own `Deserialize` also takes epoch milliseconds, for stored
/// rows; a request body that must match its schema takes the string alone).
pub fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<crate::Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    crate::Timestamp::parse_rfc3339(&text).ok_or_else(|| {
        D::Error::custom(format!(
            "`{text}` is not an RFC 3339 time (2026-11-26T04:51:00Z)"
        ))
    })
}

/// [`rfc3339`] for an optional field (`null` is none).
pub fn rfc3339_or_none<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<crate::Timestamp>, D::Error> {
    #[derive(Deserialize)]
    struct Strict(#[serde(deserialize_with = "rfc3339")] crate::Timestamp);
    Ok(Option::<Strict>::deserialize(d)?.map(|s| s.0))
}

/// [`whole_u32`] for a `u8` (a percentage).
pub fn whole_u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let n = whole_u32(d)?;
    u8::try_from(n)
        .map_err(|_| D::Error::custom(format!("`{n}` is not a whole number from 0 to 255")))
}

/// [`whole_i64`] for an optional field (`null` is none).
pub fn whole_i64_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_i64")] i64);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// [`whole_u32`] for an optional field (`null` is none).
pub fn whole_u32_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_u32")] u32);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default)]
    struct Q {
        #[serde(deserialize_with = "empty_as_none")]
        days: Option<u32>,
        #[serde(deserialize_with = "empty_as_none")]
        cursor: Option<String>,
        #[serde(deserialize_with = "empty_as_none")]
        status: Option<KeyStatus>,
    }

    #[test]
    fn an_empty_value_is_an_absent_one() {
        let q: Q =
            serde_json::from_value(serde_json::json!({"days": "", "cursor": "", "status": ""}))
                .unwrap();
        assert_eq!(q, Q::default(), "empty text means absent");
        let q: Q =
            serde_json::from_value(serde_json::json!({"days": 7, "cursor": "c1", "status": null}))
                .unwrap();
        assert_eq!(
            q,
            Q {
                days: Some(7),
                cursor: Some("c1".into()),
                status: None
            }
        );
        let q: Q =
            serde_json::from_value(serde_json::json!({"days": "30", "status": "revoked"})).unwrap();
        assert_eq!((q.days, q.status), (Some(30), Some(KeyStatus::Revoked)));
        assert!(serde_json::from_value::<Q>(serde_json::json!({"days": "x"})).is_err());
        assert!(serde_json::from_value::<Q>(serde_json::json!({"status": "lost"})).is_err());
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        #[derive(Debug, Deserialize)]
        struct B {
            #[serde(deserialize_with = "whole_u32")]
            n: u32,
            #[serde(default, deserialize_with = "whole_u32_or_none")]
            m: Option<u32>,
        }
        let b: B = serde_json::from_str(r#"{"n": 2389.0, "m": null}"#).unwrap();
        assert_eq!((b.n, b.m), (2389, None));
        let b: B = serde_json::from_str(r#"{"n": 7, "m": 3.0}"#).unwrap();
        assert_eq!((b.n, b.m), (7, Some(3)));
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": "1"}"#,
        ] {
            assert!(serde_json::from_str::<B>(bad).is_err(), "{bad}");
        }
    }
}
