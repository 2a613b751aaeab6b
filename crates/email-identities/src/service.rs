//! The email API that binaries and other crates call.

use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};
use switchboard_agents::AgentService;
use switchboard_core::db::is_unique_violation;
use switchboard_core::email::EmailAddress;
use switchboard_core::error::Violations;
use switchboard_core::text::optional_text;
use switchboard_core::{AgentId, Ctx, Error, Permission, ProviderError, Result, WorkspaceId};

use crate::entity::{agent_email, identity};
use crate::model::{DnsRecord, EmailPatch, EmailView, IdentityView, parse_alias};
use crate::ports::{EmailIdentityProvider, IdentityKind, IdentityState, VerificationStatus};

/// Identity statuses the provider may still change on its own.
const PENDING: [&str; 3] = ["pending", "not_started", "temporary_failure"];

/// Email settings and sender verification of the caller's agents.
#[derive(Clone)]
pub struct EmailService {
    db: DatabaseConnection,
    agents: AgentService,
    provider: Arc<dyn EmailIdentityProvider>,
    system_domain: Option<String>,
}

impl std::fmt::Debug for EmailService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailService").field("system_domain", &self.system_domain).finish_non_exhaustive()
    }
}

fn kind_str(k: IdentityKind) -> &'static str {
    match k {
        IdentityKind::Address => "address",
        IdentityKind::Domain => "domain",
    }
}

fn status_str(s: VerificationStatus) -> &'static str {
    match s {
        VerificationStatus::NotStarted => "not_started",
        VerificationStatus::Pending => "pending",
        VerificationStatus::Verified => "verified",
        VerificationStatus::Failed => "failed",
        VerificationStatus::TemporaryFailure => "temporary_failure",
    }
}

fn parse_status(s: &str) -> VerificationStatus {
    match s {
        "pending" => VerificationStatus::Pending,
        "verified" => VerificationStatus::Verified,
        "failed" => VerificationStatus::Failed,
        "temporary_failure" => VerificationStatus::TemporaryFailure,
        _ => VerificationStatus::NotStarted,
    }
}

impl EmailService {
    pub fn new(
        db: DatabaseConnection,
        agents: AgentService,
        provider: Arc<dyn EmailIdentityProvider>,
        system_domain: Option<String>,
    ) -> Self {
        Self { db, agents, provider, system_domain }
    }

    async fn settings(&self, ctx: &Ctx, agent: &AgentId) -> Result<Option<agent_email::Model>> {
        Ok(agent_email::Entity::find()
            .filter(agent_email::Column::WorkspaceId.eq(ctx.workspace_id().clone()))
            .filter(agent_email::Column::AgentId.eq(agent.clone()))
            .one(&self.db)
            .await?)
    }

    async fn identities(&self, ws: &WorkspaceId, names: &[String]) -> Result<Vec<identity::Model>> {
        Ok(identity::Entity::find()
            .filter(identity::Column::WorkspaceId.eq(ws.clone()))
            .filter(identity::Column::Identity.is_in(names.iter().cloned()))
            .all(&self.db)
            .await?)
    }

    /// The inbound address: the alias on its domain, else the free-text legacy address.
    fn inbound(row: &agent_email::Model) -> Option<String> {
        match (&row.email_alias, &row.alias_domain) {
            (Some(alias), Some(domain)) => Some(format!("{alias}@{domain}")),
            _ => row.inbound_address.clone(),
        }
    }

    /// The agent's email card.
    pub async fn get(&self, ctx: &Ctx, agent: &AgentId) -> Result<EmailView> {
        self.agents.get(ctx, agent).await?;
        let row = self.settings(ctx, agent).await?;
        self.view(ctx.workspace_id(), row).await
    }

