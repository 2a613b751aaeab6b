//! Soak (issue 9): the three binaries run as real processes under a steady mixed load, on each
//! engine, long enough to show a leak or a slow failure — and fail when one shows.
//!
//! For each engine in `SOAK_ENGINES` (`sqlite,postgres`): a fresh database (SQLite: a new file
//! under the temp folder; PostgreSQL: the database `sb_soak` on `SB_PG_URL`, dropped and created
//! again), then `switchboard-api`, `switchboard-webhook-ingest` and `switchboard-billing-cron
//! --loop 10s` start on it (release binaries, sandbox providers). Seed: `SOAK_WORKSPACES` (4) ×
//! 2 numbers without limits (every other one with a rental due), one SMS conversation per number.
//!
//! Load: open loop at `SOAK_RATE` (40) requests/s for `SOAK_SECONDS` (600), latency from each
//! request's due time: 50 % signed unique inbound SMS, 20 % API reads (wallet, ledger,
//! conversations, numbers), 20 % replies with a unique `Idempotency-Key`, 10 % admin credits.
//! Every `SOAK_WINDOW` (10) seconds: each process's RSS (`VmRSS` of `/proc/<pid>/status`) and the
//! events still waiting to be processed; per window the requests' p50/p99 and errors.
//!
//! Fails when any request errs (transport error or an answer other than 2xx), a process exits, an
//! invariant of [`common::checks`] breaks afterwards, or a process's RSS at the end (median of the
//! last three samples) is more than 20 % above its RSS at the end of the warm-up
//! (`SOAK_WARMUP_SECONDS`, default 120 s, at most a quarter of the run).
//!
//! `just soak` (builds the three release binaries, then
//! `cargo bench -p switchboard-webhook-ingest --bench soak`); `SOAK_SECONDS=120 just soak` for a
//! short check.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use common::{Binary, Process, SeededWorkspace, Terms, call, checks, knob, quantile};

/// One answered request.
#[derive(Debug, Clone, Copy)]
struct Sample {
    window: usize,
    latency: Duration,
    ok: bool,
}

/// One sampling instant.
#[derive(Debug, Clone)]
struct Probe {
    /// Seconds since the load began.
    at: u64,
    /// KiB per process (api, webhook-ingest, billing-cron); `None`: not running.
    rss: [Option<u64>; 3],
    backlog: i64,
}

#[derive(Debug, Default)]
struct Tallies {
    samples: Mutex<Vec<Sample>>,
    errors: Mutex<Vec<String>>,
    inbound_ok: AtomicU64,
    replies_ok: AtomicU64,
    credits_ok: AtomicU64,
}

#[derive(Debug)]
struct Target {
    ingest: String,
    api: String,
    workspaces: Vec<SeededWorkspace>,
    phones: Vec<String>,
    conversations: Vec<(usize, String)>,
    run: u64,
}

const PROCESSES: [&str; 3] = ["api", "webhook-ingest", "billing-cron"];

