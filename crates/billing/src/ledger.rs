//! Recording to and reading from the ledger, on any connection — so another crate's transaction
//! (a number's record and its first rental, say) can include the entry and commit both or neither.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use switchboard_core::{Amount, Currency, LedgerEntryId, NumberId, PageRequest, Period, WorkspaceId};

use crate::entity::{Column, Entity, Model};
use crate::model::{EntryKind, NewEntry, Recorded};

fn row(currency: Currency, entry: NewEntry, created_at: chrono::DateTime<chrono::Utc>) -> Model {
    Model {
        id: LedgerEntryId::new(),
        workspace_id: entry.workspace_id,
        kind: entry.kind,
        number_id: entry.number_id,
        quantity: entry.quantity,
        amount: entry.amount.units(),
        currency: currency.to_string(),
        period: entry.period.map(|p| p.to_string()),
        idempotency_key: entry.idempotency_key,
        description: entry.description,
        created_at,
    }
}

/// Records `entry` unless an entry with its idempotency key exists. Never fails on a repeat —
/// `ON CONFLICT DO NOTHING` rather than a caught unique violation, which would abort an
/// enclosing PostgreSQL transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    currency: Currency,
    entry: NewEntry,
) -> Result<Recorded, DbErr> {
    let model = row(currency, entry, switchboard_core::time::now());
    let inserted = Entity::insert(model.clone().into_active_model())
        .on_conflict(OnConflict::column(Column::IdempotencyKey).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    if inserted == 1 {
        return Ok(Recorded::New(model.into()));
    }
    let existing = Entity::find()
        .filter(Column::IdempotencyKey.eq(model.idempotency_key.as_str()))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("ledger entry {}", model.idempotency_key)))?;
    Ok(Recorded::Existing(existing.into()))
}

/// The entry with `key` in workspace `ws`, if recorded.
pub async fn find_by_key(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    key: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::IdempotencyKey.eq(key))
        .one(conn)
        .await
}

/// The wallet balance: the sum of every entry of the workspace.
pub async fn balance(conn: &impl ConnectionTrait, ws: &WorkspaceId) -> Result<Amount, DbErr> {
    let total: Option<i64> = Entity::find()
        .select_only()
        // PostgreSQL's SUM(bigint) is numeric; cast so both engines answer a 64-bit integer.
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "total")
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(Amount::from_units(total.unwrap_or(0)))
}

/// A page of the workspace's entries, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    page: &PageRequest,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find().filter(Column::WorkspaceId.eq(ws.clone()));
    if let Some(after) = &page.after {
        q = q.filter(Column::Id.gt(after.as_str()));
    }
    q.order_by_asc(Column::Id).limit(page.fetch_limit()).all(conn).await
}

/// Records many entries in one statement, skipping those whose key exists; answers the count and
/// signed sum of the entries this call wrote (not those another writer got to first). For
/// set-based jobs (billing-cron's rentals); keep batches within the engines' bind limits
/// (11 values per entry: a few thousand entries at most).
pub async fn record_many(
    conn: &impl ConnectionTrait,
    currency: Currency,
    entries: Vec<NewEntry>,
) -> Result<(u64, Amount), DbErr> {
    if entries.is_empty() {
        return Ok((0, Amount::ZERO));
    }
    let now = switchboard_core::time::now();
    let models = entries.into_iter().map(|entry| row(currency, entry, now).into_active_model());
    let stmt = Entity::insert_many(models)
        .on_conflict(OnConflict::column(Column::IdempotencyKey).do_nothing().to_owned())
        .into_query()
        .returning_col(Column::Amount)
        .to_owned();
    let rows = conn.query_all(conn.get_database_backend().build(&stmt)).await?;
    let mut total = 0i64;
    for row in &rows {
        total = total.saturating_add(row.try_get::<i64>("", "amount")?);
    }
    Ok((rows.len() as u64, Amount::from_units(total)))
}

/// Rentals of a workspace's period per number: `(number, count, signed amount)`.
pub async fn rentals_by_number(
    conn: &impl ConnectionTrait,
    ws: &WorkspaceId,
    period: Period,
) -> Result<Vec<(Option<NumberId>, i64, i64)>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::NumberId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "total")
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Kind.eq(EntryKind::Rental))
        .filter(Column::Period.eq(period.to_string()))
        .group_by(Column::NumberId)
        .into_tuple()
        .all(conn)
        .await
}

/// Workspaces whose balance is below zero, with the balance and the id of their latest credit
/// (which tells one stretch below zero from the next).
pub async fn negative_balances(
    conn: &impl ConnectionTrait,
) -> Result<Vec<(WorkspaceId, Amount, Option<LedgerEntryId>)>, DbErr> {
    let rows: Vec<(WorkspaceId, i64, Option<LedgerEntryId>)> = Entity::find()
        .select_only()
        .column(Column::WorkspaceId)
        .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "total")
        .column_as(Expr::cust("MAX(CASE WHEN kind = 'credit' THEN id END)"), "last_credit")
        .group_by(Column::WorkspaceId)
        .having(Expr::cust("SUM(amount) < 0"))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(ws, total, credit)| (ws, Amount::from_units(total), credit)).collect())
}
