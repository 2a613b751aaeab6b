//! What webhook-ingest's process-level benchmarks share (`ingest`, `scale_out`, `soak`): the built
//! binaries started as processes of their own, fresh databases, workspaces and numbers seeded
//! straight into the tables, inbound SMS signed as Twilio signs, and figures read back with SQL.
//! The invariant checks after a run live in [`checks`].

#![allow(dead_code)] // every benchmark uses its own part

pub mod checks;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use secrecy::SecretString;
use switchboard_agents::{AgentService, AgentStatus, NewAgent};
use switchboard_core::db::{DbOptions, Engine, connect};
use switchboard_core::{AgentId, Ctx, NumberId, WorkspaceId};
use switchboard_tenancy::{NewWorkspace, TenancyService};
use switchboard_testkit::rows::{NumberRow, insert_numbers};

/// The public base URL webhook-ingest believes it serves (Twilio signs over it).
pub const PUBLIC_BASE: &str = "https://hooks.example.com";
pub const TWILIO_TOKEN: &str = "bench-twilio-auth-token";
pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

pub fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `base` answers `/readyz` (the database is reachable, migrations applied).
pub async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not come up");
}

/// The three binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Api,
    Ingest,
    Cron,
}

impl Binary {
    pub fn path(self) -> PathBuf {
        match self {
            Binary::Ingest => PathBuf::from(env!("CARGO_BIN_EXE_switchboard-webhook-ingest")),
            Binary::Api => sibling("switchboard-api", "SB_API_BIN"),
            Binary::Cron => sibling("switchboard-billing-cron", "SB_CRON_BIN"),
        }
    }
}

/// A binary of another package: `env` when set, else next to webhook-ingest's own binary (cargo
/// puts every binary of a profile in one folder; `just scale-out` and `just soak` build them first).
fn sibling(name: &str, env: &str) -> PathBuf {
    if let Ok(path) = std::env::var(env) {
        return path.into();
    }
    let own = Path::new(env!("CARGO_BIN_EXE_switchboard-webhook-ingest"));
    let path = own.parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build --release -p {name}`, as `just scale-out` and \
         `just soak` do) or point {env} at it",
        path.display()
    );
    let age = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(theirs), Some(ours)) = (age(&path), age(own))
        && ours.duration_since(theirs).is_ok_and(|d| d > Duration::from_secs(600))
    {
        eprintln!("warning: {} is older than webhook-ingest's binary; rebuild it", path.display());
    }
    path
}

/// A started binary; killed when dropped if it still runs.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    /// `http://127.0.0.1:<port>` of a server.
    pub base: Option<String>,
    pub log: Option<PathBuf>,
    child: Child,
}

/// Starts `bin` over `db_url` with the benchmarks' settings: sandbox providers, the test Twilio
/// token and public base, an admin token, no demo seed, warnings only, the API with two malloc
/// arenas as deployed. `BENCH_APP__X=v` in this process's environment becomes `APP__X=v` for the
/// child. Its stderr goes to `log` (or ours).
pub fn spawn(
    bin: Binary,
    name: &str,
    db_url: &str,
    port: Option<u16>,
    args: &[String],
    log: Option<&Path>,
) -> Process {
    let mut cmd = Command::new(bin.path());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("APP__PUBLIC_BASE_URL", PUBLIC_BASE)
        .env("APP__TWILIO__AUTH_TOKEN", TWILIO_TOKEN)
        .env("APP__AUTH__ADMIN_TOKEN", ADMIN_TOKEN)
        .env("APP__DEMO__SEED", "false")
        .env("APP__LOG__FILTER", "warn")
        .envs(
            std::env::vars()
                .filter(|(k, _)| k.starts_with("BENCH_APP__"))
                .map(|(k, v)| (k[6..].to_owned(), v)),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(port) = port {
        cmd.env("APP__HTTP__ADDR", format!("127.0.0.1:{port}"));
    }
    // The API with two malloc arenas, as deploy/ runs it (docs/operations.md, "Memory").
    if bin == Binary::Api {
        cmd.env("MALLOC_ARENA_MAX", "2");
    }
    match log {
        Some(path) => cmd.stderr(std::fs::File::create(path).unwrap()),
        None => cmd.stderr(Stdio::inherit()),
    };
    let child = cmd.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", bin.path().display()));
    Process {
        name: name.to_owned(),
        base: port.map(|p| format!("http://127.0.0.1:{p}")),
        log: log.map(Path::to_path_buf),
        child,
    }
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB (`VmRSS` of `/proc/<pid>/status`); `None` once it has exited.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid())
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `limit` for it to exit by itself.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (the binaries drain and exit 0), then SIGKILL after 20 s; answers the exit status
    /// of the graceful stop, `None` if it had to be killed.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let status = self.wait_exit(Duration::from_secs(20)).await;
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        status
    }

    /// Lines of its log that report an error.
    pub fn log_errors(&self) -> Vec<String> {
        let Some(path) = &self.log else { return Vec::new() };
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("panicked"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resident memory of `pid` in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A database made for one run, reachable by the started binaries through `url`.
#[derive(Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub engine: Engine,
    pub url: String,
    /// What to print: the file or the database name.
    pub label: String,
}

async fn open(url: &str) -> DatabaseConnection {
    connect(&DbOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(120),
        ..DbOptions::new(url.to_owned())
    })
    .await
    .unwrap_or_else(|e| panic!("connecting to {}: {e}", switchboard_core::db::redact_url(url)))
}

