//! Queries on `forwarding_targets`; each takes the workspace and agent it is scoped to.

use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use switchboard_core::{AgentId, ForwardingTargetId, PageRequest, WorkspaceId};

use crate::entity::{ActiveModel, Column, Entity, Model};

fn scoped(ws: &WorkspaceId, agent: &AgentId) -> Select<Entity> {
    Entity::find().filter(Column::WorkspaceId.eq(ws.clone())).filter(Column::AgentId.eq(agent.clone()))
}

pub async fn find(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
    id: &ForwardingTargetId,
) -> Result<Option<Model>, DbErr> {
    scoped(ws, agent).filter(Column::Id.eq(id.clone())).one(db).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
    page: &PageRequest,
) -> Result<Vec<Model>, DbErr> {
    let mut q = scoped(ws, agent);
    if let Some(after) = &page.after {
        q = q.filter(Column::Id.gt(after.as_str()));
    }
    q.order_by_asc(Column::Id).limit(page.fetch_limit()).all(db).await
}

/// Every active target of the agent (an agent has a handful; the call path reads them all).
pub async fn active(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
) -> Result<Vec<Model>, DbErr> {
    scoped(ws, agent).filter(Column::Active.eq(true)).order_by_asc(Column::Id).all(db).await
}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, DbErr> {
    ActiveModel::from(m).insert(db).await
}

pub async fn update(db: &impl ConnectionTrait, ws: &WorkspaceId, changed: &Model) -> Result<bool, DbErr> {
    let mut am = changed.clone().into_active_model().reset_all();
    am.id = NotSet;
    am.workspace_id = NotSet;
    am.agent_id = NotSet;
    am.created_at = NotSet;
    let res = Entity::update_many()
        .set(am)
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Id.eq(changed.id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
    id: &ForwardingTargetId,
) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::AgentId.eq(agent.clone()))
        .filter(Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
