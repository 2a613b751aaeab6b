//! webhook-ingest serves its operational endpoints on every engine.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use switchboard_testkit::each_engine;

#[tokio::test]
async fn serves_health_readiness_and_metrics() {
    each_engine(|db| async move {
        let app = switchboard_webhook_ingest::app(db.conn.clone(), 65_536, Duration::from_secs(5));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        for (path, status) in [("/healthz", 200), ("/readyz", 200), ("/metrics", 200), ("/nope", 404)] {
            let res = client.get(format!("http://{addr}{path}")).send().await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{path}");
            assert!(res.headers().contains_key("x-request-id"), "{path} has no request id");
        }
    })
    .await;
}
