//! Monthly rentals after the first (SPEC §9), run by billing-cron.
//!
//! A held number carries `next_rental_at`: the first instant (in the workspace's zone) of the day
//! its next month is due — the purchase day, clamped to the month's last day and back to the
//! purchase day when a month has it (31 Jan → 28 Feb → 31 Mar). A run charges every number whose
//! `next_rental_at` has passed and moves it one month on; when a number is still due after that
//! (periods missed while nothing ran), it passes over the table again, until none is due.
//! Released numbers have no `next_rental_at`.
//!
//! **Set-based.** Each batch is three statements whatever its size: select the next due numbers by
//! id, insert their ledger entries in one `INSERT … ON CONFLICT DO NOTHING`, and move their dates
//! in one `UPDATE … FROM (VALUES …)` — the last two in one transaction.
//!
//! **Exactly once.** The entry of a number's period is keyed `rental:<number>:<period>` under a
//! unique index: concurrent runs, repeated runs and a run killed halfway (a batch commits whole or
//! not at all) can only write it once. A racing run may set a date another run already set, to the
//! same value; the update skips numbers released meanwhile.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use switchboard_billing::{EntryKind, NewEntry, ledger};
use switchboard_core::db::placeholder;
use switchboard_core::period::start_of_local_day;
use switchboard_core::{Amount, Currency, NumberId, Period, WorkspaceId, Zone};

use crate::entity::{Column, Entity};

/// A batch's size: the ledger insert binds 11 values per number, within both engines' limits.
pub const DEFAULT_BATCH: u64 = 2000;

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RentalSummary {
    /// Numbers with at least one period due.
    pub numbers: u64,
    /// Periods charged now (dry run: due).
    pub charged: u64,
    /// Periods found already charged (another run got there first).
    pub already_charged: u64,
    /// The sum charged (positive).
    pub amount: Amount,
}

/// Progress of a run, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RentalProgress {
    /// Numbers due when the run began.
    pub due: u64,
    /// Periods handled so far (charged or found charged).
    pub periods: u64,
}

type DueRow = (NumberId, WorkspaceId, String, i64, i32, Option<DateTime<Utc>>);

fn held_and_due(now: DateTime<Utc>) -> sea_orm::Select<Entity> {
    Entity::find().filter(Column::HeldNumber.is_not_null()).filter(Column::NextRentalAt.lte(now))
}

async fn due_batch(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<Entity>,
    batch: u64,
) -> Result<Vec<DueRow>, DbErr> {
    q.select_only()
        .columns([
            Column::Id,
            Column::WorkspaceId,
            Column::PhoneNumber,
            Column::MonthlyPrice,
            Column::RentalAnchorDay,
            Column::NextRentalAt,
        ])
        .limit(batch)
        .into_tuple()
        .all(db)
        .await
}

/// Due numbers after `after`, by id: pages walk the table in its own order, so a batch reads and
/// writes neighbouring pages (rows, ledger keys) instead of pages scattered by due date — on a
/// million numbers SQLite spends its time on I/O otherwise.
fn due_after(now: DateTime<Utc>, after: Option<&NumberId>) -> sea_orm::Select<Entity> {
    let q = held_and_due(now).order_by_asc(Column::Id);
    match after {
        Some(id) => q.filter(Column::Id.gt(id.clone())),
        None => q,
    }
}

/// The workspaces' zones, loaded once per run.
#[derive(Default)]
struct Zones(HashMap<WorkspaceId, Zone>);

