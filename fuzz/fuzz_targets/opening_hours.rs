//! Opening hours: the wire JSON either compiles or is refused with field errors (never a panic);
//! a compiled schedule round-trips through its wire form; evaluation at any instant in any zone
//! is total; the status agrees with a direct reading of the local wall clock; and the reported
//! change (`until` / `next_open`) is after the instant, has the other status, and nothing changes
//! before it.
//!
//! Input: 8 bytes instant (i64 LE, folded into 1900–2200), 2 bytes probe (where to look before
//! the change), the zone (an IANA name, or any text, which picks a zone by its bytes), `\n`, then
//! the `opening_hours` JSON.
#![no_main]

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use libfuzzer_sys::fuzz_target;
use switchboard_forwarding::hours::{Availability, OpeningHours};

/// 1900-01-01 .. 2200-01-01 in Unix seconds.
const FIRST: i64 = -2_208_988_800;
const LAST: i64 = 7_258_118_400;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<10>() else { return };
    let raw = i64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    let probe = i64::from(u16::from_le_bytes([head[8], head[9]]));
    let Some(newline) = rest.iter().position(|b| *b == b'\n') else { return };
    let (zone_text, json) = (&rest[..newline], &rest[newline + 1..]);
    let zone =
        std::str::from_utf8(zone_text).ok().and_then(|name| name.parse::<Tz>().ok()).unwrap_or_else(|| {
            let pick =
                zone_text.iter().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(*b)));
            TZ_VARIANTS[pick % TZ_VARIANTS.len()]
        });
    let at = DateTime::from_timestamp(FIRST + raw.rem_euclid(LAST - FIRST), 0).expect("in range");

    let Ok(hours) = serde_json::from_slice::<OpeningHours>(json) else { return };
    let schedule = match hours.compile("opening_hours") {
        Ok(schedule) => schedule,
        Err(errors) => {
            assert!(!errors.is_empty(), "a refusal names at least one field");
            return;
        }
    };

    // The normalised wire form compiles to the same schedule and is a fixed point.
    let wire = schedule.to_wire();
    let again = wire.compile("opening_hours").expect("the normalised wire form compiles");
    assert_eq!(again, schedule);
    assert_eq!(again.to_wire(), wire);
    let json_again = serde_json::to_vec(&wire).expect("serialises");
    let reread: OpeningHours = serde_json::from_slice(&json_again).expect("reads back");
    assert_eq!(reread.compile("opening_hours").as_ref(), Ok(&schedule));

    let status = schedule.status_at(at, zone);
    assert_eq!(status.is_open(), reference_open(&wire, at, zone), "status at {at} in {zone}: {status:?}");

    let (open, change) = match status {
        Availability::Open { until } => (true, until),
        Availability::Closed { next_open } => (false, next_open),
    };
    match change {
        Some(change) => {
            assert!(change > at, "change {change} not after {at} in {zone}");
            assert_ne!(schedule.status_at(change, zone).is_open(), open, "no change at {change} in {zone}");
            let last_same = change - chrono::TimeDelta::seconds(1);
            assert_eq!(
                schedule.status_at(last_same, zone).is_open(),
                open,
                "changed before {change} in {zone}"
            );
            let span = (change - at).num_seconds();
            let inside = at + chrono::TimeDelta::seconds(probe * 7919 % span);
            assert_eq!(
                schedule.status_at(inside, zone).is_open(),
                open,
                "changed at {inside} before {change}"
            );
        }
        None => {
            // No change within the horizon, which is at least 14 days.
            let inside = at + chrono::TimeDelta::seconds(probe * 18_457 % (14 * 86_400));
            assert_eq!(schedule.status_at(inside, zone).is_open(), open, "changed at {inside}, said never");
        }
    }
});

/// Open by the rules read literally: the local date's own intervals (exception or weekday),
/// plus the previous date's overnight spill.
fn reference_open(wire: &OpeningHours, at: DateTime<Utc>, zone: Tz) -> bool {
    let local = at.with_timezone(&zone).naive_local();
    let minute = local.hour() * 60 + local.minute();
    let today = local.date();
    let own = intervals_of(wire, today)
        .iter()
        .any(|&(start, end)| if end > start { start <= minute && minute < end } else { start <= minute });
    let spill = today.pred_opt().is_some_and(|yesterday| {
        intervals_of(wire, yesterday).iter().any(|&(start, end)| end <= start && minute < end)
    });
    own || spill
}

fn intervals_of(wire: &OpeningHours, date: NaiveDate) -> Vec<(u32, u32)> {
    let text = date.format("%Y-%m-%d").to_string();
    let list = match wire.exceptions.iter().find(|e| e.date == text) {
        Some(exception) => &exception.intervals,
        None => {
            let days = wire.days.as_ref().expect("the normalised form lists the days");
            match date.weekday().num_days_from_monday() {
                0 => &days.mon,
                1 => &days.tue,
                2 => &days.wed,
                3 => &days.thu,
                4 => &days.fri,
                5 => &days.sat,
                _ => &days.sun,
            }
        }
    };
    list.iter().map(|i| (minutes(&i.start), minutes(&i.end))).collect()
}

fn minutes(hh_mm: &str) -> u32 {
    let (h, m) = hh_mm.split_once(':').expect("normalised HH:MM");
    h.parse::<u32>().expect("hours") * 60 + m.parse::<u32>().expect("minutes")
}
