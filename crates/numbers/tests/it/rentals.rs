use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, Statement};
use switchboard_billing::ledger;
use switchboard_core::{Currency, NumberId, WorkspaceId};
use switchboard_numbers::rentals::{self, DEFAULT_BATCH};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};
use switchboard_testkit::{TestDb, each_engine};

async fn workspace(db: &TestDb, tz: &str) -> WorkspaceId {
    TenancyService::new(db.conn.clone())
        .create_workspace(NewWorkspace { name: "Acme".into(), timezone: Some(tz.parse().unwrap()) })
        .await
        .unwrap()
        .0
        .id
}

/// Local midnight of `date` in `tz`, as UTC.
fn local_midnight(date: NaiveDate, tz: &str) -> DateTime<Utc> {
    let tz: Tz = tz.parse().unwrap();
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().with_timezone(&Utc)
}

/// The expected due date of month `(y, m)` for a number bought on day `anchor`, by a method of its
/// own: walk back from the first of the next month until the day fits.
fn expected_due(y: i32, m: u32, anchor: u32) -> NaiveDate {
    (1..=anchor).rev().find_map(|d| NaiveDate::from_ymd_opt(y, m, d)).unwrap()
}

/// A number bought on `anchor` January 2027 in `tz`: first month charged, next due in February.
fn bought_in_january(ws: &WorkspaceId, phone: &str, anchor: u32, tz: &str) -> NumberRow {
    let mut row = NumberRow::new(ws, phone);
    row.rental_anchor_day = anchor as i32;
    row.created_at = local_midnight(NaiveDate::from_ymd_opt(2027, 1, anchor).unwrap(), tz);
    row.next_rental_at = Some(local_midnight(expected_due(2027, 2, anchor), tz));
    row
}

