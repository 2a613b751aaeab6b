//! Metering (SPEC §9): usage per number and per workspace per calendar month in the workspace's
//! zone, the shared free tier, monthly limits that are never exceeded, and the usage report.
//!
//! The numbers domain hands in a [`Meter`] — the number's state and limits at the moment of
//! admission — so this module owns counting and charging while the number rules stay with the
//! number. A switch flipped while a message is being admitted affects the next one.
//!
//! **How a limit holds under concurrency.** Each admission is one transaction whose *first*
//! statement writes the number's counter row (`usage_counters`, one per number and month):
//! - an SMS is an upsert that increments only while `sms_used < limit` — PostgreSQL re-evaluates
//!   the condition on the row it locked, SQLite has one writer at a time — and answers the new
//!   count, or nothing when the limit is reached;
//! - a call locks the row the same way, reads minutes used and reserved, grants
//!   `min(limit − used − reserved, max_call_minutes)` and adds it to `minutes_reserved`.
//!   Settling swaps the reservation for the minutes counted (the duration rounded up, never more
//!   than granted: the voice provider was told the maximum). A reservation never settled is
//!   released by billing-cron once its minutes and a grace period have passed; a settlement
//!   arriving after that still counts, up to the original grant.
//!
//! **Free tier.** The workspace's month counter (`workspace_usage`) is incremented in the same
//! transaction; the new total tells how much of this usage the free tier still covered, so free
//! units are handed out exactly once however many numbers share them.
//!
//! **Exactly once.** A usage record is keyed `sms:<message id>` / `call:<call id>`, and the ledger
//! entry of a billable part carries the same key. A repeat finds the key taken, rolls back its
//! increments and answers the first outcome (`duplicate: true`).

mod entity;
pub mod model;
mod store;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use switchboard_core::{Amount, Ctx, Currency, Money, NumberId, Period, Permission, Result};
use switchboard_tenancy::TenancyService;

use crate::ledger;
use crate::model::{EntryKind, NewEntry};
use entity::Model;
pub use model::{
    CallDecision, CallGrant, FreeTier, Meter, NumberUsage, Refusal, RentalLine, Settlement, SmsAdmission,
    SmsDecision, UsageLine, UsageReport, UsageSettings,
};

/// Counting, admission and the usage report of one deployment.
#[derive(Debug, Clone)]
pub struct UsageService {
    db: DatabaseConnection,
    tenancy: TenancyService,
    currency: Currency,
    settings: UsageSettings,
}

impl UsageService {
    pub fn new(
        db: DatabaseConnection,
        tenancy: TenancyService,
        currency: Currency,
        settings: UsageSettings,
    ) -> Self {
        Self { db, tenancy, currency, settings }
    }

    pub fn settings(&self) -> UsageSettings {
        self.settings
    }

    fn money(&self, units: i64) -> Money {
        Money::new(Amount::from_units(units), self.currency)
    }

    /// Admits one SMS (inbound or outbound) keyed by its provider id, counting it and charging it
    /// beyond the free tier — or refuses it, counting and charging nothing. A message admitted
    /// before is answered as admitted (`duplicate`) even if the number has since been switched
    /// off or reached its limit: reprocessing must find what was charged, not a refusal.
    pub async fn admit_sms(&self, meter: &Meter, message_id: &str, at: DateTime<Utc>) -> Result<SmsDecision> {
        let txn = self.db.begin().await?;
        let decision = self.admit_sms_in(&txn, meter, message_id, at).await?;
        txn.commit().await?;
        Ok(decision)
    }

