//! Scale-out proof (issue 9): several processes of each binary over one PostgreSQL database keep
//! the invariants the database enforces. Not a speed benchmark — a scripted, rerunnable proof.
//!
//! 1. A fresh database `sb_scale` on `SB_PG_URL` (default `postgres://postgres@127.0.0.1:5432`),
//!    dropped and created again each run (kept afterwards for inspection). Two
//!    `switchboard-webhook-ingest` and two `switchboard-api` release binaries start on it at once
//!    (all four apply the migrations concurrently), sandbox providers.
//! 2. Seed: `SCALE_WORKSPACES` (8) workspaces × `SCALE_NUMBERS_PER_WS` (6) numbers with live
//!    agents. Monthly SMS limits by number: none, 40, 150 (repeating), so some are reached and some
//!    not; rentals: due 5 days ago (one period), due 40 days ago (two periods), not due (repeating).
//!    One SMS conversation per number is started through both APIs at once (same thread).
//! 3. Load for `SCALE_SECONDS` (20), closed loop:
//!    - `SCALE_INBOUND_WORKERS` (24): signed unique inbound SMS, alternating between the two
//!      ingests; every `SCALE_DUP_EVERY`-th (3rd) MessageSid goes to *both* at the same moment;
//!    - `SCALE_REPLY_WORKERS` (6): replies, each `Idempotency-Key` sent to both APIs at once;
//!    - `SCALE_CREDIT_WORKERS` (2): admin credits of 1.00, each reference sent to both APIs at once;
//!    - `SCALE_READ_WORKERS` (4): wallet, ledger, conversations and numbers pages, alternating.
//! 4. Wait until every stored event is processed, then two `switchboard-billing-cron --now <now+1m>`
//!    at once.
//! 5. The invariants ([`common::checks`]): one event per provider id; each message counted and
//!    charged once; no number above its limit; counters = Σ records; one rental per (number,
//!    period); one credit per reference; Σ ledger = the wallet each API derives. Any ✗, any
//!    unexpected answer, or a process exiting early fails the run (exit code 1).
//!
//! `just scale-out` (builds the three release binaries, then
//! `cargo bench -p switchboard-webhook-ingest --bench scale_out`).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

mod common;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use common::{Binary, Process, SeededWorkspace, Terms, call, checks, knob};

/// Answers to one process for one kind of request.
#[derive(Debug, Default)]
struct Tally {
    sent: AtomicU64,
    ok: AtomicU64,
    /// Refusals the rules call for (409 `limit_reached`).
    refused: AtomicU64,
    errors: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Refused,
    Error,
}

impl Tally {
    fn add(&self, outcome: Outcome) {
        self.sent.fetch_add(1, Relaxed);
        match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Refused => &self.refused,
            Outcome::Error => &self.errors,
        }
        .fetch_add(1, Relaxed);
    }
}

#[derive(Debug, Default)]
struct Load {
    ingest: [Tally; 2],
    replies: [Tally; 2],
    credits: [Tally; 2],
    reads: [Tally; 2],
    /// MessageSids acknowledged by at least one ingest.
    accepted_sids: AtomicU64,
    /// MessageSids delivered to both ingests.
    doubled_sids: AtomicU64,
    /// Reply keys answered 201 (by either process), refused by both.
    reply_keys: AtomicU64,
    refused_keys: AtomicU64,
    credit_refs: AtomicU64,
    credit_units: AtomicI64,
    /// Answers that break the rules (first 20).
    anomalies: Mutex<Vec<String>>,
    anomaly_count: AtomicU64,
}

impl Load {
    fn anomaly(&self, what: String) {
        self.anomaly_count.fetch_add(1, Relaxed);
        let mut list = self.anomalies.lock().unwrap();
        if list.len() < 20 {
            list.push(what);
        }
    }
}

/// What the load runs against.
#[derive(Debug)]
struct Target {
    ingests: [String; 2],
    apis: [String; 2],
    workspaces: Vec<SeededWorkspace>,
    /// Every number's phone.
    phones: Vec<String>,
    /// (workspace index, conversation id) per number.
    conversations: Vec<(usize, String)>,
    run: u64,
}

