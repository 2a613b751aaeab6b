//! Queries on `phone_lines`; each takes the workspace (and agent) it is scoped to, except the two
//! call-path lookups.

use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use switchboard_core::{AgentId, PageRequest, PhoneLineId, WorkspaceId};

use crate::entity::{ActiveModel, Column, Entity, Model};

fn scoped(ws: &WorkspaceId, agent: &AgentId) -> Select<Entity> {
    Entity::find().filter(Column::WorkspaceId.eq(ws.clone())).filter(Column::AgentId.eq(agent.clone()))
}

pub async fn find(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    agent: &AgentId,
    id: &PhoneLineId,
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
    id: &PhoneLineId,
) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::AgentId.eq(agent.clone()))
        .filter(Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The active line of a Vapi phone-number id (unscoped: the call names only the number).
pub async fn active_by_vapi_id(db: &impl ConnectionTrait, vapi_id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::VapiPhoneNumberId.eq(vapi_id)).filter(Column::Active.eq(true)).one(db).await
}

/// The oldest active line of a called number (unscoped: the call names only the number).
pub async fn active_by_number(db: &impl ConnectionTrait, number: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::PhoneNumber.eq(number))
        .filter(Column::Active.eq(true))
        .order_by_asc(Column::Id)
        .one(db)
        .await
}
