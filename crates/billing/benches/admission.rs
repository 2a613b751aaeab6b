//! SMS admission on one hot number: `BENCH_TASKS` (default 64) concurrent tasks admit
//! `BENCH_DECISIONS` (default 20,000) distinct messages on a single number whose monthly limit is
//! half of them, so both paths — admitted (counted, free tier, charged) and refused at the limit —
//! are measured. Reports decisions per second and checks the limit held exactly. SQLite always,
//! PostgreSQL when `TEST_DATABASE_URL` is set.
//!
//! `just bench-admission` (or `cargo bench -p switchboard-billing --bench admission`).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use switchboard_billing::{Meter, PriceList, SmsDecision, UsageService, UsageSettings};
use switchboard_core::{Currency, NumberType, Zone};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let tasks = knob("BENCH_TASKS", 64);
    let decisions = knob("BENCH_DECISIONS", 20_000);
    let limit = (decisions / 2) as i64;
    for engine in switchboard_testkit::engines() {
        let db = switchboard_testkit::fresh(engine).await;
        let tenancy = TenancyService::new(db.conn.clone());
        let ws = tenancy
            .create_workspace(NewWorkspace {
                name: "Hot".into(),
                timezone: Some("Europe/Berlin".parse().unwrap()),
            })
            .await
            .unwrap()
            .0
            .id;
        let mut row = NumberRow::new(&ws, "+4930123456");
        row.monthly_sms_limit = Some(limit);
        insert_numbers(&db.conn, std::slice::from_ref(&row)).await.unwrap();
        let meter = Meter {
            workspace_id: ws.clone(),
            number_id: row.id.clone(),
            zone: Zone::parse("Europe/Berlin").unwrap(),
            prices: PriceList::embedded().unwrap().prices("DE".parse().unwrap(), NumberType::Local),
            enabled: true,
            calls_enabled: true,
            sms_enabled: true,
            monthly_minutes_limit: None,
            monthly_sms_limit: Some(limit),
        };
        let usage = UsageService::new(db.conn.clone(), tenancy, Currency::EUR, UsageSettings::default());
        let next = Arc::new(AtomicU64::new(0));
        let admitted = Arc::new(AtomicU64::new(0));
        let now = chrono::Utc::now();
        let started = Instant::now();
        let workers: Vec<_> = (0..tasks)
            .map(|_| {
                let (usage, meter, next, admitted) =
                    (usage.clone(), meter.clone(), next.clone(), admitted.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= decisions {
                            break;
                        }
                        if let SmsDecision::Admitted(_) =
                            usage.admit_sms(&meter, &format!("SM{i:032}"), now).await.unwrap()
                        {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        let took = started.elapsed();
        assert_eq!(admitted.load(Ordering::Relaxed), limit as u64, "the limit held exactly");
        println!(
            "admission/{}: {decisions} SMS decisions on one number from {tasks} tasks in {} ms = {} decisions/s ({limit} admitted, {} refused at the limit)",
            engine.name(),
            took.as_millis(),
            u128::from(decisions) * 1000 / took.as_millis().max(1),
            decisions - limit as u64,
        );
    }
}
