//! Property tests against a brute-force oracle.
//!
//! The oracle shares no code with the engine: it converts the instant to a local date and time with
//! chrono-tz and checks that date's intervals (or its exception's) and the previous date's
//! overnight ones directly. Statuses can only change on whole UTC minutes in these zones (their
//! offsets and transitions are whole minutes), so scanning minute by minute finds every change.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::json;
use switchboard_forwarding::hours::{Availability, OpeningHours};

/// Minutes since midnight; an end of 1440 is written `24:00`.
type Interval = (u16, u16);

#[derive(Debug, Clone)]
struct Model {
    week: [Vec<Interval>; 7],
    exceptions: BTreeMap<NaiveDate, Vec<Interval>>,
}

impl Model {
    fn intervals(&self, date: NaiveDate) -> &[Interval] {
        match self.exceptions.get(&date) {
            Some(list) => list,
            None => &self.week[date.weekday().num_days_from_monday() as usize],
        }
    }

    fn open_at(&self, at: DateTime<Utc>, zone: Tz) -> bool {
        let local = at.with_timezone(&zone).naive_local();
        let date = local.date();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let today = self
            .intervals(date)
            .iter()
            .any(|&(start, end)| if end > start { start <= minute && minute < end } else { minute >= start });
        let yesterday =
            self.intervals(date.pred_opt().unwrap()).iter().any(|&(start, end)| end <= start && minute < end);
        today || yesterday
    }

    fn to_json(&self) -> serde_json::Value {
        let time = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        let list = |l: &[Interval]| -> Vec<_> {
            l.iter().map(|&(s, e)| json!({"start": time(s), "end": time(e)})).collect()
        };
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: serde_json::Map<_, _> =
            names.iter().zip(&self.week).map(|(n, l)| (n.to_string(), json!(list(l)))).collect();
        let exceptions: Vec<_> = self
            .exceptions
            .iter()
            .map(|(d, l)| json!({"date": d.format("%Y-%m-%d").to_string(), "intervals": list(l)}))
            .collect();
        json!({"days": days, "exceptions": exceptions})
    }
}

const ZONES: [Tz; 6] = [
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Pacific::Chatham,
    chrono_tz::UTC,
];

fn year_start(year: i32) -> i64 {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap().timestamp()
}

/// Offset changes of each zone in 2026–2027, found by an hourly scan.
static TRANSITIONS: LazyLock<Vec<Vec<i64>>> = LazyLock::new(|| {
    let offset = |zone: Tz, t: i64| {
        zone.offset_from_utc_datetime(&DateTime::from_timestamp(t, 0).unwrap().naive_utc())
            .fix()
            .local_minus_utc()
    };
    ZONES
        .iter()
        .map(|&zone| {
            (year_start(2026)..year_start(2028))
                .step_by(3600)
                .filter(|&t| offset(zone, t) != offset(zone, t + 3600))
                .collect()
        })
        .collect()
});

fn minute() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => (0u16..96).prop_map(|q| q * 15),
        2 => 0u16..1440,
        2 => prop::sample::select(vec![0u16, 60, 90, 120, 135, 150, 165, 180, 210]),
    ]
}

fn interval() -> impl Strategy<Value = Interval> {
    (minute(), prop_oneof![8 => minute(), 1 => Just(1440u16)])
}

fn day() -> impl Strategy<Value = Vec<Interval>> {
    prop::collection::vec(interval(), 0..4)
}

/// A zone and an instant in 2026–2027: half spread over the two years, half within 36 hours of
/// one of the zone's offset changes.
fn zone_and_instant() -> impl Strategy<Value = (Tz, DateTime<Utc>)> {
    (0..ZONES.len()).prop_flat_map(|z| {
        let transitions = TRANSITIONS[z].clone();
        let near = if transitions.is_empty() {
            (year_start(2026)..year_start(2028)).boxed()
        } else {
            (prop::sample::select(transitions), -36 * 3600i64..36 * 3600).prop_map(|(t, d)| t + d).boxed()
        };
        let at = prop_oneof![year_start(2026)..year_start(2028), near];
        (Just(ZONES[z]), at.prop_map(|t| DateTime::from_timestamp(t, 0).unwrap()))
    })
}

/// A random schedule with exceptions on dates near the instant's local date.
fn case() -> impl Strategy<Value = (Tz, DateTime<Utc>, Model)> {
    zone_and_instant().prop_flat_map(|(zone, at)| {
        let today = at.with_timezone(&zone).date_naive();
        let week = [day(), day(), day(), day(), day(), day(), day()];
        let exceptions = prop::collection::vec((-2i64..9, day()), 0..4).prop_map(move |list| {
            let mut map = BTreeMap::new();
            for (offset, intervals) in list {
                map.entry(today + Duration::days(offset)).or_insert(intervals);
            }
            map
        });
        (Just(zone), Just(at), (week, exceptions).prop_map(|(week, exceptions)| Model { week, exceptions }))
    })
}

/// How far the oracle scans minute by minute.
const SCAN: i64 = 3 * 24 * 60;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn engine_agrees_with_the_brute_force_oracle((zone, at, model) in case()) {
        let wire: OpeningHours = serde_json::from_value(model.to_json()).unwrap();
        let schedule = wire.compile("opening_hours").unwrap();
        let status = schedule.status_at(at, zone);
        let open = model.open_at(at, zone);
        prop_assert_eq!(status.is_open(), open, "status at {}", at);

        let change = match status {
            Availability::Open { until } => until,
            Availability::Closed { next_open } => next_open,
        };
        // No change before the reported one (or within the scan when none is reported).
        let scan_end = change.map_or(at + Duration::minutes(SCAN), |c| c.min(at + Duration::minutes(SCAN)));
        let mut probe = at + Duration::seconds(60 - at.timestamp().rem_euclid(60));
        while probe < scan_end {
            prop_assert_eq!(model.open_at(probe, zone), open, "flipped at {} before {:?}", probe, change);
            probe += Duration::minutes(1);
        }
        if let Some(change) = change {
            prop_assert!(change > at);
            prop_assert_eq!(change.timestamp().rem_euclid(60), 0);
            prop_assert_eq!(model.open_at(change, zone), !open, "no flip at {}", change);
            prop_assert_eq!(model.open_at(change - Duration::seconds(1), zone), open);
            if change - Duration::minutes(1) > at {
                prop_assert_eq!(model.open_at(change - Duration::minutes(1), zone), open);
            }
            prop_assert_eq!(schedule.status_at(change, zone).is_open(), !open);
        }
    }

    #[test]
    fn wire_form_round_trips((_zone, _at, model) in case()) {
        let wire: OpeningHours = serde_json::from_value(model.to_json()).unwrap();
        let compiled = wire.compile("opening_hours").unwrap();
        prop_assert_eq!(compiled.to_wire(), wire.clone());
        prop_assert_eq!(compiled.to_wire().compile("opening_hours").unwrap(), compiled);
    }
}
