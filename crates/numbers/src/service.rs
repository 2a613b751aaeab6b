//! The numbers API that binaries and other crates call.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, TransactionTrait};
use switchboard_agents::{Agent, AgentService};
use switchboard_billing::{BillingService, EntryKind, NewEntry, ledger};
use switchboard_core::db::is_unique_violation;
use switchboard_core::error::Violations;
use switchboard_core::period::start_of_local_day;
use switchboard_core::text::required_text;
use switchboard_core::{
    AgentId, Amount, Country, Ctx, E164, Error, FieldError, NumberId, NumberType, Page, PageRequest, Period,
    Permission, ProviderError, Result,
};
use switchboard_tenancy::TenancyService;

use crate::entity::Model;
use crate::idempotency::{self, Claim};
use crate::model::{
    AvailableNumber, Notice, Number, NumberFilter, NumberPatch, NumberStatus, Offer, ProvisionRequest,
    Provisioned, PurchasedNumber, SearchQuery, WebhookTargets, WhatsappStatus,
};
use crate::ports::{NumberInventory, SenderStatus, VoiceGateway, WhatsappSenders};
use crate::store;

/// How many candidates a provisioning tries when numbers are sold meanwhile.
const PURCHASE_ATTEMPTS: usize = 5;
const PROVISION_SCOPE: &str = "numbers.provision";

/// The provider ports the numbers domain uses.
#[derive(Clone)]
pub struct NumberProviders {
    pub inventory: Arc<dyn NumberInventory>,
    pub voice: Arc<dyn VoiceGateway>,
    pub whatsapp: Arc<dyn WhatsappSenders>,
}

impl std::fmt::Debug for NumberProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberProviders").finish_non_exhaustive()
    }
}

/// Phone numbers of the caller's workspace.
#[derive(Clone)]
pub struct NumberService {
    db: DatabaseConnection,
    tenancy: TenancyService,
    agents: AgentService,
    billing: BillingService,
    providers: NumberProviders,
    hooks: WebhookTargets,
}

impl std::fmt::Debug for NumberService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberService").field("hooks", &self.hooks).finish_non_exhaustive()
    }
}

/// Search parameters as a caller gives them (`GET /v1/numbers/available`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// ISO country code; default `DE`.
    pub country: Option<Country>,
    /// `local` (default), `mobile` or `toll_free`.
    #[serde(rename = "type")]
    #[param(value_type = Option<NumberType>)]
    pub number_type: Option<NumberType>,
    /// Area code digits (national, without the trunk 0).
    pub area_code: Option<String>,
    /// Digits the number must contain.
    pub contains: Option<String>,
    pub voice: Option<bool>,
    pub sms: Option<bool>,
    pub mms: Option<bool>,
    pub fax: Option<bool>,
    /// 1–50, default 20.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

fn digits_field(v: &mut Violations, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|s| !s.is_empty())?;
    if value.len() > max || !value.bytes().all(|b| b.is_ascii_digit()) {
        v.add(field, format!("must be 1–{max} digits"));
        return None;
    }
    Some(value.to_owned())
}

impl NumberService {
    pub fn new(
        db: DatabaseConnection,
        tenancy: TenancyService,
        agents: AgentService,
        billing: BillingService,
        providers: NumberProviders,
        public_base_url: &str,
    ) -> Self {
        Self { db, tenancy, agents, billing, providers, hooks: WebhookTargets::under(public_base_url) }
    }

    /// Numbers for sale, with their monthly price.
    pub async fn search(&self, ctx: &Ctx, params: &SearchParams) -> Result<Vec<Offer>> {
        ctx.require(Permission::NumbersCreate)?;
        let mut v = Violations::new();
        let area_code = digits_field(&mut v, "area_code", params.area_code.as_deref(), 6);
        let contains = digits_field(&mut v, "contains", params.contains.as_deref(), 15);
        let limit = params.limit.unwrap_or(20);
        if !(1..=50).contains(&limit) {
            v.add("limit", "must be between 1 and 50");
        }
        v.finish()?;
        let query = SearchQuery {
            country: params.country.unwrap_or(Country::DE),
            number_type: params.number_type.unwrap_or_default(),
            area_code,
            contains,
            voice: params.voice,
            sms: params.sms,
            mms: params.mms,
            fax: params.fax,
            limit,
        };
        let found = self.providers.inventory.search(&query).await?;
        Ok(found.into_iter().map(|a| self.offer(a)).collect())
    }

