//! Calendar months in an IANA zone: usage, free tiers and limits are counted per [`Period`] in the
//! workspace's zone (SPEC §9), while every stored timestamp stays UTC.
//!
//! A month starts at local midnight of its first day. Where a zone skips that midnight (a DST jump
//! at 00:00, e.g. America/Santiago), the month starts at the first local instant that exists.

use std::fmt;
use std::str::FromStr;

use crate::string_form::string_form;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// An IANA time zone such as `Europe/Berlin`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(pub Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    pub fn parse(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| format!("`{s}` is not an IANA time zone such as Europe/Berlin"))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl FromStr for Zone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

string_form!(Zone, example = "Europe/Berlin", description = "IANA time zone name");

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a month in the form YYYY-MM, e.g. 2026-11")]
pub struct PeriodParseError;

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1..=9999).contains(&year)).then_some(Self { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// The month that contains `instant` as seen in `zone`.
    pub fn containing(instant: DateTime<Utc>, zone: Zone) -> Self {
        let local = instant.with_timezone(&zone.0);
        Self { year: local.year(), month: local.month() }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self { year: self.year + 1, month: 1 }
        } else {
            Self { year: self.year, month: self.month + 1 }
        }
    }

    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self { year: self.year - 1, month: 12 }
        } else {
            Self { year: self.year, month: self.month - 1 }
        }
    }

    /// Number of days in the month.
    pub fn days(self) -> u32 {
        let first = self.first_day();
        let next = self.next().first_day();
        u32::try_from((next - first).num_days()).unwrap_or(28)
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The date in this month for a monthly anchor day, clamped to the month's last day
    /// (anchor 31 → 28 Feb, 31 Mar): the rental rule of SPEC §9.
    pub fn clamped_date(self, anchor_day: u32) -> NaiveDate {
        let day = anchor_day.clamp(1, self.days());
        NaiveDate::from_ymd_opt(self.year, self.month, day).unwrap_or_else(|| self.first_day())
    }

    /// The UTC instant the month begins in `zone` (inclusive).
    pub fn start(self, zone: Zone) -> DateTime<Utc> {
        start_of_local_day(self.first_day(), zone)
    }

    /// The UTC instant the month ends in `zone` (exclusive): the next month's start.
    pub fn end(self, zone: Zone) -> DateTime<Utc> {
        self.next().start(zone)
    }
}

/// The first instant of a local calendar day in `zone`, in UTC.
pub fn start_of_local_day(date: NaiveDate, zone: Zone) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight may not exist (DST gap at 00:00); step forward to the first local time that does.
    for minutes in (0..=24 * 60).step_by(15) {
        let candidate = midnight + Duration::minutes(minutes);
        if let Some(dt) = zone.0.from_local_datetime(&candidate).earliest() {
            return dt.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&midnight)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = PeriodParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !s[..4].bytes().chain(s[5..].bytes()).all(|c| c.is_ascii_digit()) {
            return Err(PeriodParseError);
        }
        let year = s[..4].parse().map_err(|_| PeriodParseError)?;
        let month = s[5..].parse().map_err(|_| PeriodParseError)?;
        Period::new(year, month).ok_or(PeriodParseError)
    }
}

string_form!(
    Period,
    example = "2026-11",
    description = "Calendar month",
    pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$",
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn zone(s: &str) -> Zone {
        Zone::parse(s).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_and_prints() {
        let p: Period = "2026-11".parse().unwrap();
        assert_eq!((p.year(), p.month()), (2026, 11));
        assert_eq!(p.to_string(), "2026-11");
        for bad in ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", ""] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn last_second_of_a_month_and_first_of_the_next_fall_in_different_periods() {
        let berlin = zone("Europe/Berlin");
        // 2026-11-30 23:59:59 Berlin (CET, +01:00) and 2026-12-01 00:00:00 Berlin.
        assert_eq!(Period::containing(utc("2026-11-30T22:59:59Z"), berlin).to_string(), "2026-11");
        assert_eq!(Period::containing(utc("2026-11-30T23:00:00Z"), berlin).to_string(), "2026-12");
        // The same UTC instant is still November in New York.
        assert_eq!(
            Period::containing(utc("2026-12-01T03:00:00Z"), zone("America/New_York")).to_string(),
            "2026-11"
        );
    }

    #[test]
    fn month_bounds_follow_dst() {
        let berlin = zone("Europe/Berlin");
        let march: Period = "2026-03".parse().unwrap();
        assert_eq!(march.start(berlin), utc("2026-02-28T23:00:00Z"));
        // April starts in summer time (+02:00).
        assert_eq!(march.end(berlin), utc("2026-03-31T22:00:00Z"));
    }

    #[test]
    fn a_missing_local_midnight_starts_the_month_at_the_first_existing_instant() {
        // America/Santiago jumped from 00:00 to 01:00 on 2022-09-11; use a synthetic check on a
        // day start instead of a month start, the rule is shared.
        let santiago = zone("America/Santiago");
        let start = start_of_local_day(NaiveDate::from_ymd_opt(2022, 9, 11).unwrap(), santiago);
        assert_eq!(start, utc("2022-09-11T04:00:00Z"));
    }

    #[test]
    fn clamps_anchor_days() {
        let feb: Period = "2026-02".parse().unwrap();
        assert_eq!(feb.clamped_date(31).to_string(), "2026-02-28");
        assert_eq!(feb.next().clamped_date(31).to_string(), "2026-03-31");
        assert_eq!("2028-02".parse::<Period>().unwrap().clamped_date(30).to_string(), "2028-02-29");
        assert_eq!(feb.days(), 28);
    }

    proptest! {
        #[test]
        fn an_instant_lies_inside_its_period(secs in 946_684_800i64..4_102_444_800i64, z in prop_oneof![Just("Europe/Berlin"), Just("America/New_York"), Just("Asia/Kolkata"), Just("Pacific/Chatham"), Just("UTC"), Just("America/Santiago")]) {
            let zone = zone(z);
            let instant = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let p = Period::containing(instant, zone);
            prop_assert!(p.start(zone) <= instant, "{p} starts after {instant}");
            prop_assert!(instant < p.end(zone), "{p} ends before {instant}");
        }

        #[test]
        fn next_and_prev_are_inverse(y in 1i32..9998, m in 1u32..=12) {
            let p = Period::new(y, m).unwrap();
            prop_assert_eq!(p.next().prev(), p);
            prop_assert!(p < p.next());
        }
    }
}
