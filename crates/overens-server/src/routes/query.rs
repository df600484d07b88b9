//! Path and query parameters, read by hand: axum's own extractors answer a bad parameter
//! with a plain-text body, and every error here is a problem document.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use overens_core::{Date, Timestamp};

use crate::ApiError;

/// A path that does not even parse names nothing that exists.
pub(crate) fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::not_found(format!("no such resource: {}", e.body_text())))
}

/// The query string as pairs, in order. Parameters a route does not take are ignored; one
/// it takes may be given once.
#[derive(Debug)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn new(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ) -> Result<Self, ApiError> {
        query
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| ApiError::invalid_query(e.body_text()))
    }

    pub(crate) fn optional(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid_query(format!(
                "`{name}` is given more than once"
            )));
        }
        Ok(first.map(String::as_str))
    }

    pub(crate) fn required(&self, name: &str, example: &str) -> Result<&str, ApiError> {
        self.optional(name)?.ok_or_else(|| {
            ApiError::invalid_query(format!("`{name}` is required, e.g. `{name}={example}`"))
        })
    }
}

/// Exactly `YYYY-MM-DD` (chrono alone would also take signs and longer years), as the CLI.
pub(crate) fn date(name: &str, text: &str) -> Result<Date, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == text)
        .ok_or_else(|| {
            ApiError::invalid_query(format!(
                "`{name}`: `{text}` is not a date of the form YYYY-MM-DD, e.g. 2021-01-01"
            ))
        })
}

/// Any RFC 3339 instant, with any offset (a reader asking, not a signed record), as the
/// CLI. A `+` in a query string is a space: an offset like `+01:00` must be sent as `%2B`.
pub(crate) fn instant(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        // chrono reads a leap second as a fraction of a second or more; the log has none.
        .filter(|t| t.nanosecond() < 1_000_000_000)
        .map(|t| Timestamp::from_datetime(t.with_timezone(&Utc)))
        .ok_or_else(|| {
            ApiError::invalid_query(format!(
                "`{name}`: `{text}` is not an RFC 3339 instant, e.g. 2021-01-01T12:00:00Z \
                 (send a `+` offset as `%2B`)"
            ))
        })
}

/// A count or an index: a decimal number without sign or leading zeros that fits 64 bits.
pub(crate) fn number(name: &str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|n| n.to_string() == text)
        .ok_or_else(|| {
            ApiError::invalid_query(format!(
                "`{name}`: `{text}` is not a number (0, 1, 2, … without sign or leading zeros)"
            ))
        })
}

/// A version number: 1, 2, … written without sign or leading zeros.
pub(crate) fn version_number(text: &str) -> Option<u32> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n >= 1 && n.to_string() == text)
}

pub(crate) fn version(name: &str, text: &str) -> Result<u32, ApiError> {
    version_number(text).ok_or_else(|| {
        ApiError::invalid_query(format!(
            "`{name}`: `{text}` is not a version number (1, 2, …)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants_are_read_as_the_cli_reads_them() {
        assert!(date("on", "2013-01-01").is_ok());
        for bad in ["2013-1-1", "+2013-01-01", "20130-01-01", "2013-02-30", ""] {
            assert!(date("on", bad).is_err(), "{bad}");
        }
        let t = instant("as_of", "2026-01-01T01:00:00+01:00").expect("valid");
        assert_eq!(t.to_string(), "2026-01-01T00:00:00Z");
        for bad in [
            "2026-01-01",
            "2026-01-01T00:00:00 01:00",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(instant("as_of", bad).is_err(), "{bad}");
        }
        assert_eq!(version_number("2"), Some(2));
        assert_eq!(number("n", "0").ok(), Some(0));
        assert_eq!(number("n", "18446744073709551615").ok(), Some(u64::MAX));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            "1.0",
            "0x10",
            "18446744073709551616",
            " 1",
        ] {
            assert!(number("n", bad).is_err(), "{bad}");
        }
        for bad in ["0", "01", "+1", "-1", "x", "4294967296"] {
            assert_eq!(version_number(bad), None, "{bad}");
        }
    }
}