    async fn view(&self, ws: &WorkspaceId, row: Option<agent_email::Model>) -> Result<EmailView> {
        let inbound = row.as_ref().and_then(Self::inbound);
        let reply_from = row.as_ref().and_then(|r| r.reply_from.clone());
        let sender = reply_from.clone().or_else(|| inbound.clone());
        let (identity_view, dns, can_send, reason) = match &sender {
            None => (
                None,
                Vec::new(),
                false,
                Some("set an inbound alias or a reply-from address first".to_owned()),
            ),
            Some(sender) => {
                let domain = sender.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
                let rows = self.identities(ws, &[sender.clone(), domain.clone()]).await?;
                let address = rows.iter().find(|r| r.identity == *sender);
                let domain_row = rows.iter().find(|r| r.identity == domain);
                let verified = rows.iter().any(|r| r.verified_for_sending);
                // Show the identity that decides: a verified one, else the address's, else the domain's.
                let shown = rows.iter().find(|r| r.verified_for_sending).or(address).or(domain_row);
                let dns = domain_row
                    .map(|d| {
                        serde_json::from_str::<Vec<String>>(&d.dkim_tokens)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|t| DnsRecord {
                                record_type: "CNAME".into(),
                                name: format!("{t}._domainkey.{domain}"),
                                value: format!("{t}.dkim.amazonses.com"),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let reason = if verified {
                    None
                } else {
                    Some(match shown.map(|r| parse_status(&r.status)) {
                        None => format!("{sender} is not verified; verify the address or its domain"),
                        Some(VerificationStatus::Pending) => format!("verification of {sender} is pending"),
                        Some(VerificationStatus::Failed) => {
                            "verification failed; check the DNS records or the link and verify again".into()
                        }
                        Some(VerificationStatus::TemporaryFailure) => {
                            "verification hit a temporary failure; it is checked again".into()
                        }
                        Some(_) => format!("{sender} is not verified"),
                    })
                };
                let view = shown.map(|r| IdentityView {
                    identity: r.identity.clone(),
                    scope: if r.kind == "domain" { IdentityKind::Domain } else { IdentityKind::Address },
                    status: parse_status(&r.status),
                });
                (view, dns, verified, reason)
            }
        };
        Ok(EmailView {
            email_alias: row.as_ref().and_then(|r| r.email_alias.clone()),
            inbound_address: inbound,
            reply_from,
            reply_display_name: row.as_ref().and_then(|r| r.reply_display_name.clone()),
            effective_sender: sender,
            identity: identity_view,
            dns_records: dns,
            can_send,
            reason,
        })
    }

    /// Applies the email fields of a channels PATCH.
    pub async fn update(&self, ctx: &Ctx, agent: &AgentId, patch: EmailPatch) -> Result<EmailView> {
        ctx.require(Permission::EmailWrite)?;
        self.agents.get(ctx, agent).await?;
        let mut v = Violations::new();
        let alias = match &patch.email_alias {
            Some(Some(a)) => match &self.system_domain {
                None => {
                    v.add(
                        "email_alias",
                        "no system domain is configured; set inbound_address to a full address instead",
                    );
                    None
                }
                Some(_) => v.check("email_alias", parse_alias(a)).map(Some),
            },
            Some(None) => Some(None),
            None => None,
        };
        let inbound = patch
            .inbound_address
            .as_ref()
            .map(|a| a.as_deref().and_then(|a| v.check("inbound_address", EmailAddress::parse(a))));
        let reply_from = patch
            .reply_from
            .as_ref()
            .map(|a| a.as_deref().and_then(|a| v.check("reply_from", EmailAddress::parse(a))));
        let display = patch.reply_display_name.as_ref().map(|n| {
            n.as_deref().and_then(|n| v.check("reply_display_name", optional_text(n, 100)).flatten())
        });
        v.finish()?;
        let now = switchboard_core::time::now();
        let mut row = self.settings(ctx, agent).await?.unwrap_or(agent_email::Model {
            agent_id: agent.clone(),
            workspace_id: ctx.workspace_id().clone(),
            email_alias: None,
            alias_domain: None,
            inbound_address: None,
            reply_from: None,
            reply_display_name: None,
            created_at: now,
            updated_at: now,
        });
        if let Some(alias) = alias {
            row.alias_domain = alias.as_ref().and(self.system_domain.clone());
            row.email_alias = alias;
        }
        if let Some(inbound) = inbound {
            row.inbound_address = inbound.map(|a| a.to_string());
        }
        if let Some(reply) = reply_from {
            row.reply_from = reply.map(|a| a.to_string());
        }
        if let Some(display) = display {
            row.reply_display_name = display;
        }
        row.updated_at = now;
        agent_email::Entity::insert(row.clone().into_active_model())
            .on_conflict(
                OnConflict::column(agent_email::Column::AgentId)
                    .update_columns([
                        agent_email::Column::EmailAlias,
                        agent_email::Column::AliasDomain,
                        agent_email::Column::InboundAddress,
                        agent_email::Column::ReplyFrom,
                        agent_email::Column::ReplyDisplayName,
                        agent_email::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict(
                        "alias_taken",
                        "this alias is already in use on the system domain; choose another",
                    )
                } else {
                    e.into()
                }
            })?;
        self.view(ctx.workspace_id(), Some(row)).await
    }

    /// Creates the SES identity for the sender address or its domain, or re-checks an existing one.
    pub async fn verify(&self, ctx: &Ctx, agent: &AgentId, scope: IdentityKind) -> Result<EmailView> {
        ctx.require(Permission::EmailWrite)?;
        self.agents.get(ctx, agent).await?;
        let row = self.settings(ctx, agent).await?;
        let sender = row
            .as_ref()
            .and_then(|r| r.reply_from.clone().or_else(|| Self::inbound(r)))
            .ok_or_else(|| {
                Error::conflict("no_sender", "set an inbound alias or a reply-from address before verifying")
            })?;
        let name = match scope {
            IdentityKind::Address => sender.clone(),
            IdentityKind::Domain => sender.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default(),
        };
        let ws = ctx.workspace_id();
        let known = !self.identities(ws, std::slice::from_ref(&name)).await?.is_empty();
        let state = if known {
            self.recheck(&name, scope).await?
        } else {
            self.provider.create_identity(&name, scope).await?
        };
        self.store_state(ws, &state).await?;
        tracing::info!(agent_id = %agent, identity = %name, status = status_str(state.status), "email identity checked");
        self.view(ws, row).await
    }

    /// The provider's current state of a tracked identity. One that vanished at the provider
    /// (deleted in the console — or, in the sandbox, unknown to another process) is created again,
    /// which restarts its verification instead of failing for ever.
    async fn recheck(
        &self,
        name: &str,
        kind: IdentityKind,
    ) -> std::result::Result<IdentityState, ProviderError> {
        match self.provider.get_identity(name).await {
            Err(ProviderError::NotFound { .. }) => {
                tracing::warn!(identity = name, "email identity is gone at the provider; creating it again");
                self.provider.create_identity(name, kind).await
            }
            other => other,
        }
    }

    async fn store_state(&self, ws: &WorkspaceId, state: &IdentityState) -> Result<()> {
        let now = switchboard_core::time::now();
        let model = identity::Model {
            workspace_id: ws.clone(),
            identity: state.identity.clone(),
            kind: kind_str(state.kind).into(),
            status: status_str(state.status).into(),
            verified_for_sending: state.verified_for_sending,
            dkim_tokens: serde_json::to_string(&state.dkim_tokens).unwrap_or_else(|_| "[]".into()),
            checked_at: now,
            created_at: now,
        };
        identity::Entity::insert(model.into_active_model())
            .on_conflict(
                OnConflict::columns([identity::Column::WorkspaceId, identity::Column::Identity])
                    .update_columns([
                        identity::Column::Status,
                        identity::Column::VerifiedForSending,
                        identity::Column::DkimTokens,
                        identity::Column::CheckedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// The sender an agent may send from, or 409 `sender_not_verified` — never a silent drop.
    pub async fn sender_for(&self, ctx: &Ctx, agent: &AgentId) -> Result<EmailAddress> {
        let view = self.get(ctx, agent).await?;
        match (view.can_send, view.effective_sender) {
            (true, Some(sender)) => Ok(EmailAddress::from_stored(sender)),
            _ => Err(Error::conflict(
                "sender_not_verified",
                view.reason.unwrap_or_else(|| "the sender is not verified at SES".into()),
            )),
        }
    }

    /// How many identities are still waiting for the provider (pending, not started, or failed
    /// temporarily): what a billing-cron run would re-check.
    pub async fn pending_count(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(identity::Entity::find().filter(identity::Column::Status.is_in(PENDING)).count(&self.db).await?)
    }

    /// For billing-cron: re-checks up to `limit` identities still pending (or temporarily failed)
    /// at the provider and stores what it says. Answers how many turned verified.
    pub async fn recheck_pending(&self, limit: u64) -> Result<usize> {
        let pending = identity::Entity::find()
            .filter(identity::Column::Status.is_in(PENDING))
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut verified = 0;
        for row in pending {
            let kind = if row.kind == "domain" { IdentityKind::Domain } else { IdentityKind::Address };
            match self.recheck(&row.identity, kind).await {
                Ok(state) => {
                    verified += usize::from(state.verified_for_sending);
                    self.store_state(&row.workspace_id, &state).await?;
                }
                Err(e) => {
                    tracing::warn!(identity = %row.identity, error = %e, "re-checking an email identity failed")
                }
            }
        }
        Ok(verified)
    }
}

/// The workspaces that send mail as `address` (for routing SES feedback, which names only the
/// sender): agents whose reply-from, inbound alias or inbound address it is, else workspaces
/// holding an SES identity for the address or its domain. Compared without regard to case.
pub async fn workspaces_sending_as(
    conn: &impl sea_orm::ConnectionTrait,
    address: &str,
) -> std::result::Result<Vec<WorkspaceId>, sea_orm::DbErr> {
    use sea_orm::sea_query::{Expr, Func};
    use sea_orm::{Condition, QueryOrder};
    let address = address.trim().to_ascii_lowercase();
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Ok(Vec::new());
    };
    let lower = |col: agent_email::Column| Expr::expr(Func::lower(Expr::col(col)));
    let agents = agent_email::Entity::find()
        .filter(
            Condition::any()
                .add(lower(agent_email::Column::ReplyFrom).eq(address.as_str()))
                .add(lower(agent_email::Column::InboundAddress).eq(address.as_str()))
                .add(
                    Condition::all()
                        .add(agent_email::Column::EmailAlias.eq(local))
                        .add(agent_email::Column::AliasDomain.eq(domain)),
                ),
        )
        .order_by_asc(agent_email::Column::WorkspaceId)
        .all(conn)
        .await?;
    let mut found: Vec<WorkspaceId> = agents.into_iter().map(|a| a.workspace_id).collect();
    if found.is_empty() {
        found = identity::Entity::find()
            .filter(identity::Column::Identity.is_in([address.as_str(), domain]))
            .order_by_asc(identity::Column::WorkspaceId)
            .all(conn)
            .await?
            .into_iter()
            .map(|i| i.workspace_id)
            .collect();
    }
    found.dedup();
    Ok(found)
}
