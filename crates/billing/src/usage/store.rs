//! The metering SQL. Every limit is enforced by the statement that counts: an upsert whose update
//! only happens while the counter is below the limit (PostgreSQL re-checks the condition on the
//! locked row; SQLite runs one writer at a time), so concurrent admissions cannot overshoot.
//! Built with sea-query so one statement serves both engines (`RETURNING` needs SQLite ≥ 3.35).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, InsertStatement, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryResult, QuerySelect,
    StatementBuilder,
};
use std::collections::HashMap;

use switchboard_core::{NumberId, Period, WorkspaceId};

use super::entity::{self, Column, Entity, Model};

const COUNTERS: &str = "usage_counters";
const WORKSPACE: &str = "workspace_usage";
/// Bind values one statement carries at most, well within both engines' limits (SQLite 32,766,
/// PostgreSQL 65,535).
const KEYS_PER_STATEMENT: usize = 4096;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn qualified(table: &str, name: &str) -> SimpleExpr {
    Expr::col((col(table), col(name))).into()
}

async fn one(
    conn: &impl ConnectionTrait,
    stmt: &impl StatementBuilder,
) -> Result<Option<QueryResult>, DbErr> {
    conn.query_one(conn.get_database_backend().build(stmt)).await
}

/// `INSERT INTO usage_counters … VALUES (number, period, ws, minutes_used, minutes_reserved,
/// sms_used), … ON CONFLICT (number_id, period) <on>`: counter rows created with the given values,
/// or updated by `on` where they exist. Rows are written in the order given: callers pass them
/// sorted, so concurrent writers take the row locks in one order.
fn upsert_counters<'r>(
    rows: impl IntoIterator<Item = (&'r WorkspaceId, &'r NumberId, Period, [i64; 3])>,
    on: OnConflict,
) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(col(COUNTERS)).columns(
        ["number_id", "period", "workspace_id", "minutes_used", "minutes_reserved", "sms_used"].map(col),
    );
    for (ws, number, period, [minutes_used, minutes_reserved, sms_used]) in rows {
        insert.values_panic([
            number.to_string().into(),
            period.to_string().into(),
            ws.to_string().into(),
            minutes_used.into(),
            minutes_reserved.into(),
            sms_used.into(),
        ]);
    }
    insert.on_conflict(on).to_owned()
}

/// `table.column + excluded.column`: an upsert that adds the row it was offered.
fn plus_offered(table: &str, name: &str) -> SimpleExpr {
    Expr::expr(qualified(table, name)).add(qualified("excluded", name))
}

fn on_counter() -> OnConflict {
    OnConflict::columns([col("number_id"), col("period")])
}

/// A number's counters of one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub minutes_used: i64,
    pub minutes_reserved: i64,
    pub sms_used: i64,
}

/// Locks the number's counter row for the rest of the transaction (creating it when missing)
/// and answers what it holds.
pub async fn lock_counter(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    number: &NumberId,
    period: Period,
) -> Result<Counter, DbErr> {
    lock_counters(conn, &[(ws, number, period)])
        .await?
        .remove(&(number.clone(), period.to_string()))
        .ok_or_else(|| DbErr::RecordNotFound("usage counter".into()))
}

/// Locks the counter rows of `numbers` (each a workspace, number and month; sorted, without
/// repeats) for the rest of the transaction, creating missing ones, in one statement; answers
/// each one's counts by `(number, period)`.
pub async fn lock_counters(
    conn: &impl ConnectionTrait,
    numbers: &[(&WorkspaceId, &NumberId, Period)],
) -> Result<HashMap<(NumberId, String), Counter>, DbErr> {
    if numbers.is_empty() {
        return Ok(HashMap::new());
    }
    // A no-op update: PostgreSQL's ON CONFLICT DO UPDATE takes the row locks; SQLite's writer
    // lock is already held by this first write.
    let mut on = on_counter();
    on.value(col("minutes_reserved"), qualified(COUNTERS, "minutes_reserved"));
    let stmt = upsert_counters(numbers.iter().map(|(ws, n, p)| (*ws, *n, *p, [0, 0, 0])), on)
        .returning(
            Query::returning()
                .columns(["number_id", "period", "minutes_used", "minutes_reserved", "sms_used"].map(col)),
        )
        .to_owned();
    let rows = conn.query_all(conn.get_database_backend().build(&stmt)).await?;
    rows.iter()
        .map(|row| {
            let key = (row.try_get("", "number_id")?, row.try_get("", "period")?);
            let counter = Counter {
                minutes_used: row.try_get("", "minutes_used")?,
                minutes_reserved: row.try_get("", "minutes_reserved")?,
                sms_used: row.try_get("", "sms_used")?,
            };
            Ok((key, counter))
        })
        .collect()
}

