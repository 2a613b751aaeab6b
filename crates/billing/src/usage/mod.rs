//! Metering (SPEC §9): usage per number and per workspace per calendar month in the workspace's
//! zone, the shared free tier, monthly limits that are never exceeded, and the usage report.
//!
//! The numbers domain hands in a [`Meter`] — the number's state and limits at the moment of
//! admission — so this module owns counting and charging while the number rules stay with the
//! number. A switch flipped while a message is being admitted affects the next one.
//!
//! **How a limit holds under concurrency.** An admission is one transaction whose *first*
//! statements lock the counter rows it may write (`usage_counters`, one per number and month):
//! an upsert that changes nothing but takes the row lock on PostgreSQL (SQLite has one writer at
//! a time) and answers what the row holds.
//! - SMS ([`UsageService::admit_sms_many`], one message or a batch): with the counts locked, each
//!   message is counted while `sms_used` is below the limit and refused after; the counters then
//!   go up by what was counted. Locks are taken in one order (numbers, then workspaces, sorted),
//!   so concurrent batches wait for each other instead of deadlocking.
//! - a call reads minutes used and reserved, grants
//!   `min(limit − used − reserved, max_call_minutes)` and adds it to `minutes_reserved`.
//!   Settling swaps the reservation for the minutes counted (the duration rounded up, never more
//!   than granted: the voice provider was told the maximum). A reservation never settled is
//!   released by billing-cron once its minutes and a grace period have passed; a settlement
//!   arriving after that still counts, up to the original grant.
//!
//! **Free tier.** The workspace's month counter (`workspace_usage`) is locked and incremented in
//! the same transaction; the running total tells how much of this usage the free tier still
//! covered, so free units are handed out exactly once however many numbers share them.
//!
//! **Exactly once.** A usage record is keyed `sms:<message id>` / `call:<call id>`, and the ledger
//! entry of a billable part carries the same key. A repeat finds the key taken (an SMS before
//! counting, read under the counter locks; a call when its record is inserted, rolling back) and
//! answers the first outcome (`duplicate: true`).

