//! Rentals through the real binary on every engine: a dry run writes nothing, two processes at
//! once and a process killed with SIGKILL halfway then rerun each charge every (number, period)
//! exactly once.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_testkit::{TestDb, each_engine};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-billing-cron");
/// Every number is due for December 2026 and January 2027 at this instant.
const NOW: &str = "2027-01-31T12:00:00Z";

fn start(db: &TestDb, args: &[&str]) -> Child {
    Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("APP__LOG__FILTER", "warn")
        .args(["--now", NOW])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// `n` numbers bought on the 1st–28th of November 2026, next due in December; 1.50 a month.
async fn due_numbers(db: &TestDb, n: usize) {
    let ws = TenancyService::new(db.conn.clone())
        .create_workspace(NewWorkspace {
            name: "Acme".into(),
            timezone: Some("Europe/Berlin".parse().unwrap()),
        })
        .await
        .unwrap()
        .0
        .id;
    let rows: Vec<NumberRow> = (0..n)
        .map(|i| {
            let mut r = NumberRow::new(&ws, format!("+49305{i:07}"));
            let day = 1 + (i % 28) as u32;
            r.rental_anchor_day = day as i32;
            r.next_rental_at =
                Some(Utc.with_ymd_and_hms(2026, 12, day, 0, 0, 0).unwrap() - chrono::Duration::hours(1));
            r
        })
        .collect();
    insert_numbers(&db.conn, &rows).await.unwrap();
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    let row = db
        .conn
        .query_one(Statement::from_string(db.conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

async fn rentals(db: &TestDb) -> i64 {
    scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'rental'").await
}

/// Entries per (number, period) beyond the first: must stay zero.
async fn doubles(db: &TestDb) -> i64 {
    scalar(
        db,
        "SELECT CAST(COALESCE(SUM(c - 1), 0) AS BIGINT) FROM \
         (SELECT COUNT(*) AS c FROM ledger_entries GROUP BY number_id, period) AS per_period",
    )
    .await
}

#[tokio::test]
async fn two_runs_at_once_and_a_dry_run_charge_each_period_once() {
    each_engine(|db| async move {
        due_numbers(&db, 2000).await;
        let dry = finish(start(&db, &["--dry-run"]));
        assert!(dry.contains("rentals: would charge 4000 periods of 2000 numbers, 6000.00 EUR"), "{dry}");
        assert_eq!(rentals(&db).await, 0, "a dry run writes nothing");

        let (a, b) = (start(&db, &["--batch-size", "100"]), start(&db, &["--batch-size", "100"]));
        let (a, b) = (finish(a), finish(b));
        assert_eq!((rentals(&db).await, doubles(&db).await), (4000, 0), "{a}\n{b}");
        let charged = |s: &str| -> u64 {
            let at = s.find("rentals: charged ").unwrap() + "rentals: charged ".len();
            s[at..].split(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(charged(&a) + charged(&b), 4000, "together they charged each period once:\n{a}\n{b}");

        let again = finish(start(&db, &[]));
        assert!(again.contains("rentals: charged 0 periods of 0 due numbers"), "{again}");
        // The wallet (never credited) is below zero: one notification, however many runs saw it.
        assert!(again.contains("wallets: 1 below zero, 0 newly notified"), "{again}");
        let notices = "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE kind = 'wallet_negative'";
        assert_eq!(scalar(&db, notices).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_run_killed_halfway_then_rerun_charges_each_period_once() {
    each_engine(|db| async move {
        due_numbers(&db, 6000).await;
        let mut child = start(&db, &["--batch-size", "50"]);
        // Kill with SIGKILL once some batches, but not all, are committed.
        let deadline = Instant::now() + Duration::from_secs(60);
        let at_kill = loop {
            let n = rentals(&db).await;
            if n > 0 {
                child.kill().unwrap();
                break n;
            }
            assert!(Instant::now() < deadline, "the run never committed a batch");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        child.wait().unwrap();
        let after_kill = rentals(&db).await;
        assert!(
            after_kill >= at_kill && after_kill < 12_000,
            "killed halfway: {after_kill} of 12000 charged"
        );
        assert_eq!(after_kill % 50, 0, "only whole batches were committed");

        let rerun = finish(start(&db, &["--batch-size", "50"]));
        assert_eq!((rentals(&db).await, doubles(&db).await), (12_000, 0), "{rerun}");
        let balance = scalar(&db, "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries").await;
        assert_eq!(balance, -12_000 * 15_000, "Σ ledger = 12,000 rentals of 1.50");
    })
    .await;
}