/// Adds `delta` to the number's SMS used (negative to take one back).
pub async fn add_sms(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    number: &NumberId,
    period: Period,
    delta: i64,
) -> Result<(), DbErr> {
    add_sms_many(conn, &[(ws, number, period, delta)]).await
}

/// Adds to the SMS used of each number (sorted, without repeats) in one statement.
pub async fn add_sms_many(
    conn: &impl ConnectionTrait,
    deltas: &[(&WorkspaceId, &NumberId, Period, i64)],
) -> Result<(), DbErr> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut on = on_counter();
    on.value(col("sms_used"), plus_offered(COUNTERS, "sms_used"));
    let stmt = upsert_counters(deltas.iter().map(|(ws, n, p, d)| (*ws, *n, *p, [0, 0, *d])), on);
    conn.execute(conn.get_database_backend().build(&stmt)).await.map(|_| ())
}

/// Marks a counted SMS released; its `(period, free, charge)` when it was counted.
pub async fn release_sms(
    conn: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<(String, i64, i64)>, DbErr> {
    let stmt = Query::update()
        .table(Entity)
        .value(Column::State, entity::RELEASED)
        .and_where(Column::Key.eq(key))
        .and_where(Column::State.eq(entity::COUNTED))
        .returning(Query::returning().columns([Column::Period, Column::FreeQuantity, Column::Charge]))
        .to_owned();
    match one(conn, &stmt).await? {
        Some(row) => Ok(Some((
            row.try_get("", "period")?,
            row.try_get("", "free_quantity")?,
            row.try_get("", "charge")?,
        ))),
        None => Ok(None),
    }
}

/// Adds `used` to the number's minutes used and `reserved` (negative to release) to its minutes
/// reserved.
pub async fn add_minutes(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    number: &NumberId,
    period: Period,
    used: i64,
    reserved: i64,
) -> Result<(), DbErr> {
    let mut on = on_counter();
    on.value(col("minutes_used"), Expr::expr(qualified(COUNTERS, "minutes_used")).add(used));
    on.value(col("minutes_reserved"), Expr::expr(qualified(COUNTERS, "minutes_reserved")).add(reserved));
    let stmt = upsert_counters([(ws, number, period, [used, reserved, 0])], on);
    conn.execute(conn.get_database_backend().build(&stmt)).await.map(|_| ())
}

/// Adds to the workspace's counters of the month; answers the new `(minutes, sms)` totals, from
/// which the caller tells how much of its own usage the free tier still covered.
pub async fn count_workspace(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    period: Period,
    minutes: i64,
    sms: i64,
) -> Result<(i64, i64), DbErr> {
    count_workspaces(conn, &[(ws, period, minutes, sms)])
        .await?
        .remove(&(ws.clone(), period.to_string()))
        .ok_or_else(|| DbErr::RecordNotFound("workspace usage".into()))
}

/// [`count_workspace`] for several workspace months (sorted, without repeats) in one statement;
/// the new totals by `(workspace, period)`. Adding nothing locks the rows.
pub async fn count_workspaces(
    conn: &impl ConnectionTrait,
    added: &[(&WorkspaceId, Period, i64, i64)],
) -> Result<HashMap<(WorkspaceId, String), (i64, i64)>, DbErr> {
    if added.is_empty() {
        return Ok(HashMap::new());
    }
    let mut on = OnConflict::columns([col("workspace_id"), col("period")]);
    on.value(col("minutes_used"), plus_offered(WORKSPACE, "minutes_used"));
    on.value(col("sms_used"), plus_offered(WORKSPACE, "sms_used"));
    let mut insert = Query::insert();
    insert
        .into_table(col(WORKSPACE))
        .columns(["workspace_id", "period", "minutes_used", "sms_used"].map(col));
    for (ws, period, minutes, sms) in added {
        insert.values_panic([
            ws.to_string().into(),
            period.to_string().into(),
            (*minutes).into(),
            (*sms).into(),
        ]);
    }
    let stmt = insert
        .on_conflict(on)
        .returning(
            Query::returning().columns(["workspace_id", "period", "minutes_used", "sms_used"].map(col)),
        )
        .to_owned();
    let rows = conn.query_all(conn.get_database_backend().build(&stmt)).await?;
    rows.iter()
        .map(|row| {
            let key = (row.try_get("", "workspace_id")?, row.try_get("", "period")?);
            Ok((key, (row.try_get("", "minutes_used")?, row.try_get("", "sms_used")?)))
        })
        .collect()
}

/// Inserts a usage record unless its key exists; whether this call inserted it.
pub async fn insert_record(conn: &impl ConnectionTrait, record: Model) -> Result<bool, DbErr> {
    let inserted = Entity::insert(record.into_active_model())
        .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn find_record(conn: &impl ConnectionTrait, key: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(key.to_owned()).one(conn).await
}

/// The records among `keys` (any number of them: they are read in chunks of bind values).
pub async fn find_records(conn: &impl ConnectionTrait, keys: &[String]) -> Result<Vec<Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        found.extend(Entity::find().filter(Column::Key.is_in(chunk.iter().cloned())).all(conn).await?);
    }
    Ok(found)
}

