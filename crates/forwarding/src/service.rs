//! The forwarding API that binaries and other crates call.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use switchboard_agents::{Agent, AgentService};
use switchboard_core::error::Violations;
use switchboard_core::{
    AgentId, Ctx, Error, ForwardingTargetId, Page, PageRequest, Permission, Result, WorkspaceId, Zone,
};
use utoipa::ToSchema;

use crate::entity::Model;
use crate::hours::Availability;
use crate::matching;
use crate::model::{
    DEFAULT_RING_TIMEOUT, ForwardingTarget, NewTarget, TargetPatch, TransferMode, check_aliases,
    check_description, check_fallback_message, check_forwarding_message, check_hours, check_name,
    check_ring_timeout, check_timezone,
};
use crate::store;

/// A target and whether it can be reached at the instant asked about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetStatus {
    #[serde(flatten)]
    pub target: ForwardingTarget,
    pub open: bool,
    /// When it closes (open targets with hours); `null` when open around the clock.
    pub open_until: Option<DateTime<Utc>>,
    /// When it next opens (closed targets); `null` when it never does within two weeks.
    pub next_open_at: Option<DateTime<Utc>>,
}

/// A target matching a spoken name, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedTarget {
    #[serde(flatten)]
    pub status: TargetStatus,
    /// 1–100: how well the name or an alias matched.
    pub score: u8,
    /// The name or alias that matched best.
    pub matched: String,
}

/// Where the voice AI may transfer a call: Vapi's `TransferDestinationNumber` in our terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferDestination {
    pub target_id: ForwardingTargetId,
    pub name: String,
    pub number: String,
    /// Said to the caller before connecting ("" = silent).
    pub message: String,
    pub description: Option<String>,
    pub mode: TransferMode,
    pub ring_timeout_seconds: i64,
    pub fallback_message: Option<String>,
}

impl TransferDestination {
    /// The destination as Vapi takes it (`destinations[]` of `transferCall`, or the answer to
    /// `transfer-destination-request`): warm mode announces the caller, `dialTimeout` is the ring
    /// timeout, `fallbackPlan` is said when nobody answers.
    pub fn to_vapi(&self) -> serde_json::Value {
        let mut plan = serde_json::json!({
            "mode": match self.mode {
                TransferMode::Warm => "warm-transfer-say-message",
                TransferMode::Blind => "blind-transfer",
            },
            "dialTimeout": self.ring_timeout_seconds,
        });
        if self.mode == TransferMode::Warm {
            plan["message"] = serde_json::json!(format!("A caller is asking for {}.", self.name));
        }
        if let Some(fallback) = &self.fallback_message {
            plan["fallbackPlan"] = serde_json::json!({"message": fallback, "endCallEnabled": false});
        }
        let mut destination = serde_json::json!({
            "type": "number",
            "number": self.number,
            "message": self.message,
            "transferPlan": plan,
        });
        if let Some(description) = &self.description {
            destination["description"] = serde_json::json!(description);
        }
        destination
    }
}

/// What to do with a caller who asked for someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferDecision {
    /// Open: transfer.
    Transfer(TransferDestination),
    /// The best match is closed: say its fallback message (or a default) instead.
    Closed { name: String, message: String, next_open_at: Option<DateTime<Utc>> },
    /// Nobody of that name.
    NoMatch,
}

/// Forwarding targets of an agent in the caller's workspace.
#[derive(Debug, Clone)]
pub struct ForwardingService {
    db: DatabaseConnection,
    agents: AgentService,
}

fn status_of(model: &Model, agent_zone: Zone, at: DateTime<Utc>) -> TargetStatus {
    let target = ForwardingTarget::from(model.clone());
    let zone = target.timezone.unwrap_or(agent_zone);
    let availability = match target.opening_hours.as_ref().map(|h| h.compile("opening_hours")) {
        None => Availability::Open { until: None },
        Some(Ok(schedule)) => schedule.status_at(at, zone.tz()),
        // Stored hours were validated on the way in; unreadable ones count as closed.
        Some(Err(_)) => Availability::Closed { next_open: None },
    };
    match availability {
        Availability::Open { until } => {
            TargetStatus { target, open: true, open_until: until, next_open_at: None }
        }
        Availability::Closed { next_open } => {
            TargetStatus { target, open: false, open_until: None, next_open_at: next_open }
        }
    }
}

fn destination(t: &ForwardingTarget) -> TransferDestination {
    TransferDestination {
        target_id: t.id.clone(),
        name: t.name.clone(),
        number: t.phone_number.to_string(),
        message: t.forwarding_message.clone().unwrap_or_default(),
        description: t.description.clone(),
        mode: t.mode,
        ring_timeout_seconds: t.ring_timeout_seconds,
        fallback_message: t.fallback_message.clone(),
    }
}