    fn offer(&self, a: AvailableNumber) -> Offer {
        let price = self.billing.prices().prices(a.country, a.number_type).monthly;
        Offer {
            phone_number: a.phone_number,
            friendly_name: a.friendly_name,
            locality: a.locality,
            country: a.country,
            number_type: a.number_type,
            capabilities: a.capabilities,
            monthly_price: switchboard_core::Money::new(price, self.billing.currency()),
        }
    }

    /// Buys and wires a number for an agent (SPEC §4). With an idempotency key, a repeat of the
    /// same request returns the first answer and buys nothing — also while the first still runs.
    pub async fn provision(
        &self,
        ctx: &Ctx,
        req: ProvisionRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Provisioned> {
        ctx.require(Permission::NumbersCreate)?;
        let Some(key) = idempotency_key else { return self.provision_now(ctx, &req).await };
        idempotency::validate_key(key)?;
        let ws = ctx.workspace_id();
        let hash = idempotency::request_hash(&req);
        match idempotency::claim(&self.db, ws, PROVISION_SCOPE, key, &hash).await? {
            Claim::Done(body) => serde_json::from_str(&body)
                .map_err(|e| Error::Internal(format!("stored idempotent answer is unreadable: {e}"))),
            Claim::Owner => match self.provision_now(ctx, &req).await {
                Ok(done) => {
                    let body = serde_json::to_string(&done).map_err(|e| Error::Internal(e.to_string()))?;
                    idempotency::complete(&self.db, ws, PROVISION_SCOPE, key, 201, &body).await?;
                    Ok(done)
                }
                Err(e) => {
                    if let Err(db) = idempotency::abandon(&self.db, ws, PROVISION_SCOPE, key).await {
                        tracing::warn!(error = %db, "could not abandon an idempotency claim");
                    }
                    Err(e)
                }
            },
        }
    }

    async fn provision_now(&self, ctx: &Ctx, req: &ProvisionRequest) -> Result<Provisioned> {
        let mut v = Violations::new();
        let name = req.name.as_deref().map(|n| v.check("name", required_text(n, 120)));
        let area_code = digits_field(&mut v, "area_code", req.area_code.as_deref(), 6);
        v.finish()?;
        let agent = self.agents.get(ctx, &req.agent_id).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid("agent_id", "no agent with this id in the workspace"),
            other => other,
        })?;
        let mut country = req.country.unwrap_or(Country::DE);
        let number_type = req.number_type.unwrap_or_default();
        self.ensure_funds(ctx, country, number_type).await?;

        let mut notices = Vec::new();
        let candidates = match &req.phone_number {
            Some(number) => vec![number.clone()],
            None => {
                let mut found = self.candidates(country, number_type, area_code.clone()).await?;
                if found.is_empty() && country != Country::US {
                    found = self.candidates(Country::US, number_type, None).await?;
                    if !found.is_empty() {
                        notices.push(Notice::new(
                            "country_fallback",
                            format!(
                                "No numbers available in {country} — we provisioned a number in US instead"
                            ),
                        ));
                        country = Country::US;
                        self.ensure_funds(ctx, country, number_type).await?;
                    }
                }
                if found.is_empty() {
                    return Err(Error::conflict(
                        "no_numbers_available",
                        format!(
                            "no {} numbers are available in {country} or US right now",
                            number_type.as_str()
                        ),
                    ));
                }
                found
            }
        };

