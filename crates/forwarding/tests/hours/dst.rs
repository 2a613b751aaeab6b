//! Daylight saving time: the local wall-clock time of the instant decides.
//!
//! Berlin: 2026-03-29 02:00 CET → 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST → 02:00 CET (01:00Z).
//! New York: 2026-03-08 02:00 EST → 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT → 01:00 EST (06:00Z).
//! Lord Howe: 2026-10-04 02:00 → 02:30 (+10:30 → +11, 15:30Z the day before).

use chrono_tz::America::New_York;
use chrono_tz::Australia::Lord_Howe;
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
use serde_json::json;
use switchboard_forwarding::hours::{Availability, Schedule};

use crate::{closed_until, local, open_until, schedule, utc};

fn every_day(start: &str, end: &str) -> Schedule {
    let day = json!([{"start": start, "end": end}]);
    schedule(
        json!({"days": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}}),
    )
}

fn sunday(start: &str, end: &str) -> Schedule {
    schedule(json!({"days": {"sun": [{"start": start, "end": end}]}}))
}

fn saturday(start: &str, end: &str) -> Schedule {
    schedule(json!({"days": {"sat": [{"start": start, "end": end}]}}))
}

/// Open at local 09:00 and closed at 08:59 on the day before and the day of the change.
fn assert_office_hours_both_sides(zone: Tz, before: (&str, &str), after: (&str, &str)) {
    let s = every_day("09:00", "17:00");
    for (nine, five) in [before, after] {
        let nine = utc(nine);
        assert_eq!(s.status_at(nine, zone), open_until(utc(five)), "{zone} {nine}");
        assert_eq!(
            s.status_at(nine - chrono::Duration::minutes(1), zone),
            closed_until(nine),
            "{zone} {nine}"
        );
    }
}

#[test]
fn office_opens_at_local_nine_around_berlin_spring_forward() {
    assert_office_hours_both_sides(
        Berlin,
        ("2026-03-28T08:00:00Z", "2026-03-28T16:00:00Z"),
        ("2026-03-29T07:00:00Z", "2026-03-29T15:00:00Z"),
    );
}

#[test]
fn office_opens_at_local_nine_around_berlin_fall_back() {
    assert_office_hours_both_sides(
        Berlin,
        ("2026-10-24T07:00:00Z", "2026-10-24T15:00:00Z"),
        ("2026-10-25T08:00:00Z", "2026-10-25T16:00:00Z"),
    );
}

#[test]
fn office_opens_at_local_nine_around_new_york_spring_forward() {
    assert_office_hours_both_sides(
        New_York,
        ("2026-03-07T14:00:00Z", "2026-03-07T22:00:00Z"),
        ("2026-03-08T13:00:00Z", "2026-03-08T21:00:00Z"),
    );
}

#[test]
fn office_opens_at_local_nine_around_new_york_fall_back() {
    assert_office_hours_both_sides(
        New_York,
        ("2026-10-31T13:00:00Z", "2026-10-31T21:00:00Z"),
        ("2026-11-01T14:00:00Z", "2026-11-01T22:00:00Z"),
    );
}

#[test]
fn next_open_over_a_weekend_with_a_clock_change_is_local_nine() {
    let s = schedule(json!({}));
    // Friday 17:00 CET → Monday 09:00 CEST.
    assert_eq!(s.status_at(utc("2026-03-27T16:00:00Z"), Berlin), closed_until(utc("2026-03-30T07:00:00Z")));
    // Friday 17:00 CEST → Monday 09:00 CET.
    assert_eq!(s.status_at(utc("2026-10-23T15:00:00Z"), Berlin), closed_until(utc("2026-10-26T08:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-06T22:00:00Z"), New_York), closed_until(utc("2026-03-09T13:00:00Z")));
    assert_eq!(s.status_at(utc("2026-10-30T21:00:00Z"), New_York), closed_until(utc("2026-11-02T14:00:00Z")));
}

#[test]
fn twenty_four_hours_from_saturday_nine_lasts_twenty_three_real_hours_in_spring() {
    let s = saturday("09:00", "09:00");
    assert_eq!(s.status_at(utc("2026-03-28T08:00:00Z"), Berlin), open_until(utc("2026-03-29T07:00:00Z")));
    assert_eq!(s.status_at(utc("2026-10-24T07:00:00Z"), Berlin), open_until(utc("2026-10-25T08:00:00Z")));
}

#[test]
fn overnight_interval_across_the_spring_gap_closes_at_local_six() {
    let s = saturday("22:00", "06:00");
    assert_eq!(s.status_at(utc("2026-03-28T21:00:00Z"), Berlin), open_until(utc("2026-03-29T04:00:00Z")));
    // 01:59:59 CET, one second before the gap: still open.
    assert_eq!(s.status_at(utc("2026-03-29T00:59:59Z"), Berlin), open_until(utc("2026-03-29T04:00:00Z")));
}

#[test]
fn overnight_interval_across_the_fall_overlap_stays_open_through_the_repeated_hour() {
    let s = saturday("22:00", "06:00");
    assert_eq!(s.status_at(utc("2026-10-24T20:00:00Z"), Berlin), open_until(utc("2026-10-25T05:00:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T01:30:00Z"), Berlin), open_until(utc("2026-10-25T05:00:00Z")));
}

