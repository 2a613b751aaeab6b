//! `switchboard-billing-cron`: one run does all due work as of an instant and exits; `--loop`
//! repeats it until SIGTERM/Ctrl-C. SPEC §12 lists the work (rentals, identity re-checks, webhook
//! retries, unprocessed events, expired reservations); each job is added with the feature that
//! owns it, and is idempotent by unique keys in the database, so concurrent or repeated runs are
//! safe. Jobs so far: re-checking pending email identities at SES, so "pending" turns into
//! "verified" without anyone pressing Re-verify.

use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use switchboard_runtime::{Binary, Settings};

#[derive(Parser)]
#[command(version, about = "Run Switchboard's due scheduled work")]
struct Cli {
    /// Keep running, one run every INTERVAL (e.g. 30s, 15m, 1h).
    #[arg(long = "loop", value_name = "INTERVAL", value_parser = parse_interval)]
    every: Option<Duration>,
    /// Run as of this instant (RFC 3339) instead of now: replays and tests.
    #[arg(long, value_parser = parse_instant)]
    now: Option<DateTime<Utc>>,
    /// Report what would be done, change nothing.
    #[arg(long)]
    dry_run: bool,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is not an interval such as 30s, 15m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}`: the unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 instant such as 2026-11-30T23:00:00Z: {e}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(Binary::BillingCron) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchboard-billing-cron cannot start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    switchboard_runtime::telemetry::init(&settings.log);
    match run(settings, cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-billing-cron: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Identities re-checked per run at most (SES allows a few calls per second).
const RECHECK_LIMIT: u64 = 200;

async fn run(settings: Settings, cli: Cli) -> anyhow::Result<()> {
    let db = switchboard_runtime::database::open(&settings.database).await?;
    let providers = switchboard_runtime::providers::provider_set_for(&settings)?;
    let tenancy = switchboard_tenancy::TenancyService::new(db.clone());
    let agents = switchboard_agents::AgentService::new(db.clone(), tenancy);
    let email = switchboard_email_identities::EmailService::new(
        db.clone(),
        agents,
        providers.email_identities.clone(),
        settings.email_system_domain.clone(),
    );
    let Some(every) = cli.every else {
        return run_once(&email, cli.now.unwrap_or_else(Utc::now), cli.dry_run).await;
    };
    let shutdown = switchboard_runtime::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        if let Err(e) = run_once(&email, Utc::now(), cli.dry_run).await {
            // A failed run is retried at the next tick; every job is safe to repeat.
            tracing::error!(error = format!("{e:#}"), "run failed");
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

async fn run_once(
    email: &switchboard_email_identities::EmailService,
    now: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let pending = email.pending_count().await?;
    let summary = if dry_run {
        format!("would re-check {} pending email identities", pending.min(RECHECK_LIMIT))
    } else {
        let verified = email.recheck_pending(RECHECK_LIMIT).await?;
        format!("re-checked {} pending email identities, {verified} now verified", pending.min(RECHECK_LIMIT))
    };
    tracing::info!(as_of = %now.to_rfc3339(), dry_run, pending, "run finished");
    eprintln!(
        "billing-cron: run as of {} finished{}: {summary}",
        now.to_rfc3339(),
        if dry_run { " (dry run)" } else { "" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_interval("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_interval("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5d").is_err());
        assert!(parse_interval("m").is_err());
    }

    #[test]
    fn instants() {
        assert_eq!(
            parse_instant("2026-11-30T23:00:00+01:00").unwrap().to_rfc3339(),
            "2026-11-30T22:00:00+00:00"
        );
        assert!(parse_instant("yesterday").is_err());
    }
}
