//! How instants, dates and hashes read on the pages: Swedish time with its zone, UTC on hover.

use chrono::{Days, NaiveTime, TimeZone as _};
use overens_core::time::LEGAL_TIME_ZONE;
use overens_core::{Date, Timestamp};

/// An instant as shown: Europe/Stockholm with its zone (`2020-03-12 10:30 CET`), and the
/// canonical UTC text for `datetime` and the hover title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct When {
    pub local: String,
    pub utc: String,
}

impl When {
    pub(crate) fn of(instant: &Timestamp) -> When {
        When {
            local: instant
                .datetime()
                .with_timezone(&LEGAL_TIME_ZONE)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            utc: instant.to_string(),
        }
    }

    /// With seconds: for the `as_of` of an answer, which may be the last second of a day.
    pub(crate) fn precise(instant: &Timestamp) -> When {
        When {
            local: instant
                .datetime()
                .with_timezone(&LEGAL_TIME_ZONE)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
            utc: instant.to_string(),
        }
    }
}

/// `{{ instant.when() }}` in the templates.
pub(crate) trait Shown {
    fn when(&self) -> When;
}

impl Shown for Timestamp {
    fn when(&self) -> When {
        When::of(self)
    }
}

/// The last instant of `day` in Sweden (the microsecond before the next day starts): what
/// "as known at the end of `day`" counts up to.
pub(crate) fn end_of_swedish_day(day: Date) -> Option<Timestamp> {
    let next = day.checked_add_days(Days::new(1))?;
    let midnight = LEGAL_TIME_ZONE
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .earliest()?;
    let last = midnight.with_timezone(&chrono::Utc) - chrono::Duration::microseconds(1);
    Some(Timestamp::from_datetime(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a canonical instant")
    }

    #[test]
    fn instants_read_in_swedish_time_with_their_zone() {
        let winter = When::of(&at("2020-03-12T09:30:00Z"));
        assert_eq!(winter.local, "2020-03-12 10:30 CET");
        assert_eq!(winter.utc, "2020-03-12T09:30:00Z");
        let summer = When::of(&at("2020-06-01T22:15:00Z"));
        assert_eq!(summer.local, "2020-06-02 00:15 CEST");
    }

    #[test]
    fn the_end_of_a_swedish_day_is_in_utc_the_day_before_midnight() {
        let winter = end_of_swedish_day("2026-01-01".parse().expect("date")).expect("exists");
        assert_eq!(winter.to_string(), "2026-01-01T22:59:59.999999Z");
        let summer = end_of_swedish_day("2026-07-01".parse().expect("date")).expect("exists");
        assert_eq!(summer.to_string(), "2026-07-01T21:59:59.999999Z");
        assert_eq!(
            When::precise(&winter).local,
            "2026-01-01 23:59:59 CET",
            "shown as the day's last second"
        );
    }
}
