//! webhook-ingest on every engine: the real router on 127.0.0.1:0, requests signed as each
//! provider signs them.

#![allow(clippy::unwrap_used)]

mod faults;
mod harness;
mod meta;
mod recovery;
mod sns;
mod twilio;
mod vapi;

use std::time::Duration;

use switchboard_testkit::each_engine;

#[tokio::test]
async fn serves_health_readiness_and_metrics() {
    each_engine(|db| async move {
        let ingest = harness::spawn(db).await;
        let client = reqwest::Client::new();
        for (path, status) in [("/healthz", 200), ("/readyz", 200), ("/metrics", 200), ("/nope", 404)] {
            let res = client.get(format!("{}{path}", ingest.base)).send().await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{path}");
            assert!(res.headers().contains_key("x-request-id"), "{path} has no request id");
        }
    })
    .await;
}

#[test]
fn the_binary_starts_migrates_serves_and_stops_cleanly() {
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("sb-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-webhook-ingest"))
        .current_dir(&dir)
        .env_clear()
        .env("APP__HTTP__ADDR", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ready = rt.block_on(async {
        for _ in 0..100 {
            if let Ok(res) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await {
                return res.status().as_u16();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        0
    });
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(ready, 200, "webhook-ingest never became ready");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    assert!(dir.join("data/switchboard.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}
