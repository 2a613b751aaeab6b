//! `switchboard-billing-cron`: one run does all due work as of an instant and exits; `--loop`
//! repeats it until SIGTERM/Ctrl-C, each pass with a database pool of its own, as separate
//! scheduled processes would (so nothing builds up in a long-lived loop). SPEC §12 lists the
//! work; each job is idempotent by unique keys in the database, so concurrent, repeated or
//! interrupted runs are safe. Jobs, in order:
//!
//! 1. **Rentals**: every number whose monthly rental is due, including periods missed while
//!    nothing ran ([`switchboard_numbers::rentals`]), in set-based batches with progress on stderr.
//! 2. **Inbound events**: provider webhooks stored but not processed — webhook-ingest stopped
//!    after acknowledging them, or processing failed — more than a minute old (younger ones are
//!    still in an ingest's queue). Before the reservations, so a late call report settles its
//!    reservation instead of letting it expire.
//! 3. **Reservations**: release call-minute reservations never settled.
//! 4. **Email identities**: re-check pending ones at SES, so "pending" turns into "verified"
//!    without anyone pressing Re-verify.
//! 5. **Wallets**: raise a `wallet_negative` notification for each workspace below zero — once per
//!    stretch below zero (the dedupe key names the workspace's latest credit).
//! 6. **Webhooks**: due notification-webhook attempts — the first attempt of each notification
//!    raised since the last run, and the retries whose backoff elapsed — then queued notification
//!    mail ([`switchboard_channels::webhooks`]). Last, so a notification raised by an earlier job
//!    of this run goes out in this run. Each attempt is claimed by a conditional update, so
//!    concurrent runs never make the same attempt twice.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Parser;
use sea_orm::DatabaseConnection;
use switchboard_billing::{UsageService, ledger};
use switchboard_channels::notifications::{self, NewNotification, NotificationKind};
use switchboard_channels::webhooks::WebhookDispatcher;
use switchboard_inbound::{InboundService, PendingSummary};
use switchboard_numbers::rentals;
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
    /// Numbers charged per rental batch (one transaction each).
    #[arg(long, default_value_t = rentals::DEFAULT_BATCH, value_parser = clap::value_parser!(u64).range(1..=5000))]
    batch_size: u64,
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
/// Reservations released per transaction.
const EXPIRY_BATCH: u64 = 500;
/// Stored inbound events processed per batch.
const EVENTS_BATCH: u64 = 500;
/// Inbound events younger than this are left to the webhook-ingest that stored them.
const EVENTS_GRACE: Duration = Duration::from_secs(60);
/// Webhook attempts (and mails) per batch.
const WEBHOOK_BATCH: u64 = 200;

/// What a run works with.
struct Jobs {
    db: DatabaseConnection,
    settings: Settings,
    usage: UsageService,
    email: switchboard_email_identities::EmailService,
    inbound: InboundService,
    webhooks: WebhookDispatcher,
    batch_size: u64,
    dry_run: bool,
}

