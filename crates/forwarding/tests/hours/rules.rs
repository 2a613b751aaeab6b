//! The rules of SPEC §6, one named case each (in UTC unless the zone is the point).

use chrono::{Duration, TimeDelta};
use chrono_tz::Tz;
use serde_json::json;
use switchboard_forwarding::hours::{Availability, OpeningHours};

use crate::{closed_until, local, open_until, schedule, utc};

const UTC: Tz = Tz::UTC;

fn every_day(start: &str, end: &str) -> serde_json::Value {
    let day = json!([{"start": start, "end": end}]);
    json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day})
}

#[test]
fn empty_object_means_weekdays_nine_to_five() {
    let s = schedule(json!({}));
    // 2026-03-02 is a Monday.
    assert_eq!(s.status_at(utc("2026-03-02T08:59:00Z"), UTC), closed_until(utc("2026-03-02T09:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-02T09:00:00Z"), UTC), open_until(utc("2026-03-02T17:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-04T16:59:59Z"), UTC), open_until(utc("2026-03-04T17:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-06T17:00:00Z"), UTC), closed_until(utc("2026-03-09T09:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-07T12:00:00Z"), UTC), closed_until(utc("2026-03-09T09:00:00Z")));
    assert_eq!(s.to_wire(), OpeningHours::default_week());
}

#[test]
fn default_week_is_evaluated_in_the_targets_zone() {
    let s = schedule(json!({}));
    let berlin = chrono_tz::Europe::Berlin;
    // 08:30 UTC on a winter Monday is 09:30 in Berlin.
    assert_eq!(s.status_at(utc("2026-03-02T08:30:00Z"), berlin), open_until(utc("2026-03-02T16:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-02T08:30:00Z"), UTC), closed_until(utc("2026-03-02T09:00:00Z")));
}

#[test]
fn omitted_weekdays_are_closed() {
    let s = schedule(json!({"days": {"wed": [{"start": "10:00", "end": "11:00"}]}}));
    assert_eq!(s.status_at(utc("2026-03-02T10:30:00Z"), UTC), closed_until(utc("2026-03-04T10:00:00Z")));
}