fn ok_if(status: Result<(u16, serde_json::Value), String>, good: &[u16]) -> Outcome {
    match status {
        Ok((s, _)) if good.contains(&s) => Outcome::Ok,
        _ => Outcome::Error,
    }
}

async fn inbound_worker(t: Arc<Target>, load: Arc<Load>, next: Arc<AtomicU64>, until: Instant) {
    let client = reqwest::Client::new();
    let dup_every = knob("SCALE_DUP_EVERY", 3).max(1);
    while Instant::now() < until {
        let i = next.fetch_add(1, Relaxed);
        let sid = common::message_sid(t.run, i);
        let to = &t.phones[(i as usize) % t.phones.len()];
        let from = common::contact((i * 7919) % 1000);
        let send = |k: usize| call(common::inbound_sms(&client, &t.ingests[k], &sid, to, &from));
        let outcomes = if i.is_multiple_of(dup_every) {
            load.doubled_sids.fetch_add(1, Relaxed);
            let (a, b) = tokio::join!(send(0), send(1));
            vec![(0, a), (1, b)]
        } else {
            let k = (i % 2) as usize;
            vec![(k, send(k).await)]
        };
        let mut accepted = false;
        for (k, answer) in outcomes {
            let outcome = ok_if(answer.clone(), &[200]);
            if outcome == Outcome::Error {
                load.anomaly(format!("inbound {sid} at ingest-{}: {answer:?}", k + 1));
            }
            accepted |= outcome == Outcome::Ok;
            load.ingest[k].add(outcome);
        }
        if accepted {
            load.accepted_sids.fetch_add(1, Relaxed);
        }
    }
}

async fn reply_worker(t: Arc<Target>, load: Arc<Load>, next: Arc<AtomicU64>, until: Instant) {
    let client = reqwest::Client::new();
    while Instant::now() < until {
        let k = next.fetch_add(1, Relaxed);
        let (w, conversation) = &t.conversations[(k as usize * 7) % t.conversations.len()];
        let key = format!("scale-{}-{k}", t.run);
        let body = serde_json::json!({"body": format!("Danke für Ihre Nachricht ({k}).")});
        let send = |p: usize| {
            call(
                client
                    .post(format!("{}/v1/conversations/{conversation}/messages", t.apis[p]))
                    .bearer_auth(&t.workspaces[*w].key)
                    .header("Idempotency-Key", &key)
                    .json(&body),
            )
        };
        let (a, b) = tokio::join!(send(0), send(1));
        let classify = |r: &Result<(u16, serde_json::Value), String>| match r {
            Ok((201, body)) => (Outcome::Ok, body["id"].as_str().map(str::to_owned)),
            Ok((409, body)) if body["code"] == "limit_reached" => (Outcome::Refused, None),
            _ => (Outcome::Error, None),
        };
        let ((oa, ida), (ob, idb)) = (classify(&a), classify(&b));
        load.replies[0].add(oa);
        load.replies[1].add(ob);
        match (oa, ob) {
            (Outcome::Ok, Outcome::Ok) if ida == idb => {
                load.reply_keys.fetch_add(1, Relaxed);
            }
            (Outcome::Refused, Outcome::Refused) => {
                load.refused_keys.fetch_add(1, Relaxed);
            }
            _ => {
                if oa == Outcome::Ok || ob == Outcome::Ok {
                    load.reply_keys.fetch_add(1, Relaxed);
                }
                load.anomaly(format!("reply key {key}: api-1 {a:?}, api-2 {b:?}"));
            }
        }
    }
}

