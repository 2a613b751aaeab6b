//! The real binary: bad configuration stops it naming the key; the embedded default starts,
//! seeds the demo workspace once, serves, and shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-api");

fn api(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-start-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_value_stops_start_up_naming_the_key() {
    let dir = temp_dir();
    let out = api(&dir).env("APP__HTTP__ADDR", "not-an-address").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("APP__HTTP__ADDR") && stderr.contains("http.addr"), "{stderr}");
    assert!(!dir.join("data").exists(), "nothing may be created before the configuration is valid");
}

#[test]
fn live_mode_refuses_to_start_and_names_each_missing_setting() {
    let dir = temp_dir();
    let out = api(&dir).env("APP__PROVIDERS__MODE", "live").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in [
        "APP__PUBLIC_BASE_URL",
        "APP__SECRETS__ENCRYPTION_KEY",
        "APP__TWILIO__ACCOUNT_SID",
        "APP__TWILIO__AUTH_TOKEN",
        "APP__VAPI__API_KEY",
        "APP__VAPI__SERVER_SECRET",
    ] {
        assert!(stderr.contains(key), "{key} not named in: {stderr}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_embedded_default_seeds_once_serves_and_stops_cleanly() {
    let dir = temp_dir();
    let start = |port: u16| {
        api(&dir)
            .env("APP__HTTP__ADDR", format!("127.0.0.1:{port}"))
            .env("APP__LOG__FORMAT", "json") // one line per event on stderr
            .spawn()
            .unwrap()
    };
    let port = free_port();
    let mut child = start(port);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut key = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while key.is_none() && Instant::now() < deadline {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        key = line.split_whitespace().find(|w| w.starts_with("sk_")).map(str::to_owned);
    }
    let key = key.expect("the first start prints the demo owner key");
    assert!(dir.join("data/switchboard.db").exists(), "the SQLite file is created under ./data");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let agents = rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(res) =
                client.get(format!("http://127.0.0.1:{port}/v1/agents")).bearer_auth(&key).send().await
            {
                return res.json::<serde_json::Value>().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the API never answered");
    });
    assert_eq!(agents["data"].as_array().unwrap().len(), 3);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.lines().any(|l| l.starts_with('{') && l.contains("\"level\"")),
        "production logs are JSON: {stderr}"
    );
    assert!(!stderr.contains(&key), "the key leaked into the logs");

    // A second start finds the seeded database and prints no key.
    let port = free_port();
    let child = start(port);
    std::thread::sleep(Duration::from_secs(2));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk_"), "a restart printed a key again");
    let _ = std::fs::remove_dir_all(dir);
}