impl ForwardingService {
    pub fn new(db: DatabaseConnection, agents: AgentService) -> Self {
        Self { db, agents }
    }

    pub async fn list(
        &self,
        ctx: &Ctx,
        agent: &AgentId,
        page: &PageRequest,
    ) -> Result<Page<ForwardingTarget>> {
        self.agents.get(ctx, agent).await?;
        let rows = store::list(&self.db, ctx.workspace_id(), agent, page).await?;
        Ok(Page::from_rows(rows, page, |t| t.id.to_string()).map(ForwardingTarget::from))
    }

    pub async fn get(&self, ctx: &Ctx, agent: &AgentId, id: &ForwardingTargetId) -> Result<ForwardingTarget> {
        self.agents.get(ctx, agent).await?;
        self.find(ctx, agent, id).await.map(ForwardingTarget::from)
    }

    async fn find(&self, ctx: &Ctx, agent: &AgentId, id: &ForwardingTargetId) -> Result<Model> {
        store::find(&self.db, ctx.workspace_id(), agent, id)
            .await?
            .ok_or(Error::not_found("forwarding target"))
    }

    pub async fn create(&self, ctx: &Ctx, agent: &AgentId, input: NewTarget) -> Result<ForwardingTarget> {
        ctx.require(Permission::TargetsWrite)?;
        self.agents.get(ctx, agent).await?;
        let mut v = Violations::new();
        let name = check_name(&mut v, &input.name);
        let aliases = check_aliases(&mut v, &input.aliases);
        let description = check_description(&mut v, input.description.as_deref());
        let forwarding_message = check_forwarding_message(&mut v, input.forwarding_message.as_deref());
        let fallback_message = check_fallback_message(&mut v, input.fallback_message.as_deref());
        let ring = check_ring_timeout(&mut v, input.ring_timeout_seconds.unwrap_or(DEFAULT_RING_TIMEOUT));
        let timezone = check_timezone(&mut v, input.timezone.as_deref());
        let schedule = check_hours(&mut v, input.opening_hours.as_ref());
        v.finish()?;
        let now = switchboard_core::time::now();
        let model = Model {
            id: ForwardingTargetId::new(),
            workspace_id: ctx.workspace_id().clone(),
            agent_id: agent.clone(),
            name: name.unwrap_or_default(),
            phone_number: input.phone_number.to_string(),
            aliases: serde_json::to_string(&aliases).unwrap_or_else(|_| "[]".into()),
            description,
            forwarding_message,
            mode: input.mode.unwrap_or_default(),
            ring_timeout_seconds: i32::try_from(ring).unwrap_or(30),
            fallback_message,
            opening_hours: schedule.map(|s| serde_json::to_string(&s.to_wire()).unwrap_or_default()),
            timezone: timezone.map(|z| z.name().to_owned()),
            active: input.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let created = store::insert(&self.db, model).await?;
        tracing::info!(target_id = %created.id, agent_id = %agent, "forwarding target created");
        Ok(created.into())
    }

    pub async fn update(
        &self,
        ctx: &Ctx,
        agent: &AgentId,
        id: &ForwardingTargetId,
        patch: TargetPatch,
    ) -> Result<ForwardingTarget> {
        ctx.require(Permission::TargetsWrite)?;
        self.agents.get(ctx, agent).await?;
        let mut v = Violations::new();
        let name = patch.name.as_deref().map(|n| check_name(&mut v, n));
        let aliases = patch.aliases.as_deref().map(|a| check_aliases(&mut v, a));
        let description = patch.description.as_ref().map(|d| check_description(&mut v, d.as_deref()));
        let forwarding_message =
            patch.forwarding_message.as_ref().map(|m| check_forwarding_message(&mut v, m.as_deref()));
        let fallback_message =
            patch.fallback_message.as_ref().map(|m| check_fallback_message(&mut v, m.as_deref()));
        let ring = patch.ring_timeout_seconds.map(|r| check_ring_timeout(&mut v, r));
        let timezone = patch.timezone.as_ref().map(|z| check_timezone(&mut v, z.as_deref()));
        let hours = patch.opening_hours.as_ref().map(|h| check_hours(&mut v, h.as_ref()));
        v.finish()?;
        let mut t = self.find(ctx, agent, id).await?;
        if let Some(Some(name)) = name {
            t.name = name;
        }
        if let Some(number) = patch.phone_number {
            t.phone_number = number.to_string();
        }
        if let Some(aliases) = aliases {
            t.aliases = serde_json::to_string(&aliases).unwrap_or_else(|_| "[]".into());
        }
        if let Some(description) = description {
            t.description = description;
        }
        if let Some(message) = forwarding_message {
            t.forwarding_message = message;
        }
        if let Some(mode) = patch.mode {
            t.mode = mode;
        }
        if let Some(ring) = ring {
            t.ring_timeout_seconds = i32::try_from(ring).unwrap_or(30);
        }
        if let Some(message) = fallback_message {
            t.fallback_message = message;
        }
        if let Some(zone) = timezone {
            t.timezone = zone.map(|z| z.name().to_owned());
        }
        if let Some(schedule) = hours {
            t.opening_hours = schedule.map(|s| serde_json::to_string(&s.to_wire()).unwrap_or_default());
        }
        if let Some(active) = patch.active {
            t.active = active;
        }
        t.updated_at = switchboard_core::time::now();
        if !store::update(&self.db, ctx.workspace_id(), &t).await? {
            return Err(Error::not_found("forwarding target"));
        }
        Ok(t.into())
    }

    pub async fn delete(&self, ctx: &Ctx, agent: &AgentId, id: &ForwardingTargetId) -> Result<()> {
        ctx.require(Permission::TargetsWrite)?;
        self.agents.get(ctx, agent).await?;
        if store::delete(&self.db, ctx.workspace_id(), agent, id).await? {
            Ok(())
        } else {
            Err(Error::not_found("forwarding target"))
        }
    }

    async fn statuses(&self, ctx: &Ctx, agent: &Agent, at: DateTime<Utc>) -> Result<Vec<TargetStatus>> {
        let rows = store::active(&self.db, ctx.workspace_id(), &agent.id).await?;
        Ok(rows.iter().map(|m| status_of(m, agent.timezone, at)).collect())
    }

    /// The active targets open at `at`, each with when it closes.
    pub async fn available(
        &self,
        ctx: &Ctx,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> Result<Vec<TargetStatus>> {
        let agent = self.agents.get(ctx, agent).await?;
        Ok(self.statuses(ctx, &agent, at).await?.into_iter().filter(|s| s.open).collect())
    }

    /// Active targets matching a spoken name, best first; each says whether it is open at `at`,
    /// when it next opens if not, and its fallback message.
    pub async fn resolve(
        &self,
        ctx: &Ctx,
        agent: &AgentId,
        query: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<ResolvedTarget>> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > 200 {
            return Err(Error::invalid("query", "must be 1–200 characters: the name the caller said"));
        }
        let agent = self.agents.get(ctx, agent).await?;
        let mut matches: Vec<ResolvedTarget> = self
            .statuses(ctx, &agent, at)
            .await?
            .into_iter()
            .filter_map(|status| {
                let candidates = std::iter::once(&status.target.name).chain(status.target.aliases.iter());
                let (score, matched) =
                    candidates.map(|c| (matching::score(c, query), c.clone())).max_by_key(|(s, _)| *s)?;
                (score > 0).then_some(ResolvedTarget { status, score, matched })
            })
            .collect();
        matches.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(b.status.open.cmp(&a.status.open))
                .then_with(|| a.status.target.name.cmp(&b.status.target.name))
        });
        Ok(matches)
    }

    /// For the call path: the agent's open targets as transfer destinations.
    pub async fn transfer_destinations(
        &self,
        ws: &WorkspaceId,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> Result<Vec<TransferDestination>> {
        Ok(self
            .available(&Ctx::system(ws.clone()), agent, at)
            .await?
            .iter()
            .map(|s| destination(&s.target))
            .collect())
    }

    /// For the call path: whom to transfer a caller to who asked for `query`.
    pub async fn decide_transfer(
        &self,
        ws: &WorkspaceId,
        agent: &AgentId,
        query: &str,
        at: DateTime<Utc>,
    ) -> Result<TransferDecision> {
        let best = self.resolve(&Ctx::system(ws.clone()), agent, query, at).await?.into_iter().next();
        Ok(match best {
            None => TransferDecision::NoMatch,
            Some(m) if m.status.open => TransferDecision::Transfer(destination(&m.status.target)),
            Some(m) => TransferDecision::Closed {
                message: m
                    .status
                    .target
                    .fallback_message
                    .clone()
                    .unwrap_or_else(|| format!("{} is not available right now.", m.status.target.name)),
                name: m.status.target.name,
                next_open_at: m.status.next_open_at,
            },
        })
    }
}