/// The PostgreSQL server the runs create their databases on: `SB_PG_URL` (a server URL without a
/// database), default the local one.
pub fn pg_server() -> String {
    std::env::var("SB_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into())
        .trim_end_matches('/')
        .to_owned()
}

/// An empty PostgreSQL database `name`, dropped first if a previous run left it (it is kept after
/// the run for inspection). The binaries apply the migrations when they start.
pub async fn fresh_postgres(name: &str) -> Db {
    let server = pg_server();
    let admin = open(&format!("{server}/postgres")).await;
    for sql in
        [format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"), format!("CREATE DATABASE \"{name}\"")]
    {
        admin
            .execute(Statement::from_string(admin.get_database_backend(), sql.clone()))
            .await
            .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
    }
    admin.close().await.ok();
    let url = format!("{server}/{name}");
    Db { conn: open(&url).await, engine: Engine::Postgres, url, label: format!("database {name}") }
}

/// An empty SQLite file `<temp>/switchboard-bench/<name>.db`, replacing a previous run's.
pub async fn fresh_sqlite(name: &str) -> Db {
    let dir = std::env::temp_dir().join("switchboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let url = format!("sqlite://{}?mode=rwc", file.display());
    Db { conn: open(&url).await, engine: Engine::Sqlite, url, label: file.display().to_string() }
}

/// A folder for the processes' logs of one run, emptied first.
pub fn log_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("switchboard-bench").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a seeded number is sold with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terms {
    pub sms_limit: Option<i64>,
    /// When its next monthly rental is due (`None`: never, for this run).
    pub next_rental_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct SeededNumber {
    pub id: NumberId,
    pub phone: String,
    pub terms: Terms,
}

#[derive(Debug, Clone)]
pub struct SeededWorkspace {
    pub id: WorkspaceId,
    /// The owner's API key.
    pub key: String,
    pub agent: AgentId,
    pub numbers: Vec<SeededNumber>,
}

/// `workspaces` workspaces (Europe/Berlin), each with its owner key, a live agent and
/// `numbers_per_ws` enabled numbers serving it (`+49309018<ws><n>`), number `n` of workspace `w`
/// sold with `terms(w, n)`. Written through the services and straight into `numbers`, as a
/// platform's state would be after provisioning.
pub async fn seed(
    conn: &DatabaseConnection,
    workspaces: u64,
    numbers_per_ws: u64,
    terms: impl Fn(u64, u64) -> Terms,
) -> Vec<SeededWorkspace> {
    assert!(workspaces <= 100 && numbers_per_ws <= 100, "two digits each in the phone numbers");
    let tenancy = TenancyService::new(conn.clone());
    let agents = AgentService::new(conn.clone(), tenancy.clone());
    let mut seeded = Vec::new();
    for w in 0..workspaces {
        let (ws, owner) = tenancy
            .create_workspace(NewWorkspace {
                name: format!("Bench {w}"),
                timezone: Some("Europe/Berlin".parse().unwrap()),
            })
            .await
            .unwrap();
        let agent = agents
            .create(
                &Ctx::system(ws.id.clone()),
                NewAgent {
                    name: "Reception".into(),
                    status: Some(AgentStatus::Live),
                    timezone: None,
                    language: None,
                },
            )
            .await
            .unwrap();
        let mut numbers = Vec::new();
        let mut rows = Vec::new();
        for n in 0..numbers_per_ws {
            let phone = format!("+49309018{w:02}{n:02}");
            let t = terms(w, n);
            let mut row = NumberRow::new(&ws.id, phone.clone());
            row.agent_id = Some(agent.id.clone());
            row.monthly_sms_limit = t.sms_limit;
            if let Some(due) = t.next_rental_at {
                row.next_rental_at = Some(due);
                row.rental_anchor_day = due.day() as i32;
            }
            numbers.push(SeededNumber { id: row.id.clone(), phone, terms: t });
            rows.push(row);
        }
        insert_numbers(conn, &rows).await.unwrap();
        seeded.push(SeededWorkspace { id: ws.id, key: owner.key, agent: agent.id, numbers });
    }
    seeded
}

/// A Twilio message id, unique per `(run, i)`.
pub fn message_sid(run: u64, i: u64) -> String {
    format!("SM{:032x}", u128::from(run) << 64 | u128::from(i))
}

/// Contact `i` (a German mobile number).
pub fn contact(i: u64) -> String {
    format!("+4915112{:06}", i % 1_000_000)
}

/// The form parameters Twilio posts for an inbound SMS `sid` from `from` to `to`.
pub fn inbound_sms_params(sid: &str, to: &str, from: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", "ACsandbox0000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("Body", "Hallo, ich habe eine Frage zu meiner Bestellung."),
        ("From", from),
        ("FromCountry", "DE"),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", to),
        ("ToCountry", "DE"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// An inbound SMS `sid` from `from` to `to`, posted to webhook-ingest at `base` and signed as
/// Twilio signs (`X-Twilio-Signature` over the public URL and the sorted parameters).
pub fn inbound_sms(
    client: &reqwest::Client,
    base: &str,
    sid: &str,
    to: &str,
    from: &str,
) -> reqwest::RequestBuilder {
    let params = inbound_sms_params(sid, to, from);
    let url = switchboard_webhook_auth::twilio::request_url(PUBLIC_BASE, "/twilio/messages");
    let signature =
        switchboard_webhook_auth::twilio::signature(&SecretString::from(TWILIO_TOKEN), &url, &params);
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    client
        .post(format!("{base}/twilio/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .body(body)
}

/// The first column of the first row of `sql`, an integer (`NULL` → 0). Portable SQL: cast
/// aggregates to `BIGINT` (PostgreSQL's `SUM` is `numeric`).
pub async fn count(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
        .unwrap();
    row.try_get_by_index::<Option<i64>>(0).unwrap().unwrap_or(0)
}

/// Waits up to `limit` until no stored event is left unprocessed; answers whether none is.
pub async fn drained(conn: &DatabaseConnection, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let left =
            count(conn, "SELECT CAST(COUNT(*) AS BIGINT) FROM inbound_events WHERE state = 'received'").await;
        if left == 0 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `req`, answering the status and the JSON body (`Null` when there is none), or the
/// transport error.
pub async fn call(req: reqwest::RequestBuilder) -> Result<(u16, serde_json::Value), String> {
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

/// Starts (or finds) the SMS conversation of `number` with `contact` through the API at `base`.
pub async fn start_conversation(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    number: &NumberId,
    contact: &str,
) -> String {
    let (status, body) = call(
        client
            .post(format!("{base}/v1/conversations"))
            .bearer_auth(key)
            .json(&serde_json::json!({"channel": "sms", "contact": contact, "number_id": number})),
    )
    .await
    .unwrap();
    assert!(status == 201 || status == 200, "starting a conversation answered {status}: {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The `p`-quantile of sorted `d`.
pub fn quantile(d: &[Duration], p: f64) -> Duration {
    let i = ((d.len() as f64 * p) as usize).min(d.len().saturating_sub(1));
    d.get(i).copied().unwrap_or_default()
}

/// An instant as `billing-cron --now` takes it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
