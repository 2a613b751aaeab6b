//! # switchboard-loadgen
//!
//! The load generator of Switchboard's HTTP benchmarks (benchmarks only; no service depends on
//! it). Two ways to drive a server:
//!
//! - [`closed_loop`]: `concurrency` workers send back to back for a while — the peak rate the
//!   server sustains (requests/s), the figure to compare against a bare handler ([`bare_ok`]).
//! - [`open_loop`]: requests are sent at a fixed rate whether or not earlier ones have been
//!   answered, and each latency is measured from the moment the request was *due* — so queueing
//!   shows in the tail instead of being hidden by a client that slows down with the server
//!   ("coordinated omission").
//!
//! A request is built by a closure from its sequence number, so every request can be unique
//! (a new message id) and signed.

#![allow(clippy::float_arithmetic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Figures {
    pub sent: usize,
    /// Transport failures and non-2xx answers.
    pub errors: usize,
    pub seconds: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Figures {
    /// Answered requests per second.
    pub fn rate(&self) -> f64 {
        self.sent as f64 / self.seconds
    }

    fn from(mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Self {
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Figures {
            sent: latencies.len(),
            errors,
            seconds,
            p50: pct(0.50),
            p90: pct(0.90),
            p99: pct(0.99),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }
}

/// A client keeping enough idle connections for `concurrency` parallel requests.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap_or_default()
}

async fn send(req: reqwest::RequestBuilder) -> bool {
    match req.send().await {
        Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// `concurrency` workers send requests back to back for `duration`; request `i` is `make(i)`.
pub async fn closed_loop<F>(concurrency: usize, duration: Duration, make: F) -> Figures
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (make, next) = (make.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while started.elapsed() < duration {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let ok = send(make(i)).await;
                    latencies.push(t.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        if let Ok((l, e)) = w.await {
            latencies.extend(l);
            errors += e;
        }
    }
    Figures::from(latencies, errors, started.elapsed().as_secs_f64())
}

/// Sends `rate` requests per second for `duration`, open loop; latency from each request's due
/// time. Request `i` is `make(i)`.
pub async fn open_loop<F>(rate: u64, duration: Duration, make: F) -> Figures
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let req = make(i);
        tasks.push(tokio::spawn(async move {
            let ok = send(req).await;
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        if let Ok((latency, ok)) = t.await {
            latencies.push(latency);
            errors += usize::from(!ok);
        }
    }
    Figures::from(latencies, errors, started.elapsed().as_secs_f64())
}

/// Serves a bare axum handler answering every POST and GET with `200 OK` on `listener`: the
/// ceiling any real handler on this machine is compared with.
pub async fn bare_ok(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(|| async { "OK" });
    axum::serve(listener, app).await
}

/// A duration as milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
