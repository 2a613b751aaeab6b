//! Queries on `numbers`; each takes the workspace it is scoped to.

use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use switchboard_core::{NumberId, PageRequest, WorkspaceId};

use crate::entity::{ActiveModel, Column, Entity, Model};
use crate::model::NumberFilter;

fn scoped(ws: &WorkspaceId) -> Select<Entity> {
    Entity::find().filter(Column::WorkspaceId.eq(ws.clone()))
}

pub async fn find(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    id: &NumberId,
) -> Result<Option<Model>, DbErr> {
    scoped(ws).filter(Column::Id.eq(id.clone())).one(db).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    filter: &NumberFilter,
    page: &PageRequest,
) -> Result<Vec<Model>, DbErr> {
    let mut q = scoped(ws);
    if let Some(agent) = &filter.agent_id {
        q = q.filter(Column::AgentId.eq(agent.clone()));
    }
    if let Some(status) = filter.status {
        q = q.filter(Column::Status.eq(status));
    }
    if let Some(digits) = &filter.digits {
        q = q.filter(Column::PhoneNumber.contains(digits.as_str()));
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
