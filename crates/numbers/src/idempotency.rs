//! `Idempotency-Key` for operations with side effects at providers (SPEC §4: a retried request
//! with the same key returns the first result and buys nothing twice).
//!
//! The key is claimed by inserting `(workspace, scope, key)` — the primary key makes exactly one
//! request the owner, also under concurrency. Others wait for the owner's stored answer. A failed
//! attempt removes its claim, so the same key may be retried; a key reused with a different
//! request is refused.

use std::time::Duration;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use switchboard_core::{Error, WorkspaceId};

/// The outcome of trying to claim a key.
#[derive(Debug)]
pub enum Claim {
    /// This request owns the key and must [`complete`] or [`abandon`] it.
    Owner,
    /// An earlier request with this key finished; its stored answer.
    Done(String),
}

pub mod entity {
    use sea_orm::entity::prelude::*;
    use switchboard_core::WorkspaceId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub workspace_id: WorkspaceId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        pub state: String,
        pub response_status: Option<i32>,
        pub response_body: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity, Model};

const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "done";
/// How long a duplicate waits for the owner's answer.
const WAIT: Duration = Duration::from_secs(60);
/// A claim this old whose owner never answered is taken over.
const STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// SHA-256 of the request's canonical JSON.
pub fn request_hash(request: &impl serde::Serialize) -> String {
    let json = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
}

/// Validates a client's key: 1–255 visible ASCII characters.
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("Idempotency-Key", "must be 1–255 visible ASCII characters"));
    }
    Ok(())
}

/// Claims `key` for this request, or waits for the request that holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    scope: &str,
    key: &str,
    hash: &str,
) -> Result<Claim, Error> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = switchboard_core::time::now();
        let row = Model {
            workspace_id: ws.clone(),
            scope: scope.into(),
            key: key.into(),
            request_hash: hash.into(),
            state: IN_PROGRESS.into(),
            response_status: None,
            response_body: None,
            created_at: now,
            updated_at: now,
        };
        let inserted = Entity::insert(sea_orm::IntoActiveModel::into_active_model(row))
            .on_conflict(
                OnConflict::columns([Column::WorkspaceId, Column::Scope, Column::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            return Ok(Claim::Owner);
        }
        if let Some(existing) = find(db, ws, scope, key).await? {
            if existing.request_hash != hash {
                return Err(Error::conflict(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request; use a new key",
                ));
            }
            if existing.state == DONE {
                return Ok(Claim::Done(existing.response_body.unwrap_or_default()));
            }
            // The owner died mid-request (a crash, not an error: errors abandon their claim).
            if now - existing.updated_at > STALE {
                Entity::delete_many()
                    .filter(Column::WorkspaceId.eq(ws.clone()))
                    .filter(Column::Scope.eq(scope))
                    .filter(Column::Key.eq(key))
                    .filter(Column::UpdatedAt.eq(existing.updated_at))
                    .exec(db)
                    .await?;
                continue;
            }
        }
        // In progress elsewhere (or just abandoned): wait and look again.
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still in progress; retry shortly",
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    scope: &str,
    key: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .one(db)
        .await
}

/// Stores the owner's answer; later requests with the key receive it.
pub async fn complete(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::State, Expr::value(DONE))
        .col_expr(Column::ResponseStatus, Expr::value(i32::from(status)))
        .col_expr(Column::ResponseBody, Expr::value(body))
        .col_expr(Column::UpdatedAt, Expr::value(switchboard_core::time::now()))
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await
        .map(drop)
}

/// Gives the key up after a failed attempt, so a retry can run.
pub async fn abandon(
    db: &impl ConnectionTrait,
    ws: &WorkspaceId,
    scope: &str,
    key: &str,
) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::WorkspaceId.eq(ws.clone()))
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .filter(Column::State.eq(IN_PROGRESS))
        .exec(db)
        .await
        .map(drop)
}
