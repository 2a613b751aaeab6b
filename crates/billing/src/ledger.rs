//! Recording to and reading from the ledger, on any connection — so another crate's transaction
//! (a number's record and its first rental, say) can include the entry and commit both or neither.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use switchboard_core::{Amount, Currency, LedgerEntryId, PageRequest, WorkspaceId};

use crate::entity::{Column, Entity, Model};
use crate::model::{NewEntry, Recorded};

/// Records `entry` unless an entry with its idempotency key exists. Never fails on a repeat —
/// `ON CONFLICT DO NOTHING` rather than a caught unique violation, which would abort an
/// enclosing PostgreSQL transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    currency: Currency,
    entry: NewEntry,
) -> Result<Recorded, DbErr> {
    let model = Model {
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
        created_at: switchboard_core::time::now(),
    };
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