async fn run(settings: Settings, cli: Cli) -> anyhow::Result<()> {
    let Some(every) = cli.every else {
        return Jobs::open(settings, &cli).await?.run_once(cli.now.unwrap_or_else(Utc::now)).await;
    };
    let shutdown = switchboard_runtime::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        // Each pass starts afresh — database pool included, closed after — as a scheduled run
        // in its own process would: nothing (SQLite's page caches above all) builds up between
        // passes of a long-lived loop.
        let pass = async {
            let jobs = Jobs::open(settings.clone(), &cli).await?;
            let result = jobs.run_once(Utc::now()).await;
            jobs.db.close().await?;
            result
        };
        if let Err(e) = pass.await {
            // A failed run is retried at the next tick; every job is safe to repeat.
            tracing::error!(error = format!("{e:#}"), "run failed");
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

impl Jobs {
    /// Opens the database and wires the services one run works with.
    async fn open(settings: Settings, cli: &Cli) -> anyhow::Result<Jobs> {
        let db = switchboard_runtime::database::open(&settings.database).await?;
        let providers = switchboard_runtime::providers::provider_set_for(&settings)?;
        let tenancy = switchboard_tenancy::TenancyService::new(db.clone());
        let agents = switchboard_agents::AgentService::new(db.clone(), tenancy.clone());
        let email = switchboard_email_identities::EmailService::new(
            db.clone(),
            agents,
            providers.email_identities.clone(),
            settings.email_system_domain.clone(),
        );
        let usage = UsageService::new(db.clone(), tenancy, settings.currency, settings.usage);
        let inbound = InboundService::wire(switchboard_inbound::Wiring {
            db: db.clone(),
            prices: std::sync::Arc::new(switchboard_runtime::prices::price_list(&settings)?),
            currency: settings.currency,
            usage: settings.usage,
            numbers: providers.numbers.clone(),
            public_base_url: settings.public_base_url.clone(),
            confirmer: std::sync::Arc::new(switchboard_webhook_auth::sns::HttpSubscriptionConfirmer::new(
                switchboard_webhook_auth::sns::HttpSubscriptionConfirmer::DEFAULT_TIMEOUT,
            )?),
        });
        // Notification mail comes from the platform's own domain, which the operator verifies at SES.
        let mail_from = settings.email_system_domain.as_ref().map(|d| format!("notifications@{d}"));
        let mailer = match (&settings.providers, &mail_from) {
            // The sandbox SES lives in this process and starts with no identities; the platform's
            // sender is verified as it would be at the real SES, so the sandbox records the mail.
            (switchboard_runtime::ProviderMode::Sandbox, Some(from)) => {
                use switchboard_email_identities::ports::{EmailIdentityProvider, IdentityKind};
                let ses = switchboard_providers::SandboxSes::new();
                ses.create_identity(from, IdentityKind::Address).await?;
                ses.get_identity(from).await?;
                std::sync::Arc::new(ses)
                    as std::sync::Arc<dyn switchboard_email_identities::ports::EmailSender>
            }
            _ => providers.email_sender.clone(),
        };
        let webhooks = WebhookDispatcher::new(
            db.clone(),
            switchboard_outbound::SafeClient::builder().build()?,
            switchboard_core::secret_box::Sealer::new(settings.encryption_key.clone()),
            mailer,
            mail_from,
        );
        Ok(Jobs {
            db,
            settings,
            usage,
            email,
            inbound,
            webhooks,
            batch_size: cli.batch_size,
            dry_run: cli.dry_run,
        })
    }

    async fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let started = Instant::now();
        let mode = if self.dry_run { " (dry run)" } else { "" };
        eprintln!("billing-cron: run as of {}{mode}", now.to_rfc3339());
        let lines = [
            self.rentals(now).await?,
            self.events(now).await?,
            self.reservations(now).await?,
            self.identities().await?,
            self.wallets().await?,
            self.webhooks(now).await?,
        ];
        for line in &lines {
            eprintln!("  {line}");
        }
        eprintln!(
            "billing-cron: run as of {} finished{mode} in {:.1}s",
            now.to_rfc3339(),
            started.elapsed().as_secs_f64()
        );
        tracing::info!(as_of = %now.to_rfc3339(), dry_run = self.dry_run, "run finished");
        Ok(())
    }

    fn money(&self, amount: switchboard_core::Amount) -> String {
        format!("{amount} {}", self.settings.currency)
    }

    async fn rentals(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        if self.dry_run {
            let p = rentals::preview(&self.db, now, self.batch_size).await?;
            return Ok(format!(
                "rentals: would charge {} periods of {} numbers, {}",
                p.charged,
                p.numbers,
                self.money(p.amount)
            ));
        }
        let started = Instant::now();
        let mut last_report = Instant::now();
        let s = rentals::renew(&self.db, self.settings.currency, now, self.batch_size, |p| {
            // Progress for long runs: at most one line a second.
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                eprintln!(
                    "  rentals: {} periods handled ({} numbers were due), {:.1}s",
                    p.periods,
                    p.due,
                    started.elapsed().as_secs_f64()
                );
            }
        })
        .await?;
        Ok(format!(
            "rentals: charged {} periods of {} due numbers, {} ({} already charged by another run)",
            s.charged,
            s.numbers,
            self.money(s.amount),
            s.already_charged
        ))
    }

    async fn events(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        let before = now - chrono::Duration::from_std(EVENTS_GRACE)?;
        if self.dry_run {
            let n = self.inbound.pending_count(before).await?;
            return Ok(format!("events: would process {n} stored inbound events"));
        }
        let mut all = PendingSummary::default();
        loop {
            let s = self.inbound.process_pending(before, EVENTS_BATCH).await?;
            all.seen += s.seen;
            all.processed += s.processed;
            all.dropped += s.dropped;
            all.unroutable += s.unroutable;
            all.failed += s.failed;
            all.retried += s.retried;
            // A failed attempt stops the job: the next run retries, not this loop.
            if s.seen < EVENTS_BATCH || s.retried > 0 {
                break;
            }
        }
        Ok(format!(
            "events: processed {} stored inbound events ({} passed on, {} dropped, {} unroutable, {} failed, {} to retry)",
            all.seen, all.processed, all.dropped, all.unroutable, all.failed, all.retried
        ))
    }

    async fn reservations(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        if self.dry_run {
            let n = self.usage.expired_count(now).await?;
            return Ok(format!("reservations: would release {n} expired call reservations"));
        }
        let mut released = 0;
        loop {
            let n = self.usage.expire_reservations(now, EXPIRY_BATCH).await?;
            released += n;
            if n < EXPIRY_BATCH {
                break;
            }
        }
        Ok(format!("reservations: released {released} expired call reservations"))
    }

    async fn identities(&self) -> anyhow::Result<String> {
        let pending = self.email.pending_count().await?.min(RECHECK_LIMIT);
        if self.dry_run {
            return Ok(format!("email: would re-check {pending} pending email identities"));
        }
        let verified = self.email.recheck_pending(RECHECK_LIMIT).await?;
        Ok(format!("email: re-checked {pending} pending email identities, {verified} now verified"))
    }

    async fn wallets(&self) -> anyhow::Result<String> {
        let negative = ledger::negative_balances(&self.db).await?;
        if self.dry_run {
            return Ok(format!("wallets: {} below zero", negative.len()));
        }
        let mut raised = 0;
        for (ws, balance, last_credit) in &negative {
            let since = last_credit.as_ref().map_or_else(|| "start".to_owned(), ToString::to_string);
            let new = notifications::raise(
                &self.db,
                NewNotification {
                    workspace_id: ws.clone(),
                    agent_id: None,
                    kind: NotificationKind::WalletNegative,
                    dedupe_key: format!("wallet_negative:{ws}:{since}"),
                    subject: "Your wallet is below zero".into(),
                    body: format!(
                        "The wallet balance is {}. Numbers you hold keep working and their rentals and \
                         usage are still charged, but buying a number needs a covering balance. Add credit.",
                        self.money(*balance)
                    ),
                },
            )
            .await?;
            raised += u64::from(new);
        }
        Ok(format!("wallets: {} below zero, {raised} newly notified", negative.len()))
    }

    async fn webhooks(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        if self.dry_run {
            let n = self.webhooks.due_count(now).await?;
            return Ok(format!("webhooks: would attempt {n} due deliveries"));
        }
        let mut all = switchboard_channels::webhooks::DispatchSummary::default();
        loop {
            let s = self.webhooks.run_due(now, WEBHOOK_BATCH).await?;
            all.attempted += s.attempted;
            all.succeeded += s.succeeded;
            all.retrying += s.retrying;
            all.failed += s.failed;
            all.endpoints_disabled += s.endpoints_disabled;
            all.mails_sent += s.mails_sent;
            all.mails_failed += s.mails_failed;
            if s.attempted < WEBHOOK_BATCH {
                break;
            }
        }
        Ok(format!(
            "webhooks: {} attempts ({} delivered, {} to retry, {} failed), {} endpoints disabled; {} mails sent, {} failed",
            all.attempted,
            all.succeeded,
            all.retrying,
            all.failed,
            all.endpoints_disabled,
            all.mails_sent,
            all.mails_failed
        ))
    }
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
