//! Time, injected: business logic asks a [`Clock`], never the system directly.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant with millisecond precision, stored as milliseconds since the Unix epoch and
/// written in JSON as RFC 3339 (`2026-11-26T04:51:00.123Z`); JSON input may be either.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Timestamp(i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Millis(i64),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Millis(ms) => Ok(Timestamp(ms)),
            Either::Text(t) => Timestamp::parse(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("`{t}` is not an RFC 3339 time"))),
        }
    }
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    pub fn minus_secs(self, secs: i64) -> Self {
        self.plus_secs(-secs)
    }
    /// RFC 3339 in UTC, e.g. `2026-11-26T04:51:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("@{}ms", self.0))
    }
    /// Parses RFC 3339 (`2026-11-26T04:51:00Z`) or a plain date (`2026-11-26`, midnight UTC).
    /// RFC 3339 only, as the API document's `date-time` format: no white space around it and
    /// no bare date.
    pub fn parse_rfc3339(input: &str) -> Option<Self> {
        OffsetDateTime::parse(input, &Rfc3339)
            .ok()
            .map(|t| Self((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        if let Ok(t) = OffsetDateTime::parse(input, &Rfc3339) {
            return Some(Self((t.unix_timestamp_nanos() / 1_000_000) as i64));
        }
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(input, &fmt)
            .ok()
            .map(|d| Self(d.midnight().assume_utc().unix_timestamp() * 1000))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Timestamp::parse(s).ok_or_else(|| {
            format!(
                "`{s}` is not a time: use RFC 3339 (2026-11-26T04:51:00Z) or a date (2026-11-26)"
            )
        })
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// The source of "now".
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place allowed to read the system clock
    fn now(&self) -> Timestamp {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000_000) as i64)
    }
}

/// A clock tests move by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.millis()))
    }
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant in UTC, RFC 3339"))
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::from_millis(1_795_000_000_123);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse("2026-11-26").map(|t| t.to_rfc3339()),
            Some("2026-11-26T00:00:00Z".into())
        );
        assert_eq!(Timestamp::parse("yesterday"), None);
    }

    #[test]
    fn json_is_rfc3339_and_reads_both_forms() {
        let t = Timestamp::from_millis(1_795_000_000_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-18T11:06:40.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert_eq!(
            serde_json::from_str::<Timestamp>("1795000000123").unwrap(),
            t
        );
    }
}
