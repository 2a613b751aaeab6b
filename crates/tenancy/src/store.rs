//! Queries. Every function on `api_keys` takes the workspace it is scoped to, except
//! [`find_active_key_by_hash`] (the credential names the workspace).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use switchboard_core::{ApiKeyId, PageRequest, Role, WorkspaceId};

use crate::entity::{api_key, system_flag, workspace};

pub async fn insert_workspace(db: &impl ConnectionTrait, m: workspace::Model) -> Result<(), DbErr> {
    workspace::ActiveModel::from(m).insert(db).await.map(drop)
}

pub async fn find_workspace(
    db: &impl ConnectionTrait,
    id: &WorkspaceId,
) -> Result<Option<workspace::Model>, DbErr> {
    workspace::Entity::find_by_id(id.clone()).one(db).await
}

/// The workspaces among `ids`.
pub async fn find_workspaces(
    db: &impl ConnectionTrait,
    ids: &[WorkspaceId],
) -> Result<Vec<workspace::Model>, DbErr> {
    workspace::Entity::find().filter(workspace::Column::Id.is_in(ids.iter().cloned())).all(db).await
}

/// Takes the workspace's row lock (PostgreSQL) or the write lock (SQLite) for the rest of the
/// transaction, so checks that span several rows of one workspace cannot interleave.
pub async fn lock_workspace(
    db: &impl ConnectionTrait,
    id: &WorkspaceId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = workspace::Entity::update_many()
        .col_expr(workspace::Column::UpdatedAt, Expr::value(now))
        .filter(workspace::Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_key(db: &impl ConnectionTrait, m: api_key::Model) -> Result<(), DbErr> {
    api_key::ActiveModel::from(m).insert(db).await.map(drop)
}

pub async fn find_active_key_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await
}

pub async fn find_key(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ApiKeyId,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find_by_id(id.clone()).filter(api_key::Column::WorkspaceId.eq(ws.clone())).one(db).await
}

pub async fn list_keys(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    page: &PageRequest,
) -> Result<Vec<api_key::Model>, DbErr> {
    let mut q = api_key::Entity::find().filter(api_key::Column::WorkspaceId.eq(ws.clone()));
    if let Some(after) = &page.after {
        q = q.filter(api_key::Column::Id.gt(after.as_str()));
    }
    q.order_by_asc(api_key::Column::Id).limit(page.fetch_limit()).all(db).await
}

pub async fn count_active_owner_keys(db: &impl ConnectionTrait, ws: &WorkspaceId) -> Result<u64, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::WorkspaceId.eq(ws.clone()))
        .filter(api_key::Column::Role.eq(Role::Owner))
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await
}

pub async fn revoke_key(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &ApiKeyId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::Column::WorkspaceId.eq(ws.clone()))
        .filter(api_key::Column::Id.eq(id.clone()))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(drop)
}

pub async fn touch_key(db: &impl ConnectionTrait, id: &ApiKeyId, now: DateTime<Utc>) -> Result<(), DbErr> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(id.clone()))
        .exec(db)
        .await
        .map(drop)
}

pub async fn insert_flag(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    system_flag::ActiveModel { key: Set(key.to_owned()), value: Set(value.to_owned()), created_at: Set(now) }
        .insert(db)
        .await
        .map(drop)
}
