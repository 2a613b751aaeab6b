//! Inbound-SMS throughput of the real `switchboard-webhook-ingest` binary against a bare axum
//! "200 OK" on the same machine (SPEC §10, issue 7's benchmark).
//!
//! For each engine (SQLite; PostgreSQL when `TEST_DATABASE_URL` is set) the built binary is
//! started as its own process over a fresh database holding enabled numbers with live agents in
//! several workspaces (`BENCH_WORKSPACES` × `BENCH_NUMBERS_PER_WS`, default 10 × 2), messaged by
//! `BENCH_CONTACTS` (1,000) contacts — a platform's traffic, not one conversation's.
//! The load generator (`switchboard-loadgen`, in this process) sends unique inbound-SMS requests,
//! each with a new `MessageSid` and signed as Twilio signs (`X-Twilio-Signature` over the public
//! URL and the sorted parameters), so every request is verified, stored (group commit) and
//! processed (admitted by billing, counted, appended to its conversation).
//!
//! 1. **Peak**: `BENCH_CONCURRENCY` (64) closed-loop workers for `BENCH_SECONDS` (10 s); the
//!    rate counts a request once it is answered *and* the run ends only when every stored event
//!    has been processed, so processing cannot fall behind unseen.
//! 2. **Half load**: open loop at half the peak for `BENCH_SECONDS`; p50/p99 from each request's
//!    due time.
//! 3. **Baseline**: the same peak measurement against a bare axum handler, run as a child process
//!    of this benchmark (so it, too, has a process of its own).
//!
//! `just bench-ingest` (or `cargo bench -p switchboard-webhook-ingest --bench ingest`).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Binary, knob, wait_ready};
use switchboard_loadgen::{Figures, closed_loop, ms, open_loop};
use switchboard_testkit::TestDb;

/// `BENCH_WORKSPACES` (10) workspaces, each with a live agent and `BENCH_NUMBERS_PER_WS` (2)
/// enabled numbers without limits; answers the numbers.
async fn routable_numbers(db: &TestDb) -> Vec<String> {
    let seeded =
        common::seed(&db.conn, knob("BENCH_WORKSPACES", 10), knob("BENCH_NUMBERS_PER_WS", 2), |_, _| {
            common::Terms::default()
        })
        .await;
    seeded.into_iter().flat_map(|ws| ws.numbers).map(|n| n.phone).collect()
}

/// Inbound SMS `i`: a unique `MessageSid`, to one of `numbers`, from one of `BENCH_CONTACTS`
/// (1,000) contacts, signed.
fn inbound_sms(
    client: &reqwest::Client,
    base: &str,
    numbers: &[String],
    i: usize,
) -> reqwest::RequestBuilder {
    let sid = common::message_sid(std::process::id().into(), i as u64);
    let to = &numbers[i % numbers.len()];
    let from = common::contact((i as u64 * 7919) % knob("BENCH_CONTACTS", 1000));
    common::inbound_sms(client, base, &sid, to, &from)
}

/// Waits until no stored event is left unprocessed.
async fn drained(db: &TestDb) {
    assert!(common::drained(&db.conn, Duration::from_secs(600)).await, "processing did not finish");
}

struct Row {
    name: String,
    /// Requests answered per second while the load ran.
    answered: f64,
    /// Requests per second until the last one was also processed.
    peak: Figures,
    half: Option<Figures>,
}

async fn measure_ingest(engine: switchboard_core::db::Engine, concurrency: usize, secs: Duration) -> Row {
    let db = switchboard_testkit::fresh(engine).await;
    let numbers = std::sync::Arc::new(routable_numbers(&db).await);
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = common::spawn(Binary::Ingest, "ingest", &db.url, Some(port), &[], None);
    wait_ready(&base).await;
    let client = switchboard_loadgen::client(concurrency);
    let mk = |offset: usize| {
        let (client, base, numbers) = (client.clone(), base.clone(), numbers.clone());
        move |i: usize| inbound_sms(&client, &base, &numbers, offset + i)
    };
    // Warm-up: connections, statement caches, the conversation row.
    closed_loop(concurrency, Duration::from_secs(1), mk(0)).await;
    drained(&db).await;

    let started = Instant::now();
    let answered = closed_loop(concurrency, secs, mk(10_000_000)).await;
    drained(&db).await;
    let answered_rate = answered.rate();
    let peak = Figures { seconds: started.elapsed().as_secs_f64(), ..answered };
    let half_rate = (peak.rate() / 2.0).max(1.0) as u64;
    let half = open_loop(half_rate, secs, mk(20_000_000)).await;
    drained(&db).await;
    let stored = common::count(&db.conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events").await;
    let admitted =
        common::count(&db.conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE kind = 'sms'")
            .await;
    assert_eq!(stored, admitted, "every stored message was admitted by billing");
    drop(child);
    Row { name: format!("ingest/{}", engine.name()), answered: answered_rate, peak, half: Some(half) }
}

async fn measure_bare(concurrency: usize, secs: Duration) -> Row {
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("BENCH_ROLE", "bare")
        .env("BENCH_BARE_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&base).await;
    let client = switchboard_loadgen::client(concurrency);
    let mk = || {
        let (client, base) = (client.clone(), base.clone());
        move |_: usize| client.post(format!("{base}/twilio/messages")).body("ok")
    };
    closed_loop(concurrency, Duration::from_secs(1), mk()).await;
    let peak = closed_loop(concurrency, secs, mk()).await;
    child.kill().ok();
    child.wait().ok();
    // No half-load run: an open-loop client cannot issue tens of thousands of requests a second
    // from this process without measuring itself.
    Row { name: "bare axum 200 OK".into(), answered: peak.rate(), peak, half: None }
}

fn main() {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("bare") {
        let port: u16 = std::env::var("BENCH_BARE_PORT").unwrap().parse().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
            switchboard_loadgen::bare_ok(listener).await.unwrap();
        });
        return;
    }
    let concurrency = knob("BENCH_CONCURRENCY", 64) as usize;
    let secs = Duration::from_secs(knob("BENCH_SECONDS", 10));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut rows = vec![rt.block_on(measure_bare(concurrency, secs))];
    for engine in switchboard_testkit::engines() {
        rows.push(rt.block_on(measure_ingest(engine, concurrency, secs)));
    }
    let bare = rows[0].peak.rate();
    println!(
        "\nsigned unique Twilio inbound SMS, {concurrency} closed-loop workers for {} s; half load open loop\n",
        secs.as_secs()
    );
    println!(
        "| target | answered req/s | processed req/s (end to end) | ratio to bare | errors | half-load rate | p50 | p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let half = r.half.as_ref();
        println!(
            "| {} | {:.0} | {:.0} | {:.3} | {} | {} | {} | {} | {} |",
            r.name,
            r.answered,
            r.peak.rate(),
            r.peak.rate() / bare,
            r.peak.errors + half.map_or(0, |h| h.errors),
            half.map_or("–".into(), |h| format!("{:.0} req/s", h.rate())),
            half.map_or("–".into(), |h| ms(h.p50)),
            half.map_or("–".into(), |h| ms(h.p99)),
            half.map_or("–".into(), |h| ms(h.max)),
        );
    }
}