mod entity;
pub mod model;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use switchboard_core::{Amount, Ctx, Currency, Money, NumberId, Period, Permission, Result, WorkspaceId};
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
        let mut decisions = self.admit_sms_many(&txn, &[SmsRequest { meter, message_id, at }]).await?;
        txn.commit().await?;
        decisions.pop().ok_or_else(|| switchboard_core::Error::Internal("no admission decision".into()))
    }

    /// [`UsageService::admit_sms`] for many messages inside the caller's transaction, which
    /// commits them together with its own writes (webhook-ingest settles a batch of inbound
    /// messages in one); a decision per request, in order, in seven statements whatever the
    /// number of messages:
    ///
    /// 1. lock the month counters, the numbers' then the workspaces' (one statement each), each
    ///    sorted — the order every writer shares, so concurrent admissions cannot deadlock — and
    ///    read them;
    /// 2. read which messages were admitted before (one `SELECT`);
    /// 3. decide each message in order against the locked counts: refused, or counted, free while
    ///    the workspace's month total is within the free tier, charged beyond it;
    /// 4. add what was counted to the counters, insert the records and the ledger entries (one
    ///    statement each).
    ///
    /// Call it before the transaction writes anything else, so the counters are its first locks.
    pub async fn admit_sms_many(
        &self,
        conn: &impl ConnectionTrait,
        requests: &[SmsRequest<'_>],
    ) -> Result<Vec<SmsDecision>> {
        let keys: Vec<String> = requests.iter().map(|r| format!("sms:{}", r.message_id)).collect();
        let periods: Vec<Period> = requests.iter().map(|r| Period::containing(r.at, r.meter.zone)).collect();

        // 1. The counters the counted messages may write, locked in the shared order.
        let mut numbers: BTreeMap<(NumberId, Period), Tally> = BTreeMap::new();
        let mut workspaces: BTreeMap<(WorkspaceId, Period), Tally> = BTreeMap::new();
        for (r, period) in requests.iter().zip(&periods) {
            if sms_refusal(r.meter).is_none() {
                let number = Tally { workspace_id: r.meter.workspace_id.clone(), used: 0, added: 0 };
                numbers.entry((r.meter.number_id.clone(), *period)).or_insert(number);
                let workspace = Tally { workspace_id: r.meter.workspace_id.clone(), used: 0, added: 0 };
                workspaces.entry((r.meter.workspace_id.clone(), *period)).or_insert(workspace);
            }
        }
        let keys_of_numbers: Vec<_> = numbers.iter().map(|((n, p), t)| (&t.workspace_id, n, *p)).collect();
        let mut locked = store::lock_counters(conn, &keys_of_numbers).await?;
        let keys_of_workspaces: Vec<_> = workspaces.keys().map(|(ws, p)| (ws, *p, 0, 0)).collect();
        let mut totals = store::count_workspaces(conn, &keys_of_workspaces).await?;
        for ((number, period), tally) in &mut numbers {
            tally.used = locked.remove(&(number.clone(), period.to_string())).ok_or_else(unlocked)?.sms_used;
        }
        for ((ws, period), tally) in &mut workspaces {
            tally.used = totals.remove(&(ws.clone(), period.to_string())).ok_or_else(unlocked)?.1;
        }

        // 2. What was admitted before wins over any refusal.
        let before: HashMap<String, Model> =
            store::find_records(conn, &keys).await?.into_iter().map(|r| (r.key.clone(), r)).collect();

        // 3. Each message in order.
        let mut decisions: Vec<SmsDecision> = Vec::with_capacity(requests.len());
        let mut decided: HashMap<&str, usize> = HashMap::new();
        let (mut records, mut entries) = (Vec::new(), Vec::new());
        for ((r, key), period) in requests.iter().zip(&keys).zip(&periods) {
            let decision = if let Some(&earlier) = decided.get(key.as_str()) {
                match &decisions[earlier] {
                    SmsDecision::Admitted(a) => {
                        SmsDecision::Admitted(SmsAdmission { duplicate: true, ..a.clone() })
                    }
                    refused => refused.clone(),
                }
            } else if let Some(record) = before.get(key) {
                self.admitted_before(record)?
            } else if let Some(refusal) = sms_refusal(r.meter) {
                SmsDecision::Refused(refusal)
            } else {
                let number = numbers.get_mut(&(r.meter.number_id.clone(), *period)).ok_or_else(unlocked)?;
                if r.meter.monthly_sms_limit.is_some_and(|limit| number.total() >= limit) {
                    SmsDecision::Refused(Refusal::LimitReached)
                } else {
                    number.added += 1;
                    let workspace =
                        workspaces.get_mut(&(r.meter.workspace_id.clone(), *period)).ok_or_else(unlocked)?;
                    workspace.added += 1;
                    let free = workspace.total() <= self.settings.free_sms;
                    let charge = if free { 0 } else { r.meter.prices.per_sms.units() };
                    records.push(Model {
                        state: entity::COUNTED.into(),
                        quantity: 1,
                        free_quantity: i64::from(free),
                        charge,
                        ..usage_record(r.meter, key, entity::KIND_SMS, *period)
                    });
                    if charge > 0 {
                        entries.push(self.entry(r.meter, EntryKind::Sms, key, *period, 1, charge, "SMS"));
                    }
                    SmsDecision::Admitted(SmsAdmission {
                        period: *period,
                        free,
                        charge: self.money(charge),
                        duplicate: false,
                    })
                }
            };
            decided.insert(key, decisions.len());
            decisions.push(decision);
        }

        // 4. The writes. The counters are locked and the records were read under the locks, so
        // nobody can have counted these messages meanwhile; if a key turns up anyway the
        // caller's transaction fails rather than count a message twice.
        let counted_on_numbers: Vec<_> = numbers
            .iter()
            .filter(|(_, t)| t.added > 0)
            .map(|((n, p), t)| (&t.workspace_id, n, *p, t.added))
            .collect();
        store::add_sms_many(conn, &counted_on_numbers).await?;
        let counted_on_workspaces: Vec<_> =
            workspaces.iter().filter(|(_, t)| t.added > 0).map(|((ws, p), t)| (ws, *p, 0, t.added)).collect();
        store::count_workspaces(conn, &counted_on_workspaces).await?;
        let (counted, charged) = (records.len() as u64, entries.len() as u64);
        if store::insert_records(conn, records).await? != counted
            || ledger::record_many(conn, self.currency, entries).await?.0 != charged
        {
            return Err(switchboard_core::Error::Internal(
                "an SMS was counted by another writer while its counter was locked".into(),
            ));
        }
        Ok(decisions)
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

    /// The decision of an SMS admitted before, from its record.
    fn admitted_before(&self, r: &Model) -> Result<SmsDecision> {
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
        let store::Counter { minutes_used: used, minutes_reserved: reserved, .. } =
            store::lock_counter(&txn, &meter.workspace_id, &meter.number_id, period).await?;
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
            let entry =
                self.entry(meter, EntryKind::VoiceMinutes, &key, period, billable, charge, "call minutes");
            ledger::record(&txn, self.currency, entry).await?;
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

    /// The ledger entry charging `charge` for `quantity` units beyond the free tier.
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        meter: &Meter,
        kind: EntryKind,
        key: &str,
        period: Period,
        quantity: i64,
        charge: i64,
        what: &str,
    ) -> NewEntry {
        NewEntry {
            workspace_id: meter.workspace_id.clone(),
            kind,
            number_id: Some(meter.number_id.clone()),
            quantity,
            amount: Amount::from_units(-charge),
            period: Some(period),
            idempotency_key: key.to_owned(),
            description: format!("{quantity} {what} beyond the free tier ({period})"),
        }
    }

    /// Releases up to `limit` call reservations whose minutes and grace period have passed by
    /// `now` (billing-cron); answers how many were released.
    pub async fn expire_reservations(&self, now: DateTime<Utc>, limit: u64) -> Result<u64> {
        let txn = self.db.begin().await?;
        let mut expired = store::expire_reservations(&txn, now, limit).await?;
        // Counters in the order admissions lock them (number, then period), so this
        // transaction and a batch of SMS wait for each other instead of deadlocking.
        expired.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
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

/// One SMS to admit ([`UsageService::admit_sms_many`]).
#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    /// The number it was sent to or from, as it is now.
    pub meter: &'a Meter,
    /// The provider's message id: the SMS is counted once per id (`sms:<id>`).
    pub message_id: &'a str,
    /// When it was sent or received: the month it counts in.
    pub at: DateTime<Utc>,
}

/// Why an SMS on `meter` is refused whatever the counters say.
fn sms_refusal(meter: &Meter) -> Option<Refusal> {
    if !meter.enabled {
        Some(Refusal::NumberDisabled)
    } else if !meter.sms_enabled {
        Some(Refusal::SmsDisabled)
    } else if meter.monthly_sms_limit.is_some_and(|l| l <= 0) {
        Some(Refusal::LimitReached)
    } else {
        None
    }
}

/// A locked month counter: what it held and what this admission adds.
struct Tally {
    workspace_id: WorkspaceId,
    used: i64,
    added: i64,
}

impl Tally {
    fn total(&self) -> i64 {
        self.used + self.added
    }
}

fn unlocked() -> switchboard_core::Error {
    switchboard_core::Error::Internal("an SMS counter was not locked before counting".into())
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
