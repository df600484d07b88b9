//! Instants and dates as the log writes them: RFC 3339 in UTC, one text per instant.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The time zone in which a signature's calendar date is read. The agreements are Swedish
/// public documents; a signature at 23:30 UTC on 31 March was made on 1 April in Sweden.
pub const LEGAL_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Stockholm;

/// An instant in UTC, written `2020-03-12T09:30:00Z` (with `.mmm`, `.uuuuuu` or `.nnnnnnnnn`
/// when it has a fraction). Any other spelling of the same instant is refused, so that the
/// bytes that were signed are the bytes that are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

/// An instant that is not in the one accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an RFC 3339 UTC instant in canonical form, e.g. 2020-03-12T09:30:00Z \
     (fractions as .mmm, .uuuuuu or .nnnnnnnnn, zone always Z)"
)]
pub struct TimestampError(pub String);

impl Timestamp {
    pub fn from_datetime(instant: DateTime<Utc>) -> Self {
        Timestamp(instant)
    }

    pub fn datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// The calendar date in [`LEGAL_TIME_ZONE`].
    pub fn legal_date(&self) -> NaiveDate {
        self.0.with_timezone(&LEGAL_TIME_ZONE).date_naive()
    }

    pub fn unix_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = DateTime::parse_from_rfc3339(s).map_err(|_| TimestampError(s.into()))?;
        // chrono represents a leap second as a fraction of 1 s or more; the log has none.
        if parsed.timestamp_subsec_nanos() >= 1_000_000_000 {
            return Err(TimestampError(s.into()));
        }
        let ts = Timestamp(parsed.with_timezone(&Utc));
        if ts.to_string() != s {
            return Err(TimestampError(s.into()));
        }
        Ok(ts)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A calendar date, `YYYY-MM-DD` (chrono's serde form is exactly that).
pub type Date = NaiveDate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_per_instant() {
        for ok in [
            "2020-03-12T09:30:00Z",
            "2026-11-23T06:49:05.123Z",
            "2009-12-18T00:00:00.000001Z",
        ] {
            assert_eq!(
                ok.parse::<Timestamp>().map(|t| t.to_string()).as_deref(),
                Ok(ok)
            );
        }
        for bad in [
            "2020-03-12T09:30:00+00:00",
            "2020-03-12T10:30:00+01:00",
            "2020-03-12t09:30:00z",
            "2020-03-12T09:30:00.5Z",
            "2020-03-12 09:30:00Z",
            "2020-03-12",
            "2016-12-31T23:59:60Z",
            "",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn legal_date_is_swedish() {
        let late: Timestamp = "2020-03-31T22:30:00Z".parse().expect("valid");
        assert_eq!(late.legal_date().to_string(), "2020-04-01");
        let winter: Timestamp = "2020-01-31T22:30:00Z".parse().expect("valid");
        assert_eq!(winter.legal_date().to_string(), "2020-01-31");
    }
}
