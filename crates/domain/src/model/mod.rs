//! Entities as stored and as shown, and the queries over them: one file per capability,
//! gathered here so every layer names them `domain::model::…`.

mod audit;
mod clients;
mod integrations;
mod keys;
mod oidc;
mod overview;
mod secrets;

pub use audit::*;
pub use clients::*;
pub use integrations::*;
pub use keys::*;
pub use oidc::*;
pub use overview::*;
pub use secrets::*;

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
}
