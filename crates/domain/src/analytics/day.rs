//! A calendar day (UTC), the unit of every analytics series: stored as days since 1970-01-01,
//! written `YYYY-MM-DD`.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::{Date, Duration, Month};

const MS_PER_DAY: i64 = 86_400_000;

/// A UTC calendar day (the default: 1970-01-01).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Day(i32);

/// The first day this crate accepts (`0001-01-01` is representable but meaningless for revenue).
const MIN: i32 = -25_567; // 1900-01-01
/// The last day this crate accepts.
const MAX: i32 = 2_932_896; // 9999-12-31

impl Day {
    /// The day `n` days after 1970-01-01 (`None` outside 1900–9999).
    pub fn from_days(n: i32) -> Option<Day> {
        (MIN..=MAX).contains(&n).then_some(Day(n))
    }

    /// Days since 1970-01-01 (how a day is stored).
    pub fn days(self) -> i32 {
        self.0
    }

    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Day> {
        let month = Month::try_from(month).ok()?;
        let date = Date::from_calendar_date(year, month, day).ok()?;
        Self::from_date(date)
    }

    fn from_date(date: Date) -> Option<Day> {
        let epoch = Date::from_calendar_date(1970, Month::January, 1).ok()?;
        Self::from_days(i32::try_from((date - epoch).whole_days()).ok()?)
    }

    fn date(self) -> Date {
        // Every `Day` is within 1900–9999, which `time` represents.
        Date::from_calendar_date(1970, Month::January, 1)
            .map(|e| e + Duration::days(i64::from(self.0)))
            .unwrap_or(Date::MIN)
    }

    /// The day a moment falls on (UTC).
    pub fn of(t: Timestamp) -> Day {
        let n = t.millis().div_euclid(MS_PER_DAY);
        Day(n.clamp(i64::from(MIN), i64::from(MAX)) as i32)
    }

    /// The first moment of the day (UTC midnight).
    pub fn start(self) -> Timestamp {
        Timestamp::from_millis(i64::from(self.0) * MS_PER_DAY)
    }

    /// The day `n` days later (earlier when negative), kept within the accepted range.
    pub fn plus(self, n: i32) -> Day {
        Day(self.0.saturating_add(n).clamp(MIN, MAX))
    }

    /// The first day of this day's month.
    pub fn month_start(self) -> Day {
        let d = self.date();
        Self::from_ymd(d.year(), d.month() as u8, 1).unwrap_or(self)
    }

    /// The Monday of this day's ISO week.
    pub fn week_start(self) -> Day {
        let back = self.date().weekday().number_days_from_monday();
        self.plus(-i32::from(back))
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(field: &str, text: &str) -> Result<Day> {
        let bad = || Error::invalid(field, format!("{text:?} is not a date (YYYY-MM-DD)"));
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = Date::parse(text.trim(), &format).map_err(|_| bad())?;
        Self::from_date(date).ok_or_else(|| {
            Error::invalid(field, format!("{text} is outside the years 1900 to 9999"))
        })
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse("day", &text).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

impl std::str::FromStr for Day {
    type Err = Error;
    fn from_str(text: &str) -> Result<Day> {
        Day::parse("day", text)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Day {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("A UTC day, YYYY-MM-DD"))
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Day {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_text_and_storage() {
        let d = Day::from_ymd(2026, 12, 2).unwrap();
        assert_eq!(d.to_string(), "2026-12-02");
        assert_eq!(Day::parse("from", "2026-12-02").unwrap(), d);
        assert_eq!(Day::from_days(d.days()), Some(d));
        assert_eq!(Day::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Day::of(d.start()), d);
        assert_eq!(
            Day::of(Timestamp::from_millis(d.start().millis() - 1)),
            d.plus(-1)
        );
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-12-02\"");
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let wed = Day::from_ymd(2026, 12, 2).unwrap();
        assert_eq!(wed.week_start(), Day::from_ymd(2026, 11, 30).unwrap());
        assert_eq!(wed.month_start(), Day::from_ymd(2026, 12, 1).unwrap());
    }

    #[test]
    fn bad_dates_are_refused_with_the_field() {
        for bad in ["2026-13-01", "2026-02-30", "yesterday", "", "1899-12-31"] {
            let e = Day::parse("from", bad).unwrap_err();
            assert!(e.to_string().contains("from"), "{bad}: {e}");
        }
        assert!(serde_json::from_str::<Day>("\"2026-02-30\"").is_err());
    }
}
