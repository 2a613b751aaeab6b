//! billing-cron's rental renewal at scale: `BENCH_NUMBERS` (default 100,000) held numbers all due,
//! spread over 10 workspaces in different zones, renewed by one `rentals::renew` run in batches
//! of `rentals::DEFAULT_BATCH`. Timed from the first query to the last commit; the ledger is
//! checked afterwards (one entry per number, none twice). SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set.
//!
//! `just bench-rentals` (or `cargo bench -p switchboard-numbers --bench rentals`);
//! `BENCH_NUMBERS=1000000 just bench-rentals` for the million.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

use std::time::Instant;

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use switchboard_core::db::{BULK_SQLITE_CHECKPOINT_PAGES, DbOptions, WRITER_SQLITE_MEMORY_MIB, connect};
use switchboard_core::period::start_of_local_day;
use switchboard_core::{Currency, Period, Zone};
use switchboard_numbers::rentals;
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};

const ZONES: [&str; 10] = [
    "Europe/Berlin",
    "UTC",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
    "Europe/London",
    "Pacific/Auckland",
    "America/Los_Angeles",
];

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("BENCH_NUMBERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    for engine in switchboard_testkit::engines() {
        let mut db = switchboard_testkit::fresh(engine).await;
        if engine == switchboard_core::db::Engine::Sqlite {
            // With billing-cron's SQLite memory budget, not the test pool's default.
            let options = DbOptions {
                sqlite_memory_mib: WRITER_SQLITE_MEMORY_MIB,
                sqlite_checkpoint_pages: BULK_SQLITE_CHECKPOINT_PAGES,
                ..DbOptions::new(db.url.clone())
            };
            db.conn = connect(&options).await.unwrap();
        }
        let tenancy = TenancyService::new(db.conn.clone());
        let mut workspaces = Vec::new();
        for zone in ZONES {
            let ws = tenancy
                .create_workspace(NewWorkspace { name: zone.into(), timezone: Some(zone.parse().unwrap()) })
                .await
                .unwrap()
                .0
                .id;
            workspaces.push(ws);
        }
        let seeding = Instant::now();
        // Bought on the 1st–28th of November: due on that day of December, at local midnight.
        let december = Period::new(2026, 12).unwrap();
        let rows: Vec<NumberRow> = (0..count)
            .map(|i| {
                let zone: Zone = ZONES[i % ZONES.len()].parse().unwrap();
                let mut r = NumberRow::new(&workspaces[i % ZONES.len()], format!("+49{:011}", i));
                r.rental_anchor_day = 1 + (i % 28) as i32;
                r.next_rental_at =
                    Some(start_of_local_day(december.clamped_date(r.rental_anchor_day as u32), zone));
                r
            })
            .collect();
        for chunk in rows.chunks(50_000) {
            insert_numbers(&db.conn, chunk).await.unwrap();
        }
        let seeded = seeding.elapsed();
        // Every number is due once: all of December's dates have passed, none of January's.
        let now = Utc.with_ymd_and_hms(2026, 12, 29, 12, 0, 0).unwrap();
        let started = Instant::now();
        let summary =
            rentals::renew(&db.conn, Currency::EUR, now, rentals::DEFAULT_BATCH, |_| {}).await.unwrap();
        let took = started.elapsed();
        let entries: i64 = db
            .conn
            .query_one(Statement::from_string(
                db.conn.get_database_backend(),
                "SELECT CAST(COUNT(DISTINCT idempotency_key) AS BIGINT) FROM ledger_entries".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        assert_eq!((summary.charged, entries), (count as u64, count as i64));
        println!(
            "rentals/{}: {count} numbers renewed in {:.2} s ({:.0} numbers/s; batches of {}; seeding took {:.1} s)",
            engine.name(),
            took.as_secs_f64(),
            count as f64 / took.as_secs_f64(),
            rentals::DEFAULT_BATCH,
            seeded.as_secs_f64(),
        );
    }
}
