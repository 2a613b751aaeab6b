//! Opening-hours evaluation throughput: `status_at` (open/closed plus `until` / `next_open`) for a
//! target with a full week of hours and 20 exceptions, on instants spread over 2026 in Berlin.
//!
//! Run with `cargo bench -p switchboard-forwarding --bench hours`; the target is ≥ 1,000,000
//! evaluations per second per core (criterion prints elements/s).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use switchboard_forwarding::hours::{OpeningHours, Schedule};

fn compile(value: serde_json::Value) -> Schedule {
    serde_json::from_value::<OpeningHours>(value).unwrap().compile("opening_hours").unwrap()
}

/// Two intervals per weekday, Saturday morning, a Friday night shift, 20 exceptions.
fn full_week() -> Schedule {
    let weekday = json!([{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]);
    let friday = json!([{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}, {"start": "22:00", "end": "02:00"}]);
    let exceptions: Vec<_> = (0..20)
        .map(|i| {
            let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i * 18 + 3);
            let intervals = if i % 2 == 0 { json!([]) } else { json!([{"start": "10:00", "end": "14:00"}]) };
            json!({"date": date.to_string(), "intervals": intervals})
        })
        .collect();
    compile(json!({
        "days": {"mon": weekday, "tue": weekday, "wed": weekday, "thu": weekday, "fri": friday,
                 "sat": [{"start": "10:00", "end": "14:00"}], "sun": []},
        "exceptions": exceptions
    }))
}

/// 10,000 instants spread over 2026 (a fixed pseudo-random sequence, whole seconds).
fn instants() -> Vec<DateTime<Utc>> {
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().timestamp();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..10_000)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let offset = i64::try_from((state >> 33) % (365 * 86_400)).unwrap();
            DateTime::from_timestamp(start + offset, 0).unwrap()
        })
        .collect()
}

fn status_at(c: &mut Criterion) {
    let zone = chrono_tz::Europe::Berlin;
    let instants = instants();
    let mut group = c.benchmark_group("hours");
    group.throughput(Throughput::Elements(instants.len() as u64));
    let schedules = [
        ("status_at_full_week_20_exceptions_berlin", full_week()),
        ("status_at_default_week_berlin", compile(json!({}))),
    ];
    for (name, schedule) in schedules {
        group.bench_function(name, |b| {
            b.iter(|| {
                for &at in &instants {
                    black_box(schedule.status_at(black_box(at), zone));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, status_at);
criterion_main!(benches);