impl Zones {
    async fn load(&mut self, db: &impl ConnectionTrait, rows: &[DueRow]) -> Result<(), DbErr> {
        let missing: Vec<WorkspaceId> =
            rows.iter().map(|r| r.1.clone()).filter(|w| !self.0.contains_key(w)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        use switchboard_tenancy::entity::workspace;
        let found: Vec<(WorkspaceId, String)> = workspace::Entity::find()
            .select_only()
            .columns([workspace::Column::Id, workspace::Column::Timezone])
            .filter(workspace::Column::Id.is_in(missing))
            .into_tuple()
            .all(db)
            .await?;
        for (id, tz) in found {
            self.0.insert(id, Zone::parse(&tz).unwrap_or(Zone::UTC));
        }
        Ok(())
    }

    fn get(&self, ws: &WorkspaceId) -> Zone {
        self.0.get(ws).copied().unwrap_or(Zone::UTC)
    }
}

/// The period a number's `next_rental_at` falls in, and the date after it.
fn step(next: DateTime<Utc>, anchor_day: i32, zone: Zone) -> (Period, DateTime<Utc>) {
    let period = Period::containing(next, zone);
    let anchor = u32::try_from(anchor_day).unwrap_or(1);
    (period, start_of_local_day(period.next().clamped_date(anchor), zone))
}

/// Numbers due at `now`.
pub async fn due_count(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    held_and_due(now).count(db).await
}

/// What a run at `now` would charge, writing nothing.
pub async fn preview(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<RentalSummary, DbErr> {
    let mut zones = Zones::default();
    let mut summary = RentalSummary::default();
    let mut after: Option<NumberId> = None;
    loop {
        let rows = due_batch(db, due_after(now, after.as_ref()), batch).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.0.clone());
        zones.load(db, &rows).await?;
        for (_, ws, _, price, anchor, next) in &rows {
            summary.numbers += 1;
            let mut next = next.unwrap_or(now);
            while next <= now {
                summary.charged += 1;
                summary.amount =
                    summary.amount.checked_add(Amount::from_units(*price)).unwrap_or(summary.amount);
                next = step(next, *anchor, zones.get(ws)).1;
            }
        }
    }
    Ok(summary)
}

/// Charges every rental due at `now`, in batches of `batch` numbers, calling `progress` after
/// each committed batch.
pub async fn renew(
    db: &DatabaseConnection,
    currency: Currency,
    now: DateTime<Utc>,
    batch: u64,
    mut progress: impl FnMut(RentalProgress),
) -> Result<RentalSummary, DbErr> {
    let due = due_count(db, now).await?;
    let mut zones = Zones::default();
    let mut summary = RentalSummary { numbers: due, ..RentalSummary::default() };
    let mut periods = 0;
    let mut after: Option<NumberId> = None;
    // Whether a number handled in this pass is due again (periods missed): then pass again.
    let mut again = false;
    loop {
        // Read outside the transaction: on SQLite a transaction that reads first and writes later
        // can fail to upgrade when another writer committed in between.
        let rows = due_batch(db, due_after(now, after.as_ref()), batch).await?;
        let Some(last) = rows.last() else {
            if std::mem::take(&mut again) {
                after = None;
                continue;
            }
            break;
        };
        after = Some(last.0.clone());
        zones.load(db, &rows).await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut moves = Vec::with_capacity(rows.len());
        for (id, ws, phone, price, anchor, next) in rows {
            let Some(next) = next else { continue };
            let (period, following) = step(next, anchor, zones.get(&ws));
            entries.push(NewEntry {
                workspace_id: ws,
                kind: EntryKind::Rental,
                number_id: Some(id.clone()),
                quantity: 1,
                amount: Amount::from_units(-price),
                period: Some(period),
                idempotency_key: format!("rental:{id}:{period}"),
                description: format!("Monthly rental of {phone} for {period}"),
            });
            again |= following <= now;
            moves.push((id, following));
        }
        let handled = entries.len() as u64;
        let txn = db.begin().await?;
        let (charged, signed) = ledger::record_many(&txn, currency, entries).await?;
        move_dates(&txn, &moves).await?;
        txn.commit().await?;
        summary.charged += charged;
        summary.already_charged += handled - charged;
        summary.amount = Amount::from_units(summary.amount.units() - signed.units());
        periods += handled;
        progress(RentalProgress { due, periods });
    }
    Ok(summary)
}

/// Sets each number's `next_rental_at` in one statement, skipping numbers released meanwhile.
async fn move_dates(db: &impl ConnectionTrait, moves: &[(NumberId, DateTime<Utc>)]) -> Result<(), DbErr> {
    if moves.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let mut sql = String::from("WITH v(id, next_at) AS (VALUES ");
    let mut values: Vec<Value> = Vec::with_capacity(moves.len() * 2);
    for (i, (id, at)) in moves.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let (id_slot, at_slot) = (placeholder(backend, 2 * i + 1), placeholder(backend, 2 * i + 2));
        match backend {
            DatabaseBackend::Postgres => {
                sql.push_str(&format!("({id_slot}, CAST({at_slot} AS TIMESTAMPTZ))"))
            }
            _ => sql.push_str(&format!("({id_slot}, {at_slot})")),
        }
        values.push(id.to_string().into());
        values.push((*at).into());
    }
    sql.push_str(
        ") UPDATE numbers SET next_rental_at = v.next_at FROM v \
         WHERE numbers.id = v.id AND numbers.held_number IS NOT NULL",
    );
    db.execute(Statement::from_sql_and_values(backend, sql, values)).await.map(|_| ())
}