/// Request `i` of the mix; answers whether it succeeded, and what went wrong.
async fn request(client: &reqwest::Client, t: &Target, tallies: &Tallies, i: u64) -> Result<(), String> {
    let ws_of = |j: u64| &t.workspaces[j as usize % t.workspaces.len()];
    match i % 10 {
        0..=4 => {
            let sid = common::message_sid(t.run, i);
            let to = &t.phones[(i as usize / 10) % t.phones.len()];
            let from = common::contact((i * 7919) % 1000);
            match call(common::inbound_sms(client, &t.ingest, &sid, to, &from)).await {
                Ok((200, _)) => {
                    tallies.inbound_ok.fetch_add(1, Relaxed);
                    Ok(())
                }
                other => Err(format!("inbound {sid}: {other:?}")),
            }
        }
        5 | 6 => {
            const PATHS: [&str; 4] = [
                "/v1/billing/wallet",
                "/v1/billing/ledger?limit=50",
                "/v1/conversations?limit=20",
                "/v1/numbers?limit=50",
            ];
            let path = PATHS[(i as usize / 10) % PATHS.len()];
            match call(client.get(format!("{}{path}", t.api)).bearer_auth(&ws_of(i / 10).key)).await {
                Ok((200, _)) => Ok(()),
                other => Err(format!("GET {path}: {other:?}")),
            }
        }
        7 | 8 => {
            let (w, conversation) = &t.conversations[(i as usize / 10) % t.conversations.len()];
            let req = client
                .post(format!("{}/v1/conversations/{conversation}/messages", t.api))
                .bearer_auth(&t.workspaces[*w].key)
                .header("Idempotency-Key", format!("soak-{}-{i}", t.run))
                .json(&serde_json::json!({"body": "Danke, wir melden uns."}));
            match call(req).await {
                Ok((201, _)) => {
                    tallies.replies_ok.fetch_add(1, Relaxed);
                    Ok(())
                }
                other => Err(format!("reply: {other:?}")),
            }
        }
        _ => {
            let ws = ws_of(i / 10);
            let req = client
                .post(format!("{}/v1/workspaces/{}/credits", t.api, ws.id))
                .bearer_auth(common::ADMIN_TOKEN)
                .json(&serde_json::json!({"amount": "0.50", "reference": format!("soak-{}-{i}", t.run)}));
            match call(req).await {
                Ok((201, _)) => {
                    tallies.credits_ok.fetch_add(1, Relaxed);
                    Ok(())
                }
                other => Err(format!("credit: {other:?}")),
            }
        }
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// One engine's soak; answers whether it passed.
async fn soak(engine: &str) -> bool {
    let seconds = knob("SOAK_SECONDS", 600);
    let rate = knob("SOAK_RATE", 40).max(1);
    let window = knob("SOAK_WINDOW", 10).max(1);
    let warmup = knob("SOAK_WARMUP_SECONDS", 120).min(seconds / 4);
    let free_sms: i64 =
        std::env::var("BENCH_APP__BILLING__FREE_SMS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let db = match engine {
        "sqlite" => common::fresh_sqlite("soak").await,
        "postgres" => common::fresh_postgres("sb_soak").await,
        other => panic!("unknown engine `{other}` in SOAK_ENGINES (sqlite, postgres)"),
    };
    let logs = common::log_dir(&format!("soak-{engine}"));
    let log = |name: &str| logs.join(format!("{name}.log"));
    let mut procs: Vec<Process> = vec![
        common::spawn(Binary::Api, "api", &db.url, Some(common::free_port()), &[], Some(&log("api"))),
        common::spawn(
            Binary::Ingest,
            "webhook-ingest",
            &db.url,
            Some(common::free_port()),
            &[],
            Some(&log("ingest")),
        ),
        common::spawn(
            Binary::Cron,
            "billing-cron",
            &db.url,
            None,
            &["--loop".into(), "10s".into()],
            Some(&log("cron")),
        ),
    ];
    for p in &procs[..2] {
        common::wait_ready(p.base.as_deref().unwrap()).await;
    }
    let now = Utc::now();
    let due = (now.date_naive() - chrono::Duration::days(5))
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc();
    let workspaces = common::seed(&db.conn, knob("SOAK_WORKSPACES", 4), 2, |_, n| Terms {
        sms_limit: None,
        next_rental_at: (n % 2 == 0).then_some(due),
    })
    .await;
    let rentals_due =
        workspaces.iter().flat_map(|ws| &ws.numbers).filter(|n| n.terms.next_rental_at.is_some()).count();
    let api = procs[0].base.clone().unwrap();
    let client = reqwest::Client::new();
    let mut conversations = Vec::new();
    for (w, ws) in workspaces.iter().enumerate() {
        for (n, number) in ws.numbers.iter().enumerate() {
            let id = common::start_conversation(
                &client,
                &api,
                &ws.key,
                &number.id,
                &format!("+49160{w:02}{n:02}0005"),
            )
            .await;
            conversations.push((w, id));
        }
    }
    let target = Arc::new(Target {
        ingest: procs[1].base.clone().unwrap(),
        api: api.clone(),
        phones: workspaces.iter().flat_map(|ws| ws.numbers.iter().map(|n| n.phone.clone())).collect(),
        workspaces,
        conversations,
        run: now.timestamp() as u64,
    });

    // Sampling every window.
    let started = Instant::now();
    let pids: Vec<u32> = procs.iter().map(Process::pid).collect();
    let probes = Arc::new(Mutex::new(Vec::<Probe>::new()));
    let sampler = {
        let (probes, conn) = (probes.clone(), db.conn.clone());
        tokio::spawn(async move {
            for k in 1..=seconds / window {
                tokio::time::sleep_until((started + Duration::from_secs(k * window)).into()).await;
                let rss = [common::rss_kib(pids[0]), common::rss_kib(pids[1]), common::rss_kib(pids[2])];
                let backlog = common::count(
                    &conn,
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events WHERE state = 'received'",
                )
                .await;
                probes.lock().unwrap().push(Probe { at: k * window, rss, backlog });
            }
        })
    };

    // Open-loop load: request i is due at i / rate.
    let tallies = Arc::new(Tallies::default());
    let total = seconds * rate;
    let client = common_client();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, target, tallies) = (client.clone(), target.clone(), tallies.clone());
        tasks.push(tokio::spawn(async move {
            let result = request(&client, &target, &tallies, i).await;
            let sample = Sample {
                window: (due - started).as_secs() as usize / window as usize,
                latency: due.elapsed(),
                ok: result.is_ok(),
            };
            tallies.samples.lock().unwrap().push(sample);
            if let Err(e) = result {
                let mut errors = tallies.errors.lock().unwrap();
                if errors.len() < 10 {
                    errors.push(e);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    sampler.await.unwrap();
    let load_time = started.elapsed();
    let drained = common::drained(&db.conn, Duration::from_secs(120)).await;
    // Let billing-cron's loop run once more after the last write.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let expect = checks::Expect {
        inbound_sids: tallies.inbound_ok.load(Relaxed),
        replies: tallies.replies_ok.load(Relaxed),
        credits: tallies.credits_ok.load(Relaxed),
        credit_units: tallies.credits_ok.load(Relaxed) as i64 * 5_000,
        rental_periods: rentals_due as u64,
        rentals_now: Some(now),
        free_sms,
    };
    let found = checks::run(&db.conn, std::slice::from_ref(&api), &target.workspaces, &expect).await;
    let mut died = Vec::new();
    let mut unclean = Vec::new();
    for p in &mut procs {
        if let Some(status) = p.exited() {
            died.push(format!("{} exited during the run ({status})", p.name));
        } else if !p.stop().await.is_some_and(|s| s.success()) {
            unclean.push(p.name.clone());
        }
    }

    // The report.
    let samples = tallies.samples.lock().unwrap().clone();
    let probes = probes.lock().unwrap().clone();
    println!("\n## Soak on {engine} ({}): api + webhook-ingest + billing-cron --loop 10s\n", db.label);
    println!(
        "{rate} req/s open loop for {seconds} s (50 % signed inbound SMS, 20 % reads, 20 % replies, 10 % credits); \
         warm-up {warmup} s.\n"
    );
    println!(
        "| t (s) | requests | errors | p50 (ms) | p99 (ms) | RSS api (MiB) | RSS ingest | RSS cron | backlog |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for probe in &probes {
        let w = (probe.at / window - 1) as usize;
        let mut latencies: Vec<Duration> =
            samples.iter().filter(|s| s.window == w).map(|s| s.latency).collect();
        latencies.sort();
        let errors = samples.iter().filter(|s| s.window == w && !s.ok).count();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            probe.at,
            latencies.len(),
            errors,
            ms(quantile(&latencies, 0.50)),
            ms(quantile(&latencies, 0.99)),
            mib(probe.rss[0]),
            mib(probe.rss[1]),
            mib(probe.rss[2]),
            probe.backlog
        );
    }
    let mut all: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    all.sort();
    let errors = samples.iter().filter(|s| !s.ok).count();
    println!(
        "| all | {} | {errors} | {} | {} | | | | |",
        all.len(),
        ms(quantile(&all, 0.50)),
        ms(quantile(&all, 0.99))
    );

    // RSS after the warm-up.
    let mut ok = true;
    println!(
        "\n| process | RSS at {warmup} s | RSS at the end (median of last 3) | max after warm-up | growth | |"
    );
    println!("|---|---|---|---|---|---|");
    for (k, name) in PROCESSES.iter().enumerate() {
        let after: Vec<u64> =
            probes.iter().filter(|p| p.at >= warmup.max(window)).filter_map(|p| p.rss[k]).collect();
        let Some(&base) = after.first() else {
            println!("| {name} | – | – | – | – | ✗ no samples |");
            ok = false;
            continue;
        };
        let mut last: Vec<u64> = after.iter().rev().take(3).copied().collect();
        last.sort_unstable();
        let end = last[last.len() / 2];
        let max = after.iter().copied().max().unwrap_or(base);
        let growth = end as f64 / base as f64 - 1.0;
        let good = growth <= 0.20;
        ok &= good;
        println!(
            "| {name} | {} MiB | {} MiB | {} MiB | {:+.1} % | {} |",
            mib(Some(base)),
            mib(Some(end)),
            mib(Some(max)),
            growth * 100.0,
            if good { "✓" } else { "✗ > 20 %" }
        );
    }
    println!();
    ok &= checks::report(&found);
    let log_errors: Vec<String> = procs
        .iter()
        .flat_map(|p| p.log_errors().into_iter().map(move |e| format!("{}: {e}", p.name)).take(3))
        .collect();
    println!(
        "\nLoad {:.0} s; {} requests, {errors} errors; {} inbound SMS, {} replies, {} credits accepted; events {}.",
        load_time.as_secs_f64(),
        samples.len(),
        expect.inbound_sids,
        expect.replies,
        expect.credits,
        if drained { "all processed" } else { "NOT all processed" }
    );
    for e in tallies.errors.lock().unwrap().iter() {
        println!("- error: {e}");
    }
    for e in &log_errors {
        println!("- logged: {e}");
    }
    for d in &died {
        println!("- ✗ {d}");
    }
    for name in &unclean {
        println!("- ✗ {name} did not stop cleanly on SIGTERM");
    }
    ok &= errors == 0 && drained && died.is_empty() && unclean.is_empty() && log_errors.is_empty();
    println!("\nSOAK ON {} {}", engine.to_uppercase(), if ok { "PASSED" } else { "FAILED" });
    ok
}

fn common_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap()
}

fn main() {
    let engines = std::env::var("SOAK_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut ok = true;
    for engine in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        ok &= rt.block_on(soak(engine));
    }
    if !ok {
        std::process::exit(1);
    }
}
