//! `GET /v1/numbers` under load: a workspace holding 10,000 numbers, pages of 50, requests sent
//! open-loop at a fixed rate (default 500/s for 10 s) to the real router on loopback, on SQLite and
//! — with `TEST_DATABASE_URL` — PostgreSQL. Latency is measured at the client, per request, from
//! the moment it was due, so queueing shows in the tail instead of being hidden.
//!
//! `just bench-numbers` (or `cargo bench -p switchboard-api --bench list_numbers`). Knobs:
//! `BENCH_RATE` (req/s), `BENCH_SECONDS`, `BENCH_NUMBERS`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::float_arithmetic)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use switchboard_api::{AppState, app, serve};
use switchboard_core::db::Engine;
use switchboard_core::{AgentId, Ctx, WorkspaceId};
use switchboard_loadgen::{Figures, ms, open_loop};
use switchboard_runtime::{Binary, Settings};
use switchboard_testkit::rows::{NumberRow, insert_numbers};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Inserts `count` numbers for `ws` directly (provisioning 10,000 through the API would measure
/// the sandbox, not the listing).
async fn seed_numbers(db: &DatabaseConnection, ws: &WorkspaceId, agent: &AgentId, count: u64) {
    let rows: Vec<NumberRow> = (0..count)
        .map(|i| {
            let mut row = NumberRow::new(ws, format!("+4930{i:07}"));
            row.agent_id = Some(agent.clone());
            row.vapi_phone_number_id = Some(format!("00000000-0000-4000-8000-{i:012x}"));
            row
        })
        .collect();
    insert_numbers(db, &rows).await.unwrap();
}

async fn run(engine: Engine, numbers: u64, rate: u64, seconds: u64) -> Figures {
    let db = switchboard_testkit::fresh(engine).await;
    let tenancy = switchboard_tenancy::TenancyService::new(db.conn.clone());
    let agents = switchboard_agents::AgentService::new(db.conn.clone(), tenancy.clone());
    let (ws, owner) = tenancy
        .create_workspace(switchboard_tenancy::NewWorkspace { name: "Bench".into(), timezone: None })
        .await
        .unwrap();
    let agent = agents
        .create(
            &Ctx::system(ws.id.clone()),
            switchboard_agents::NewAgent {
                name: "Agent".into(),
                status: None,
                timezone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    seed_numbers(&db.conn, &ws.id, &agent.id, numbers).await;

    let env: HashMap<String, String> = HashMap::from([("APP__DATABASE__URL".into(), db.url.clone())]);
    let settings = Settings::load_from(Binary::Api, &env, Path::new("/nonexistent")).unwrap();
    let providers = switchboard_api::ProviderSet::sandbox(
        switchboard_providers::Sandbox::embedded().unwrap(),
        switchboard_providers::SandboxSes::new(),
    );
    let state = AppState::new(
        db.conn.clone(),
        settings,
        switchboard_billing::PriceList::embedded().unwrap(),
        providers,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app(state), std::future::pending()));
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let key = owner.key.clone();

    // Every page's cursor, so the load reads pages all over the list.
    let mut cursors: Vec<Option<String>> = vec![None];
    loop {
        let url = match cursors.last().unwrap() {
            Some(c) => format!("{base}/v1/numbers?limit=50&cursor={c}"),
            None => format!("{base}/v1/numbers?limit=50"),
        };
        let page: serde_json::Value =
            client.get(url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), 50);
        match page["next_cursor"].as_str() {
            Some(c) => cursors.push(Some(c.to_owned())),
            None => break,
        }
    }
    assert_eq!(cursors.len() as u64, numbers / 50, "every page was reachable");

    // Warm-up, then the measured open-loop run.
    for c in cursors.iter().take(200) {
        let url = match c {
            Some(c) => format!("{base}/v1/numbers?limit=50&cursor={c}"),
            None => format!("{base}/v1/numbers?limit=50"),
        };
        client.get(url).bearer_auth(&key).send().await.unwrap().bytes().await.unwrap();
    }
    let url = move |i: usize| match &cursors[(i * 7919) % cursors.len()] {
        Some(c) => format!("{base}/v1/numbers?limit=50&cursor={c}"),
        None => format!("{base}/v1/numbers?limit=50"),
    };
    open_loop(rate, Duration::from_secs(seconds), |i| client.get(url(i)).bearer_auth(&key)).await
}

fn main() {
    let numbers = knob("BENCH_NUMBERS", 10_000);
    let rate = knob("BENCH_RATE", 500);
    let seconds = knob("BENCH_SECONDS", 10);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "GET /v1/numbers?limit=50 — {numbers} numbers in the workspace, {rate} req/s open loop for {seconds} s\n"
    );
    println!("| engine | requests | errors | achieved req/s | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|---|---|");
    for engine in switchboard_testkit::engines() {
        let f = rt.block_on(run(engine, numbers, rate, seconds));
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            engine.name(),
            f.sent,
            f.errors,
            f.rate(),
            ms(f.p50),
            ms(f.p90),
            ms(f.p99),
            ms(f.max)
        );
    }
}