    /// [`UsageService::admit_sms`] inside the caller's transaction, which commits it together
    /// with the caller's own writes (webhook-ingest settles a batch of messages in one). Its
    /// first write locks the number's counter; a caller admitting several messages in one
    /// transaction takes [`UsageService::lock_counters`] first so concurrent batches cannot
    /// deadlock.
    pub async fn admit_sms_in(
        &self,
        conn: &impl ConnectionTrait,
        meter: &Meter,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<SmsDecision> {
        let key = format!("sms:{message_id}");
        let refusal = if !meter.enabled {
            Some(Refusal::NumberDisabled)
        } else if !meter.sms_enabled {
            Some(Refusal::SmsDisabled)
        } else if meter.monthly_sms_limit.is_some_and(|l| l <= 0) {
            Some(Refusal::LimitReached)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return self.refuse_sms(conn, &key, refusal).await;
        }
        let period = Period::containing(at, meter.zone);
        let counted =
            store::count_sms(conn, &meter.workspace_id, &meter.number_id, period, meter.monthly_sms_limit)
                .await?;
        if counted.is_none() {
            return self.refuse_sms(conn, &key, Refusal::LimitReached).await;
        }
        let (_, workspace_sms) = store::count_workspace(conn, &meter.workspace_id, period, 0, 1).await?;
        let free = workspace_sms <= self.settings.free_sms;
        let charge = if free { 0 } else { meter.prices.per_sms.units() };
        let record = Model {
            state: entity::COUNTED.into(),
            quantity: 1,
            free_quantity: i64::from(free),
            charge,
            ..usage_record(meter, &key, entity::KIND_SMS, period)
        };
        if !store::insert_record(conn, record).await? {
            // Counted before: take back this attempt's increments (the caller's transaction
            // may go on with other messages, so no rollback).
            store::add_sms(conn, &meter.workspace_id, &meter.number_id, period, -1).await?;
            store::count_workspace(conn, &meter.workspace_id, period, 0, -1).await?;
            return self.existing_sms(conn, &key).await;
        }
        if charge > 0 {
            self.charge(conn, meter, EntryKind::Sms, &key, period, 1, charge, "SMS").await?;
        }
        Ok(SmsDecision::Admitted(SmsAdmission { period, free, charge: self.money(charge), duplicate: false }))
    }

    /// Locks the counters that admitting SMS on `meters` (each with the instant it happened) will
    /// write, in one order every caller shares: the numbers' month counters, then the
    /// workspaces' — both sorted. A transaction admitting many messages takes these first; one
    /// admitting a single message locks the same rows in the same order on its own.
    pub async fn lock_counters<'m>(
        &self,
        conn: &impl ConnectionTrait,
        meters: impl IntoIterator<Item = (&'m Meter, DateTime<Utc>)>,
    ) -> Result<()> {
        let mut numbers = std::collections::BTreeSet::new();
        let mut workspaces = std::collections::BTreeSet::new();
        for (meter, at) in meters {
            let period = Period::containing(at, meter.zone);
            numbers.insert((meter.number_id.clone(), period, meter.workspace_id.clone()));
            workspaces.insert((meter.workspace_id.clone(), period));
        }
        for (number, period, ws) in &numbers {
            store::lock_minutes(conn, ws, number, *period).await?;
        }
        for (ws, period) in &workspaces {
            store::count_workspace(conn, ws, *period, 0, 0).await?;
        }
        Ok(())
    }

    /// Takes back an SMS admitted under `message_id` that the provider then did not send (an
    /// outbound reply it refused, or that failed in transit): the counters go down by one and a
    /// charge is refunded by an `adjustment` entry keyed `refund:sms:<id>`. Once only; an SMS
    /// never admitted, or already released, changes nothing. Answers whether it released one.
    pub async fn release_sms(&self, meter: &Meter, message_id: &str) -> Result<bool> {
        let key = format!("sms:{message_id}");
        let txn = self.db.begin().await?;
        let Some((period, _free, charge)) = store::release_sms(&txn, &key).await? else {
            txn.rollback().await?;
            return Ok(false);
        };
        let period = parse_period(&period)?;
        store::add_sms(&txn, &meter.workspace_id, &meter.number_id, period, -1).await?;
        store::count_workspace(&txn, &meter.workspace_id, period, 0, -1).await?;
        store::finish_record(&txn, &key, 0, 0, 0).await?;
        if charge > 0 {
            ledger::record(
                &txn,
                self.currency,
                NewEntry {
                    workspace_id: meter.workspace_id.clone(),
                    kind: EntryKind::Adjustment,
                    number_id: Some(meter.number_id.clone()),
                    quantity: 1,
                    amount: Amount::from_units(charge),
                    period: Some(period),
                    idempotency_key: format!("refund:{key}"),
                    description: format!("Refund of an SMS the provider did not send ({period})"),
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// `refusal`, unless the message was admitted before.
    async fn refuse_sms(
        &self,
        conn: &impl ConnectionTrait,
        key: &str,
        refusal: Refusal,
    ) -> Result<SmsDecision> {
        match store::find_record(conn, key).await? {
            Some(_) => self.existing_sms(conn, key).await,
            None => Ok(SmsDecision::Refused(refusal)),
        }
    }

    async fn existing_sms(&self, conn: &impl ConnectionTrait, key: &str) -> Result<SmsDecision> {
        let r = store::find_record(conn, key).await?.ok_or_else(|| missing(key))?;
        Ok(SmsDecision::Admitted(SmsAdmission {
            period: parse_period(&r.period)?,
            free: r.free_quantity > 0,
            charge: self.money(r.charge),
            duplicate: true,
        }))
    }

    /// Reserves the minutes a call may use: `min(what the limit leaves, max_call_minutes)` — or
    /// refuses the call. A repeated reservation of the same call answers the first grant.
    pub async fn reserve_call(
        &self,
        meter: &Meter,
        call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<CallDecision> {
        if !meter.enabled {
            return Ok(CallDecision::Refused(Refusal::NumberDisabled));
        }
        if !meter.calls_enabled {
            return Ok(CallDecision::Refused(Refusal::CallsDisabled));
        }
        let key = format!("call:{call_id}");
        let period = Period::containing(at, meter.zone);
        let txn = self.db.begin().await?;
        let (used, reserved) =
            store::lock_minutes(&txn, &meter.workspace_id, &meter.number_id, period).await?;
        let cap = self.settings.max_call_minutes;
        let minutes = meter.monthly_minutes_limit.map_or(cap, |limit| (limit - used - reserved).min(cap));
        if minutes <= 0 {
            txn.rollback().await?;
            // A repeated request for a call already holding its reservation gets that one.
            return match store::find_record(&self.db, &key).await? {
                Some(r) => self.existing_grant(&r),
                None => Ok(CallDecision::Refused(Refusal::LimitReached)),
            };
        }
        let expires_at = at + Duration::minutes(minutes + self.settings.reservation_grace_minutes);
        let record = Model {
            state: entity::RESERVED.into(),
            reserved: minutes,
            expires_at: Some(expires_at),
            ..usage_record(meter, &key, entity::KIND_CALL, period)
        };
        if !store::insert_record(&txn, record).await? {
            txn.rollback().await?;
            let r = store::find_record(&self.db, &key).await?.ok_or_else(|| missing(&key))?;
            return self.existing_grant(&r);
        }
        store::add_minutes(&txn, &meter.workspace_id, &meter.number_id, period, 0, minutes).await?;
        txn.commit().await?;
        Ok(CallDecision::Admitted(CallGrant { period, minutes, expires_at, duplicate: false }))
    }

    fn existing_grant(&self, r: &Model) -> Result<CallDecision> {
        Ok(CallDecision::Admitted(CallGrant {
            period: parse_period(&r.period)?,
            minutes: r.reserved,
            expires_at: r.expires_at.unwrap_or(r.created_at),
            duplicate: true,
        }))
    }

    /// Settles a call that lasted `duration`: counts its minutes (rounded up, at most the
    /// reservation), releases the reservation, and charges what the free tier does not cover.
    /// Vapi's end-of-call report and Twilio's call status may both report a call; whichever
    /// comes second finds it settled and changes nothing. A call that was never reserved is
    /// counted as reported.
    pub async fn settle_call(
        &self,
        meter: &Meter,
        call_id: &str,
        duration: StdDuration,
        at: DateTime<Utc>,
    ) -> Result<Settlement> {
        let key = format!("call:{call_id}");
        let reported = i64::try_from(duration.as_secs().div_ceil(60)).unwrap_or(i64::MAX);
        let txn = self.db.begin().await?;
        let (period, minutes, released) = if let Some((period, granted)) =
            store::claim_for_settlement(&txn, &key, entity::RESERVED, at).await?
        {
            (parse_period(&period)?, reported.min(granted), granted)
        } else if let Some((period, granted)) =
            store::claim_for_settlement(&txn, &key, entity::EXPIRED, at).await?
        {
            (parse_period(&period)?, reported.min(granted), 0)
        } else {
            let period = Period::containing(at, meter.zone);
            let record = Model {
                state: entity::SETTLED.into(),
                settled_at: Some(at),
                ..usage_record(meter, &key, entity::KIND_CALL, period)
            };
            if !store::insert_record(&txn, record).await? {
                txn.rollback().await?;
                return self.existing_settlement(&key).await;
            }
            (period, reported, 0)
        };
        if reported > minutes {
            tracing::warn!(call_id, reported, counted = minutes, "call ran past its reservation");
        }
        store::add_minutes(&txn, &meter.workspace_id, &meter.number_id, period, minutes, -released).await?;
        let (workspace_minutes, _) =
            store::count_workspace(&txn, &meter.workspace_id, period, minutes, 0).await?;
        let free_left = (self.settings.free_minutes - (workspace_minutes - minutes)).max(0);
        let free_minutes = free_left.min(minutes);
        let billable = minutes - free_minutes;
        let charge = meter.prices.per_minute.units().saturating_mul(billable);
        store::finish_record(&txn, &key, minutes, free_minutes, charge).await?;
        if charge > 0 {
            self.charge(&txn, meter, EntryKind::VoiceMinutes, &key, period, billable, charge, "call minutes")
                .await?;
        }
        txn.commit().await?;
        Ok(Settlement { period, minutes, free_minutes, charge: self.money(charge), duplicate: false })
    }

    async fn existing_settlement(&self, key: &str) -> Result<Settlement> {
        let r = store::find_record(&self.db, key).await?.ok_or_else(|| missing(key))?;
        Ok(Settlement {
            period: parse_period(&r.period)?,
            minutes: r.quantity,
            free_minutes: r.free_quantity,
            charge: self.money(r.charge),
            duplicate: true,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn charge(
        &self,
        txn: &impl ConnectionTrait,
        meter: &Meter,
        kind: EntryKind,
        key: &str,
        period: Period,
        quantity: i64,
        charge: i64,
        what: &str,
    ) -> Result<()> {
        ledger::record(
            txn,
            self.currency,
            NewEntry {
                workspace_id: meter.workspace_id.clone(),
                kind,
                number_id: Some(meter.number_id.clone()),
                quantity,
                amount: Amount::from_units(-charge),
                period: Some(period),
                idempotency_key: key.to_owned(),
                description: format!("{quantity} {what} beyond the free tier ({period})"),
            },
        )
        .await?;
        Ok(())
    }

    /// Releases up to `limit` call reservations whose minutes and grace period have passed by
    /// `now` (billing-cron); answers how many were released.
    pub async fn expire_reservations(&self, now: DateTime<Utc>, limit: u64) -> Result<u64> {
        let txn = self.db.begin().await?;
        let expired = store::expire_reservations(&txn, now, limit).await?;
        for (ws, number, period, reserved) in &expired {
            store::add_minutes(&txn, ws, number, parse_period(period)?, 0, -*reserved).await?;
        }
        txn.commit().await?;
        if !expired.is_empty() {
            tracing::info!(count = expired.len(), "released expired call reservations");
        }
        Ok(expired.len() as u64)
    }

    /// Reservations a run at `now` would release.
    pub async fn expired_count(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(store::expired_count(&self.db, now).await?)
    }

    /// `GET /v1/billing/usage`: the workspace's month (default: the current one in its zone).
    pub async fn report(&self, ctx: &Ctx, period: Option<Period>) -> Result<UsageReport> {
        ctx.require(Permission::BillingRead)?;
        let ws = self.tenancy.workspace(ctx).await?;
        let period = period.unwrap_or_else(|| Period::containing(switchboard_core::time::now(), ws.timezone));
        let usage = store::usage_by_number(&self.db, &ws.id, period).await?;
        let rentals = ledger::rentals_by_number(&self.db, &ws.id, period).await?;
        let mut numbers: std::collections::BTreeMap<NumberId, Totals> = Default::default();
        for (number, kind, used, free, charge) in usage {
            let t = numbers.entry(number).or_default();
            let line = if kind == entity::KIND_SMS { &mut t.sms } else { &mut t.minutes };
            *line = [used, free, charge];
        }
        for (number, count, amount) in rentals {
            if let Some(number) = number {
                numbers.entry(number).or_default().rentals = [count, -amount];
            }
        }
        let mut all = Totals::default();
        let numbers = numbers
            .into_iter()
            .map(|(number_id, t)| {
                all.add(&t);
                NumberUsage {
                    number_id,
                    minutes: self.line(t.minutes),
                    sms: self.line(t.sms),
                    rentals: RentalLine { count: t.rentals[0], amount: self.money(t.rentals[1]) },
                }
            })
            .collect();
        Ok(UsageReport {
            period,
            timezone: ws.timezone,
            free_tier: FreeTier { minutes: self.settings.free_minutes, sms: self.settings.free_sms },
            minutes: self.line(all.minutes),
            sms: self.line(all.sms),
            rentals: RentalLine { count: all.rentals[0], amount: self.money(all.rentals[1]) },
            total: self.money(all.minutes[2] + all.sms[2] + all.rentals[1]),
            numbers,
        })
    }

    fn line(&self, [used, free, charge]: [i64; 3]) -> UsageLine {
        UsageLine { used, free, billable: used - free, amount: self.money(charge) }
    }
}

/// `[used, free, charge]` per kind and `[count, amount]` of rentals.
#[derive(Default)]
struct Totals {
    minutes: [i64; 3],
    sms: [i64; 3],
    rentals: [i64; 2],
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        for i in 0..3 {
            self.minutes[i] += other.minutes[i];
            self.sms[i] += other.sms[i];
        }
        for i in 0..2 {
            self.rentals[i] += other.rentals[i];
        }
    }
}

/// A usage record of `kind` before anything is counted, reserved or charged.
fn usage_record(meter: &Meter, key: &str, kind: &str, period: Period) -> Model {
    Model {
        key: key.to_owned(),
        workspace_id: meter.workspace_id.clone(),
        number_id: meter.number_id.clone(),
        kind: kind.to_owned(),
        period: period.to_string(),
        state: entity::RESERVED.into(),
        quantity: 0,
        reserved: 0,
        free_quantity: 0,
        charge: 0,
        created_at: switchboard_core::time::now(),
        expires_at: None,
        settled_at: None,
    }
}

fn parse_period(s: &str) -> Result<Period> {
    s.parse().map_err(|_| switchboard_core::Error::Internal(format!("stored period `{s}` is not YYYY-MM")))
}

fn missing(key: &str) -> switchboard_core::Error {
    switchboard_core::Error::Internal(format!("usage record {key} vanished after a conflict"))
}