async fn next_rental_at(db: &TestDb, id: &NumberId) -> Option<DateTime<Utc>> {
    let row = db
        .conn
        .query_one(Statement::from_string(
            db.conn.get_database_backend(),
            format!("SELECT next_rental_at FROM numbers WHERE id = '{id}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "next_rental_at").unwrap()
}

async fn ledger_count(db: &TestDb) -> i64 {
    let row = db
        .conn
        .query_one(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ledger_entries WHERE kind = 'rental'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn periods_of(db: &TestDb, id: &NumberId) -> Vec<String> {
    let rows = db
        .conn
        .query_all(Statement::from_string(
            db.conn.get_database_backend(),
            format!("SELECT period FROM ledger_entries WHERE number_id = '{id}' ORDER BY period"),
        ))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "period").unwrap()).collect()
}

/// Purchases on the 28th–31st: 24 monthly runs, each at the due instant, charge one period and
/// move the date to the anniversary of the next month, clamped (Feb 2028 has 29 days).
#[tokio::test]
async fn the_anniversary_table_for_the_28th_to_the_31st_across_24_months() {
    each_engine(|db| async move {
        let tz = "Europe/Berlin";
        let ws = workspace(&db, tz).await;
        let rows: Vec<NumberRow> =
            (28..=31).map(|d| bought_in_january(&ws, &format!("+4930200{d}"), d, tz)).collect();
        insert_numbers(&db.conn, &rows).await.unwrap();
        let (mut y, mut m) = (2027, 2);
        for _ in 0..24 {
            // Run one second before every number's due instant: nothing; then at the latest.
            let latest = local_midnight(expected_due(y, m, 31), tz);
            let earliest = local_midnight(expected_due(y, m, 28), tz);
            let before =
                rentals::renew(&db.conn, Currency::EUR, earliest - chrono::Duration::seconds(1), 100, |_| {})
                    .await
                    .unwrap();
            assert_eq!(before.charged, 0, "{y}-{m:02}: nothing is due before the 28th");
            let run = rentals::renew(&db.conn, Currency::EUR, latest, 100, |_| {}).await.unwrap();
            assert_eq!(run.charged, 4, "{y}-{m:02}");
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            for (row, anchor) in rows.iter().zip(28..=31) {
                let next = next_rental_at(&db, &row.id).await.unwrap();
                let local = next.with_timezone(&tz.parse::<Tz>().unwrap());
                assert_eq!(local.date_naive(), expected_due(y, m, anchor), "anchor {anchor}");
                assert_eq!((local.hour(), local.minute()), (0, 0), "due at local midnight");
            }
        }
        // Feb 2028 (leap): the 29th for anchors 29–31; Feb 2027: the 28th.
        for (row, anchor) in rows.iter().zip(28u32..=31) {
            let periods = periods_of(&db, &row.id).await;
            assert_eq!(periods.len(), 24, "anchor {anchor}");
            assert_eq!((periods[0].as_str(), periods[23].as_str()), ("2027-02", "2029-01"));
        }
        assert_eq!(expected_due(2028, 2, 31), NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(ledger::balance(&db.conn, &ws).await.unwrap().to_string(), "-144.00"); // 96 × 1.50
    })
    .await;
}

#[tokio::test]
async fn missed_periods_are_caught_up_and_released_numbers_pay_no_more() {
    each_engine(|db| async move {
        let ws = workspace(&db, "UTC").await;
        let kept = bought_in_january(&ws, "+4930300001", 31, "UTC");
        let mut released = bought_in_january(&ws, "+4930300002", 15, "UTC");
        released.next_rental_at = None; // what releasing leaves
        insert_numbers(&db.conn, &[kept.clone(), released.clone()]).await.unwrap();
        let now = Utc.with_ymd_and_hms(2027, 5, 31, 12, 0, 0).unwrap();
        let preview = rentals::preview(&db.conn, now, DEFAULT_BATCH).await.unwrap();
        assert_eq!((preview.numbers, preview.charged, preview.amount.to_string()), (1, 4, "6.00".into()));
        assert_eq!(ledger_count(&db).await, 0, "a preview writes nothing");
        let run = rentals::renew(&db.conn, Currency::EUR, now, DEFAULT_BATCH, |_| {}).await.unwrap();
        assert_eq!((run.charged, run.amount.to_string()), (4, "6.00".into()));
        assert_eq!(periods_of(&db, &kept.id).await, ["2027-02", "2027-03", "2027-04", "2027-05"]);
        assert!(periods_of(&db, &released.id).await.is_empty());
        assert_eq!(
            next_rental_at(&db, &kept.id).await.unwrap(),
            Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap()
        );
        let again = rentals::renew(&db.conn, Currency::EUR, now, DEFAULT_BATCH, |_| {}).await.unwrap();
        assert_eq!((again.numbers, again.charged), (0, 0), "a repeated run finds nothing due");
    })
    .await;
}

async fn many_due(db: &TestDb, n: usize) -> (WorkspaceId, DateTime<Utc>) {
    let ws = workspace(db, "Europe/Berlin").await;
    let rows: Vec<NumberRow> = (0..n)
        .map(|i| {
            let mut r =
                bought_in_january(&ws, &format!("+49304{i:07}"), 1 + (i % 28) as u32, "Europe/Berlin");
            r.monthly_price = 10_000 + (i % 7) as i64;
            r
        })
        .collect();
    insert_numbers(&db.conn, &rows).await.unwrap();
    (ws, Utc.with_ymd_and_hms(2027, 3, 31, 0, 0, 0).unwrap())
}

/// Two runs at once, then a third: every (number, period) is charged exactly once.
#[tokio::test]
async fn concurrent_and_repeated_runs_charge_each_period_once() {
    each_engine(|db| async move {
        let (ws, now) = many_due(&db, 600).await;
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let conn = db.conn.clone();
                tokio::spawn(
                    async move { rentals::renew(&conn, Currency::EUR, now, 50, |_| {}).await.unwrap() },
                )
            })
            .collect();
        let mut charged = 0;
        for r in runs {
            charged += r.await.unwrap().charged;
        }
        // Each number owes February and March.
        assert_eq!(charged, 1200);
        assert_eq!(ledger_count(&db).await, 1200);
        let third = rentals::renew(&db.conn, Currency::EUR, now, 50, |_| {}).await.unwrap();
        assert_eq!(third.charged, 0);
        let expected: i64 = (0..600).map(|i| 2 * (10_000 + (i % 7) as i64)).sum();
        assert_eq!(ledger::balance(&db.conn, &ws).await.unwrap().units(), -expected, "Σ ledger = balance");
    })
    .await;
}

/// A run that dies after its first batches (the task panics mid-run) leaves whole batches behind;
/// the rerun charges the rest, and nothing twice.
#[tokio::test]
async fn a_run_killed_halfway_then_rerun_charges_each_period_once() {
    each_engine(|db| async move {
        let (_, now) = many_due(&db, 500).await;
        let conn = db.conn.clone();
        let killed = tokio::spawn(async move {
            rentals::renew(&conn, Currency::EUR, now, 100, |p| {
                assert!(p.periods < 300, "killed after 300 periods");
            })
            .await
        })
        .await;
        assert!(killed.is_err(), "the first run died");
        assert_eq!(ledger_count(&db).await, 300, "three whole batches were committed");
        let rerun = rentals::renew(&db.conn, Currency::EUR, now, 100, |_| {}).await.unwrap();
        assert_eq!(rerun.charged, 700);
        assert_eq!(ledger_count(&db).await, 1000);
    })
    .await;
}
