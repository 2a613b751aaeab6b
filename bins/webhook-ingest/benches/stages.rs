//! Where the ingest path's ceiling is: each database stage of an inbound SMS measured alone, in
//! this process, with no HTTP, no signature check and no load generator competing for the cores.
//!
//! For each engine (SQLite; PostgreSQL when `TEST_DATABASE_URL` is set), over the numbers the
//! `ingest` bench seeds (10 workspaces × 2 numbers, live agents, 1,000 contacts):
//!
//! 1. **store**: `BENCH_TASKS` (64) tasks store `BENCH_EVENTS` (40,000) unique inbound-SMS events
//!    through the group-commit writer ([`Persister`]), one event per call, as concurrent requests
//!    do — what webhook-ingest must make durable before it answers.
//! 2. **process**: those stored events queued at once to the processing lanes webhook-ingest
//!    runs ([`Processor`]; one lane on SQLite, pool − 2 on PostgreSQL) — routed, admitted by
//!    billing, counted, appended to their conversations and settled.
//!
//! The database is opened as webhook-ingest opens it (its built-in settings: memory budget,
//! checkpoints, the background checkpointer on SQLite), with the `ingest` bench's pool of 24.
//!
//! On SQLite the two stages take turns at the one write lock, so the whole path can process at
//! most `1 / (1/store + 1/process)` events a second however fast HTTP is; the `ingest` bench's
//! target (≥ 0.5 × a bare axum handler) has to fit under that. PostgreSQL overlaps them.
//!
//! `cargo bench -p switchboard-webhook-ingest --bench stages`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::knob;
use switchboard_core::db::Engine;
use switchboard_inbound::{InboundService, Persisted, Persister, Processor, TwilioParams, Wiring};
use switchboard_runtime::{Binary, Settings};
use switchboard_webhook_auth::sns::HttpSubscriptionConfirmer;

/// The pool webhook-ingest runs with in the `ingest` bench.
const POOL: u32 = 24;

/// Inbound SMS `i` as webhook-ingest stores it: the form's parameters, keyed by `MessageSid`.
fn event(numbers: &[String], i: u64) -> switchboard_inbound::NewEvent {
    let sid = common::message_sid(u64::from(std::process::id()), i);
    let from = common::contact((i * 7919) % knob("BENCH_CONTACTS", 1000));
    let to = &numbers[i as usize % numbers.len()];
    let pairs = common::inbound_sms_params(&sid, to, &from);
    TwilioParams::from_pairs(&pairs).message_event(chrono::Utc::now()).unwrap()
}

struct Row {
    engine: Engine,
    store: f64,
    process: f64,
    /// This process's CPU time per event while processing (µs): on SQLite that includes all of
    /// SQLite's own work; on PostgreSQL the server's is not in it.
    process_cpu_us: f64,
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat` (Linux; in
/// `USER_HZ`, which is 100 on every Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime: fields 14 and 15 of the line, so the 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

async fn measure(engine: Engine, tasks: u64, events: u64) -> Row {
    let db = switchboard_testkit::fresh(engine).await;
    let seeded = common::seed(&db.conn, 10, 2, |_, _| common::Terms::default()).await;
    let numbers: Arc<Vec<String>> =
        Arc::new(seeded.into_iter().flat_map(|ws| ws.numbers).map(|n| n.phone).collect());
    // The pool webhook-ingest opens: its settings (memory budget, checkpoints, the background
    // checkpointer on SQLite) with the pool of the `ingest` bench.
    let env = std::collections::HashMap::from([
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("APP__DATABASE__MAX_CONNECTIONS".to_owned(), POOL.to_string()),
        ("APP__DATABASE__MIGRATE_ON_START".to_owned(), "false".to_owned()),
    ]);
    let settings =
        Settings::load_from(Binary::WebhookIngest, &env, std::path::Path::new("/nonexistent")).unwrap();
    let conn = switchboard_runtime::database::open(&settings.database).await.unwrap();
    let inbound = InboundService::wire(Wiring {
        db: conn.clone(),
        prices: Arc::new(switchboard_billing::PriceList::embedded().unwrap()),
        currency: settings.currency,
        usage: settings.usage,
        numbers: switchboard_providers::sandbox(switchboard_providers::Sandbox::embedded().unwrap()),
        public_base_url: settings.public_base_url.clone(),
        confirmer: Arc::new(
            HttpSubscriptionConfirmer::new(HttpSubscriptionConfirmer::DEFAULT_TIMEOUT).unwrap(),
        ),
    });

    // 1. Store, as concurrent requests do.
    let persister = Persister::spawn(conn.clone(), inbound.write_gate());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let writers: Vec<_> = (0..tasks)
        .map(|_| {
            let (persister, next, numbers) = (persister.clone(), next.clone(), numbers.clone());
            tokio::spawn(async move {
                let mut stored = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        return stored;
                    }
                    for p in persister.persist(vec![event(&numbers, i)]).await.unwrap() {
                        if let Persisted::New(e) = p {
                            stored.push(e);
                        }
                    }
                }
            })
        })
        .collect();
    let mut stored = Vec::with_capacity(events as usize);
    for w in writers {
        stored.extend(w.await.unwrap());
    }
    let store = events as f64 / started.elapsed().as_secs_f64();
    assert_eq!(stored.len() as u64, events, "every event stored once");

    // 2. Process what was stored, on webhook-ingest's lanes.
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let lanes = switchboard_webhook_ingest::processing_lanes(&settings);
    let (processor, workers) = Processor::spawn(inbound, lanes, stored.len());
    for e in stored {
        assert!(processor.enqueue(e).await, "the queue holds every event");
    }
    drop(processor);
    workers.join().await;
    let process = events as f64 / started.elapsed().as_secs_f64();
    let process_cpu_us = (cpu_seconds() - cpu) * 1e6 / events as f64;
    assert!(common::drained(&db.conn, Duration::from_secs(1)).await, "every event processed");
    let admitted =
        common::count(&db.conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE kind = 'sms'")
            .await;
    assert_eq!(admitted as u64, events, "every message admitted by billing");
    Row { engine, store, process, process_cpu_us }
}

#[tokio::main]
async fn main() {
    let tasks = knob("BENCH_TASKS", 64);
    let events = knob("BENCH_EVENTS", 40_000);
    let mut rows = Vec::new();
    for engine in switchboard_testkit::engines() {
        rows.push(measure(engine, tasks, events).await);
    }
    println!("\n{events} unique inbound SMS; each stage alone, in process, no HTTP\n");
    println!(
        "| engine | stored/s ({tasks} tasks, group commit) | processed/s | CPU of this process per processed event | both in turns (one writer) |"
    );
    println!("|---|---|---|---|---|");
    for r in rows {
        let turns = 1.0 / (1.0 / r.store + 1.0 / r.process);
        println!(
            "| {} | {:.0} | {:.0} | {:.0} µs | {:.0} |",
            r.engine.name(),
            r.store,
            r.process,
            r.process_cpu_us,
            turns
        );
    }
}
