//! Queries on `agents`; each takes the workspace it is scoped to.

use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use switchboard_core::{AgentId, PageRequest, WorkspaceId};

use crate::entity::{ActiveModel, Column, Entity, Model};
use crate::model::AgentFilter;

fn scoped(ws: &WorkspaceId) -> Select<Entity> {
    Entity::find().filter(Column::WorkspaceId.eq(ws.clone()))
}

pub async fn find(db: &impl ConnectionTrait, ws: &WorkspaceId, id: &AgentId) -> Result<Option<Model>, DbErr> {
    scoped(ws).filter(Column::Id.eq(id.clone())).one(db).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    filter: &AgentFilter,
    page: &PageRequest,
) -> Result<Vec<Model>, DbErr> {
    let mut q = scoped(ws);
    if let Some(status) = filter.status {
        q = q.filter(Column::Status.eq(status));
    }
    if let Some(after) = &page.after {
        q = q.filter(Column::Id.gt(after.as_str()));
    }
    q.order_by_asc(Column::Id).limit(page.fetch_limit()).all(db).await
}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, DbErr> {
    ActiveModel::from(m).insert(db).await
}

/// Writes every mutable column of `changed` to the row of the same id in `ws`.
pub async fn update(db: &impl ConnectionTrait, ws: &WorkspaceId, changed: &Model) -> Result<bool, DbErr> {
    let mut am = changed.clone().into_active_model().reset_all();
    am.id = NotSet;
    am.workspace_id = NotSet;
    am.created_at = NotSet;
    let res = Entity::update_many()
        .set(am)
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Id.eq(changed.id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete(db: &impl ConnectionTrait, ws: &WorkspaceId, id: &AgentId) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Sets the agent's WhatsApp number unless it already has one (provisioning fills it in).
pub async fn fill_whatsapp_number(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &AgentId,
    number: &str,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::WhatsappNumber, sea_orm::sea_query::Expr::value(number))
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Id.eq(id.clone()))
        .filter(Column::WhatsappNumber.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Sets or clears the agent's WhatsApp number (the channels card).
pub async fn set_whatsapp_number(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &AgentId,
    number: Option<&str>,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::WhatsappNumber, sea_orm::sea_query::Expr::value(number.map(str::to_owned)))
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
