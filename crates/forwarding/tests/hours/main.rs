//! The opening-hours engine (SPEC §6) from the outside: the rules with named cases, DST in Berlin,
//! New York and Lord Howe, and property tests against a brute-force oracle built on chrono-tz.
#![allow(clippy::unwrap_used)]

mod dst;
mod oracle;
mod rules;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_forwarding::hours::{Availability, OpeningHours, Schedule};

/// Compiles wire JSON, panicking on validation errors.
pub fn schedule(value: serde_json::Value) -> Schedule {
    let hours: OpeningHours = serde_json::from_value(value).unwrap();
    hours.compile("opening_hours").unwrap()
}

/// An RFC 3339 instant.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// A local wall-clock time that exists exactly once in `zone`.
pub fn local(zone: Tz, text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    zone.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
}

pub fn open_until(until: DateTime<Utc>) -> Availability {
    Availability::Open { until: Some(until) }
}

pub fn closed_until(next_open: DateTime<Utc>) -> Availability {
    Availability::Closed { next_open: Some(next_open) }
}