        let bought = self.purchase_first(&candidates, name.clone().flatten().as_deref()).await?;
        match self
            .complete_provisioning(ctx, &agent, &bought, country, number_type, name.flatten(), &mut notices)
            .await
        {
            Ok(number) => Ok(Provisioned { number, notices }),
            Err((e, vapi_id)) => {
                self.compensate(&bought, vapi_id.as_deref()).await;
                Err(e)
            }
        }
    }

    async fn ensure_funds(&self, ctx: &Ctx, country: Country, number_type: NumberType) -> Result<()> {
        let monthly = self.billing.prices().prices(country, number_type).monthly;
        let balance = ledger::balance(&self.db, ctx.workspace_id()).await?;
        if balance < monthly {
            return Err(insufficient_funds(monthly, balance));
        }
        Ok(())
    }

    async fn candidates(
        &self,
        country: Country,
        number_type: NumberType,
        area_code: Option<String>,
    ) -> Result<Vec<E164>> {
        let query = SearchQuery {
            country,
            number_type,
            area_code,
            contains: None,
            voice: None,
            sms: None,
            mms: None,
            fax: None,
            limit: PURCHASE_ATTEMPTS as u32,
        };
        Ok(self.providers.inventory.search(&query).await?.into_iter().map(|a| a.phone_number).collect())
    }

    /// Buys the first candidate still for sale.
    async fn purchase_first(&self, candidates: &[E164], name: Option<&str>) -> Result<PurchasedNumber> {
        for number in candidates.iter().take(PURCHASE_ATTEMPTS) {
            match self
                .providers
                .inventory
                .purchase(number, name.unwrap_or(number.as_str()), &self.hooks)
                .await
            {
                Ok(bought) => {
                    tracing::info!(number = %bought.phone_number, sid = %bought.sid, "number purchased");
                    return Ok(bought);
                }
                Err(ProviderError::NotAvailable { .. }) => {
                    tracing::info!(%number, "number was sold meanwhile; trying the next");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict("no_numbers_available", "every candidate number was sold meanwhile; try again"))
    }

    /// Everything after the purchase. On failure, returns the Vapi id (if imported) so the
    /// caller can undo both.
    #[allow(clippy::too_many_arguments)]
    async fn complete_provisioning(
        &self,
        ctx: &Ctx,
        agent: &Agent,
        bought: &PurchasedNumber,
        country: Country,
        number_type: NumberType,
        name: Option<String>,
        notices: &mut Vec<Notice>,
    ) -> std::result::Result<Number, (Error, Option<String>)> {
        let name = name.unwrap_or_else(|| bought.friendly_name.clone());
        let vapi_id = match self.import_with_retry(&bought.phone_number, &name).await {
            Ok(id) => id,
            Err(e) => return Err((e.into(), None)),
        };
        let fail = |e: Error| (e, Some(vapi_id.clone()));

        let (whatsapp_status, sender_sid) = self.register_whatsapp(bought, agent, notices).await;
        let ws = self.tenancy.workspace(ctx).await.map_err(fail)?;
        let now = switchboard_core::time::now();
        let period = Period::containing(now, ws.timezone);
        let anchor_day = now.with_timezone(&ws.timezone.tz());
        let anchor_day = chrono::Datelike::day(&anchor_day);
        let next_rental_at = start_of_local_day(period.next().clamped_date(anchor_day), ws.timezone);
        let monthly = self.billing.prices().prices(country, number_type).monthly;
        let live = agent.is_live();
        let (calls_enabled, sms_enabled) = (bought.capabilities.voice, bought.capabilities.sms);
        let enabled = live && (calls_enabled || sms_enabled);
        if !live {
            notices.push(Notice::new(
                "agent_not_live",
                format!(
                    "the agent is {:?}; the number stays disabled until it is enabled for a live agent",
                    agent.status
                )
                .to_lowercase(),
            ));
        }
        let model = Model {
            id: NumberId::new(),
            workspace_id: ctx.workspace_id().clone(),
            phone_number: bought.phone_number.to_string(),
            held_number: Some(bought.phone_number.to_string()),
            friendly_name: bought.friendly_name.chars().take(64).collect(),
            name,
            country: country.to_string(),
            number_type,
            cap_voice: bought.capabilities.voice,
            cap_sms: bought.capabilities.sms,
            cap_mms: bought.capabilities.mms,
            cap_fax: bought.capabilities.fax,
            agent_id: Some(agent.id.clone()),
            calls_enabled,
            sms_enabled,
            monthly_minutes_limit: None,
            monthly_sms_limit: None,
            status: if enabled { NumberStatus::Enabled } else { NumberStatus::Disabled },
            whatsapp_status,
            twilio_sid: Some(bought.sid.clone()),
            vapi_phone_number_id: Some(vapi_id.clone()),
            whatsapp_sender_sid: sender_sid,
            monthly_price: monthly.units(),
            currency: self.billing.currency().to_string(),
            rental_anchor_day: i32::try_from(anchor_day).unwrap_or(1),
            next_rental_at: Some(next_rental_at),
            created_at: now,
            updated_at: now,
            released_at: None,
        };
        self.record(ctx, model, monthly, period).await.map(Number::from).map_err(fail)
    }

    /// The number record and its first month's rental, in one transaction that holds the
    /// workspace lock, so concurrent purchases cannot both spend the same balance.
    async fn record(&self, ctx: &Ctx, model: Model, monthly: Amount, period: Period) -> Result<Model> {
        let ws = ctx.workspace_id();
        let txn = self.db.begin().await?;
        switchboard_tenancy::lock_workspace(&txn, ws, model.created_at).await?;
        let balance = ledger::balance(&txn, ws).await?;
        if balance < monthly {
            return Err(insufficient_funds(monthly, balance));
        }
        let number = store::insert(&txn, model).await.map_err(|e| {
            if is_unique_violation(&e) {
                Error::conflict("number_already_held", "this number is already held by a workspace")
            } else {
                e.into()
            }
        })?;
        ledger::record(
            &txn,
            self.billing.currency(),
            NewEntry {
                workspace_id: ws.clone(),
                kind: EntryKind::Rental,
                number_id: Some(number.id.clone()),
                quantity: 1,
                amount: monthly.checked_neg().unwrap_or(Amount::ZERO),
                period: Some(period),
                idempotency_key: format!("rental:{}:{period}", number.id),
                description: format!("Monthly rental of {} for {period}", number.phone_number),
            },
        )
        .await?;
        if let Some(agent_id) = &number.agent_id {
            switchboard_agents::fill_whatsapp_number(&txn, ws, agent_id, &number.phone_number).await?;
        }
        txn.commit().await?;
        tracing::info!(number_id = %number.id, number = %number.phone_number, "number provisioned");
        Ok(number)
    }

    async fn import_with_retry(
        &self,
        number: &E164,
        name: &str,
    ) -> std::result::Result<String, ProviderError> {
        let voice = &self.providers.voice;
        match voice.import_number(number, name, &self.hooks.vapi_server_url).await {
            Err(e) if e.is_transient() => {
                voice.import_number(number, name, &self.hooks.vapi_server_url).await
            }
            other => other,
        }
    }

    async fn register_whatsapp(
        &self,
        bought: &PurchasedNumber,
        agent: &Agent,
        notices: &mut Vec<Notice>,
    ) -> (WhatsappStatus, Option<String>) {
        if !bought.capabilities.sms {
            notices.push(Notice::new(
                "whatsapp_skipped",
                "the number cannot receive messages, so WhatsApp was not set up",
            ));
            return (WhatsappStatus::Skipped, None);
        }
        match self.providers.whatsapp.register(&bought.phone_number, &agent.name, &self.hooks.sms_url).await {
            Ok(r) if r.status == SenderStatus::Registered => (WhatsappStatus::Registered, Some(r.sid)),
            Ok(r) => {
                notices.push(Notice::new(
                    "whatsapp_pending",
                    "WhatsApp registration was accepted and is being verified; voice and SMS work now",
                ));
                (WhatsappStatus::Pending, Some(r.sid))
            }
            Err(e) => {
                tracing::warn!(error = %e, number = %bought.phone_number, "WhatsApp registration failed");
                notices.push(Notice::new(
                    "whatsapp_failed",
                    "WhatsApp registration failed; voice and SMS work now — complete WhatsApp later in Twilio (Messaging → Senders)",
                ));
                (WhatsappStatus::Failed, None)
            }
        }
    }

    /// Undoes a purchase whose provisioning failed, so nothing stays rented and unrecorded.
    async fn compensate(&self, bought: &PurchasedNumber, vapi_id: Option<&str>) {
        if let Some(id) = vapi_id
            && let Err(e) = self.providers.voice.remove_number(id).await
            && !matches!(e, ProviderError::NotFound { .. })
        {
            tracing::error!(error = %e, vapi_id = id, "compensation: could not remove the number from Vapi");
        }
        match self.providers.inventory.release(&bought.sid).await {
            Ok(()) | Err(ProviderError::NotFound { .. }) => {
                tracing::warn!(number = %bought.phone_number, sid = %bought.sid, "provisioning failed; the purchased number was released again");
            }
            Err(e) => {
                tracing::error!(error = %e, number = %bought.phone_number, sid = %bought.sid, "compensation: could not release the purchased number; release it by hand");
            }
        }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) fn tenancy(&self) -> &TenancyService {
        &self.tenancy
    }

    pub(crate) fn billing(&self) -> &BillingService {
        &self.billing
    }

    pub async fn list(&self, ctx: &Ctx, filter: &NumberFilter, page: &PageRequest) -> Result<Page<Number>> {
        ctx.require(Permission::Read)?;
        if let Some(d) = &filter.digits
            && (d.is_empty() || d.len() > 15 || !d.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::invalid("q", "must be 1–15 digits"));
        }
        let rows = store::list(&self.db, ctx.workspace_id(), filter, page).await?;
        Ok(Page::from_rows(rows, page, |n| n.id.to_string()).map(Number::from))
    }

    pub async fn get(&self, ctx: &Ctx, id: &NumberId) -> Result<Number> {
        ctx.require(Permission::Read)?;
        self.find(ctx, id).await.map(Number::from)
    }

    async fn find(&self, ctx: &Ctx, id: &NumberId) -> Result<Model> {
        store::find(&self.db, ctx.workspace_id(), id).await?.ok_or(Error::not_found("number"))
    }

    /// Changes name, agent, services, limits and status under the lifecycle rules of SPEC §4.
    pub async fn update(&self, ctx: &Ctx, id: &NumberId, patch: NumberPatch) -> Result<Number> {
        ctx.require(Permission::NumbersWrite)?;
        let mut v = Violations::new();
        let name = patch.name.as_deref().map(|n| v.check("name", required_text(n, 120)));
        for (field, limit) in [
            ("monthly_minutes_limit", patch.monthly_minutes_limit),
            ("monthly_sms_limit", patch.monthly_sms_limit),
        ] {
            if let Some(Some(l)) = limit
                && l <= 0
            {
                v.add(field, "must be a positive whole number, or null for unlimited");
            }
        }
        if patch.status == Some(NumberStatus::Released) {
            v.add("status", "release a number with DELETE /v1/numbers/{id}?confirm=<the number>");
        }
        let mut n = self.find(ctx, id).await?;
        if patch.calls_enabled == Some(true) && !n.cap_voice {
            v.add("calls_enabled", "this number has no voice capability");
        }
        if patch.sms_enabled == Some(true) && !n.cap_sms {
            v.add("sms_enabled", "this number has no SMS capability");
        }
        v.finish()?;
        if n.status == NumberStatus::Released {
            return Err(Error::conflict(
                "number_released",
                "the number was released and can no longer change",
            ));
        }
        let was_enabled = n.status == NumberStatus::Enabled;

        if let Some(Some(name)) = name {
            n.name = name;
        }
        let agent = match &patch.agent_id {
            Some(Some(agent_id)) => Some(self.agent(ctx, agent_id).await?),
            Some(None) => None,
            None => match &n.agent_id {
                Some(agent_id) => Some(self.agent(ctx, agent_id).await?),
                None => None,
            },
        };
        n.agent_id = agent.as_ref().map(|a| a.id.clone());
        if let Some(calls) = patch.calls_enabled {
            n.calls_enabled = calls;
        }
        if let Some(sms) = patch.sms_enabled {
            n.sms_enabled = sms;
        }
        if let Some(limit) = patch.monthly_minutes_limit {
            n.monthly_minutes_limit = limit;
        }
        if let Some(limit) = patch.monthly_sms_limit {
            n.monthly_sms_limit = limit;
        }
        if let Some(status) = patch.status {
            n.status = status;
        }

        let enables_a_service = patch.calls_enabled == Some(true) || patch.sms_enabled == Some(true);
        if enables_a_service && agent.is_none() {
            return Err(Error::conflict("agent_required", "assign an agent before enabling a service"));
        }
        if n.status == NumberStatus::Enabled {
            let services_on = n.calls_enabled || n.sms_enabled;
            if was_enabled && patch.status.is_none() && !services_on {
                return Err(Error::conflict(
                    "last_service_enabled",
                    "the last enabled service cannot be switched off while the number is enabled; disable the number first",
                ));
            }
            let mut missing = Vec::new();
            match &agent {
                None => missing.push(FieldError::new("agent_id", "assign an agent")),
                Some(a) if !a.is_live() => {
                    missing.push(FieldError::new("agent_id", "the assigned agent must be live"))
                }
                Some(_) => {}
            }
            if !services_on {
                missing.push(FieldError::new("calls_enabled", "enable calls or SMS"));
            }
            if n.name.trim().is_empty() {
                missing.push(FieldError::new("name", "give the number a name"));
            }
            if !missing.is_empty() {
                return Err(Error::conflict_with(
                    "enable_prerequisites_unmet",
                    "the number cannot be enabled yet; see errors for what is missing",
                    missing,
                ));
            }
        }
        n.updated_at = switchboard_core::time::now();
        if !store::update(&self.db, ctx.workspace_id(), &n).await? {
            return Err(Error::not_found("number"));
        }
        Ok(n.into())
    }

    async fn agent(&self, ctx: &Ctx, id: &AgentId) -> Result<Agent> {
        self.agents.get(ctx, id).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid("agent_id", "no agent with this id in the workspace"),
            other => other,
        })
    }

    /// Points the provider-side webhook addresses at the current public base URL; changes nothing else.
    pub async fn reconfigure_webhooks(&self, ctx: &Ctx, id: &NumberId) -> Result<Number> {
        ctx.require(Permission::NumbersWrite)?;
        let n = self.find(ctx, id).await?;
        if n.status == NumberStatus::Released {
            return Err(Error::conflict("number_released", "the number was released"));
        }
        if let Some(sid) = &n.twilio_sid {
            self.providers.inventory.configure_webhooks(sid, &self.hooks).await?;
        }
        if let Some(vapi_id) = &n.vapi_phone_number_id {
            self.providers.voice.update_server_url(vapi_id, &self.hooks.vapi_server_url).await?;
        }
        tracing::info!(number_id = %n.id, "webhooks reconfigured");
        Ok(n.into())
    }

    /// Gives a disabled number back to the providers; the record stays as `released`.
    pub async fn release(&self, ctx: &Ctx, id: &NumberId, confirm: Option<&str>) -> Result<Number> {
        ctx.require(Permission::NumbersRelease)?;
        let mut n = self.find(ctx, id).await?;
        if n.status == NumberStatus::Released {
            return Err(Error::conflict("number_released", "the number was already released"));
        }
        if n.status == NumberStatus::Enabled {
            return Err(Error::conflict("number_enabled", "disable the number before releasing it"));
        }
        let confirmed =
            confirm.and_then(|c| E164::parse(c).ok()).is_some_and(|c| c.as_str() == n.phone_number);
        if !confirmed {
            return Err(Error::invalid(
                "confirm",
                format!(
                    "confirm the release with ?confirm={} (the number itself); it cannot be undone",
                    n.phone_number
                ),
            ));
        }
        if let Some(vapi_id) = &n.vapi_phone_number_id {
            match self.providers.voice.remove_number(vapi_id).await {
                Ok(()) | Err(ProviderError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(sid) = &n.twilio_sid {
            match self.providers.inventory.release(sid).await {
                // Already gone at the provider counts as released.
                Ok(()) | Err(ProviderError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let now = switchboard_core::time::now();
        n.status = NumberStatus::Released;
        n.held_number = None;
        n.released_at = Some(now);
        n.next_rental_at = None;
        n.updated_at = now;
        store::update(&self.db, ctx.workspace_id(), &n).await?;
        tracing::info!(number_id = %n.id, number = %n.phone_number, "number released");
        Ok(n.into())
    }
}

fn insufficient_funds(needed: Amount, balance: Amount) -> Error {
    Error::PaymentRequired {
        code: "insufficient_funds",
        message: format!(
            "the wallet holds {balance}, the first month's rental is {needed}; add credit first"
        ),
    }
}