async fn credit_worker(t: Arc<Target>, load: Arc<Load>, next: Arc<AtomicU64>, until: Instant) {
    let client = reqwest::Client::new();
    while Instant::now() < until {
        let k = next.fetch_add(1, Relaxed);
        let ws = &t.workspaces[k as usize % t.workspaces.len()];
        let reference = format!("scale-credit-{}-{k}", t.run);
        let send = |p: usize| {
            call(
                client
                    .post(format!("{}/v1/workspaces/{}/credits", t.apis[p], ws.id))
                    .bearer_auth(common::ADMIN_TOKEN)
                    .json(&serde_json::json!({"amount": "1.00", "reference": reference})),
            )
        };
        let (a, b) = tokio::join!(send(0), send(1));
        let status = |r: &Result<(u16, serde_json::Value), String>| r.as_ref().map(|(s, _)| *s).unwrap_or(0);
        let id = |r: &Result<(u16, serde_json::Value), String>| {
            r.as_ref().ok().and_then(|(_, b)| b["id"].as_str().map(str::to_owned))
        };
        let mut statuses = [status(&a), status(&b)];
        statuses.sort_unstable();
        let (ida, idb) = (id(&a), id(&b));
        load.credits[0].add(ok_if(a.clone(), &[200, 201]));
        load.credits[1].add(ok_if(b.clone(), &[200, 201]));
        if statuses == [200, 201] && ida.is_some() && ida == idb {
            load.credit_refs.fetch_add(1, Relaxed);
            load.credit_units.fetch_add(10_000, Relaxed);
        } else {
            if statuses.contains(&201) {
                load.credit_refs.fetch_add(1, Relaxed);
                load.credit_units.fetch_add(10_000, Relaxed);
            }
            load.anomaly(format!("credit {reference}: api-1 {a:?}, api-2 {b:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn read_worker(t: Arc<Target>, load: Arc<Load>, next: Arc<AtomicU64>, until: Instant) {
    let client = reqwest::Client::new();
    const PATHS: [&str; 4] = [
        "/v1/billing/wallet",
        "/v1/billing/ledger?limit=50",
        "/v1/conversations?limit=20",
        "/v1/numbers?limit=50",
    ];
    while Instant::now() < until {
        let j = next.fetch_add(1, Relaxed) as usize;
        let p = j % 2;
        let ws = &t.workspaces[(j / 2) % t.workspaces.len()];
        let path = PATHS[(j / 2) % PATHS.len()];
        let answer = call(client.get(format!("{}{path}", t.apis[p])).bearer_auth(&ws.key)).await;
        let outcome = ok_if(answer.clone(), &[200]);
        if outcome == Outcome::Error {
            load.anomaly(format!("GET {path} at api-{}: {answer:?}", p + 1));
        }
        load.reads[p].add(outcome);
    }
}

fn row(name: &str, t: &Tally) -> String {
    format!(
        "| {name} | {} | {} | {} | {} |",
        t.sent.load(Relaxed),
        t.ok.load(Relaxed),
        t.refused.load(Relaxed),
        t.errors.load(Relaxed)
    )
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

async fn prove() -> bool {
    let started = Instant::now();
    let seconds = knob("SCALE_SECONDS", 20);
    let n_ws = knob("SCALE_WORKSPACES", 8);
    let n_numbers = knob("SCALE_NUMBERS_PER_WS", 6);
    let free_sms: i64 =
        std::env::var("BENCH_APP__BILLING__FREE_SMS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let db = common::fresh_postgres("sb_scale").await;
    let logs = common::log_dir("scale-out");

    // Four servers start on the empty database at once: each applies the migrations.
    let mut servers: Vec<Process> = Vec::new();
    for (bin, name) in [
        (Binary::Ingest, "ingest-1"),
        (Binary::Ingest, "ingest-2"),
        (Binary::Api, "api-1"),
        (Binary::Api, "api-2"),
    ] {
        let port = common::free_port();
        servers.push(common::spawn(
            bin,
            name,
            &db.url,
            Some(port),
            &[],
            Some(&logs.join(format!("{name}.log"))),
        ));
    }
    for s in &servers {
        common::wait_ready(s.base.as_deref().unwrap()).await;
    }
    let base = |i: usize| servers[i].base.clone().unwrap();

    // Seed: limits none / 40 / 150, rentals one period due / two due / not due.
    let now = Utc::now();
    let noon = |days: i64| {
        (now.date_naive() + chrono::Duration::days(days))
            .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
            .and_utc()
    };
    let limits = [None, Some(40), Some(150)];
    let rentals = [(Some(noon(-5)), 1), (Some(noon(-40)), 2), (Some(noon(10)), 0)];
    let workspaces = common::seed(&db.conn, n_ws, n_numbers, |_, n| Terms {
        sms_limit: limits[n as usize % limits.len()],
        next_rental_at: rentals[n as usize % rentals.len()].0,
    })
    .await;
    let rental_periods: u64 =
        (0..n_ws * n_numbers).map(|i| rentals[(i % n_numbers) as usize % rentals.len()].1).sum();

    // One conversation per number, started through both APIs at once.
    let client = reqwest::Client::new();
    let mut conversations = Vec::new();
    for (w, ws) in workspaces.iter().enumerate() {
        for (n, number) in ws.numbers.iter().enumerate() {
            let contact = format!("+49160{w:02}{n:02}0005");
            let (api1, api2) = (base(2), base(3));
            let (a, b) = tokio::join!(
                common::start_conversation(&client, &api1, &ws.key, &number.id, &contact),
                common::start_conversation(&client, &api2, &ws.key, &number.id, &contact),
            );
            assert_eq!(a, b, "two processes starting the same thread answered different conversations");
            conversations.push((w, a));
        }
    }
    let target = Arc::new(Target {
        ingests: [base(0), base(1)],
        apis: [base(2), base(3)],
        phones: workspaces.iter().flat_map(|ws| ws.numbers.iter().map(|n| n.phone.clone())).collect(),
        workspaces,
        conversations,
        run: now.timestamp() as u64,
    });
    let setup = started.elapsed();

    // The load.
    let load = Arc::new(Load::default());
    let until = Instant::now() + Duration::from_secs(seconds);
    let load_started = Instant::now();
    let mut tasks = Vec::new();
    let counters: [Arc<AtomicU64>; 4] = Default::default();
    for _ in 0..knob("SCALE_INBOUND_WORKERS", 24) {
        tasks.push(tokio::spawn(inbound_worker(target.clone(), load.clone(), counters[0].clone(), until)));
    }
    for _ in 0..knob("SCALE_REPLY_WORKERS", 6) {
        tasks.push(tokio::spawn(reply_worker(target.clone(), load.clone(), counters[1].clone(), until)));
    }
    for _ in 0..knob("SCALE_CREDIT_WORKERS", 2) {
        tasks.push(tokio::spawn(credit_worker(target.clone(), load.clone(), counters[2].clone(), until)));
    }
    for _ in 0..knob("SCALE_READ_WORKERS", 4) {
        tasks.push(tokio::spawn(read_worker(target.clone(), load.clone(), counters[3].clone(), until)));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let load_time = load_started.elapsed();

    // Processing catches up, then two billing-cron runs at once.
    let drain_started = Instant::now();
    let drained = common::drained(&db.conn, Duration::from_secs(180)).await;
    let drain_time = drain_started.elapsed();
    let cron_now = Utc::now() + chrono::Duration::minutes(1);
    let cron_started = Instant::now();
    let mut crons: Vec<Process> = ["cron-1", "cron-2"]
        .iter()
        .map(|name| {
            common::spawn(
                Binary::Cron,
                name,
                &db.url,
                None,
                &["--now".into(), common::rfc3339(cron_now)],
                Some(&logs.join(format!("{name}.log"))),
            )
        })
        .collect();
    let mut cron_exits = Vec::new();
    for c in &mut crons {
        cron_exits.push(c.wait_exit(Duration::from_secs(300)).await);
    }
    let cron_time = cron_started.elapsed();

    // The invariants, while the API processes still run (they answer the wallets).
    let expect = checks::Expect {
        inbound_sids: load.accepted_sids.load(Relaxed),
        replies: load.reply_keys.load(Relaxed),
        credits: load.credit_refs.load(Relaxed),
        credit_units: load.credit_units.load(Relaxed),
        rental_periods,
        rentals_now: Some(cron_now),
        free_sms,
    };
    let found = checks::run(&db.conn, &target.apis, &target.workspaces, &expect).await;
    let mut exits = Vec::new();
    for s in &mut servers {
        let early = s.exited();
        let stopped = s.stop().await;
        exits.push((s.name.clone(), early, stopped));
    }

    // The report.
    println!(
        "\n## Scale-out: 2 × webhook-ingest, 2 × api, 2 × billing-cron on one PostgreSQL {}\n",
        db.label
    );
    println!(
        "{n_ws} workspaces × {n_numbers} numbers (SMS limits none/40/150; rentals 1/2/0 periods due), \
         {} conversations; {seconds} s of closed-loop load, then two `billing-cron --now {}` at once.\n",
        target.conversations.len(),
        common::rfc3339(cron_now)
    );
    println!("| process · requests | sent | accepted | refused (409 limit_reached) | errors |");
    println!("|---|---|---|---|---|");
    for k in 0..2 {
        println!("{}", row(&format!("ingest-{} · signed inbound SMS", k + 1), &load.ingest[k]));
    }
    for k in 0..2 {
        println!("{}", row(&format!("api-{} · replies (Idempotency-Key)", k + 1), &load.replies[k]));
        println!("{}", row(&format!("api-{} · admin credits", k + 1), &load.credits[k]));
        println!("{}", row(&format!("api-{} · reads", k + 1), &load.reads[k]));
    }
    let sids = counters[0].load(Relaxed);
    println!(
        "\nDuplicates: {} of {sids} MessageSids delivered to both ingests at once ({} acknowledged); \
         {} reply keys sent to both APIs at once ({} sent once, {} refused by both at the limit); \
         {} credit references sent to both ({} recorded).",
        load.doubled_sids.load(Relaxed),
        load.accepted_sids.load(Relaxed),
        counters[1].load(Relaxed),
        load.reply_keys.load(Relaxed),
        load.refused_keys.load(Relaxed),
        counters[2].load(Relaxed),
        load.credit_refs.load(Relaxed),
    );
    let anomalies = load.anomaly_count.load(Relaxed);
    if anomalies > 0 {
        println!("\n{anomalies} unexpected answers, first ones:");
        for a in load.anomalies.lock().unwrap().iter() {
            println!("- {a}");
        }
    }
    println!();
    for (c, exit) in crons.iter().zip(&cron_exits) {
        let log = std::fs::read_to_string(c.log.as_ref().unwrap()).unwrap_or_default();
        let rentals =
            log.lines().find(|l| l.trim_start().starts_with("rentals: charged")).unwrap_or("(no summary)");
        println!(
            "- {} ({}): {}",
            c.name,
            exit.map_or("did not finish".into(), |s| s.to_string()),
            rentals.trim()
        );
    }
    let mut log_errors = 0;
    for p in servers.iter().chain(&crons) {
        let errors = p.log_errors();
        log_errors += errors.len();
        for e in errors.iter().take(3) {
            println!("- log error in {}: {e}", p.name);
        }
    }
    println!();
    let mut ok = checks::report(&found);
    println!(
        "\nElapsed: setup {}, load {}, drain {}{}, billing-cron {}, total {}. Logs: {}",
        secs(setup),
        secs(load_time),
        secs(drain_time),
        if drained { "" } else { " (NOT drained)" },
        secs(cron_time),
        secs(started.elapsed()),
        logs.display()
    );
    for (name, early, stopped) in &exits {
        if early.is_some() {
            println!("✗ {name} exited during the run: {early:?}");
            ok = false;
        } else if !stopped.is_some_and(|s| s.success()) {
            println!("✗ {name} did not stop cleanly on SIGTERM: {stopped:?}");
            ok = false;
        }
    }
    if cron_exits.iter().any(|e| !e.is_some_and(|s| s.success())) {
        println!("✗ a billing-cron run failed: {cron_exits:?}");
        ok = false;
    }
    let errors: u64 = [&load.ingest, &load.replies, &load.credits, &load.reads]
        .iter()
        .flat_map(|t| t.iter())
        .map(|t| t.errors.load(Relaxed))
        .sum();
    if errors > 0 || anomalies > 0 || !drained || log_errors > 0 {
        println!("✗ {errors} request errors, {anomalies} unexpected answers, {log_errors} logged errors");
        ok = false;
    }
    println!("\n{}", if ok { "SCALE-OUT PROOF PASSED" } else { "SCALE-OUT PROOF FAILED" });
    ok
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if !rt.block_on(prove()) {
        std::process::exit(1);
    }
}