/// Inserts records in one statement per chunk, skipping keys that exist, in key order (two
/// writers inserting overlapping keys then wait in the same order instead of deadlocking on
/// PostgreSQL's unique index); answers how many it inserted.
pub async fn insert_records(conn: &impl ConnectionTrait, mut records: Vec<Model>) -> Result<u64, DbErr> {
    records.sort_by(|a, b| a.key.cmp(&b.key));
    let mut inserted = 0;
    for chunk in records.chunks(KEYS_PER_STATEMENT / 16) {
        inserted += Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(inserted)
}

/// Moves a call record from `from` to `settled`; its `(period, reserved)` when it was in `from`.
pub async fn claim_for_settlement(
    conn: &impl ConnectionTrait,
    key: &str,
    from: &str,
    at: DateTime<Utc>,
) -> Result<Option<(String, i64)>, DbErr> {
    let stmt = Query::update()
        .table(Entity)
        .value(Column::State, entity::SETTLED)
        .value(Column::SettledAt, at)
        .and_where(Column::Key.eq(key))
        .and_where(Column::State.eq(from))
        .returning(Query::returning().columns([Column::Period, Column::Reserved]))
        .to_owned();
    match one(conn, &stmt).await? {
        Some(row) => Ok(Some((row.try_get("", "period")?, row.try_get("", "reserved")?))),
        None => Ok(None),
    }
}

/// Writes what a settled call counted and cost.
pub async fn finish_record(
    conn: &impl ConnectionTrait,
    key: &str,
    quantity: i64,
    free: i64,
    charge: i64,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Quantity, Expr::value(quantity))
        .col_expr(Column::FreeQuantity, Expr::value(free))
        .col_expr(Column::Charge, Expr::value(charge))
        .filter(Column::Key.eq(key))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Marks up to `limit` reservations that expired by `now` as expired; answers each one's
/// `(workspace, number, period, reserved minutes)` so the caller releases them from the counters.
pub async fn expire_reservations(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(WorkspaceId, NumberId, String, i64)>, DbErr> {
    let due = Query::select()
        .column(Column::Key)
        .from(Entity)
        .and_where(Column::State.eq(entity::RESERVED))
        .and_where(Column::ExpiresAt.lte(now))
        .limit(limit)
        .to_owned();
    let stmt = Query::update()
        .table(Entity)
        .value(Column::State, entity::EXPIRED)
        .and_where(Column::Key.in_subquery(due))
        .and_where(Column::State.eq(entity::RESERVED))
        .returning(Query::returning().columns([
            Column::WorkspaceId,
            Column::NumberId,
            Column::Period,
            Column::Reserved,
        ]))
        .to_owned();
    let rows = conn.query_all(conn.get_database_backend().build(&stmt)).await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("", "workspace_id")?,
                r.try_get("", "number_id")?,
                r.try_get("", "period")?,
                r.try_get("", "reserved")?,
            ))
        })
        .collect()
}

/// Per number and kind: `(number, kind, used, free, charge)` of the workspace's period.
pub async fn usage_by_number(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    period: Period,
) -> Result<Vec<(NumberId, String, i64, i64, i64)>, DbErr> {
    let sum = |c: &str| Expr::cust(format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)"));
    Entity::find()
        .select_only()
        .column(Column::NumberId)
        .column(Column::Kind)
        .column_as(sum("quantity"), "used")
        .column_as(sum("free_quantity"), "free")
        .column_as(sum("charge"), "charge")
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Period.eq(period.to_string()))
        .group_by(Column::NumberId)
        .group_by(Column::Kind)
        .into_tuple()
        .all(conn)
        .await
}

/// Reservations that expired by `now` and are not yet released.
pub async fn expired_count(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::State.eq(entity::RESERVED))
        .filter(Column::ExpiresAt.lte(now))
        .count(conn)
        .await
}