#[test]
fn lunch_break_closes_between_intervals() {
    let s = schedule(
        json!({"days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]}}),
    );
    assert_eq!(s.status_at(utc("2026-03-02T11:00:00Z"), UTC), open_until(utc("2026-03-02T12:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-02T12:30:00Z"), UTC), closed_until(utc("2026-03-02T13:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-02T13:00:00Z"), UTC), open_until(utc("2026-03-02T17:00:00Z")));
}

#[test]
fn intervals_given_out_of_order_or_overlapping_are_united() {
    let s = schedule(json!({"days": {"mon": [
        {"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}
    ]}}));
    assert_eq!(s.status_at(utc("2026-03-02T09:00:00Z"), UTC), open_until(utc("2026-03-02T17:00:00Z")));
}

#[test]
fn overnight_interval_stays_open_after_midnight() {
    let s = schedule(json!({"days": {"fri": [{"start": "22:00", "end": "02:00"}]}}));
    // Friday 2026-03-06 22:00 → Saturday 02:00.
    assert_eq!(s.status_at(utc("2026-03-06T21:59:00Z"), UTC), closed_until(utc("2026-03-06T22:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-06T23:00:00Z"), UTC), open_until(utc("2026-03-07T02:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-07T01:00:00Z"), UTC), open_until(utc("2026-03-07T02:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-07T03:00:00Z"), UTC), closed_until(utc("2026-03-13T22:00:00Z")));
}

#[test]
fn overnight_interval_on_sunday_runs_into_monday() {
    let s = schedule(json!({"days": {"sun": [{"start": "20:00", "end": "04:00"}]}}));
    assert_eq!(s.status_at(utc("2026-03-09T03:00:00Z"), UTC), open_until(utc("2026-03-09T04:00:00Z")));
}

#[test]
fn midnight_to_midnight_is_a_full_day() {
    let s = schedule(json!({"days": {"tue": [{"start": "00:00", "end": "00:00"}]}}));
    assert_eq!(s.status_at(utc("2026-03-02T23:59:59Z"), UTC), closed_until(utc("2026-03-03T00:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-03T00:00:00Z"), UTC), open_until(utc("2026-03-04T00:00:00Z")));
    assert_eq!(s.status_at(utc("2026-03-03T23:59:59Z"), UTC), open_until(utc("2026-03-04T00:00:00Z")));
}

#[test]
fn equal_start_and_end_is_twenty_four_hours_from_the_start() {
    let s = schedule(json!({"days": {"tue": [{"start": "09:00", "end": "09:00"}]}}));
    assert_eq!(s.status_at(utc("2026-03-04T08:00:00Z"), UTC), open_until(utc("2026-03-04T09:00:00Z")));
}

#[test]
fn end_at_twenty_four_hundred_means_midnight() {
    let a = schedule(json!({"days": {"mon": [{"start": "18:00", "end": "24:00"}]}}));
    let b = schedule(json!({"days": {"mon": [{"start": "18:00", "end": "00:00"}]}}));
    for at in ["2026-03-02T17:00:00Z", "2026-03-02T20:00:00Z", "2026-03-03T00:00:00Z"] {
        assert_eq!(a.status_at(utc(at), UTC), b.status_at(utc(at), UTC), "{at}");
    }
    assert_eq!(a.status_at(utc("2026-03-02T20:00:00Z"), UTC), open_until(utc("2026-03-03T00:00:00Z")));
    assert_eq!(a.to_wire().days.unwrap().mon[0].end, "24:00");
}

#[test]
fn intervals_touching_at_midnight_merge() {
    let s = schedule(json!({"days": {
        "mon": [{"start": "18:00", "end": "24:00"}], "tue": [{"start": "00:00", "end": "08:00"}]
    }}));
    assert_eq!(s.status_at(utc("2026-03-02T20:00:00Z"), UTC), open_until(utc("2026-03-03T08:00:00Z")));
}

#[test]
fn open_around_the_clock_never_closes() {
    let s = schedule(json!({"days": every_day("00:00", "00:00")}));
    assert_eq!(
        s.status_at(utc("2026-03-02T12:00:00Z"), chrono_tz::Europe::Berlin),
        Availability::Open { until: None }
    );
}

#[test]
fn no_hours_at_all_never_opens() {
    let s = schedule(json!({"days": {}}));
    assert_eq!(s.status_at(utc("2026-03-02T12:00:00Z"), UTC), Availability::Closed { next_open: None });
}

#[test]
fn closed_exception_closes_the_whole_date() {
    let s = schedule(json!({"exceptions": [{"date": "2026-12-24", "intervals": []}]}));
    // Thursday 2026-12-24 closed; Friday the 25th is an ordinary Friday here.
    assert_eq!(s.status_at(utc("2026-12-23T16:00:00Z"), UTC), open_until(utc("2026-12-23T17:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-23T17:00:00Z"), UTC), closed_until(utc("2026-12-25T09:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-24T10:00:00Z"), UTC), closed_until(utc("2026-12-25T09:00:00Z")));
}

#[test]
fn special_hours_replace_the_weekdays_intervals() {
    let s = schedule(json!({"exceptions": [
        {"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}]},
        {"date": "2026-12-26", "intervals": [{"start": "10:00", "end": "14:00"}]}
    ]}));
    assert_eq!(s.status_at(utc("2026-12-24T11:00:00Z"), UTC), open_until(utc("2026-12-24T12:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-24T13:00:00Z"), UTC), closed_until(utc("2026-12-25T09:00:00Z")));
    // A Saturday opened by an exception.
    assert_eq!(s.status_at(utc("2026-12-25T17:30:00Z"), UTC), closed_until(utc("2026-12-26T10:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-26T13:00:00Z"), UTC), open_until(utc("2026-12-26T14:00:00Z")));
}

#[test]
fn overnight_interval_spills_into_a_closed_exception_date() {
    let s = schedule(json!({
        "days": every_day("22:00", "02:00"),
        "exceptions": [{"date": "2026-12-24", "intervals": []}]
    }));
    // Wednesday's 22:00–02:00 still runs into the closed Thursday …
    assert_eq!(s.status_at(utc("2026-12-24T01:00:00Z"), UTC), open_until(utc("2026-12-24T02:00:00Z")));
    // … but Thursday itself does not open, so nothing spills into Friday.
    assert_eq!(s.status_at(utc("2026-12-24T22:30:00Z"), UTC), closed_until(utc("2026-12-25T22:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-25T01:00:00Z"), UTC), closed_until(utc("2026-12-25T22:00:00Z")));
}

#[test]
fn overnight_interval_spills_into_special_hours() {
    let s = schedule(json!({
        "days": every_day("22:00", "02:00"),
        "exceptions": [{"date": "2026-12-24", "intervals": [{"start": "01:00", "end": "03:00"}]}]
    }));
    // The spill 00:00–02:00 and the exception's 01:00–03:00 join up.
    assert_eq!(s.status_at(utc("2026-12-24T00:30:00Z"), UTC), open_until(utc("2026-12-24T03:00:00Z")));
}

#[test]
fn exception_overnight_interval_spills_into_the_next_date() {
    let s = schedule(
        json!({"days": {}, "exceptions": [{"date": "2026-12-31", "intervals": [{"start": "20:00", "end": "03:00"}]}]}),
    );
    assert_eq!(s.status_at(utc("2026-12-31T12:00:00Z"), UTC), closed_until(utc("2026-12-31T20:00:00Z")));
    assert_eq!(s.status_at(utc("2027-01-01T02:00:00Z"), UTC), open_until(utc("2027-01-01T03:00:00Z")));
    assert_eq!(s.status_at(utc("2027-01-01T03:00:00Z"), UTC), Availability::Closed { next_open: None });
}

#[test]
fn exception_on_the_previous_date_ending_at_midnight_closes_the_early_hours() {
    let s = schedule(json!({
        "days": every_day("22:00", "02:00"),
        "exceptions": [{"date": "2026-12-23", "intervals": [{"start": "22:00", "end": "24:00"}]}]
    }));
    assert_eq!(s.status_at(utc("2026-12-23T23:00:00Z"), UTC), open_until(utc("2026-12-24T00:00:00Z")));
    assert_eq!(s.status_at(utc("2026-12-24T01:00:00Z"), UTC), closed_until(utc("2026-12-24T22:00:00Z")));
}

#[test]
fn exception_dates_are_local_dates_of_the_zone() {
    let s = schedule(json!({"exceptions": [{"date": "2026-12-24", "intervals": []}]}));
    let tokyo = chrono_tz::Asia::Tokyo;
    // 2026-12-23T23:30Z is already 08:30 on the 24th in Tokyo: closed all that local day.
    assert_eq!(
        s.status_at(utc("2026-12-23T23:30:00Z"), tokyo),
        closed_until(local(tokyo, "2026-12-25 09:00"))
    );
}

#[test]
fn next_open_reaches_a_far_exception() {
    let s = schedule(
        json!({"days": {}, "exceptions": [{"date": "2027-02-01", "intervals": [{"start": "09:00", "end": "10:00"}]}]}),
    );
    assert_eq!(s.status_at(utc("2026-03-02T12:00:00Z"), UTC), closed_until(utc("2027-02-01T09:00:00Z")));
}

#[test]
fn search_stops_after_four_hundred_days() {
    let s = schedule(
        json!({"days": {}, "exceptions": [{"date": "2027-06-01", "intervals": [{"start": "09:00", "end": "10:00"}]}]}),
    );
    assert_eq!(s.status_at(utc("2026-03-02T12:00:00Z"), UTC), Availability::Closed { next_open: None });
    assert_eq!(s.status_at(utc("2026-06-01T12:00:00Z"), UTC), closed_until(utc("2027-06-01T09:00:00Z")));
}

#[test]
fn a_week_with_one_long_closure_still_finds_the_next_opening() {
    let dates: Vec<_> = (14..=31).map(|d| json!({"date": format!("2026-12-{d}"), "intervals": []})).collect();
    let s = schedule(json!({"exceptions": dates}));
    assert_eq!(s.status_at(utc("2026-12-14T10:00:00Z"), UTC), closed_until(utc("2027-01-01T09:00:00Z")));
}

#[test]
fn sub_second_instants_count_as_their_second() {
    let s = schedule(json!({}));
    let at = utc("2026-03-02T16:59:59Z") + TimeDelta::milliseconds(999);
    assert_eq!(s.status_at(at, UTC), open_until(utc("2026-03-02T17:00:00Z")));
    let at = utc("2026-03-02T17:00:00Z") + TimeDelta::nanoseconds(1);
    assert_eq!(s.status_at(at, UTC), closed_until(utc("2026-03-03T09:00:00Z")));
}

#[test]
fn status_at_the_reported_instant_is_the_other_one() {
    let s = schedule(
        json!({"days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "22:00", "end": "03:00"}]}}),
    );
    let mut at = utc("2026-03-01T12:00:00Z");
    let mut seen = Vec::new();
    for _ in 0..6 {
        let status = s.status_at(at, UTC);
        let next = match status {
            Availability::Open { until } => until,
            Availability::Closed { next_open } => next_open,
        }
        .unwrap();
        assert_eq!(s.status_at(next - Duration::seconds(1), UTC).is_open(), status.is_open());
        assert_ne!(s.status_at(next, UTC).is_open(), status.is_open());
        seen.push(next.to_rfc3339());
        at = next;
    }
    assert_eq!(
        seen,
        [
            "2026-03-02T09:00:00+00:00",
            "2026-03-02T12:00:00+00:00",
            "2026-03-02T22:00:00+00:00",
            "2026-03-03T03:00:00+00:00",
            "2026-03-09T09:00:00+00:00",
            "2026-03-09T12:00:00+00:00",
        ]
    );
}

mod validation {
    use serde_json::json;
    use switchboard_forwarding::hours::OpeningHours;

    fn errors(value: serde_json::Value) -> Vec<(String, String)> {
        let hours: OpeningHours = serde_json::from_value(value).unwrap();
        hours.compile("opening_hours").unwrap_err().into_iter().map(|e| (e.field, e.message)).collect()
    }

    fn paths(value: serde_json::Value) -> Vec<String> {
        errors(value).into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn bad_times_are_refused_with_their_paths() {
        for (bad, hint) in
            [("9:00", "HH:MM"), ("24:30", "00 to 23"), ("12:60", "00 to 59"), ("ab:cd", "HH:MM")]
        {
            let found = errors(json!({"days": {"mon": [
                {"start": "08:00", "end": "09:00"}, {"start": "10:00", "end": bad}
            ]}}));
            assert_eq!(found.len(), 1, "{bad}");
            assert_eq!(found[0].0, "opening_hours.days.mon[1].end", "{bad}");
            assert!(found[0].1.contains(hint), "{bad}: {}", found[0].1);
            let found = errors(json!({"days": {"fri": [{"start": bad, "end": "09:00"}]}}));
            assert_eq!(found[0].0, "opening_hours.days.fri[0].start", "{bad}");
        }
    }

    #[test]
    fn twenty_four_hundred_is_refused_as_a_start() {
        assert_eq!(
            paths(json!({"days": {"sat": [{"start": "24:00", "end": "02:00"}]}})),
            ["opening_hours.days.sat[0].start"]
        );
    }

    #[test]
    fn unknown_weekday_is_refused() {
        let found = errors(json!({"days": {"mon": [], "montag": [{"start": "09:00", "end": "17:00"}]}}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "opening_hours.days.montag");
        assert!(found[0].1.contains("mon, tue, wed, thu, fri, sat or sun"));
    }

    #[test]
    fn bad_and_duplicate_exception_dates_are_refused() {
        assert_eq!(
            paths(json!({"exceptions": [
                {"date": "2026-12-24", "intervals": []},
                {"date": "2026-13-01", "intervals": []},
                {"date": "2026-12-24", "intervals": []},
                {"date": "tomorrow", "intervals": [{"start": "10:00", "end": "1200"}]}
            ]})),
            [
                "opening_hours.exceptions[1].date",
                "opening_hours.exceptions[2].date",
                "opening_hours.exceptions[3].intervals[0].end",
                "opening_hours.exceptions[3].date",
            ]
        );
    }

    #[test]
    fn too_many_intervals_and_exceptions_are_refused() {
        let eleven: Vec<_> =
            (0..11).map(|h| json!({"start": format!("{h:02}:00"), "end": format!("{h:02}:10")})).collect();
        assert_eq!(paths(json!({"days": {"thu": eleven}})), ["opening_hours.days.thu"]);
        let dates: Vec<_> = (0..367)
            .map(|i| {
                let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i);
                json!({"date": date.to_string(), "intervals": []})
            })
            .collect();
        assert_eq!(paths(json!({"exceptions": dates})), ["opening_hours.exceptions"]);
    }

    #[test]
    fn the_prefix_is_the_callers() {
        let hours: OpeningHours =
            serde_json::from_value(json!({"days": {"mon": [{"start": "x", "end": "10:00"}]}})).unwrap();
        let errors = hours.compile("targets[2].opening_hours").unwrap_err();
        assert_eq!(errors[0].field, "targets[2].opening_hours.days.mon[0].start");
    }

    #[test]
    fn unknown_fields_are_serde_errors() {
        assert!(serde_json::from_value::<OpeningHours>(json!({"timezone": "UTC"})).is_err());
        assert!(
            serde_json::from_value::<OpeningHours>(json!({"days": {"mon": [{"start": "09:00"}]}})).is_err()
        );
        assert!(serde_json::from_value::<OpeningHours>(json!({"days": {"mon": "09:00-17:00"}})).is_err());
    }
}