#[test]
fn interval_starting_in_the_spring_gap_opens_when_the_gap_ends() {
    let s = sunday("02:30", "04:00");
    assert_eq!(s.status_at(utc("2026-03-29T00:59:59Z"), Berlin), closed_until(utc("2026-03-29T01:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-29T01:00:00Z"), Berlin), open_until(utc("2026-03-29T02:00:00Z")));
    let s = sunday("02:30", "03:30");
    assert_eq!(s.status_at(utc("2026-03-08T06:59:00Z"), New_York), closed_until(utc("2026-03-08T07:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-08T07:00:00Z"), New_York), open_until(utc("2026-03-08T07:30:00Z")));
}

#[test]
fn interval_ending_in_the_spring_gap_closes_when_the_gap_begins() {
    let s = sunday("01:00", "02:30");
    assert_eq!(s.status_at(utc("2026-03-29T00:30:00Z"), Berlin), open_until(utc("2026-03-29T01:00:00Z")));
    assert_eq!(
        s.status_at(utc("2026-03-29T01:00:00Z"), Berlin),
        closed_until(local(Berlin, "2026-04-05 01:00"))
    );
}

#[test]
fn interval_inside_the_spring_gap_skips_that_day() {
    let s = sunday("02:00", "02:45");
    assert_eq!(s.status_at(utc("2026-03-28T23:00:00Z"), Berlin), closed_until(utc("2026-04-05T00:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-08T06:00:00Z"), New_York), closed_until(utc("2026-03-15T06:00:00Z")));
}

#[test]
fn lord_howe_half_hour_gap_skips_an_interval_inside_it() {
    // 2026-10-04 02:00 +10:30 becomes 02:30 +11 at 2026-10-03T15:30Z.
    let s = sunday("02:00", "02:30");
    assert_eq!(
        s.status_at(utc("2026-10-03T15:00:00Z"), Lord_Howe),
        closed_until(local(Lord_Howe, "2026-10-11 02:00"))
    );
    let s = sunday("02:15", "03:00");
    assert_eq!(
        s.status_at(utc("2026-10-03T15:00:00Z"), Lord_Howe),
        closed_until(utc("2026-10-03T15:30:00Z"))
    );
    assert_eq!(s.status_at(utc("2026-10-03T15:30:00Z"), Lord_Howe), open_until(utc("2026-10-03T16:00:00Z")));
}

#[test]
fn repeated_half_hour_in_the_fall_overlap_opens_twice() {
    let s = sunday("02:00", "02:30");
    // 01:00 CEST.
    assert_eq!(s.status_at(utc("2026-10-24T23:00:00Z"), Berlin), closed_until(utc("2026-10-25T00:00:00Z")));
    // 02:00–02:30 CEST.
    assert_eq!(s.status_at(utc("2026-10-25T00:00:00Z"), Berlin), open_until(utc("2026-10-25T00:30:00Z")));
    // 02:30 CEST: closed until the clock goes back to 02:00 CET.
    assert_eq!(s.status_at(utc("2026-10-25T00:30:00Z"), Berlin), closed_until(utc("2026-10-25T01:00:00Z")));
    // 02:00–02:30 CET.
    assert_eq!(s.status_at(utc("2026-10-25T01:00:00Z"), Berlin), open_until(utc("2026-10-25T01:30:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T01:30:00Z"), Berlin), closed_until(utc("2026-11-01T01:00:00Z")));
}

#[test]
fn boundary_at_a_repeated_time_takes_effect_at_the_earlier_instant_first() {
    let s = sunday("00:30", "02:30");
    assert_eq!(s.status_at(utc("2026-10-24T23:30:00Z"), Berlin), open_until(utc("2026-10-25T00:30:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T00:30:00Z"), Berlin), closed_until(utc("2026-10-25T01:00:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T01:00:00Z"), Berlin), open_until(utc("2026-10-25T01:30:00Z")));
    // New York repeats 01:00–02:00 (EDT, then EST).
    let s = sunday("01:15", "01:45");
    assert_eq!(s.status_at(utc("2026-11-01T04:00:00Z"), New_York), closed_until(utc("2026-11-01T05:15:00Z")));
    assert_eq!(s.status_at(utc("2026-11-01T05:15:00Z"), New_York), open_until(utc("2026-11-01T05:45:00Z")));
    assert_eq!(s.status_at(utc("2026-11-01T05:45:00Z"), New_York), closed_until(utc("2026-11-01T06:15:00Z")));
    assert_eq!(s.status_at(utc("2026-11-01T06:15:00Z"), New_York), open_until(utc("2026-11-01T06:45:00Z")));
}

#[test]
fn interval_starting_in_the_repeated_hour_opens_at_its_first_occurrence() {
    let s = sunday("02:30", "04:00");
    assert_eq!(s.status_at(utc("2026-10-24T23:00:00Z"), Berlin), closed_until(utc("2026-10-25T00:30:00Z")));
    // Open from 02:30 CEST; when the clock goes back it reads 02:00–02:30 again, before the start,
    // so the target closes for that half hour and reopens at 02:30 CET until 04:00 CET.
    assert_eq!(s.status_at(utc("2026-10-25T00:30:00Z"), Berlin), open_until(utc("2026-10-25T01:00:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T01:00:00Z"), Berlin), closed_until(utc("2026-10-25T01:30:00Z")));
    assert_eq!(s.status_at(utc("2026-10-25T01:30:00Z"), Berlin), open_until(utc("2026-10-25T03:00:00Z")));
}

#[test]
fn around_the_clock_stays_open_through_both_changes() {
    let s = every_day("00:00", "00:00");
    for at in ["2026-03-29T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"] {
        assert_eq!(s.status_at(utc(at), Berlin), Availability::Open { until: None }, "{at}");
    }
}
