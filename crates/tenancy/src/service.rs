//! The tenancy API that binaries and other crates call.

use chrono::Duration;
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};
use switchboard_core::db::is_unique_violation;
use switchboard_core::{ApiKeyId, Ctx, Error, Page, PageRequest, Permission, Result, Role, WorkspaceId};

use crate::entity::{api_key, workspace};
use crate::model::{ApiKey, IssuedApiKey, NewApiKey, NewWorkspace, Workspace};
use crate::store;

const KEY_PREFIX: &str = "sk_";
const KEY_RANDOM_LEN: usize = 40;
/// `last_used_at` is refreshed at most this often, so authentication stays a read.
const TOUCH_EVERY: Duration = Duration::minutes(5);

/// Workspaces, API keys and authentication.
#[derive(Debug, Clone)]
pub struct TenancyService {
    db: DatabaseConnection,
}

/// The SHA-256 of a key secret, lowercase hex: what the table stores.
pub fn hash_key(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_secret() -> String {
    let random: String =
        rand::rng().sample_iter(&Alphanumeric).take(KEY_RANDOM_LEN).map(char::from).collect();
    format!("{KEY_PREFIX}{random}")
}

impl TenancyService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a workspace and its first owner key. Only the platform admin may call this; the
    /// caller has checked the admin token.
    pub async fn create_workspace(&self, input: NewWorkspace) -> Result<(Workspace, IssuedApiKey)> {
        let name = input.validate()?;
        let now = switchboard_core::time::now();
        let ws = workspace::Model {
            id: WorkspaceId::new(),
            name,
            timezone: input.timezone.unwrap_or_default().name().to_owned(),
            created_at: now,
            updated_at: now,
        };
        let (key_model, secret) = new_key_model(&ws.id, "Owner key".into(), Role::Owner);
        let txn = self.db.begin().await?;
        store::insert_workspace(&txn, ws.clone()).await?;
        store::insert_key(&txn, key_model.clone()).await?;
        txn.commit().await?;
        tracing::info!(workspace_id = %ws.id, "workspace created");
        Ok((ws.into(), issued(key_model, secret)))
    }

    /// The caller's workspace.
    pub async fn workspace(&self, ctx: &Ctx) -> Result<Workspace> {
        ctx.require(Permission::Read)?;
        store::find_workspace(&self.db, ctx.workspace_id())
            .await?
            .map(Into::into)
            .ok_or(Error::not_found("workspace"))
    }

    /// Whether a workspace exists (for the platform admin's endpoints).
    pub async fn find_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>> {
        Ok(store::find_workspace(&self.db, id).await?.map(Into::into))
    }

    /// The workspaces among `ids` (webhook routing reads a batch's at once).
    pub async fn find_workspaces(&self, ids: &[WorkspaceId]) -> Result<Vec<Workspace>> {
        Ok(store::find_workspaces(&self.db, ids).await?.into_iter().map(Into::into).collect())
    }

    /// The context of a bearer secret, or `None` when it is no active key.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Ctx>> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() != KEY_PREFIX.len() + KEY_RANDOM_LEN {
            return Ok(None);
        }
        let Some(key) = store::find_active_key_by_hash(&self.db, &hash_key(secret)).await? else {
            return Ok(None);
        };
        let now = switchboard_core::time::now();
        if key.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY)
            && let Err(e) = store::touch_key(&self.db, &key.id, now).await
        {
            tracing::warn!(api_key_id = %key.id, error = %e, "could not record key use");
        }
        Ok(Some(Ctx::for_api_key(key.workspace_id, key.id, key.role)))
    }

    pub async fn list_api_keys(&self, ctx: &Ctx, page: &PageRequest) -> Result<Page<ApiKey>> {
        ctx.require(Permission::ApiKeysManage)?;
        let rows = store::list_keys(&self.db, ctx.workspace_id(), page).await?;
        Ok(Page::from_rows(rows, page, |k| k.id.to_string()).map(ApiKey::from))
    }

    pub async fn get_api_key(&self, ctx: &Ctx, id: &ApiKeyId) -> Result<ApiKey> {
        ctx.require(Permission::ApiKeysManage)?;
        store::find_key(&self.db, ctx.workspace_id(), id)
            .await?
            .map(Into::into)
            .ok_or(Error::not_found("API key"))
    }

    pub async fn create_api_key(&self, ctx: &Ctx, input: NewApiKey) -> Result<IssuedApiKey> {
        ctx.require(Permission::ApiKeysManage)?;
        let name = input.validate()?;
        let (model, secret) = new_key_model(ctx.workspace_id(), name, input.role);
        store::insert_key(&self.db, model.clone()).await.map_err(|e| {
            if is_unique_violation(&e) {
                Error::Internal("generated API key collided".into())
            } else {
                e.into()
            }
        })?;
        tracing::info!(api_key_id = %model.id, role = model.role.as_str(), "API key issued");
        Ok(issued(model, secret))
    }

    /// Revokes a key at once; revoking a revoked key changes nothing. The last active owner key
    /// cannot be revoked.
    pub async fn revoke_api_key(&self, ctx: &Ctx, id: &ApiKeyId) -> Result<ApiKey> {
        ctx.require(Permission::ApiKeysManage)?;
        let ws = ctx.workspace_id();
        let now = switchboard_core::time::now();
        let txn = self.db.begin().await?;
        // Serialise revocations in this workspace so two owners cannot revoke each other at once.
        store::lock_workspace(&txn, ws, now).await?;
        let key = store::find_key(&txn, ws, id).await?.ok_or(Error::not_found("API key"))?;
        if key.revoked_at.is_none() {
            if key.role == Role::Owner && store::count_active_owner_keys(&txn, ws).await? <= 1 {
                return Err(Error::conflict(
                    "last_owner_key",
                    "this is the workspace's last active owner key; issue another owner key before revoking it",
                ));
            }
            store::revoke_key(&txn, ws, id, now).await?;
        }
        let key = store::find_key(&txn, ws, id).await?.ok_or(Error::not_found("API key"))?;
        txn.commit().await?;
        Ok(key.into())
    }

    /// Sets a system flag once; `true` only for the caller that set it.
    pub async fn claim_flag(&self, key: &str, value: &str) -> Result<bool> {
        match store::insert_flag(&self.db, key, value, switchboard_core::time::now()).await {
            Ok(()) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn new_key_model(ws: &WorkspaceId, name: String, role: Role) -> (api_key::Model, String) {
    let secret = new_secret();
    let model = api_key::Model {
        id: ApiKeyId::new(),
        workspace_id: ws.clone(),
        name,
        role,
        key_hash: hash_key(&secret),
        key_prefix: secret[KEY_PREFIX.len()..KEY_PREFIX.len() + 8].to_owned(),
        created_at: switchboard_core::time::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (model, secret)
}

fn issued(m: api_key::Model, key: String) -> IssuedApiKey {
    IssuedApiKey { id: m.id, name: m.name, role: m.role, key, created_at: m.created_at }
}
